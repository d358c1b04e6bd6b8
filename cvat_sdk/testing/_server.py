"""FakeCvatServer: a loopback HTTP/1.1 server that answers like CVAT 2.24, for tests."""

from __future__ import annotations

import dataclasses
import shutil
import socket
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from ._faults import Faults
from ._http import CHUNK_SIZE, BodyReader, ConnectionDropped, Reply
from ._routes import Route, dispatch
from ._store import Store, Task

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping
    from types import TracebackType

_SECRET_HEADERS = frozenset({"authorization", "cookie", "x-csrftoken"})


@dataclass(frozen=True)
class LoggedRequest:
    """A request the server received. Header names are lower-cased; the values of
    Authorization, Cookie and X-CSRFToken are replaced by "<redacted>"."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body_length: int  # bytes of the body actually received
    status: int | None  # None when the server hung up without answering
    route: str | None  # the route template that matched, if any


class FakeCvatServer:
    """An in-memory CVAT 2.24 server on 127.0.0.1 (a free port), serving from a background thread.

    Use it as a context manager, or call start() and stop(). `users` maps usernames to passwords;
    those in `superusers` are administrators. A background request (export, import, task
    creation) finishes on the `polls_to_finish`-th GET /api/requests/{id}.

    `public_url` (settable while running) is the base of the absolute URLs the server gives out
    (TUS Locations, `next` links, `url` fields, `result_url`), as a server behind a reverse proxy
    names itself, e.g. "http://backend.internal:8080"; by default they follow the Host header.
    """

    def __init__(
        self,
        users: Mapping[str, str] | None = None,
        *,
        superusers: Collection[str] = ("admin",),
        polls_to_finish: int = 3,
        public_url: str | None = None,
    ) -> None:
        if polls_to_finish < 1:
            raise ValueError("polls_to_finish must be at least 1")
        self.public_url = public_url.rstrip("/") if public_url else None
        self.faults = Faults()
        self._users = dict(users if users is not None else {"admin": "password"})
        self._superusers = frozenset(superusers)
        self._polls_to_finish = polls_to_finish
        self._log: list[LoggedRequest] = []
        self._log_lock = threading.Lock()
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._root: Path | None = None
        self._store: Store | None = None

    def start(self) -> FakeCvatServer:
        if self._httpd is not None:
            raise RuntimeError("the server is already running")
        self._root = Path(tempfile.mkdtemp(prefix="fake-cvat-"))
        self._store = Store(
            self._root, self._users, self._superusers, self._polls_to_finish, self.faults
        )
        self._httpd = _HttpServer(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="fake-cvat", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stops serving, hangs up on open connections, joins all threads, removes the files."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.hang_up_all()
            self._httpd.server_close()  # joins the connection threads
        if self._thread is not None:
            self._thread.join()
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
        self._httpd = self._thread = self._root = self._store = None

    def __enter__(self) -> FakeCvatServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._running().server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def request_log(self) -> list[LoggedRequest]:
        with self._log_lock:
            return list(self._log)

    def count_requests(self, method: str | None = None, path_prefix: str = "") -> int:
        """How many requests were received with `method` (any, if None) under `path_prefix`."""
        return sum(
            (method is None or r.method == method.upper()) and r.path.startswith(path_prefix)
            for r in self.request_log
        )

    def clear_request_log(self) -> None:
        with self._log_lock:
            self._log.clear()

    def uploaded_files(self, task_id: int) -> dict[str, Path]:
        """The files attached to a task, in frame order: name -> path of the bytes received."""
        store = self._running_store()
        with store.lock:
            task = store.tasks.get(task_id)
            if task is None or task.data is None:
                return {}
            return {name: task.data.media_dir / name for name in task.data.files}

    def seed_tasks(
        self, n: int, *, owner: str = "admin", name: str = "task {i}", **fields: Any
    ) -> list[int]:
        """Creates `n` tasks at once, straight in the store (no labels, no data): a fast way to
        fill a list for pagination tests. `name` is formatted with `i` (0, 1, ...); `fields`
        (subset, bug_tracker, project_id, segment_size...) are set on every task. Returns the
        new ids in creation order."""
        allowed = {f.name for f in dataclasses.fields(Task)} - {"id", "name", "owner", "data"}
        unknown = set(fields) - allowed
        if unknown:
            raise TypeError(f"unknown task fields: {', '.join(sorted(unknown))}")
        store = self._running_store()
        with store.lock:
            user = store.user_named(owner)
            if user is None:
                raise KeyError(owner)
            tasks = [
                Task(store.next_id("task"), name.format(i=i), user, None, **fields)
                for i in range(n)
            ]
            store.tasks.update((task.id, task) for task in tasks)
        return [task.id for task in tasks]

    def issue_token(self, username: str) -> str:
        """An API token for `username`, as POST /api/auth/login would answer it."""
        store = self._running_store()
        with store.lock:
            user = store.user_named(username)
            if user is None:
                raise KeyError(username)
            return store.token_for(user)

    def _running(self) -> _HttpServer:
        if self._httpd is None:
            raise RuntimeError("the server is not running; use start() or a with statement")
        return self._httpd

    def _running_store(self) -> Store:
        self._running()
        assert self._store is not None
        return self._store

    def _record(self, entry: LoggedRequest) -> None:
        with self._log_lock:
            self._log.append(entry)


class _HttpServer(ThreadingHTTPServer):
    """Serves each connection in its own thread, and keeps track of the open connections so
    that stopping does not wait for clients to close their kept-alive ones."""

    daemon_threads = True
    block_on_close = True

    def __init__(self, owner: FakeCvatServer) -> None:
        self.owner = owner
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:  # before its thread starts, so that hang_up_all sees it
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def hang_up_all(self) -> None:
        """Ends every open connection; called once no new connection can come in."""
        with self.connections_lock:
            for connection in self.connections:
                _shut(connection)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client went away: fine
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HttpServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK hold every small response back by ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass  # the request log is the record

    def _serve(self) -> None:
        """Answers one request. It is logged before the client can see the answer (or the
        hang-up), so a test that got an answer finds its request in the log."""
        owner = self.server.owner
        split = urlsplit(self.path)
        length = self.headers.get("Content-Length") or "0"
        if not length.isdigit():
            self.send_error(400, "Invalid Content-Length")
            return
        time.sleep(owner.faults.take_delay(self.command, split.path, self.headers))
        body = BodyReader(
            self.rfile,
            int(length),
            chunked="chunked" in self.headers.get("Transfer-Encoding", "").lower(),
            hang_up_after=owner.faults.take_drop(self.command, split.path, self.headers),
        )
        reply: Reply | None = None
        route: Route | None = None
        try:
            reply, route = self._answer(split.path, split.query, body)
            body.drain()  # keeps the connection usable when a handler answered early
        except (ConnectionDropped, ConnectionError):
            reply = None
        except Exception:
            traceback.print_exc(file=sys.stderr)
            reply = Reply.json(500, {"detail": "Internal error in the fake CVAT server."})
            self.close_connection = True
        headers = {
            k.lower(): "<redacted>" if k.lower() in _SECRET_HEADERS else v
            for k, v in self.headers.items()
        }
        owner._record(
            LoggedRequest(
                self.command,
                split.path,
                split.query,
                headers,
                body.received,
                reply.status if reply else None,
                route.template if route else None,
            )
        )
        try:
            if reply is None:
                raise ConnectionDropped
            self._send(
                reply, owner.faults.take_response_drop(self.command, split.path, self.headers)
            )
        except (ConnectionDropped, ConnectionError):
            self.close_connection = True
            _shut(self.connection)

    def _answer(self, path: str, query: str, body: BodyReader) -> tuple[Reply, Route | None]:
        owner = self.server.owner
        failure = owner.faults.take_failure(self.command, path, self.headers)
        if failure is not None:
            return Reply.json(
                failure.status, {"detail": "Injected failure."}, failure.headers
            ), None
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        return dispatch(
            owner._running_store(),
            self.command,
            path,
            query=dict(parse_qsl(query, keep_blank_values=True)),
            headers=self.headers,
            body=body,
            base_url=owner.public_url or f"http://{host}",
            public=owner.public_url is not None,
        )

    def _send(self, reply: Reply, cut_after: int | None = None) -> None:
        """Sends the reply; with `cut_after`, only that many bytes of its body, then hangs up."""
        size = reply.file.stat().st_size if reply.file is not None else len(reply.body)
        self.send_response(reply.status)
        if reply.content_type:
            self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(size))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        left = size if cut_after is None else min(size, cut_after)
        if reply.file is not None:
            with reply.file.open("rb") as file:
                while left > 0 and (data := file.read(min(CHUNK_SIZE, left))):
                    self.wfile.write(data)
                    left -= len(data)
        else:
            self.wfile.write(reply.body[:left])
        if cut_after is not None:
            self.wfile.flush()
            raise ConnectionDropped


def _shut(connection: socket.socket) -> None:
    """Ends a connection at once, both ways: the peer sees it closed (or reset)."""
    try:
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed
