"""A recording HTTP/1.1 relay on 127.0.0.1 in front of a real server, for timing uploads.

Both SDKs are measured through it, so their upload times come from the same clock at the same
place, without touching the official SDK's code. It understands just enough HTTP to find where
each request and answer ends (Content-Length, chunked, HEAD, 1xx/204/304, read-to-close) and
forwards bytes untouched as they arrive, in pieces of up to 1 MiB; the Host header stays the
proxy's, so the Locations the server builds point back at the proxy.

For each request it keeps the time its first byte arrived, the time its last byte was passed
on, the time the answer's head came back and the time the answer's last byte was passed on
(``time.monotonic``, which every process on the machine shares).
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

BLOCK = 1 << 20
#: request headers kept in the record (lower case)
KEPT = ("upload-start", "upload-finish", "upload-multiple", "upload-length", "upload-offset")


@dataclass
class Exchange:
    """One request and its answer as the proxy saw them."""

    connection: int
    method: str
    target: str
    headers: dict[str, str]
    request_bytes: int = 0  # body only
    started: float = 0.0  # first byte of the request line arrived
    sent: float = 0.0  # last byte of the request body passed on to the server
    answered: float = 0.0  # the head of the (final) answer arrived from the server
    ended: float = 0.0  # last byte of the answer passed on to the client
    status: int = 0
    response_bytes: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """upload-start, upload-finish, bulk, tus-create, tus-patch, tus-head, request (a
        GET of a background request) or other."""
        h = self.headers
        if "upload-finish" in h:
            return "upload-finish"
        if "upload-start" in h:
            return "upload-start"
        if "upload-multiple" in h:
            return "bulk"
        if "upload-length" in h:
            return "tus-create"
        if self.method == "PATCH":
            return "tus-patch"
        if self.method == "HEAD":
            return "tus-head"
        if self.method == "GET" and self.target.startswith("/api/requests"):
            return "request"
        return "other"

    @property
    def starts_upload(self) -> bool:
        """Carries Upload-Start (also when it is the finish too: one request for all)."""
        return "upload-start" in self.headers

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "kind": self.kind}


class _Reader:
    """Buffered reads from one socket: heads up to the blank line, bodies passed on."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()
        self.block = memoryview(bytearray(BLOCK))

    def head(self) -> tuple[bytes, float] | None:
        """The next head and when its first byte arrived; None on a clean close."""
        first = time.monotonic() if self.buffer else 0.0
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end >= 0:
                head = bytes(self.buffer[: end + 4])
                del self.buffer[: end + 4]
                return head, first
            data = self.sock.recv(65536)
            if not data:
                if self.buffer:
                    raise ConnectionError("the peer closed in the middle of a head")
                return None
            if not self.buffer:
                first = time.monotonic()
            self.buffer += data

    def line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("the peer closed in the middle of a chunked body")
            self.buffer += data
        end = self.buffer.find(b"\r\n") + 2
        line = bytes(self.buffer[:end])
        del self.buffer[:end]
        return line

    def relay(self, count: int, out: socket.socket) -> int:
        """Pass exactly ``count`` bytes on to ``out``."""
        left = count
        if self.buffer:
            piece = bytes(self.buffer[:left])
            del self.buffer[: len(piece)]
            out.sendall(piece)
            left -= len(piece)
        while left > 0:
            got = self.sock.recv_into(self.block, min(left, BLOCK))
            if not got:
                raise ConnectionError("the peer closed in the middle of a body")
            out.sendall(self.block[:got])
            left -= got
        return count

    def relay_chunked(self, out: socket.socket) -> int:
        """Pass a chunked body on as it is; returns the payload size."""
        total = 0
        while True:
            size_line = self.line()
            out.sendall(size_line)
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                while True:  # trailers, then the blank line
                    trailer = self.line()
                    out.sendall(trailer)
                    if trailer == b"\r\n":
                        return total
            self.relay(size + 2, out)
            total += size

    def relay_to_close(self, out: socket.socket) -> int:
        total = len(self.buffer)
        if self.buffer:
            out.sendall(bytes(self.buffer))
            self.buffer.clear()
        while got := self.sock.recv_into(self.block, BLOCK):
            out.sendall(self.block[:got])
            total += got
        return total


def _parse(head: bytes) -> tuple[str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return lines[0], headers


class RecordingProxy:
    """Forwards every connection to ``upstream`` (host, port) and records each exchange."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        self._connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._stopped = False
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._listener.getsockname()[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> RecordingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped = True
        self._listener.close()

    def mark(self) -> int:
        """A position in the record; ``since(mark)`` gives what came after it."""
        with self._lock:
            return len(self.exchanges)

    def since(self, mark: int) -> list[Exchange]:
        with self._lock:
            return sorted(self.exchanges[mark:], key=lambda e: e.started)

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._connections += 1
                number = self._connections
            threading.Thread(target=self._serve, args=(client, number), daemon=True).start()

    def _serve(self, client: socket.socket, number: int) -> None:
        try:
            server = socket.create_connection(self.upstream)
        except OSError:
            client.close()
            return
        for sock in (client, server):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        requests, answers = _Reader(client), _Reader(server)
        try:
            while self._exchange(number, requests, answers, client, server):
                pass
        except (OSError, ValueError):
            pass  # a client or server that goes away ends the connection, nothing more
        finally:
            client.close()
            server.close()

    def _exchange(
        self,
        number: int,
        requests: _Reader,
        answers: _Reader,
        client: socket.socket,
        server: socket.socket,
    ) -> bool:
        got = requests.head()
        if got is None:
            return False
        head, started = got
        request_line, headers = _parse(head)
        method, _, rest = request_line.partition(" ")
        record = Exchange(
            number,
            method,
            rest.rsplit(" ", 1)[0],
            {k: v for k, v in headers.items() if k in KEPT},
            started=started,
        )
        server.sendall(head)
        if "chunked" in headers.get("transfer-encoding", "").lower():
            record.request_bytes = requests.relay_chunked(server)
        else:
            record.request_bytes = requests.relay(int(headers.get("content-length") or 0), server)
        record.sent = time.monotonic()
        while True:
            answer = answers.head()
            if answer is None:
                raise ConnectionError("the server closed without answering")
            response_head = answer[0]
            status_line, response_headers = _parse(response_head)
            status = int(status_line.split()[1])
            client.sendall(response_head)
            if status >= 200 or status == 101:
                break
        record.answered = time.monotonic()
        record.status = status
        keep_open = "close" not in response_headers.get("connection", "").lower()
        if method == "HEAD" or status in (204, 304) or status < 200:
            record.response_bytes = 0
        elif "chunked" in response_headers.get("transfer-encoding", "").lower():
            record.response_bytes = answers.relay_chunked(client)
        elif "content-length" in response_headers:
            record.response_bytes = answers.relay(int(response_headers["content-length"]), client)
        else:
            record.response_bytes = answers.relay_to_close(client)
            keep_open = False
        record.ended = time.monotonic()
        with self._lock:
            self.exchanges.append(record)
        return keep_open and "close" not in headers.get("connection", "").lower()
