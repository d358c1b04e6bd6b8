"""Servers and helpers of the reliability tests: real sockets on 127.0.0.1, nothing mocked."""

from __future__ import annotations

import itertools
import select
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import urlsplit

from cvat_sdk._runtime import settings
from cvat_sdk._runtime.configuration import retry_policy
from cvat_sdk.api_client import ApiClient, Configuration
from tests.support.loopback import LoopbackServer, Recorded, Reply

#: Figures the run reports at its end (faults injected, bad inputs tried, secrets leaked...).
FIGURES: defaultdict[str, float] = defaultdict(float)

T = TypeVar("T")


def client_for(server: LoopbackServer | str, **config: Any) -> ApiClient:
    url = server if isinstance(server, str) else server.url
    return ApiClient(Configuration(host=url, **config))


def quick_retries(attempts: int = 3, **knobs: Any) -> Any:
    """The default policy with no waiting, so that tests count attempts without sleeping."""
    knobs.setdefault("backoff", 0.0)
    knobs.setdefault("jitter", 0.0)
    return retry_policy(attempts, **knobs)


def within(seconds: float, call: Callable[[], T]) -> T:
    """Run ``call`` in a thread; fail (instead of hanging the suite) if it takes longer."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:
            outcome["error"] = error

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still running after {seconds} s: the client hangs"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]


def eventually(condition: Callable[[], bool], seconds: float = 3.0) -> bool:
    """Whether ``condition`` becomes true within ``seconds`` (servers count in their threads)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def failing_first(
    times: int, failure: Callable[[], Reply], then: Reply
) -> Callable[[Recorded], Reply]:
    """A handler that answers ``failure()`` to the first ``times`` requests, then ``then``."""
    lock = threading.Lock()
    seen = [0]

    def handler(_: Recorded) -> Reply:
        with lock:
            seen[0] += 1
            count = seen[0]
        FIGURES["faults injected"] += count <= times
        return failure() if count <= times else then

    return handler


def gaps(requests: list[Recorded]) -> list[float]:
    """Seconds between consecutive arrivals."""
    times = [r.received_at for r in requests]
    return [b - a for a, b in itertools.pairwise(times)]


class SilentServer:
    """Accepts TCP connections, reads nothing, answers nothing: the server that hangs."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        host, port = self._listener.getsockname()[:2]
        self.url = f"http://{host}:{port}"

    @property
    def connections(self) -> int:
        return len(self._accepted)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._accepted.append(connection)

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()
        for connection in self._accepted:
            connection.close()


class RawServer(SilentServer):
    """Reads each request's head, answers ``reply`` byte for byte and closes: no HTTP rules."""

    def __init__(self, reply: bytes) -> None:
        super().__init__()
        self.reply = reply

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._accepted.append(connection)
            connection.settimeout(2)
            try:
                head = b""
                while b"\r\n\r\n" not in head and len(head) < 65536:
                    data = connection.recv(4096)
                    if not data:
                        break
                    head += data
                connection.sendall(self.reply)
            except OSError:
                pass
            finally:
                connection.close()


@dataclass
class Proxied:
    method: str
    target: str
    headers: dict[str, str] = field(default_factory=dict)


class ForwardProxy:
    """A plain HTTP forward proxy: absolute-form requests are relayed, CONNECT is tunnelled.

    Everything that passes is recorded in ``seen``, to check what the proxy could read.
    """

    def __init__(self) -> None:
        self.seen: list[Proxied] = []
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def _relay(self) -> None:
                outer.seen.append(Proxied(self.command, self.path, dict(self.headers.items())))
                target = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("proxy-authorization", "proxy-connection", "connection")
                }
                upstream = HTTPConnection(target.hostname or "", target.port or 80, timeout=10)
                try:
                    path = target.path + (f"?{target.query}" if target.query else "")
                    upstream.request(self.command, path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    data = answer.read()
                finally:
                    upstream.close()
                self.send_response(answer.status, answer.reason)
                for name, value in answer.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_CONNECT(self) -> None:
                outer.seen.append(Proxied("CONNECT", self.path, dict(self.headers.items())))
                host, _, port = self.path.rpartition(":")
                upstream = socket.create_connection((host, int(port)), timeout=10)
                self.send_response(200, "Connection established")
                self.end_headers()
                self.close_connection = True
                _pipe(self.connection, upstream)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _relay

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> ForwardProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _pipe(client: socket.socket, upstream: socket.socket, idle: float = 5.0) -> None:
    """Relay bytes both ways until one side closes or nothing moves for ``idle`` seconds."""
    sockets = [client, upstream]
    try:
        while True:
            readable, _, _ = select.select(sockets, [], [], idle)
            if not readable:
                return
            for source in readable:
                data = source.recv(65536)
                if not data:
                    return
                (upstream if source is client else client).sendall(data)
    except OSError:
        return
    finally:
        upstream.close()


def stream_of(total: int, chunk: bytes) -> Iterator[bytes]:
    """``total`` bytes as repeats of one chunk (the server allocates nothing per chunk)."""
    sent = 0
    while sent < total:
        piece = chunk if total - sent >= len(chunk) else chunk[: total - sent]
        sent += len(piece)
        yield piece


def stalling(first: bytes, pause: float) -> Iterator[bytes]:
    """A chunked body that sends a little, then goes silent for ``pause`` seconds."""
    yield first
    time.sleep(pause)
    yield b"late"


DEFAULT_METHODS = settings.RETRY_METHODS
