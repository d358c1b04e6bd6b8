"""A loopback TCP proxy in front of a real server, to break uploads where tests choose.

The proxy passes bytes through unchanged. It reads each request only as far as it must (the
request line, the headers, ``Content-Length``) and each answer only to find where it ends,
so that a test can act on one request: cut the connection after ``n`` bytes of its body,
answer it itself without forwarding it, or forward it and then lose or replace the server's
answer (the server did the work; the client sees an error). Every request is logged with
the body bytes that reached the server, so tests can assert how much was sent again.

One thread per client connection (at most ``max_connections``), each with its own upstream
connection; :meth:`TcpProxy.stop` (or leaving the ``with`` block) closes everything.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Literal

PIECE = 64 * 1024
HEAD_MAX = 64 * 1024

Action = Literal["cut", "reply", "swallow", "lose_answer", "replace_answer"]


@dataclass(frozen=True)
class RequestHead:
    """What the proxy knows of a request before its body: enough to choose a fault."""

    method: str
    target: str
    headers: dict[str, str]  # names in lower case; a repeated header keeps its last value

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def content_length(self) -> int:
        return int(self.headers.get("content-length", "0") or 0)


@dataclass
class Fault:
    """What to do to the next ``times`` requests that ``when`` matches.

    - ``cut``: forward the head and ``after`` bytes of the body (``after=None``: nothing at
      all, not even the head), then close both connections.
    - ``reply``: read the body, forward nothing, answer ``status`` to the client.
    - ``swallow``: read the body, forward nothing, close the client's connection.
    - ``lose_answer``: forward the request, read the server's answer, close the client's
      connection without sending it.
    - ``replace_answer``: forward the request, read the server's answer, send ``status``
      instead.

    ``delay`` seconds pass, once the head is read, before the action.
    """

    when: Callable[[RequestHead], bool]
    action: Action
    after: int | None = 0
    status: int = 502
    times: int = 1
    fired: int = 0
    delay: float = 0.0


@dataclass
class Exchange:
    """One request as the proxy saw it."""

    method: str
    target: str
    headers: dict[str, str]
    content_length: int
    #: body bytes that reached the server
    forwarded: int = 0
    #: the server's status (None: the server was not asked, or did not answer)
    upstream_status: int | None = None
    #: the status the client received (None: the connection was closed instead)
    client_status: int | None = None
    fault: Action | None = None
    #: the client hung up before the end of the body (the server's connection is closed too)
    client_left: bool = False

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


class _Closed(Exception):
    """The peer closed its connection (between requests: the normal end)."""


class _ClientLeft(Exception):
    """The client hung up in the middle of a request body (a client may abandon one)."""


class _Reader:
    """Buffered reads from a socket: lines, exact counts, and pieces."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def _fill(self) -> None:
        data = self.sock.recv(PIECE)
        if not data:
            raise _Closed
        self.buffer += data

    def head(self) -> bytes:
        """Bytes up to and including the blank line that ends a head."""
        while b"\r\n\r\n" not in self.buffer:
            if len(self.buffer) > HEAD_MAX:
                raise ValueError("head too long")
            self._fill()
        end = self.buffer.index(b"\r\n\r\n") + 4
        data, self.buffer = self.buffer[:end], self.buffer[end:]
        return data

    def line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            self._fill()
        end = self.buffer.index(b"\r\n") + 2
        data, self.buffer = self.buffer[:end], self.buffer[end:]
        return data

    def piece(self, most: int) -> bytes:
        if not self.buffer:
            self._fill()
        data, self.buffer = self.buffer[:most], self.buffer[most:]
        return data

    def rest(self) -> bytes:
        """What is left until the peer closes (answers without a length)."""
        try:
            while True:
                self._fill()
        except _Closed:
            data, self.buffer = self.buffer, b""
            return data


def _parse_head(raw: bytes) -> tuple[str, dict[str, str]]:
    lines = raw.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return lines[0], headers


class TcpProxy:
    """``127.0.0.1:<free port>`` -> ``upstream``; see the module docstring."""

    def __init__(
        self,
        upstream: tuple[str, int] = ("127.0.0.1", 8080),
        *,
        max_connections: int = 16,
        timeout: float = 120.0,
    ) -> None:
        self.upstream = upstream
        self.timeout = timeout
        self.log: list[Exchange] = []
        self.errors: list[str] = []  # what the proxy could not handle (tests assert it empty)
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_connections)
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._stopped = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)  # accept() wakes up to see stop(): closing does not
        self.port = int(self._listener.getsockname()[1])
        self._acceptor = threading.Thread(target=self._accept, name="tcp-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- control -------------------------------------------------------------------------
    def start(self) -> TcpProxy:
        self._acceptor.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        if self._acceptor.is_alive():
            self._acceptor.join(5)
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
        for thread in list(self._threads):
            thread.join(5)

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def add(self, fault: Fault) -> Fault:
        """Arm ``fault`` (thread-safe: a test may arm one while a request is under way)."""
        with self._lock:
            self._faults.append(fault)
        return fault

    def exchanges(self, method: str | None = None, path_contains: str = "") -> list[Exchange]:
        with self._lock:
            return [
                e
                for e in self.log
                if (method is None or e.method == method) and path_contains in e.target
            ]

    # --- the work ------------------------------------------------------------------------
    def _choose(self, head: RequestHead) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.fired < fault.times and fault.when(head):
                    fault.fired += 1
                    return fault
        return None

    def _track(self, sock: socket.socket) -> socket.socket:
        sock.settimeout(self.timeout)
        with self._lock:
            self._sockets.add(sock)
        return sock

    def _close(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.discard(sock)
        with contextlib.suppress(OSError):
            sock.close()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self._slots.acquire(timeout=self.timeout):
                client.close()
                self.errors.append("too many connections")
                continue
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        self._track(client)
        try:
            reader = _Reader(client)
            up_reader: _Reader | None = None
            while not self._stopped.is_set():
                try:
                    raw = reader.head()
                except (_Closed, TimeoutError):
                    return  # the client is done with this connection (or left it idle)
                request_line, headers = _parse_head(raw)
                method, target = request_line.split(" ")[:2]
                head = RequestHead(method, target, headers)
                if "chunked" in headers.get("transfer-encoding", "").lower():
                    self.errors.append(f"chunked request bodies are not supported: {target}")
                    return
                exchange = Exchange(method, target, headers, head.content_length)
                with self._lock:
                    self.log.append(exchange)
                fault = self._choose(head)
                exchange.fault = fault.action if fault else None
                if fault is not None and fault.delay:
                    time.sleep(fault.delay)
                if fault is not None and fault.action == "reply":
                    self._skip(reader, head.content_length)
                    self._answer(client, fault.status)
                    exchange.client_status = fault.status
                    continue
                if fault is not None and fault.action == "swallow":
                    self._skip(reader, head.content_length)
                    return
                if fault is not None and fault.action == "cut" and fault.after is None:
                    return
                if upstream is None:
                    upstream = self._track(socket.create_connection(self.upstream))
                    up_reader = _Reader(upstream)
                assert up_reader is not None
                upstream.sendall(raw)
                limit = fault.after if fault is not None and fault.action == "cut" else None
                self._forward(reader, upstream, head.content_length, exchange, limit)
                if limit is not None:
                    return  # the cut: both connections are closed
                keep = fault is None
                status, alive = self._relay(up_reader, client if keep else None, method)
                exchange.upstream_status = status
                if fault is None:
                    exchange.client_status = status
                elif fault.action == "lose_answer":
                    return
                elif fault.action == "replace_answer":
                    self._answer(client, fault.status)
                    exchange.client_status = fault.status
                if not alive:
                    self._close(upstream)
                    upstream, up_reader = None, None
        except _ClientLeft:
            return
        except (OSError, _Closed, ValueError) as error:
            if not self._stopped.is_set():
                self.errors.append(f"{type(error).__name__}: {error}")
        finally:
            self._close(upstream)
            self._close(client)
            self._slots.release()

    @staticmethod
    def _skip(reader: _Reader, length: int) -> None:
        left = length
        while left > 0:
            left -= len(reader.piece(min(left, PIECE)))

    @staticmethod
    def _forward(
        reader: _Reader, upstream: socket.socket, length: int, exchange: Exchange, limit: int | None
    ) -> None:
        """The body to the server, ``limit`` bytes of it at most."""
        left = length if limit is None else min(length, limit)
        while left > 0:
            try:
                data = reader.piece(min(left, PIECE))
            except (_Closed, ConnectionError):
                exchange.client_left = True
                raise _ClientLeft from None
            upstream.sendall(data)
            exchange.forwarded += len(data)
            left -= len(data)

    @staticmethod
    def _answer(client: socket.socket, status: int) -> None:
        body = f"proxy says {status}\n".encode()
        client.sendall(
            f"HTTP/1.1 {status} Proxy Fault\r\nContent-Type: text/plain\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )

    @staticmethod
    def _relay(up: _Reader, client: socket.socket | None, method: str) -> tuple[int, bool]:
        """The server's answer to the client (or nowhere); returns its status and whether
        the upstream connection can carry another request."""

        def send(data: bytes) -> None:
            if client is not None and data:
                client.sendall(data)

        while True:
            raw = up.head()
            status_line, headers = _parse_head(raw)
            status = int(status_line.split(" ")[1])
            send(raw)
            if status >= 200 or status == 101:
                break  # 1xx interim answers are passed on and the real one follows
        alive = "close" not in headers.get("connection", "").lower()
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return status, alive
        if "chunked" in headers.get("transfer-encoding", "").lower():
            while True:
                size_line = up.line()
                send(size_line)
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    while True:  # trailers, then the blank line
                        trailer = up.line()
                        send(trailer)
                        if trailer == b"\r\n":
                            return status, alive
                left = size + 2  # the data and its CRLF
                while left > 0:
                    data = up.piece(min(left, PIECE))
                    send(data)
                    left -= len(data)
        if "content-length" in headers:
            left = int(headers["content-length"])
            while left > 0:
                data = up.piece(min(left, PIECE))
                send(data)
                left -= len(data)
            return status, alive
        send(up.rest())
        return status, False
