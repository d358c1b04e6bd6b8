"""Annotations (LabeledData: tags, shapes, tracks), kept per job as CVAT does.

A task's annotations are those of its annotation jobs (a ground-truth job keeps its own); what is
written to a task goes to the job that holds the object's frame. Objects must use the task's
labels and frames; a write is checked whole before any of it is applied.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from ._http import HttpError, Reply
from ._store import Job

if TYPE_CHECKING:
    from ._http import Call, Json
    from ._store import Store, Task

Objects = dict[str, list["Json"]]  # "tags", "shapes", "tracks" -> objects

KINDS = ("tags", "shapes", "tracks")

_OBJECT: Json = {
    "id": None,
    "frame": 0,
    "label_id": 0,
    "group": 0,
    "source": "manual",
    "attributes": [],
}
_GEOMETRY: Json = {
    "type": "rectangle",
    "occluded": False,
    "outside": False,
    "z_order": 0,
    "rotation": 0.0,
    "points": [],
}
# kind -> (fields with defaults, required fields, nested lists and their kind, id sequence)
_KINDS: dict[str, tuple[Json, tuple[str, ...], dict[str, str], str]] = {
    "tags": (_OBJECT, ("frame", "label_id"), {}, "tag"),
    "shapes": (
        {**_GEOMETRY, **_OBJECT, "elements": []},
        ("frame", "label_id", "type"),
        {"elements": "shape_elements"},
        "shape",
    ),
    "shape_elements": ({**_GEOMETRY, **_OBJECT}, ("frame", "label_id", "type"), {}, "shape"),
    "tracks": (
        {**_OBJECT, "shapes": [], "elements": []},
        ("frame", "label_id", "shapes"),
        {"shapes": "tracked_shapes", "elements": "track_elements"},
        "track",
    ),
    "track_elements": (
        {**_OBJECT, "shapes": []},
        ("frame", "label_id", "shapes"),
        {"shapes": "tracked_shapes"},
        "track",
    ),
    "tracked_shapes": (
        {**_GEOMETRY, "id": None, "frame": 0, "attributes": []},
        ("frame", "type"),
        {},
        "tracked_shape",
    ),
}


def labeled_data(objects: Objects) -> Json:
    return {"version": 0, **{kind: objects.get(kind, []) for kind in KINDS}}


def parse(store: Store, data: Json, *, keep_ids: bool) -> Objects:
    """Validates a LabeledData request and fills in CVAT's defaults; assigns new ids unless kept."""
    return {
        kind: [_normalize(store, kind, obj, keep_ids) for obj in _list(data.get(kind, []), kind)]
        for kind in KINDS
    }


def jobs_of(store: Store, record: Task | Job) -> list[Job]:
    """The jobs whose annotations a task or job endpoint reads and writes."""
    if isinstance(record, Job):
        return [record]
    return [job for job in store.task_jobs(record) if job.type == "annotation"]


def current(jobs: list[Job]) -> Json:
    return labeled_data(
        {
            kind: sorted((obj for job in jobs for obj in job.annotations[kind]), key=_by_id)
            for kind in KINDS
        }
    )


def replace(store: Store, jobs: list[Job], objects: Objects) -> None:
    split = _by_frame(store, jobs, objects)
    for job in jobs:
        job.annotations = split[job.id]


def patch(store: Store, jobs: list[Job], action: str, objects: Objects) -> None:
    """create appends, update replaces objects by id, delete removes objects by id."""
    if action == "create":
        split = _by_frame(store, jobs, objects)
        for job in jobs:
            for kind in KINDS:
                job.annotations[kind].extend(split[job.id][kind])
        return
    given = {(kind, obj["id"]): obj for kind in KINDS for obj in objects[kind]}
    if action == "update":
        held = {(k, obj["id"]) for job in jobs for k in KINDS for obj in job.annotations[k]}
        if given.keys() - held:
            missing = ", ".join(f"{kind} {i}" for kind, i in sorted(given.keys() - held))
            raise HttpError(400, {"detail": f"No such objects to update: {missing}"})
        _by_frame(store, jobs, objects)  # checks frames and labels
    for job in jobs:
        for kind in KINDS:
            objs = job.annotations[kind]
            if action == "update":
                job.annotations[kind] = [given.get((kind, obj["id"]), obj) for obj in objs]
            else:
                job.annotations[kind] = [obj for obj in objs if (kind, obj["id"]) not in given]


def drop_labels(job: Job, label_ids: set[int]) -> None:
    for kind in KINDS:
        job.annotations[kind] = [o for o in job.annotations[kind] if o["label_id"] not in label_ids]


# Endpoints: /api/{tasks,jobs}/{id}/annotations/ with GET, PUT, PATCH and DELETE.


def get_endpoint(call: Call, target: str) -> Reply:
    if target == "task":
        task = call.store.get(call.store.tasks, call.id, call.me)
        if task.data is None and task.data_id is None:  # CVAT: HttpResponseBadRequest
            message = "Exporting annotations from a task without data is not allowed"
            raise HttpError(400, message, text=message)
    return Reply.json(200, current(_jobs(call, target)))


def put_endpoint(call: Call, target: str) -> Reply:
    jobs = _jobs(call, target)
    replace(call.store, jobs, parse(call.store, call.json(), keep_ids=False))
    return Reply.json(200, current(jobs))


def patch_endpoint(call: Call, target: str) -> Reply:
    """Answers the objects as written (with their new ids, for create), as CVAT does."""
    jobs = _jobs(call, target)
    action = call.query.get("action", "")
    if action not in ("create", "update", "delete"):
        raise HttpError(400, ["Please specify a correct 'action' for the request"], as_is=True)
    objects = parse(call.store, call.json(), keep_ids=action != "create")
    patch(call.store, jobs, action, objects)
    return Reply.json(200, labeled_data(objects))


def delete_endpoint(call: Call, target: str) -> Reply:
    for job in _jobs(call, target):
        job.annotations = {kind: [] for kind in KINDS}
    return Reply.empty(204)


def _jobs(call: Call, target: str) -> list[Job]:
    store = call.store
    if target == "task":
        return jobs_of(store, store.get(store.tasks, call.id, call.me))
    return jobs_of(store, store.get(store.jobs, call.id, call.me))


def _by_frame(store: Store, jobs: list[Job], objects: Objects) -> dict[int, Objects]:
    """Objects grouped by the job that holds their frame; 400 for a frame or a label that the
    jobs' task does not have."""
    holder = {frame: job for job in jobs for frame in job.frames}
    split: dict[int, Objects] = {job.id: {kind: [] for kind in KINDS} for job in jobs}
    for kind in KINDS:
        for obj in objects[kind]:
            job = holder.get(obj["frame"])
            if job is None:
                raise HttpError(400, {kind: [f"Frame {obj['frame']} is not in the job(s)"]})
            _check_labels(store, job, kind, obj)
            split[job.id][kind].append(obj)
    return split


def _check_labels(store: Store, job: Job, kind: str, obj: Json) -> None:
    labels = store.task_labels(store.tasks[job.task_id])
    known = {lb.id for lb in labels} | {sub["id"] for lb in labels for sub in lb.sublabels}
    for item in [obj, *obj.get("elements", [])]:  # a skeleton's elements use its sublabels
        if item["label_id"] not in known:
            raise HttpError(400, {kind: [f"Label {item['label_id']} is not in the task"]})


def _by_id(obj: Json) -> int:
    return int(obj["id"])


def _normalize(store: Store, kind: str, obj: object, keep_ids: bool) -> Json:
    fields, required, nested, sequence = _KINDS[kind]
    if not isinstance(obj, dict):
        raise HttpError(400, {kind: ["Expected an object."]})
    missing = [name for name in required if name not in obj]
    if missing:
        raise HttpError(400, {kind: [{name: ["This field is required."] for name in missing}]})
    out: Json = copy.deepcopy({name: obj.get(name, default) for name, default in fields.items()})
    if not keep_ids or out["id"] is None:
        out["id"] = store.next_id(sequence)
    for name, child_kind in nested.items():
        out[name] = [
            _normalize(store, child_kind, child, keep_ids) for child in _list(out[name], name)
        ]
    return out


def _list(value: Any, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise HttpError(400, {field: ["Expected a list of items."]})
    return value
