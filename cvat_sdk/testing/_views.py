"""Endpoints for records: server, users, organizations, projects, tasks, jobs, labels, requests."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from . import _formats, _labels, _listing, _serialize
from ._http import HttpError, Reply, server_error
from ._listing import Extract, ListSpec, fields, key, username
from ._store import Job, Organization, Project, Task, now
from ._transfers import shuffled as _shuffled

if TYPE_CHECKING:
    from pathlib import Path

    from ._http import Call, Json
    from ._store import Label, User


def _operation(name: str) -> Extract:
    return lambda request: request["operation"][name]


_USERS = ListSpec(
    fields("id", "username", "first_name", "last_name", "is_active"),
    search=("username", "first_name", "last_name"),
    default_sort="id",
)
_ORGANIZATIONS = ListSpec(
    {**fields("id", "name", "slug"), "owner": username("owner")}, search=("name", "slug", "owner")
)
_PROJECTS = ListSpec(
    {
        **fields("id", "name", "status", "updated_date"),
        "owner": username("owner"),
        "assignee": username("assignee"),
    },
    search=("name", "owner", "assignee", "status"),
)
_TASKS = ListSpec(
    {
        **fields(
            "id", "name", "project_id", "status", "mode", "dimension", "subset", "updated_date"
        ),
        "owner": username("owner"),
        "assignee": username("assignee"),
        "tracker_link": key("bug_tracker"),
        "validation_mode": key("validation_mode"),
    },
    search=("name", "owner", "assignee", "status", "subset", "mode", "dimension", "tracker_link"),
)
_JOBS = ListSpec(
    {
        **fields(
            "id", "task_id", "project_id", "stage", "state", "type", "dimension", "updated_date"
        ),
        "assignee": username("assignee"),
    },
    search=("assignee", "state", "stage"),
)
_LABELS = ListSpec(
    fields("id", "name", "type", "color", "parent_id"), search=("name",), default_sort="id"
)
_REQUESTS = ListSpec(
    {
        **fields("id", "status", "created_date"),
        "action": lambda r: r["operation"]["type"].split(":")[0],
        "subresource": lambda r: r["operation"]["type"].split(":")[-1],
        **{
            name: _operation(name)
            for name in ("target", "format", "project_id", "task_id", "job_id")
        },
    },
    default_sort="-created_date",
)
_SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,16}$")


def about(call: Call) -> Reply:
    return Reply.json(200, _serialize.about())


def annotation_formats(call: Call) -> Reply:
    return Reply.json(200, _formats.formats())


# Users


def users_self(call: Call) -> Reply:
    return Reply.json(200, _serialize.user(call, call.me))


def users_list(call: Call) -> Reply:
    items = [_serialize.user(call, u) for u in call.store.users.values()]
    return _listing.reply(call, items, _USERS)


def users_retrieve(call: Call) -> Reply:
    user = call.store.users.get(call.id)
    if user is None:
        raise HttpError(404, "No User matches the given query.")
    return Reply.json(200, _serialize.user(call, user))


# Organizations


def organizations_create(call: Call) -> Reply:
    body = call.json()
    slug = body.get("slug")
    if not isinstance(slug, str) or not _SLUG.match(slug):
        raise HttpError(
            400, {"slug": ["Enter a valid slug of at most 16 letters, digits, - or _."]}
        )
    if any(o.slug == slug for o in call.store.organizations.values()):
        raise HttpError(400, {"slug": ["organization with this slug already exists."]})
    org = Organization(call.store.next_id("organization"), slug, str(body.get("name", "")), call.me)
    org.description = str(body.get("description", ""))
    org.contact = dict(body.get("contact") or {})
    call.store.organizations[org.id] = org
    return Reply.json(201, _serialize.organization(call, org))


def organizations_list(call: Call) -> Reply:
    orgs = [o for o in call.store.organizations.values() if call.store.can_access(call.me, o)]
    return _listing.reply(call, [_serialize.organization(call, o) for o in orgs], _ORGANIZATIONS)


def organizations_retrieve(call: Call) -> Reply:
    org = call.store.get(call.store.organizations, call.id, call.me)
    return Reply.json(200, _serialize.organization(call, org))


def organizations_update(call: Call) -> Reply:
    org = call.store.get(call.store.organizations, call.id, call.me)
    body = call.json()
    org.name = str(body.get("name", org.name))
    org.description = str(body.get("description", org.description))
    org.contact = dict(body.get("contact", org.contact))
    org.updated_date = now()
    return Reply.json(200, _serialize.organization(call, org))


def organizations_delete(call: Call) -> Reply:
    call.store.delete_organization(call.store.get(call.store.organizations, call.id, call.me))
    return Reply.empty(204)


# Projects


def projects_create(call: Call) -> Reply:
    body = call.json()
    project = Project(call.store.next_id("project"), _name(body), call.me, call.org)
    _apply_common(call, project, body)
    project.source_storage, project.target_storage = _storage(call), _storage(call)
    _labels.create_all(call.store, body.get("labels", []), project_id=project.id)
    call.store.projects[project.id] = project  # only once all of it was accepted
    return Reply.json(201, _serialize.project(call, project))


def projects_list(call: Call) -> Reply:
    projects = _in_scope(call, call.store.projects.values())
    return _listing.reply(call, [_serialize.project(call, p) for p in projects], _PROJECTS)


def projects_retrieve(call: Call) -> Reply:
    return Reply.json(
        200, _serialize.project(call, call.store.get(call.store.projects, call.id, call.me))
    )


def projects_update(call: Call) -> Reply:
    project = call.store.get(call.store.projects, call.id, call.me)
    body = call.json()
    project.name = _name(body) if "name" in body else project.name
    _apply_common(call, project, body)
    if "labels" in body:
        _labels.patch_all(call.store, body["labels"], project_id=project.id)
    project.updated_date = now()
    return Reply.json(200, _serialize.project(call, project))


def projects_delete(call: Call) -> Reply:
    call.store.delete_project(call.store.get(call.store.projects, call.id, call.me))
    return Reply.empty(204)


# Tasks


def tasks_create(call: Call) -> Reply:
    body = call.json()
    task = Task(call.store.next_id("task"), _name(body), call.me, call.org)
    _apply_common(call, task, body)
    task.project_id = _project_for(call, body.get("project_id"), call.org)
    if task.project_id is None and not body.get("labels"):
        raise HttpError(400, ["Label set or project_id must be present"], as_is=True)
    task.segment_size = _count(body, "segment_size", 0)
    task.overlap = _count(body, "overlap", None)
    task.subset = str(body.get("subset", ""))
    task.source_storage, task.target_storage = _storage(call), _storage(call)
    if task.project_id is None:
        _labels.create_all(call.store, body["labels"], task_id=task.id)
    call.store.tasks[task.id] = task  # only once all of it was accepted
    return Reply.json(201, _serialize.task(call, task))


def tasks_list(call: Call) -> Reply:
    tasks = _in_scope(call, call.store.tasks.values())
    return _listing.reply(call, [_serialize.task(call, t) for t in tasks], _TASKS)


def tasks_retrieve(call: Call) -> Reply:
    return Reply.json(
        200, _serialize.task(call, call.store.get(call.store.tasks, call.id, call.me))
    )


def tasks_update(call: Call) -> Reply:
    task = call.store.get(call.store.tasks, call.id, call.me)
    body = call.json()
    task.name = _name(body) if "name" in body else task.name
    _apply_common(call, task, body)
    if "project_id" in body:
        task.project_id = _project_for(call, body["project_id"], task.organization)
    task.subset = str(body.get("subset", task.subset))
    if "labels" in body:
        if task.project_id is not None:
            raise HttpError(400, {"labels": ["A task in a project uses the project's labels"]})
        _labels.patch_all(call.store, body["labels"], task_id=task.id)
    task.updated_date = now()
    return Reply.json(200, _serialize.task(call, task))


def tasks_data_meta(call: Call) -> Reply:
    """GET /api/tasks/{id}/data/meta: the frames, one per uploaded file (sizes read from PNG
    headers; other files are 1x1, nothing is decoded)."""
    task = call.store.get(call.store.tasks, call.id, call.me)
    data = task.data
    if data is None:
        if task.data_id is None:  # CVAT has no Data to read: an AttributeError
            raise server_error()
        empty: Json = {"chunks_updated_date": None, "chunk_size": None, "size": 0, "frames": []}
        return Reply.json(
            200,
            {
                **empty,
                "image_quality": task.data_quality,
                "start_frame": 0,
                "stop_frame": 0,
                "frame_filter": "",
                "deleted_frames": [],
                "included_frames": None,
            },
        )
    frames = []
    for name in data.files:
        width, height = _png_size(data.media_dir / name)
        frames.append(
            {
                "width": width,
                "height": height,
                "name": name,
                "related_files": 0,
                "has_related_context": False,
            }
        )
    body = {
        "chunks_updated_date": task.created_date,
        "chunk_size": data.chunk_size,
        "size": len(data.files),
        "image_quality": data.image_quality,
        "start_frame": 0,
        "stop_frame": max(len(data.files) - 1, 0),
        "frame_filter": "",
        "frames": frames,
        "deleted_frames": [],
        "included_frames": None,
    }
    return Reply.json(200, body)


def _png_size(path: Path) -> tuple[int, int]:
    with path.open("rb") as file:
        head = file.read(24)
    if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    return 1, 1


def tasks_delete(call: Call) -> Reply:
    call.store.delete_task(call.store.get(call.store.tasks, call.id, call.me))
    return Reply.empty(204)


# Jobs


def jobs_create(call: Call) -> Reply:
    """Ground-truth jobs, with frames chosen by hand or at random, as CVAT allows."""
    body = call.json()
    if body.get("type") != "ground_truth":
        raise HttpError(400, {"type": ["Only ground_truth jobs can be created"]})
    if not isinstance(body.get("task_id"), int):
        raise HttpError(400, {"task_id": ["This field is required."]})
    task = call.store.get(call.store.tasks, body["task_id"], call.me)
    if task.data is None:
        raise HttpError(
            400,
            ["This task has no data attached yet. Please set up task data and try again"],
            as_is=True,
        )
    if any(j.type == "ground_truth" for j in call.store.task_jobs(task)):
        raise HttpError(400, {"task_id": ["The task already has a ground truth job"]})
    frames = _gt_frames(body, len(task.data.files))
    job = Job(
        call.store.next_id("job"), task.id, frames[0], frames[-1], frames, type="ground_truth"
    )
    call.store.jobs[job.id] = job
    return Reply.json(201, _serialize.job(call, job))


def jobs_list(call: Call) -> Reply:
    tasks = {t.id for t in _in_scope(call, call.store.tasks.values())}
    jobs = [j for j in call.store.jobs.values() if j.task_id in tasks]
    return _listing.reply(call, [_serialize.job(call, j) for j in jobs], _JOBS)


def jobs_retrieve(call: Call) -> Reply:
    return Reply.json(200, _serialize.job(call, call.store.get(call.store.jobs, call.id, call.me)))


def jobs_update(call: Call) -> Reply:
    job = call.store.get(call.store.jobs, call.id, call.me)
    body = call.json()
    job.stage = _choice(body, "stage", ("annotation", "validation", "acceptance"), job.stage)
    job.state = _choice(body, "state", ("new", "in progress", "completed", "rejected"), job.state)
    if "assignee" in body:
        if body["assignee"] is not None and body["assignee"] not in call.store.users:
            raise server_error()  # CVAT takes the id as a number and fails to find the user
        job.assignee = _user(call, body["assignee"], "assignee")
    job.updated_date = now()
    return Reply.json(200, _serialize.job(call, job))


def jobs_delete(call: Call) -> Reply:
    job = call.store.get(call.store.jobs, call.id, call.me)
    if job.type != "ground_truth":
        raise HttpError(400, "Only ground truth jobs can be removed")
    call.store.delete_job(job)
    return Reply.empty(204)


# Labels


def labels_list(call: Call) -> Reply:
    labels = [lb for lb in call.store.labels.values() if call.store.can_access(call.me, lb)]
    for name in ("task_id", "job_id", "project_id"):
        if name in call.query:
            wanted = _labels_of(call, name, call.query[name])
            labels = [lb for lb in labels if lb in wanted]
    return _listing.reply(call, [_labels.render(lb) for lb in labels], _LABELS)


def labels_retrieve(call: Call) -> Reply:
    return Reply.json(200, _labels.render(call.store.get(call.store.labels, call.id, call.me)))


def labels_update(call: Call) -> Reply:
    label = call.store.get(call.store.labels, call.id, call.me)
    _labels.update(call.store, label, call.json())
    return Reply.json(200, _labels.render(label))


def labels_delete(call: Call) -> Reply:
    _labels.delete(call.store, call.store.get(call.store.labels, call.id, call.me))
    return Reply.empty(204)


# Background requests


def requests_list(call: Call) -> Reply:
    mine = [
        r
        for r in call.store.requests.values()
        if r.owner is call.me and (call.org is None or r.organization is call.org)
    ]
    return _listing.reply(call, [r.render() for r in mine], _REQUESTS)


def requests_retrieve(call: Call) -> Reply:
    request = call.store.requests.get(call.params["rq_id"])
    if request is None or (request.owner is not call.me and not call.me.is_superuser):
        message = "There is no request with specified id"
        raise HttpError(404, message, text=message)
    request.poll(call.store)
    return Reply.json(200, request.render())


# Helpers


def _labels_of(call: Call, owner: str, value: str) -> list[Label]:
    """Labels of a task (a task in a project has the project's), job or project."""
    owner_id = int(value) if value.isdigit() else 0
    if owner == "project_id":
        return call.store.project_labels(call.store.get(call.store.projects, owner_id, call.me).id)
    if owner == "job_id":
        owner_id = call.store.get(call.store.jobs, owner_id, call.me).task_id
    return call.store.task_labels(call.store.get(call.store.tasks, owner_id, call.me))


def _in_scope(call: Call, records: Any) -> list[Any]:
    """What a list shows: records of the request's organization (or of none) that the user sees."""
    return [r for r in records if r.organization is call.org and call.store.can_access(call.me, r)]


def _name(body: Json) -> str:
    name = body.get("name")
    if isinstance(name, str) and not name.strip():
        raise HttpError(400, {"name": ["This field may not be blank."]})
    if not isinstance(name, str):
        raise HttpError(400, {"name": ["This field is required."]})
    return name


def _apply_common(call: Call, record: Project | Task, body: Json) -> None:
    if "owner_id" in body:
        record.owner = _user(call, body["owner_id"], "owner_id") or call.me
    if "assignee_id" in body:
        record.assignee = _user(call, body["assignee_id"], "assignee_id")
    record.bug_tracker = str(body.get("bug_tracker", record.bug_tracker))


def _user(call: Call, user_id: object, field: str) -> User | None:
    if user_id is None:
        return None
    user = call.store.users.get(user_id) if isinstance(user_id, int) else None
    if user is None:
        raise HttpError(400, {field: [f'Invalid pk "{user_id}" - object does not exist.']})
    return user


def _project_for(call: Call, project_id: object, org: Organization | None) -> int | None:
    if project_id is None:
        return None
    project = call.store.projects.get(project_id) if isinstance(project_id, int) else None
    if project is None:
        raise HttpError(
            400, {"project_id": [f'Invalid pk "{project_id}" - object does not exist.']}
        )
    call.store.get(call.store.projects, project.id, call.me)
    if project.organization is not org:
        raise HttpError(
            400, {"project_id": ["The task and its project must be in the same organization"]}
        )
    return project.id


def _storage(call: Call) -> Json:
    return {"id": call.store.next_id("storage"), "location": "local", "cloud_storage_id": None}


def _count(body: Json, name: str, default: int | None) -> Any:
    value = body.get(name, default)
    if value is not None and (not isinstance(value, int) or value < 0):
        raise HttpError(400, {name: ["Ensure this value is greater than or equal to 0."]})
    return value


def _choice(body: Json, name: str, choices: tuple[str, ...], current: str) -> str:
    value = body.get(name, current)
    if value not in choices:
        raise HttpError(400, {name: [f'"{value}" is not a valid choice.']})
    return str(value)


def _gt_frames(body: Json, size: int) -> list[int]:
    method = body.get("frame_selection_method", "random_uniform")
    if method == "manual":
        frames = sorted(set(body.get("frames") or []))
        if not frames or not all(isinstance(f, int) and 0 <= f < size for f in frames):
            raise HttpError(
                400, {"frames": ["Frames must be a non-empty list of the task's frames"]}
            )
        return frames
    if method == "random_uniform":
        count = body.get("frame_count") or round(float(body.get("frame_share") or 0) * size)
        if not isinstance(count, int) or not 1 <= count <= size:
            raise HttpError(400, {"frame_count": [f"Must be between 1 and {size}"]})
        return sorted(_shuffled(range(size), body.get("random_seed"))[:count])
    raise HttpError(
        400, {"frame_selection_method": [f'"{method}" is not supported by the fake server.']}
    )
