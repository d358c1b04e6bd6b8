"""The handler of a loopback server that records each request and answers it, first from
Prism, then replayed.

A worker announces each call with ``POST /__equivalence/next`` (body: the call id), then makes
the call. In proxy mode the request is forwarded to Prism with ``Prefer: code=<status>`` and
Prism's answer is stored under the call id; in replay mode the stored answer is sent back
byte for byte. So the two clients are fed the same bytes, and both requests are kept.
"""

from __future__ import annotations

import http.client
import threading
from urllib.parse import urlencode, urlsplit

from tests.support.loopback import Recorded, Reply

CONTROL_PATH = "/__equivalence/next"
#: Answer of a replay with nothing stored: outside HTTP's range, so no client mistakes it.
NOTHING_STORED = 599
_FORWARDED_HEADERS = ("Content-Type", "Content-Disposition", "Location")
_CREDENTIALS = ("authorization", "cookie", "x-csrftoken")
_HOP_BY_HOP = ("host", "connection", "transfer-encoding", "content-length")


class Recorder:
    """Use as ``LoopbackServer(recorder)``; one pass per SDK (``start_pass``)."""

    def __init__(
        self, statuses: dict[str, str], upstream: str, *, upstream_auth: str | None = None
    ) -> None:
        self.statuses = statuses  # call id -> the status to ask Prism for
        self.upstream = urlsplit(upstream)
        #: Prism insists on the schema's security requirements (CVAT's ask for session, CSRF
        #: and token together); with this, the credentials Prism sees are replaced by it
        self.upstream_auth = upstream_auth
        self.answers: dict[str, Reply] = {}
        self.requests: dict[str, list[Recorded]] = {}
        self.replay = False
        self.current = ""
        self.lock = threading.Lock()

    def start_pass(self, *, replay: bool) -> dict[str, list[Recorded]]:
        """Start recording anew: the requests of this pass, per call id."""
        with self.lock:
            self.replay = replay
            self.current = ""
            self.requests = {}
            return self.requests

    def __call__(self, request: Recorded) -> Reply:
        if request.path == CONTROL_PATH:
            with self.lock:
                self.current = request.body.decode()
            return Reply(204)
        with self.lock:
            call, replay = self.current, self.replay
            self.requests.setdefault(call, []).append(request)
        if replay:
            return self.answers.get(call) or Reply(NOTHING_STORED)
        answer = self._forward(request, self.statuses.get(call, "200"))
        self.answers.setdefault(call, answer)
        return answer

    def _forward(self, request: Recorded, status: str) -> Reply:
        headers = {k.lower(): v for k, v in request.headers.items()}
        for name in _HOP_BY_HOP:
            headers.pop(name, None)
        headers["prefer"] = f"code={status}"
        if self.upstream_auth is not None and any(name in headers for name in _CREDENTIALS):
            for name in _CREDENTIALS:
                headers.pop(name, None)
            headers["authorization"] = self.upstream_auth
        target = request.path + ("?" + urlencode(request.query) if request.query else "")
        connection = http.client.HTTPConnection(
            self.upstream.hostname or "127.0.0.1", self.upstream.port, timeout=60
        )
        try:
            connection.request(request.method, target, request.body or None, headers)
            response = connection.getresponse()
            body = response.read()
            kept = {h: response.headers[h] for h in _FORWARDED_HEADERS if h in response.headers}
            return Reply(response.status, body, kept)
        finally:
            connection.close()
