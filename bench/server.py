"""A loopback CVAT stand-in that answers from pre-encoded bytes, in its own process.

It runs in a child process so that its work never competes with the measured client for the
GIL (or shows up in the client's profile and tracemalloc). Each answer (status line, headers
and body) is built once and sent with a single write: the server's cost per request is small
and the same for our client, the floor and the official SDK.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from bench import payloads

ANNOTATIONS_PATH = f"/api/jobs/{payloads.JOB_ID}/annotations/"
SELF_PATH = "/api/users/self"
JSON_TYPE = "application/vnd.cvat+json"
ROOT = Path(__file__).resolve().parent.parent


def basic_auth(username: str = payloads.USERNAME, password: str = payloads.PASSWORD) -> str:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return f"Basic {token}"


def _answer(status: int, reason: str, body: bytes, content_type: str = JSON_TYPE) -> bytes:
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Vary: Accept, Origin\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + body


def build_routes() -> dict[tuple[str, str], bytes]:
    """(method, path) -> the whole HTTP answer. PUT echoes the annotations, as CVAT does."""
    annotations = payloads.encode(payloads.labeled_data())
    return {
        ("GET", ANNOTATIONS_PATH): _answer(200, "OK", annotations),
        ("PUT", ANNOTATIONS_PATH): _answer(200, "OK", annotations),
        ("GET", SELF_PATH): _answer(200, "OK", payloads.encode(payloads.user())),
    }


def make_server(routes: dict[tuple[str, str], bytes], authorization: str) -> ThreadingHTTPServer:
    not_found = _answer(404, "Not Found", b'{"detail":"Not found."}')
    unauthorized = _answer(401, "Unauthorized", b'{"detail":"Invalid username/password."}')

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            remaining = length
            while remaining:  # read the body fully before answering, like a real server
                chunk = self.rfile.read(min(remaining, 1 << 20))
                if not chunk:
                    break
                remaining -= len(chunk)
            if self.headers.get("Authorization") != authorization:
                self.wfile.write(unauthorized)
                return
            path = self.path.split("?", 1)[0]
            self.wfile.write(routes.get((self.command, path), not_found))

        do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _serve

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    return server


class ServerProcess:
    """Starts ``python -m bench.server`` and learns its port; stops it on exit."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[str] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerProcess:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("PORT "):
            self.process.kill()
            raise RuntimeError(f"the bench server did not start: {line!r}")
        self.port = int(line.split()[1])
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.process is None:
            return
        assert self.process.stdin is not None
        self.process.stdin.close()  # the server stops when its stdin closes
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def main() -> None:
    server = make_server(build_routes(), basic_auth())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    print(f"PORT {server.server_address[1]}", flush=True)
    sys.stdin.read()  # until the parent closes our stdin (or dies)
    server.shutdown()
    server.server_close()


if __name__ == "__main__":
    main()
