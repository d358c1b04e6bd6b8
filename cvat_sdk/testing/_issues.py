"""Issues on job frames and their comments (``/api/issues``, ``/api/comments``), as CVAT 2.24
keeps them: an issue is made with its first comment, its frame, job and message are set once,
and removing an issue removes its comments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from . import _listing, _serialize
from ._http import HttpError, Reply, server_error
from ._listing import ListSpec, fields, key, username
from ._store import Comment, Issue, now

if TYPE_CHECKING:
    from ._http import Call, Json
    from ._store import Job, User

_ISSUES = ListSpec(
    {
        **fields("id", "resolved"),
        "job_id": key("job"),
        "frame_id": key("frame"),
        "owner": username("owner"),
        "assignee": username("assignee"),
    },
    search=("owner", "assignee"),
)
_COMMENTS = ListSpec(
    {**fields("id"), "issue_id": key("issue"), "owner": username("owner")},
    search=("owner",),
)
_REQUIRED = "This field is required."
Errors = dict[str, Any]  # field -> messages (or, for a list, index -> messages)
T = TypeVar("T")


def issues_list(call: Call) -> Reply:
    store = call.store
    issues = [i for i in store.issues.values() if _visible(call, store.jobs[i.job_id])]
    if "task_id" in call.query:  # a filter on the issue's job's task
        issues = [i for i in issues if str(store.jobs[i.job_id].task_id) == call.query["task_id"]]
    return _listing.reply(call, [_serialize.issue(call, i) for i in issues], _ISSUES)


def issues_create(call: Call) -> Reply:
    """The job is looked up first (CVAT's permission check), then the fields are checked."""
    body = call.json()
    job = _parent(call, call.store.jobs, body.get("job"), "Job")
    call.store.get(call.store.jobs, job.id, call.me)  # 403 for a job that is not yours
    errors: Errors = {}
    frame = _frame(body, errors)
    position = _position(body, errors, required=True)
    message = _message(body, errors, required=True)
    assignee = _user(call, body, "assignee", errors)
    resolved = _bool(body, "resolved", errors)
    if errors:
        raise HttpError(400, errors)
    assert frame is not None and position is not None
    issue = Issue(call.store.next_id("issue"), job.id, frame, position, call.me, assignee)
    issue.resolved = bool(resolved)
    call.store.issues[issue.id] = issue
    comment = Comment(call.store.next_id("comment"), issue.id, call.me, str(message))
    call.store.comments[comment.id] = comment
    return Reply.json(201, _serialize.issue(call, issue))


def issues_retrieve(call: Call) -> Reply:
    return Reply.json(200, _serialize.issue(call, _issue(call, call.id)))


def issues_update(call: Call) -> Reply:
    """PATCH: ``position``, ``assignee`` and ``resolved``; the rest is ignored, as the
    fields CVAT sets once are."""
    issue = _issue(call, call.id)
    body = call.json()
    errors: Errors = {}
    position = _position(body, errors, required=False)
    assignee = _user(call, body, "assignee", errors)
    resolved = _bool(body, "resolved", errors)
    if errors:
        raise HttpError(400, errors)
    if position is not None:
        issue.position = position
    if "assignee" in body:
        issue.assignee = assignee
    if resolved is not None:
        issue.resolved = resolved
    issue.updated_date = now()
    return Reply.json(200, _serialize.issue(call, issue))


def issues_delete(call: Call) -> Reply:
    call.store.delete_issue(_issue(call, call.id))
    return Reply.empty(204)


def comments_list(call: Call) -> Reply:
    store = call.store
    comments = [
        c
        for c in store.comments.values()
        if _visible(call, store.jobs[store.issues[c.issue_id].job_id])
    ]
    for name, of in (("job_id", "job_id"), ("frame_id", "frame")):
        if name in call.query:  # filters on the comment's issue
            comments = [
                c
                for c in comments
                if str(getattr(store.issues[c.issue_id], of)) == call.query[name]
            ]
    return _listing.reply(call, [_serialize.comment(call, c) for c in comments], _COMMENTS)


def comments_create(call: Call) -> Reply:
    body = call.json()
    issue = _parent(call, call.store.issues, body.get("issue"), "Issue")
    _issue(call, issue.id)  # 403 for an issue that is not yours
    errors: Errors = {}
    message = _message(body, errors, required=False)
    if errors:
        raise HttpError(400, errors)
    comment = Comment(call.store.next_id("comment"), issue.id, call.me, message or "")
    call.store.comments[comment.id] = comment
    return Reply.json(201, _serialize.comment(call, comment))


def comments_retrieve(call: Call) -> Reply:
    return Reply.json(200, _serialize.comment(call, _comment(call)))


def comments_update(call: Call) -> Reply:
    """PATCH: the ``message`` (the issue is set once)."""
    comment = _comment(call)
    body = call.json()
    errors: Errors = {}
    message = _message(body, errors, required=False)
    if errors:
        raise HttpError(400, errors)
    if message is not None:
        comment.message = message
    comment.updated_date = now()
    return Reply.json(200, _serialize.comment(call, comment))


def comments_delete(call: Call) -> Reply:
    comment = _comment(call)
    del call.store.comments[comment.id]
    return Reply.empty(204)


# Helpers: DRF's field checks, in its words


def _issue(call: Call, ident: int) -> Issue:
    return call.store.get(call.store.issues, ident, call.me)


def _comment(call: Call) -> Comment:
    return call.store.get(call.store.comments, call.id, call.me)


def _visible(call: Call, job: Job) -> bool:
    task = call.store.tasks[job.task_id]
    return task.organization is call.org and call.store.can_access(call.me, job)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _bad_pk(value: object) -> str:
    if _is_int(value):
        return f'Invalid pk "{value}" - object does not exist.'
    return f"Incorrect type. Expected pk value, received {type(value).__name__}."


def _frame(body: Json, errors: Errors) -> int | None:
    value: Any = body.get("frame")
    if "frame" not in body:
        errors["frame"] = [_REQUIRED]
    elif not _is_int(value):
        errors["frame"] = ["A valid integer is required."]
    elif value < 0:
        errors["frame"] = ["Ensure this value is greater than or equal to 0."]
    else:
        return int(value)
    return None


def _position(body: Json, errors: Errors, *, required: bool) -> list[float] | None:
    if "position" not in body:
        if required:
            errors["position"] = [_REQUIRED]
        return None
    value = body["position"]
    if not isinstance(value, list):
        errors["position"] = [f'Expected a list of items but got type "{type(value).__name__}".']
    elif not value:
        errors["position"] = ["This list may not be empty."]
    elif bad := {
        str(i): ["A valid number is required."]
        for i, v in enumerate(value)
        if not isinstance(v, (int, float)) or isinstance(v, bool)
    }:
        errors["position"] = bad
    else:
        return [float(v) for v in value]
    return None


def _parent(call: Call, table: dict[int, T], value: object, model: str) -> T:
    """The job of a new issue, the issue of a new comment: CVAT's permission check reads it
    before the fields are checked, and fails on an id that is not a number."""
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if value is not None and not _is_int(value):
        raise server_error()
    record = table.get(value) if isinstance(value, int) else None
    if record is None:
        raise HttpError(400, [f"{model} matching query does not exist."], as_is=True)
    return record


def _message(body: Json, errors: Errors, *, required: bool) -> str | None:
    if "message" not in body:
        if required:
            errors["message"] = [_REQUIRED]
        return None
    value = body["message"]
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        errors["message"] = ["Not a valid string."]
    elif not str(value).strip():
        errors["message"] = ["This field may not be blank."]
    else:
        return str(value)
    return None


def _user(call: Call, body: Json, name: str, errors: Errors) -> User | None:
    value: Any = body.get(name)
    if value is None:
        return None
    user = call.store.users.get(value) if _is_int(value) else None
    if user is None:
        errors[name] = [_bad_pk(value)]
    return user


def _bool(body: Json, name: str, errors: Errors) -> bool | None:
    if name not in body:
        return None
    value = body[name]
    if isinstance(value, bool):
        return value
    if value in ("true", "True", "1", 1):
        return True
    if value in ("false", "False", "0", 0):
        return False
    errors[name] = ["Must be a valid boolean."]
    return None
