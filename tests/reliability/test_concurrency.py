"""One client shared by threads: every answer reaches the call that asked for it.

8 threads make 500 calls each through one ``ApiClient``: GETs and PUTs of distinct resources,
some answered 404/400/500, some overloaded once (503, retried), while the server sets cookies
on every answer. Each result is checked against what its own call asked for.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from http.cookies import SimpleCookie

from cvat_sdk.api_client import exceptions
from tests.reliability._support import FIGURES, client_for, quick_retries
from tests.support.loopback import LoopbackServer, Recorded, Reply

THREADS, CALLS = 8, 500
SESSION, CSRF = "session-of-the-run", "csrf-of-the-run"


def resource_id(thread: int, call: int) -> int:
    return thread * 10_000 + call + 1


def outcome_of(rid: int) -> str:
    """What the server does for a resource: decided by its id, known to both sides."""
    if rid % 17 == 0:
        return "404"
    if rid % 19 == 0:
        return "500"
    if rid % 23 == 0:
        return "400"
    if rid % 7 == 0:
        return "503 once"
    return "ok"


class Server:
    """Answers by resource id; remembers which overloaded resources it has already refused."""

    def __init__(self) -> None:
        self.refused: set[tuple[str, int]] = set()
        self.cookie_problems: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, request: Recorded) -> Reply:
        rid = int(request.path.rstrip("/").rsplit("/", 1)[-1])
        self._check_cookies(request)
        outcome = outcome_of(rid)
        cookies = [
            ("Set-Cookie", f"sessionid={SESSION}; Path=/; HttpOnly"),
            ("Set-Cookie", f"csrftoken={CSRF}; Path=/"),
        ]
        if outcome == "503 once":
            with self.lock:
                first = (request.method, rid) not in self.refused
                self.refused.add((request.method, rid))
            if first:
                return Reply(503, b"busy", extra_headers=cookies)
        if outcome in ("404", "500", "400"):
            body = f'{{"detail": "resource {rid}"}}'.encode()
            return Reply(int(outcome), body, {"X-Resource": str(rid)}, extra_headers=cookies)
        if request.method == "GET":
            data = {"id": rid, "name": f"task {rid}", "status": "annotation"}
            return json_reply(data, rid, cookies)
        sent = request.json()
        answer = {
            "id": rid,
            "type": sent["type"],
            "content_type": "application/json",
            "target_url": sent["target_url"],
            "description": sent["description"],
        }
        return json_reply(answer, rid, cookies)

    def _check_cookies(self, request: Recorded) -> None:
        header = request.headers.get("Cookie")
        if header is None:
            return  # the first answers have not come back yet
        jar = SimpleCookie()
        jar.load(header)
        names = [part.split("=", 1)[0].strip() for part in header.split(";")]
        if len(names) != len(set(names)) or set(names) - {"sessionid", "csrftoken"}:
            self.cookie_problems.append(header)
        for name, value in (("sessionid", SESSION), ("csrftoken", CSRF)):
            if name in jar and jar[name].value != value:
                self.cookie_problems.append(header)


def json_reply(data: dict[str, object], rid: int, cookies: list[tuple[str, str]]) -> Reply:
    reply = Reply.json(data, headers={"X-Resource": str(rid)})
    reply.extra_headers = cookies
    return reply


def test_one_client_shared_by_eight_threads() -> None:
    logic = Server()
    problems: list[str] = []
    tally: Counter[str] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    with LoopbackServer(logic) as server, client_for(server, retries=quick_retries()) as client:

        def work(thread: int) -> None:
            start.wait()
            for call in range(CALLS):
                rid = resource_id(thread, call)
                expected = outcome_of(rid)
                kind = "PUT" if call % 3 == 0 else "GET"
                try:
                    if kind == "GET":
                        task, response = client.tasks_api.retrieve(rid)
                        good = task.id == rid and task.name == f"task {rid}"
                    else:
                        description = f"thread {thread} call {call}"
                        hook, response = client.webhooks_api.update(
                            rid,
                            {
                                "target_url": f"http://hooks/{rid}",
                                "type": "organization",
                                "description": description,
                                "events": ["create:task"],
                            },
                        )
                        good = (hook.id, hook.description, hook.target_url) == (
                            rid,
                            description,
                            f"http://hooks/{rid}",
                        )
                    good = good and response.headers["X-Resource"] == str(rid)
                    result = "ok" if expected in ("ok", "503 once") else f"no error for {expected}"
                    if not good:
                        result = "crosstalk"
                except exceptions.ApiException as error:
                    right_status = str(error.status) == expected
                    right_body = error.body == f'{{"detail": "resource {rid}"}}'.encode()
                    right_header = error.headers is not None and error.headers["X-Resource"] == str(
                        rid
                    )
                    right_url = f"/{rid}" in str(error)
                    if right_status and right_body and right_header and right_url:
                        result = expected
                    else:
                        result = f"wrong error {error.status} for {rid} ({expected})"
                except Exception as error:  # anything else is a failure of the client
                    result = f"{type(error).__name__}: {error}"
                with lock:
                    tally[result] += 1
                    if result not in ("ok", "404", "500", "400"):
                        problems.append(f"{kind} {rid}: {result}")

        threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        elapsed = time.monotonic() - began
        assert not any(t.is_alive() for t in threads), "a thread is stuck"
        jar = {name: morsel.value for name, morsel in client.cookies.items()}

    FIGURES["concurrent calls"] += sum(tally.values())
    FIGURES["concurrent calls: seconds"] = round(elapsed, 1)
    FIGURES["concurrent calls: errors raised as expected"] += (
        tally["404"] + tally["500"] + tally["400"]
    )
    assert problems == [], problems[:10]
    assert sum(tally.values()) == THREADS * CALLS
    retried = sum(
        1
        for t in range(THREADS)
        for c in range(CALLS)
        if outcome_of(resource_id(t, c)) == "503 once"
    )
    assert len(server.requests) == THREADS * CALLS + retried
    FIGURES["faults injected"] += retried + tally["404"] + tally["500"] + tally["400"]
    FIGURES["faults survived"] += retried
    assert logic.cookie_problems == [], logic.cookie_problems[:5]
    assert jar == {"sessionid": SESSION, "csrftoken": CSRF}
    with_cookies = [r for r in server.requests if "Cookie" in r.headers]
    assert len(with_cookies) >= len(server.requests) - THREADS * 2  # all but the first ones
