"""A loopback server that records each request and answers it, first from Prism, then replayed.

A worker announces each call with ``POST /__equivalence/next`` (body: the call id), then makes
the call. In ``proxy`` mode the request is forwarded to Prism with ``Prefer: code=<status>``
and Prism's answer is stored under the call id; in ``replay`` mode the stored answer is sent
back byte for byte. So the two clients are fed the same bytes, and both requests are kept.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

CONTROL_PATH = "/__equivalence/next"
#: Answer of a replay with nothing stored: outside HTTP's range, so no client mistakes it.
NOTHING_STORED = 599
_FORWARDED_HEADERS = ("Content-Type", "Content-Disposition", "Location")


@dataclass
class Request:
    method: str
    target: str  # path and query, as sent
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Recording:
    """What one worker pass produced, per call id."""

    requests: dict[str, list[Request]] = field(default_factory=dict)


class Recorder:
    def __init__(
        self, statuses: dict[str, str], upstream: str, *, upstream_auth: str | None = None
    ) -> None:
        self.statuses = statuses  # call id -> the status to ask Prism for
        self.upstream = urlsplit(upstream)
        #: Prism insists on the schema's security requirements (CVAT's ask for session, CSRF
        #: and token together); with this, the credentials Prism sees are replaced by it
        self.upstream_auth = upstream_auth
        self.answers: dict[str, Answer] = {}
        self.recording = Recording()
        self.replay = False
        self.current = ""
        self.lock = threading.Lock()

    def start_pass(self, *, replay: bool) -> Recording:
        with self.lock:
            self.replay = replay
            self.current = ""
            self.recording = Recording()
            return self.recording

    def handle(self, request: Request) -> Answer:
        if request.target == CONTROL_PATH:
            with self.lock:
                self.current = request.body.decode()
            return Answer(204, {}, b"")
        with self.lock:
            call, replay = self.current, self.replay
            self.recording.requests.setdefault(call, []).append(request)
        if replay:
            return self.answers.get(call) or Answer(NOTHING_STORED, {}, b"")
        answer = self._forward(request, self.statuses.get(call, "200"))
        self.answers.setdefault(call, answer)
        return answer

    def _forward(self, request: Request, status: str) -> Answer:
        hop = ("host", "connection", "transfer-encoding", "content-length")
        headers = {k: v for k, v in request.headers.items() if k not in hop}
        headers["prefer"] = f"code={status}"
        credentials = ("authorization", "cookie", "x-csrftoken")
        if self.upstream_auth is not None and any(name in headers for name in credentials):
            for name in credentials:
                headers.pop(name, None)
            headers["authorization"] = self.upstream_auth
        connection = http.client.HTTPConnection(
            self.upstream.hostname or "127.0.0.1", self.upstream.port, timeout=60
        )
        try:
            connection.request(request.method, request.target, request.body or None, headers)
            response = connection.getresponse()
            body = response.read()
            kept = {h: response.headers[h] for h in _FORWARDED_HEADERS if h in response.headers}
            return Answer(response.status, kept, body)
        finally:
            connection.close()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        if "chunked" in headers.get("transfer-encoding", ""):
            body = self._read_chunked()
        else:
            length = int(headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
        answer = self.server.recorder.handle(Request(self.command, self.path, headers, body))
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)

    def _read_chunked(self) -> bytes:
        parts = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, recorder: Recorder) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.recorder = recorder


@contextmanager
def serving(recorder: Recorder) -> Iterator[str]:
    """The recorder on a free loopback port for the ``with`` block: its URL."""
    server = _Server(recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
