"""Endpoints that move files: task data, imports, exports, backups and result downloads.

Each upload endpoint answers through the upload protocol (see _uploads) and finishes into a
background request; each export starts a background request whose result is a zip file that the
request's `result_url` downloads (the v1 endpoint with `action=download`, as in CVAT 2.24).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import uuid
from typing import TYPE_CHECKING, Any, TypeVar

from . import _annotations, _archives, _labels, _uploads
from ._background import BackgroundFailure, Outcome, request_id, start
from ._formats import EXPORT_FORMATS, IMPORT_FORMATS
from ._http import HttpError, Reply
from ._store import Job, Project, Task, TaskData

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping
    from pathlib import Path

    from ._http import Call, Json
    from ._multipart import Form
    from ._store import Organization, Store, User
    from ._uploads import UploadArea

_SORTING_METHODS = ("lexicographical", "natural", "predefined", "random")
_UNSUPPORTED_SOURCES = ("remote_files", "cloud_storage_id")
# Where a CVAT in its Docker image keeps the share and the tasks' data (named in messages).
SHARE_ROOT = "/home/django/share"
DATA_ROOT = "/home/django/data/data"
# Where CVAT 2.24 puts an export's result: the v1 endpoint, reversed without a final slash.
_RESULT_PATHS = {
    ("project", "dataset"): "/api/projects/{}/dataset",
    ("project", "annotations"): "/api/projects/{}/annotations",
    ("project", "backup"): "/api/projects/{}/backup",
    ("task", "dataset"): "/api/tasks/{}/dataset",
    ("task", "annotations"): "/api/tasks/{}/annotations",
    ("task", "backup"): "/api/tasks/{}/backup",
    ("job", "dataset"): "/api/jobs/{}/dataset",
    ("job", "annotations"): "/api/jobs/{}/annotations",
}
T = TypeVar("T")
IdMap = dict[str, dict[int, int]]  # "label_id" or "spec_id" -> old id -> new id


# Task data: POST /api/tasks/{id}/data/


def task_data(call: Call) -> Reply:
    with call.store.lock:
        task = call.store.get(call.store.tasks, call.id, call.me)
        if task.data is not None:
            raise HttpError(400, "Adding more data is not supported", as_is=True)
        if task.data_id is None:
            task.data_id = call.store.next_id("data")
    return _uploads.endpoint(call, f"task-{task.id}-data", _finish_task_data)


def _finish_task_data(call: Call, area: UploadArea, form: Form) -> Reply:
    """Validates the DataRequest, adds the finish's own files, and queues the task creation.

    What the area holds stays there until a creation succeeds: after a refused or failed
    finish, CVAT still has the files and the names (and the share files) it was told about.
    """
    task = call.store.get(call.store.tasks, call.id, call.me)
    fields = form.data
    quality = _uploads.check_data_fields(fields)
    chunk_size = _uploads.integer_field(fields, "chunk_size", 0, None)
    for name in _UNSUPPORTED_SOURCES:
        if fields.get(name):
            raise HttpError(400, {name: ["The fake CVAT server only takes uploaded files."]})
    sorting = fields.get("sorting_method", "lexicographical")
    if sorting not in _SORTING_METHODS:
        raise HttpError(400, {"sorting_method": [f'"{sorting}" is not a valid choice.']})
    order = _as_list(fields.get("upload_file_order")) if sorting == "predefined" else []
    mapping = fields.get("job_file_mapping")
    _uploads.add_files(area, form.files)
    area.server_files.extend(_as_list(fields.get("server_files")))
    task.data_quality = quality  # saved with the request, whatever becomes of the creation
    if order and area.registered:
        _check_order(area.registered, order)
    store = call.store

    def work() -> Outcome:
        _check_exists(store, "task", task)
        if area.server_files:  # the fake's share is empty: the first file looked for is missing
            first = sorted([*area.server_files, *area.registered])[0]
            raise BackgroundFailure(_not_found(f"{SHARE_ROOT}/{first}"))
        missing = [n for n in area.registered if n not in area.files]
        if missing:
            raise BackgroundFailure(_not_found(f"{DATA_ROOT}/{task.id}/raw/{missing[0]}"))
        if not area.registered:
            raise BackgroundFailure("ValueError: No media data found\n")
        names = _ordered(list(area.registered), sorting, order, seed=task.id)
        sizes = None
        conflict = _mapping_conflict(task, fields, sorting) if mapping is not None else None
        conflict = conflict or _validation_conflict(task, fields, sorting)
        if conflict is not None:  # CVAT checks these in the background
            raise BackgroundFailure(
                "rest_framework.exceptions.ValidationError: [ErrorDetail(string="
                f"'{conflict}', code='invalid')]\n"
            )
        if mapping:
            names, sizes = _apply_mapping(names, mapping)
        attach_data(
            store,
            task,
            [(n, area.files[n]) for n in names],
            image_quality=quality,
            chunk_size=chunk_size,
            job_sizes=sizes,
        )
        _uploads.drop_area(store, area.key)
        return Outcome()

    rq_id = request_id("create", "task", task.id)
    return start(call, rq_id, {"type": "create:task", "target": "task", "task_id": task.id}, work)


def _validation_conflict(task: Task, fields: Json, sorting: str) -> str | None:
    """What CVAT 2.24 fails a creation with validation_params over, in its order."""
    validation = _uploads.validation_params(fields) or {}
    per_job = validation.get("frames_per_job_count")
    if (
        validation.get("mode") == "gt"
        and validation.get("frame_selection_method") == "random_per_job"
        and str(per_job).isdigit()
        and task.segment_size <= int(str(per_job))
    ):
        return "Validation frame count per job cannot be greater than segment size"
    if validation.get("mode") == "gt_pool" and sorting != "random":
        return 'validation mode "gt_pool" can only be used with "random" sorting'
    return None


def _mapping_conflict(task: Task, fields: Mapping[str, Any], sorting: str) -> str | None:
    """What CVAT 2.24 fails a creation with job_file_mapping over, in its order of checks."""
    if task.segment_size:
        return "job_file_mapping cannot be used with segment_size"
    if sorting != "lexicographical":
        return "job_file_mapping cannot be used with sorting_method"
    for name in ("start_frame", "stop_frame"):
        if str(fields.get(name) or "0").strip() not in ("0", ""):
            return f"job_file_mapping cannot be used with {name}"
    for name in ("frame_filter", "filename_pattern", "server_files_exclude"):
        if fields.get(name):
            return f"job_file_mapping cannot be used with {name}"
    return None


def _not_found(path: str) -> str:
    return f"FileNotFoundError: [Errno 2] No such file or directory: '{path}'\n"


def attach_data(
    store: Store,
    task: Task,
    files: list[tuple[str, Path]],
    *,
    image_quality: int,
    chunk_size: int | None = None,
    job_sizes: list[int] | None = None,
) -> None:
    """One frame per file (nothing is decoded); jobs of `segment_size` frames (one job if 0),
    unless `job_sizes` says otherwise."""
    media_dir = store.dir("media", f"task-{task.id}")
    for name, source in files:
        (media_dir / name).parent.mkdir(parents=True, exist_ok=True)
        source.replace(media_dir / name)
    data_id = task.data_id if task.data_id is not None else store.next_id("data")
    task.data = TaskData(data_id, image_quality, chunk_size, [n for n, _ in files], media_dir)
    task.segment_size = task.segment_size or len(files)
    task.overlap = task.overlap or 0
    if job_sizes is None:
        step = task.segment_size
        job_sizes = [min(step, len(files) - first) for first in range(0, len(files), step)]
    first = 0
    for size in job_sizes:
        job = Job(
            store.next_id("job"), task.id, first, first + size - 1, list(range(first, first + size))
        )
        store.jobs[job.id] = job
        first += size


def _check_order(names: list[str], order: list[str]) -> None:
    """CVAT refuses, before queueing anything, an order that does not list the files."""
    mismatching = [f"{n} (extra)" for n in sorted(set(names) - set(order))]
    mismatching += [f"{n} (missing)" for n in sorted(set(order) - set(names))]
    if mismatching:
        more = len(mismatching) - 5
        raise HttpError(
            400,
            [
                "Uploaded files do not match the 'upload_file_order' field contents. "
                "Please check the uploaded data and the list of uploaded files. "
                f"Mismatching files: {', '.join(mismatching[:5])}"
                + (f" (and {more} more). " if more > 0 else "")
            ],
            as_is=True,
        )


def _ordered(names: list[str], sorting: str, order: list[str], seed: int) -> list[str]:
    if sorting == "predefined":
        return order or names
    if sorting == "natural":
        return sorted(
            names, key=lambda n: [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", n)]
        )
    if sorting == "random":
        return shuffled(names, seed)
    return sorted(names)


def shuffled(items: Iterable[T], seed: object) -> list[T]:
    """A shuffle that the seed decides, like CVAT's seeded random choices."""
    return sorted(items, key=lambda item: hashlib.sha256(f"{seed}/{item}".encode()).digest())


def _apply_mapping(names: list[str], mapping: Any) -> tuple[list[str], list[int]]:
    groups = [[str(n) for n in group] for group in mapping]
    flat = [n for group in groups for n in group]
    unknown = [n for n in flat if n not in names]
    if unknown:
        raise BackgroundFailure(
            "rest_framework.exceptions.ValidationError: [ErrorDetail(string=\"Can't find file "
            f"'{unknown[0]}' in the input files\", code='invalid')]\n"
        )
    if sorted(flat) != sorted(names) or not all(groups):
        raise BackgroundFailure(
            "ValidationError: job_file_mapping must list every uploaded file once\n"
        )
    return flat, [len(group) for group in groups]


# Imports: annotations into a task or job, a dataset into a project, backups.


def import_annotations(call: Call, target: str) -> Reply:
    """POST /api/{tasks,jobs}/{id}/annotations/: replaces the annotations with the file's, when
    the fake can read it (see _archives.read_labeled_data); other files change nothing.

    As in CVAT 2.24, the file must have come before the finish (TUS or bulk) and be named by
    `filename`: a file in the finishing request itself is not looked at."""
    with call.store.lock:
        record = call.store.get(_table(call.store, target), call.id, call.me)
    rq_id = request_id("import", target, record.id, "annotations")

    def finish(call: Call, area: UploadArea, form: Form) -> Reply:
        name = _named_file(call, area)
        if name is None:
            raise HttpError(400, "No such file were uploaded", as_is=True)
        _import_format(call)  # checked, not kept: CVAT's import requests show format null
        _not_running(call, rq_id)
        path = area.take(name, call.store)

        def work() -> Outcome:
            _check_exists(call.store, target, record)
            data = _archives.read_labeled_data(path)
            if data is not None:
                objects = _annotations.parse(call.store, data, keep_ids=False)
                _annotations.replace(call.store, _annotations.jobs_of(call.store, record), objects)
            return Outcome()

        operation = {"type": "import:annotations", "target": target, **_ids(record)}
        return start(call, rq_id, operation, work)

    key = f"{target}-{record.id}-annotations"
    return _uploads.endpoint(call, key, finish, import_rq_id=rq_id)


def import_dataset(call: Call) -> Reply:
    """Accepts any file as the dataset and leaves the project as it is (nothing is converted):
    the file named by `filename` if it came before, else the finish's `dataset_file`."""
    with call.store.lock:
        project = call.store.get(call.store.projects, call.id, call.me)
    rq_id = request_id("import", "project", project.id, "dataset")

    def finish(call: Call, area: UploadArea, form: Form) -> Reply:
        _import_format(call)
        _not_running(call, rq_id)
        name = _named_file(call, area)
        if name is not None:
            area.take(name, call.store)
        else:
            _form_file(call, form, "dataset_file")
        operation = {"type": "import:dataset", "target": "project", "project_id": project.id}
        return start(call, rq_id, operation, Outcome)  # nothing to do

    return _uploads.endpoint(call, f"project-{project.id}-dataset", finish, import_rq_id=rq_id)


def import_backup(call: Call, target: str) -> Reply:
    """POST /api/{tasks,projects}/backup/: recreates what a backup made by this server holds.
    The file is the one `filename` names (it must have come before), or, without `filename`,
    the finish's `<target>_file`."""

    def finish(call: Call, area: UploadArea, form: Form) -> Reply:
        if call.query.get("filename"):
            name = _named_file(call, area)
            if name is None:
                raise HttpError(400, "No such file were uploaded", as_is=True)
            path = area.take(name, call.store)
        else:
            path = _form_file(call, form, f"{target}_file")
        owner, org = call.me, call.org

        def work() -> Outcome:
            with _archives.Backup(path) as backup:
                restore = _restore_task if target == "task" else _restore_project
                return Outcome(result_id=restore(call.store, backup, owner, org))

        rq_id = request_id("import", target, uuid.uuid4(), "backup")
        return start(call, rq_id, {"type": "import:backup", "target": target}, work)

    return _uploads.endpoint(call, f"{target}-backup-by-{call.me.id}", finish)


def _restore_project(
    store: Store, backup: _archives.Backup, owner: User, org: Organization | None
) -> int:
    meta = backup.json("project.json")
    project = Project(store.next_id("project"), str(meta.get("name", "")), owner, org)
    store.projects[project.id] = project
    mapping = _restore_labels(store, meta.get("labels", []), project_id=project.id)
    for prefix in backup.task_prefixes():
        _restore_task(store, backup, owner, org, prefix=prefix, project=project, mapping=mapping)
    return project.id


def _restore_task(
    store: Store,
    backup: _archives.Backup,
    owner: User,
    org: Organization | None,
    *,
    prefix: str = "",
    project: Project | None = None,
    mapping: IdMap | None = None,
) -> int:
    meta = backup.json(prefix + "task.json")
    task = Task(
        store.next_id("task"),
        str(meta.get("name", "")),
        owner,
        org,
        project_id=project.id if project else None,
        subset=str(meta.get("subset", "")),
        segment_size=int(meta.get("segment_size", 0)),
        bug_tracker=str(meta.get("bug_tracker", "")),
    )
    store.tasks[task.id] = task
    if mapping is None:
        mapping = _restore_labels(store, meta.get("labels", []), task_id=task.id)
    names = [str(n) for n in meta.get("files", [])]
    if names:
        staging = store.dir("staging", uuid.uuid4().hex)
        files = [(n, backup.extract(f"{prefix}data/{n}", staging / n)) for n in names]
        attach_data(store, task, files, image_quality=int(meta.get("image_quality", 70)))
        shutil.rmtree(staging, ignore_errors=True)
        data = _relabel(backup.json(prefix + "annotations.json"), mapping)
        objects = _annotations.parse(store, data, keep_ids=False)
        _annotations.replace(store, _annotations.jobs_of(store, task), objects)
    return task.id


def _restore_labels(
    store: Store, labels: Any, *, project_id: int | None = None, task_id: int | None = None
) -> IdMap:
    """Recreates labels; maps old label (and sublabel) and attribute ids to the new ones."""
    specs = _relabel(labels, {})  # a copy without ids
    created = _labels.create_all(store, specs, project_id=project_id, task_id=task_id)
    mapping: IdMap = {"label_id": {}, "spec_id": {}}
    for old, new in zip(labels, created, strict=True):
        pairs = [(old, _labels.render(new)), *zip(old["sublabels"], new.sublabels, strict=True)]
        for old_label, new_label in pairs:
            mapping["label_id"][old_label["id"]] = new_label["id"]
            for old_attr, new_attr in zip(
                old_label["attributes"], new_label["attributes"], strict=True
            ):
                mapping["spec_id"][old_attr["id"]] = new_attr["id"]
    return mapping


def _relabel(data: Any, mapping: IdMap) -> Any:
    """A copy of `data` with label_id and spec_id remapped, and without other ids."""
    if isinstance(data, list):
        return [_relabel(item, mapping) for item in data]
    if isinstance(data, dict):
        return {
            k: mapping[k].get(v, v) if k in mapping else _relabel(v, mapping)
            for k, v in data.items()
            if k != "id"
        }
    return data


# Exports: POST /api/{projects,tasks,jobs}/{id}/dataset/export and /api/{...}/{id}/backup/export


def export(call: Call, target: str, *, dataset: bool) -> Reply:
    """POST .../dataset/export (a dataset; annotations only unless save_images) or
    .../backup/export: a background request whose result is a zip file. Asked again while
    it is queued or running, CVAT refuses (409); once it ended, it starts it anew."""
    record: Project | Task | Job = call.store.get(_table(call.store, target), call.id, call.me)
    fmt = _export_format(call) if dataset else None
    media = call.flag("save_images") if dataset else True
    subresource = ("dataset" if media else "annotations") if dataset else "backup"
    store = call.store

    def work() -> Outcome:
        _check_exists(store, target, record)
        if isinstance(record, Task) and record.data is None and record.data_id is None:
            missing = "validation_mode" if dataset else "storage_method"  # CVAT reads the Data
            raise BackgroundFailure(
                f"AttributeError: 'NoneType' object has no attribute '{missing}'\n"
            )
        path = store.dir("exports") / f"{uuid.uuid4().hex}.zip"
        _archives.write(path, _entries(store, record, media=media))
        return Outcome(result_file=path)

    rq_id = request_id("export", target, record.id, subresource, fmt=fmt, user=call.me)
    running = store.requests.get(rq_id)
    if running is not None and not running.done:
        raise HttpError(409, "Export request is being processed", as_is=True)
    operation = {"type": f"export:{subresource}", "target": target, **_ids(record), "format": fmt}
    result_path = _RESULT_PATHS[target, subresource].format(record.id)
    result_url = call.url(result_path, {**call.query, "action": "download"})
    return start(call, rq_id, operation, work, result_url=result_url)


def _entries(
    store: Store, record: Project | Task | Job, *, media: bool
) -> Iterator[_archives.Entry]:
    if isinstance(record, Project):
        return _archives.project_entries(store, record, media=media)
    if isinstance(record, Job):
        task = store.tasks[record.task_id]
        return _archives.task_entries(store, task, media=media, job=record)
    return _archives.task_entries(store, record, media=media)


# Downloads: GET <result_url>, i.e. /api/{...}/{id}/{dataset,annotations,backup}?action=download


def download(call: Call, target: str, subresource: str) -> Reply:
    """Streams the result of the caller's finished export, once: as in CVAT, the download
    deletes the request (a second one is refused, /api/requests/{id} answers 404). Other v1
    export calls are not served."""
    if call.query.get("action") != "download":
        raise HttpError(400, "The fake CVAT server exports through POST .../export only.")
    record = call.store.get(_table(call.store, target), call.id, call.me)  # 404 comes first
    fmt = call.query.get("format") if subresource != "backup" else None
    rq_id = request_id("export", target, call.id, subresource, fmt=fmt, user=call.me)
    request = call.store.requests.get(rq_id)
    if request is None:
        raise HttpError(400, _UNKNOWN_EXPORT, text=_UNKNOWN_EXPORT)
    if not request.done:
        what = "Backup" if subresource == "backup" else "Dataset"
        message = f"{what} export has not been finished yet"
        raise HttpError(400, message, text=message)
    del call.store.requests[rq_id]
    if request.status == "failed" or request.outcome.result_file is None:
        raise HttpError(500, request.message, as_is=True)
    filename = call.query.get("filename") or _result_name(record, target, subresource, fmt)
    disposition = f'attachment; filename="{filename}"'
    return Reply(
        200,
        content_type="application/zip",
        headers=[("Content-Disposition", disposition)],
        file=request.outcome.result_file,
    )


_UNKNOWN_EXPORT = (
    "Unknown export request id. "
    "Please request export first by sending a request without the action=download parameter."
)


def _result_name(
    record: Project | Task | Job, target: str, subresource: str, fmt: str | None
) -> str:
    """CVAT's name for a result: <target>_<name or job id>_<kind>_<updated>[_<format>].zip,
    lower-cased."""
    identifier = record.id if isinstance(record, Job) else record.name
    stamp = re.sub(r"[-T:]", "_", record.updated_date)[:19]
    parts = [target, str(identifier), subresource, stamp, *([fmt] if fmt else [])]
    return ("_".join(parts) + ".zip").lower()


# Helpers.


def _table(store: Store, target: str) -> dict[int, Any]:
    tables: dict[str, dict[int, Any]] = {
        "project": store.projects,
        "task": store.tasks,
        "job": store.jobs,
    }
    return tables[target]


def _ids(record: Project | Task | Job) -> dict[str, int]:
    """The ids a request's operation names: a job's request names its task too."""
    if isinstance(record, Job):
        return {"job_id": record.id, "task_id": record.task_id}
    return {"project_id" if isinstance(record, Project) else "task_id": record.id}


def _check_exists(store: Store, target: str, record: object) -> None:
    """Background work fails if its target was deleted while it waited, as in CVAT."""
    if record not in _table(store, target).values():
        raise BackgroundFailure(f"The {target} was deleted")


def _import_format(call: Call) -> str:
    fmt = call.query.get("format", "")
    if fmt not in IMPORT_FORMATS:
        raise HttpError(400, [f"Unknown input format '{fmt}'"], as_is=True)
    return fmt


def _export_format(call: Call) -> str:
    fmt = call.query.get("format", "")
    if fmt not in EXPORT_FORMATS:
        raise HttpError(400, ["Unknown format specified for the request"], as_is=True)
    return fmt


def _not_running(call: Call, rq_id: str) -> None:
    previous = call.store.requests.get(rq_id)
    if previous is not None and not previous.done:
        raise HttpError(409, "Import job already exists", as_is=True)


def _named_file(call: Call, area: UploadArea) -> str | None:
    """The received file that `filename` names, if there is one."""
    name = call.query.get("filename", "")
    return name if name and name in area.files else None


def _form_file(call: Call, form: Form, field: str) -> Path:
    """The file sent in the finishing request's `field`, kept out of the staging directory."""
    sent = [f for f in form.files if f.field == field]
    if not sent:
        raise HttpError(400, {field: ["No file was submitted."]})
    target = call.store.dir("taken", uuid.uuid4().hex) / sent[-1].name
    sent[-1].path.replace(target)
    return target


def _as_list(value: object) -> list[str]:
    if value in (None, ""):
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]
