"""A task's frames and chunks, as CVAT serves them (``GET /api/tasks/{id}/data/``).

Each uploaded file is one frame (the fake server decodes nothing): a frame is the file's
bytes, a chunk is a zip of the files of its frames named ``000000.<ext>`` in frame order, as
CVAT's original-quality image chunks are. Both qualities serve the uploaded bytes.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from ._http import HttpError, Reply
from ._serialize import DEFAULT_CHUNK_SIZE

if TYPE_CHECKING:
    from ._http import Call
    from ._store import Task

_MEDIA_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


def _task_with_data(call: Call) -> Task:
    task = call.store.get(call.store.tasks, call.id, call.me)
    if task.data is None:
        raise HttpError(400, "Task has no data.")  # CVAT: 400 for a task without data
    return task


def data(call: Call) -> Reply:
    """``?type=frame|chunk&number=N&quality=compressed|original`` (both qualities are the
    uploaded bytes)."""
    task = _task_with_data(call)
    assert task.data is not None
    kind = call.query.get("type")
    number_text = call.query.get("number", "")
    if call.query.get("quality", "compressed") not in ("compressed", "original"):
        raise HttpError(400, "Wrong quality value.")
    if not number_text.isdigit():
        raise HttpError(400, "The number parameter is required.")
    number = int(number_text)
    files = task.data.files
    if kind == "frame":
        if number >= len(files):
            raise HttpError(400, f"The frame number should be in the [0, {len(files) - 1}] range")
        path = task.data.media_dir / files[number]
        return Reply(
            200, content_type=_MEDIA_TYPES.get(path.suffix.lower(), "image/png"), file=path
        )
    if kind == "chunk":
        size = task.data.chunk_size or DEFAULT_CHUNK_SIZE
        names = files[number * size : (number + 1) * size]
        if not names:
            raise HttpError(400, "The chunk number should be in the range of chunks.")
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            for index, name in enumerate(names):
                archive.write(task.data.media_dir / name, f"{index:06d}{Path(name).suffix}")
        return Reply(200, out.getvalue(), "application/zip")
    raise HttpError(400, "The type parameter must be frame or chunk.")
