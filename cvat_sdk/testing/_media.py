"""Frames, chunks and previews of tasks, jobs and projects, as CVAT 2.24 serves them
(``GET /api/tasks/{id}/data/``, ``/api/jobs/{id}/data``, ``.../preview``).

Each uploaded file is one frame (the fake server decodes nothing): a frame is the file's
bytes in either quality, a chunk is a zip of the files of its frames named
``000000.<ext>`` in frame order, as CVAT's original-quality image chunks are. A preview is
a fixed 1x1 JPEG (CVAT's is a thumbnail of the first frame, also a JPEG). No frame has
context images (CVAT 2.24 answers 500 for those, and so does the fake). The checks, their
order and the shapes of the errors are CVAT's: those of the query parameters come as a
list, those of the frame or chunk number as a bare string.
"""

from __future__ import annotations

import base64
import io
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from ._http import HttpError, Reply, server_error
from ._serialize import DEFAULT_CHUNK_SIZE

if TYPE_CHECKING:
    from ._http import Call
    from ._store import Job, Task, TaskData

_MEDIA_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
_TYPES = ("chunk", "frame", "preview", "context_image")
_QUALITIES = ("compressed", "original")
PREVIEW = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERX"
    "RTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2Nj"
    "Y2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAABAAEDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAA"
    "AAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAk"
    "M2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKT"
    "lJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QA"
    "HwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdh"
    "cRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hp"
    "anN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk"
    "5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwAooooA/9k="
)


def _refused(message: str) -> HttpError:
    """A check of the frame or chunk asked for: CVAT answers the message as a JSON string."""
    return HttpError(400, message, as_is=True)


def _invalid(message: str) -> HttpError:
    """A check of the query parameters: a DRF ValidationError, a list of messages."""
    return HttpError(400, [message], as_is=True)


def _number(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise server_error() from None  # CVAT's int() raises


def _query(call: Call) -> tuple[str, int | None, str]:
    """type, number and quality, checked as CVAT checks them for tasks."""
    kind = call.query.get("type") or ""
    number = call.query.get("number")
    quality = call.query.get("quality", "compressed")
    if kind not in _TYPES:
        raise _invalid("Data type not specified or has wrong value")
    if kind in ("chunk", "frame") and number is None:
        raise _invalid("Number is not specified")
    if kind != "context_image" and quality not in _QUALITIES:
        raise _invalid("Wrong quality value")
    return kind, _number(number), quality


def _frame(data: TaskData, number: int) -> Reply:
    path = data.media_dir / data.files[number]
    return Reply(200, content_type=_MEDIA_TYPES.get(path.suffix.lower(), "image/png"), file=path)


def _chunk(task: Task, data: TaskData, frames: list[int]) -> Reply:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for index, frame in enumerate(frames):
            name = data.files[frame]
            archive.write(data.media_dir / name, f"{index:06d}{Path(name).suffix}")
    body = out.getvalue()
    checksum = zlib.crc32(body[:1000], zlib.crc32(str(len(body)).encode()))
    headers = [("X-Checksum", str(checksum)), ("X-Updated-Date", task.created_date)]
    return Reply(200, body, "application/zip", headers)


def _preview() -> Reply:
    return Reply(200, PREVIEW, "image/jpeg")


def _size(task: Task) -> int:
    if task.data is None and task.data_id is None:
        raise server_error()  # CVAT reads the size of a Data that does not exist
    return len(task.data.files) if task.data else 0


def _check_frame(number: int | None, size: int) -> int:
    if number is None or not 0 <= number < size:
        raise _refused(
            f"Invalid frame '{number}'. The frame number should be in the [0, {size}] range"
        )
    return number


def data(call: Call) -> Reply:
    """``GET /api/tasks/{id}/data/?type=frame|chunk|preview|context_image&number=N``."""
    task = call.store.get(call.store.tasks, call.id, call.me)
    kind, number, _quality = _query(call)
    size = _size(task)
    if kind == "preview":
        _check_frame(0, size)  # the first frame's thumbnail
        return _preview()
    if kind in ("frame", "context_image"):
        number = _check_frame(number, size)
        assert task.data is not None
        if kind == "context_image":
            raise server_error()  # CVAT 2.24 fails on a frame without context images
        return _frame(task.data, number)
    if task.data is None:
        raise server_error()  # an empty Data has no chunk size to divide by
    chunk_size = _chunk_size(task)
    last = -(-size // chunk_size) - 1
    assert number is not None
    if not 0 <= number <= last:
        raise _refused(
            f"Invalid chunk number '{number}'. The chunk number should be in the [0, {last}] range"
        )
    frames = list(range(number * chunk_size, min((number + 1) * chunk_size, size)))
    return _chunk(task, task.data, frames)


def _chunk_size(task: Task) -> int:
    return (task.data.chunk_size if task.data else None) or DEFAULT_CHUNK_SIZE


def task_preview(call: Call) -> Reply:
    task = call.store.get(call.store.tasks, call.id, call.me)
    if task.data is None and task.data_id is None:
        raise HttpError(404, "", text="Task image preview not found")
    _check_frame(0, _size(task))
    return _preview()


def project_preview(call: Call) -> Reply:
    """The preview of the project's newest task."""
    project = call.store.get(call.store.projects, call.id, call.me)
    tasks = call.store.project_tasks(project)
    if not tasks:
        raise HttpError(404, "", text="Project image preview not found")
    _check_frame(0, _size(max(tasks, key=lambda t: t.id)))
    return _preview()


def job_preview(call: Call) -> Reply:
    call.store.get(call.store.jobs, call.id, call.me)
    return _preview()


def job_data(call: Call) -> Reply:
    """``GET /api/jobs/{id}/data?type=...&number=N`` (task frame numbers, and task chunk
    numbers limited to the job) or ``&index=I`` (the job's own chunks)."""
    job = call.store.get(call.store.jobs, call.id, call.me)
    task = call.store.tasks[job.task_id]
    kind = call.query.get("type") or ""
    number_text, index_text = call.query.get("number"), call.query.get("index")
    quality = call.query.get("quality", "compressed")
    if kind not in _TYPES:
        raise _invalid("Data type not specified or has wrong value")
    if kind == "chunk":
        if number_text is None and index_text is None:
            raise _invalid("Number or Index is not specified")
        if number_text is not None and index_text is not None:
            raise _invalid("Number and Index cannot be used together")
    elif kind == "frame" and number_text is None:
        raise _invalid("Number is not specified")
    elif kind != "context_image" and quality not in _QUALITIES:
        raise _invalid("Wrong quality value")
    number, index = _number(number_text), _number(index_text)
    if kind == "preview":
        return _preview()
    assert task.data is not None, "a job has data"
    if kind == "chunk":
        return _job_chunk(task, job, number, index)
    if number is None or number not in job.frames:
        raise _refused(f"Incorrect requested frame number: {number}")
    if kind == "context_image":
        raise server_error()  # as for tasks
    return _frame(task.data, number)


def _job_chunk(task: Task, job: Job, number: int | None, index: int | None) -> Reply:
    assert task.data is not None
    size = _chunk_size(task)
    frames = sorted(job.frames)
    if index is not None:
        last = -(-len(frames) // size) - 1
        if not 0 <= index <= last:
            raise _invalid(
                f"Invalid chunk number '{index}'. The chunk number should be in the "
                f"[0, {last}] range"
            )
        return _chunk(task, task.data, frames[index * size : (index + 1) * size])
    assert number is not None
    first, last = job.start_frame // size, job.stop_frame // size
    if not first <= number <= last:
        raise _invalid(
            f"Invalid chunk number '{number}'. The chunk number should be in the "
            f"[{first}, {last}] range"
        )
    wanted = range(number * size, (number + 1) * size)
    return _chunk(task, task.data, [f for f in frames if f in wanted])
