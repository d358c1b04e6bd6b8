"""A tiny programmable HTTP/1.1 server on 127.0.0.1 for tests: no mocks, real sockets.

The test gives a handler that maps each recorded request to a :class:`Reply`; every request
is kept in ``server.requests`` for assertions. With ``ssl_context`` it serves HTTPS (the TLS
handshake runs in the request's thread, so a client that fails it blocks nothing).
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    #: ``time.monotonic()`` when the request was read (backoff and Retry-After tests)
    received_at: float = 0.0
    #: ``time.monotonic()`` when its head was read, before the body
    started_at: float = 0.0

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: seconds to wait before answering (timeouts)
    delay: float = 0.0
    #: close the socket without answering (connection errors)
    drop: bool = False
    #: the Content-Length to announce (a larger value than sent simulates truncation)
    content_length: int | None = None
    #: headers that may repeat (several Set-Cookie), sent after ``headers``
    extra_headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def json(
        cls,
        data: Any,
        status: int = 200,
        *,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> Reply:
        body = json.dumps(data).encode()
        all_headers = {"Content-Type": "application/vnd.cvat+json", **(headers or {})}
        return cls(status, body, all_headers, delay=delay)


Handler = Callable[[Recorded], Reply]


class _Server(ThreadingHTTPServer):
    """Wraps accepted sockets in TLS when asked; client disconnects are not errors here."""

    daemon_threads = True
    ssl_context: ssl.SSLContext | None = None
    tls_failures = 0

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.ssl_context is not None:
            try:
                request = self.ssl_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                self.tls_failures += 1
                return
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up mid-answer is what several tests do on purpose


class LoopbackServer:
    def __init__(self, handler: Handler, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # answers go out as headers then body: without this, Nagle's algorithm and
            # delayed ACKs add ~40 ms to every request
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                started_at = time.monotonic()
                length = int(self.headers.get("Content-Length") or 0)
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    body = self._read_chunked()
                else:
                    body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                recorded = Recorded(
                    self.command,
                    parts.path,
                    parse_qsl(parts.query, keep_blank_values=True),
                    dict(self.headers.items()),
                    body,
                    time.monotonic(),
                    started_at,
                )
                with outer._lock:
                    outer.requests.append(recorded)
                reply = outer.handler(recorded)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.drop:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                chunks = [reply.body] if isinstance(reply.body, bytes) else reply.body
                self.send_response(reply.status)
                for name, value in [*reply.headers.items(), *reply.extra_headers]:
                    self.send_header(name, value)
                if isinstance(reply.body, bytes):
                    announced = reply.content_length
                    size = len(reply.body) if announced is None else announced
                    self.send_header("Content-Length", str(size))
                    if announced is not None and announced != len(reply.body):
                        self.close_connection = True
                else:
                    self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                if self.command == "HEAD":
                    return  # the headers describe a body that is not sent
                for chunk in chunks:
                    if isinstance(reply.body, bytes):
                        self.wfile.write(chunk)
                    else:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                if not isinstance(reply.body, bytes):
                    self.wfile.write(b"0\r\n\r\n")

            def _read_chunked(self) -> bytes:
                data = b""
                while True:
                    size = int(self.rfile.readline().strip(), 16)
                    if size == 0:
                        self.rfile.readline()
                        return data
                    data += self.rfile.read(size)
                    self.rfile.readline()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.ssl_context = ssl_context
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        scheme = "https" if self._server.ssl_context is not None else "http"
        return f"{scheme}://{host!s}:{port}"

    @property
    def tls_failures(self) -> int:
        """Connections whose TLS handshake failed (the client refused us, or we refused it)."""
        return self._server.tls_failures

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
