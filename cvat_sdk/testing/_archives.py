"""The zip files the fake server exports, and reads back as backups.

The layout is the fake's own (it does not convert formats): a task is `task.json` (name, labels,
settings, file names in frame order), `annotations.json` (LabeledData) and, when media are
included, `data/<file name>`. A project is `project.json` plus each task under `tasks/<id>/`.
Whatever the requested format, an export holds this layout.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from typing import TYPE_CHECKING, Any

from . import _annotations, _labels
from ._background import BackgroundFailure
from ._http import CHUNK_SIZE

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path

    from ._http import Json
    from ._store import Job, Project, Store, Task

Entry = tuple[str, "bytes | Path"]


def write(path: Path, entries: Iterable[Entry]) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in entries:
            if isinstance(content, bytes):
                archive.writestr(name, content, zipfile.ZIP_DEFLATED)
            else:  # media: stored as is, streamed from disk
                archive.write(content, name, zipfile.ZIP_STORED)


def task_entries(
    store: Store, task: Task, *, media: bool, job: Job | None = None, prefix: str = ""
) -> Iterator[Entry]:
    files = task.data.files if task.data else []
    snapshot = {
        "name": task.name,
        "subset": task.subset,
        "segment_size": task.segment_size,
        "bug_tracker": task.bug_tracker,
        "image_quality": task.data.image_quality if task.data else 70,
        "labels": [_labels.render(lb) for lb in store.task_labels(task)],
        "files": files,
    }
    annotations = _annotations.current(_annotations.jobs_of(store, job or task))
    if job is not None:
        files = [files[frame] for frame in job.frames]
    yield prefix + "task.json", _dump(snapshot)
    yield prefix + "annotations.json", _dump(annotations)
    if media and task.data:
        for name in files:
            yield f"{prefix}data/{name}", task.data.media_dir / name


def project_entries(store: Store, project: Project, *, media: bool) -> Iterator[Entry]:
    labels = [_labels.render(lb) for lb in store.project_labels(project.id)]
    yield "project.json", _dump({"name": project.name, "labels": labels})
    for task in store.project_tasks(project):
        yield from task_entries(store, task, media=media, prefix=f"tasks/{task.id}/")


def read_labeled_data(path: Path) -> Json | None:
    """The annotations in an uploaded file, if it is one of this server's exports (or plain
    LabeledData JSON); None for anything else, which the fake accepts without reading."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                data: Any = json.loads(archive.read("annotations.json"))
        else:
            data = json.loads(path.read_bytes())
    except (KeyError, ValueError):
        return None
    if isinstance(data, dict) and any(kind in data for kind in _annotations.KINDS):
        return data
    return None


class Backup:
    """A backup archive being restored."""

    def __init__(self, path: Path) -> None:
        if not zipfile.is_zipfile(path):
            raise BackgroundFailure("zipfile.BadZipFile: File is not a zip file\n")
        self._zip = zipfile.ZipFile(path)

    def __enter__(self) -> Backup:
        return self

    def __exit__(self, *exc: object) -> None:
        self._zip.close()

    def json(self, name: str) -> Json:
        try:
            data = json.loads(self._zip.read(name))
        except (KeyError, ValueError):
            raise BackgroundFailure(f"The backup has no valid {name}") from None
        if not isinstance(data, dict):
            raise BackgroundFailure(f"The backup has no valid {name}")
        return data

    def task_prefixes(self) -> list[str]:
        names = self._zip.namelist()
        return sorted(
            n[: -len("task.json")]
            for n in names
            if n.startswith("tasks/") and n.endswith("/task.json")
        )

    def extract(self, name: str, target: Path) -> Path:
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self._zip.open(name) as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst, CHUNK_SIZE)
        except KeyError:
            raise BackgroundFailure(f"The backup has no {name}") from None
        return target


def _dump(data: object) -> bytes:
    return json.dumps(data).encode()
