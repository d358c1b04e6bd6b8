"""Background requests (CVAT's RQ jobs), as seen through /api/requests.

A request moves on one step each time its client polls GET /api/requests/{id}: it is "queued" on
the first poll, "started" on the next ones, and on poll number `polls_to_finish` its work runs and
it ends "finished" (or "failed" with a message). The work runs then, not before, so a client that
reads the result without waiting for the request sees what CVAT would show mid-way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ._http import HttpError, Reply
from ._store import now

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from ._http import Call, Json
    from ._store import Organization, Store, User


class BackgroundFailure(Exception):
    """Ends a background request as "failed"; the message is what the client reads."""


@dataclass
class Outcome:
    result_id: int | None = None
    result_file: Path | None = None


@dataclass(eq=False)
class BackgroundRequest:
    id: str
    operation: Json
    owner: User
    organization: Organization | None
    work: Callable[[], Outcome]
    result_url: str | None = None
    status: str = "queued"
    message: str = ""
    polls: int = 0
    outcome: Outcome = field(default_factory=Outcome)
    created_date: str = field(default_factory=now)
    started_date: str | None = None
    finished_date: str | None = None

    @property
    def done(self) -> bool:
        return self.status in ("finished", "failed")

    def poll(self, store: Store) -> None:
        if self.done:
            return
        self.polls += 1
        if self.polls < store.polls_to_finish:
            self.status = "queued" if self.polls == 1 else "started"
            if self.status == "started" and self.started_date is None:
                self.started_date = now()
            return
        self.started_date = self.started_date or now()
        self.finished_date = now()
        try:
            injected = store.faults.take_background_failure(self.operation["type"])
            if injected is not None:
                raise BackgroundFailure(injected)
            self.outcome = self.work()
            self.status = "finished"
        except BackgroundFailure as e:
            self.status, self.message = "failed", str(e)
        except HttpError as e:  # the same validation that answers 400 to a request
            self.status, self.message = "failed", e.message

    def _expiry_date(self) -> str | None:
        """When CVAT would drop the ended request: its end plus the queue's result (or
        failure) TTL."""
        if not self.done or self.finished_date is None:
            return None
        action = self.operation["type"].split(":")[0]
        ttl = _TTLS.get((action, self.status), _TTLS[("", self.status)])
        ended = datetime.fromisoformat(self.finished_date.replace("Z", "+00:00"))
        return (ended + ttl).isoformat().replace("+00:00", "Z")

    def render(self) -> Json:
        progress = {"queued": 0.0, "started": 0.5, "finished": 1.0}.get(self.status)
        return {
            "status": self.status,
            "message": self.message,
            "id": self.id,
            "operation": self.operation,
            "progress": progress,
            "created_date": self.created_date,
            "started_date": self.started_date,
            "finished_date": self.finished_date,
            "expiry_date": self._expiry_date(),
            "owner": {"id": self.owner.id, "username": self.owner.username},
            "result_url": self.result_url if self.status == "finished" else None,
            "result_id": self.outcome.result_id,
        }


# How long CVAT 2.24 keeps an ended request: (action, status) -> TTL ("" for any action).
_TTLS = {
    ("export", "finished"): timedelta(days=1),  # the export cache's TTL
    ("export", "failed"): timedelta(days=1),
    ("import", "finished"): timedelta(hours=1),
    ("import", "failed"): timedelta(days=30),
    ("create", "finished"): timedelta(seconds=500),  # RQ's default result TTL
    ("create", "failed"): timedelta(days=30),
    ("", "finished"): timedelta(seconds=500),
    ("", "failed"): timedelta(days=365),
}


def request_id(
    action: str,
    target: str,
    ident: object,
    subresource: str | None = None,
    *,
    fmt: str | None = None,
    user: User | None = None,
) -> str:
    """CVAT's rq_id layout, e.g. "export:task-5-dataset-in-COCO_1@0-format-by-1"."""
    rq_id = f"{action}:{target}-{ident}"
    if subresource:
        rq_id += f"-{subresource}"
    if fmt:
        rq_id += "-in-" + fmt.replace(" ", "_").replace(".", "@") + "-format"
    if user is not None:
        rq_id += f"-by-{user.id}"
    return rq_id


def start(
    call: Call,
    rq_id: str,
    operation: Json,
    work: Callable[[], Outcome],
    *,
    result_url: str | None = None,
) -> Reply:
    """Queues a request and answers 202 {"rq_id"}. While the same one is still queued or
    running, CVAT queues it again under the same id (a task creation: it then makes the
    frames twice); the fake keeps the first and answers the same. Imports and exports refuse
    a repeat themselves, before this."""
    previous = call.store.requests.get(rq_id)
    if previous is not None and not previous.done:
        return Reply.json(202, {"rq_id": rq_id})
    if previous is not None and previous.outcome.result_file is not None:
        previous.outcome.result_file.unlink(missing_ok=True)
    call.store.requests[rq_id] = BackgroundRequest(
        id=rq_id,
        operation={
            "type": operation["type"],
            "target": operation["target"],
            "project_id": operation.get("project_id"),
            "task_id": operation.get("task_id"),
            "job_id": operation.get("job_id"),
            "format": operation.get("format"),
            "function_id": None,
        },
        owner=call.me,
        organization=call.org,
        work=work,
        result_url=result_url,
    )
    return Reply.json(202, {"rq_id": rq_id})
