"""A task's frames and annotations, kept in a local cache.

Construction brings the cache up to date (or, with ``UpdatePolicy.NEVER``, only reads it);
afterwards the dataset makes no request, holds no client, and can be pickled into data loader
workers. Images are decoded when a sample's ``media.load_image()`` is called.
"""

from __future__ import annotations

import enum
import io
import json
import os
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Executor, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from cvat_sdk._runtime import settings
from cvat_sdk.core._concurrency import DaemonExecutor
from cvat_sdk.core.exceptions import CvatSdkException
from cvat_sdk.core.helpers import iter_paginated_collection
from cvat_sdk.datasets._cache import TaskCache, write_atomic

if TYPE_CHECKING:
    import PIL.Image

    from cvat_sdk.core.client import Client

__all__ = [
    "CacheMissError",
    "FrameAnnotations",
    "MediaElement",
    "Sample",
    "TaskDataset",
    "UnsupportedDatasetError",
    "UpdatePolicy",
]

#: Chunk or frame downloads in flight at once, at most (CVAT serves chunks side by side:
#: measured on 2.24, 7 chunks took 0.7 s with 7 in flight, 0.9 s with 4, 2.2 s one by one).
MEDIA_DOWNLOAD_WORKERS = 8


class UpdatePolicy(enum.Enum):
    """When a dataset may talk to the server to bring its cache up to date."""

    #: Ask the server whether cached data is stale; download what is stale or missing.
    IF_MISSING_OR_STALE = enum.auto()
    #: Make no request; fail when something is not cached (stale data is used as it is).
    NEVER = enum.auto()


class UnsupportedDatasetError(CvatSdkException):
    """The task cannot be read as a dataset (no data, or 3D data)."""


class CacheMissError(CvatSdkException, FileNotFoundError):
    """``UpdatePolicy.NEVER`` and something the dataset needs is not in the cache."""


@dataclass(frozen=True)
class FrameAnnotations:
    """The tags and shapes of one frame (tracks are not included)."""

    tags: list[Any] = field(default_factory=list)  # models.LabeledImage
    shapes: list[Any] = field(default_factory=list)  # models.LabeledShape


class MediaElement(Protocol):
    """A frame's image, read from the cache on demand."""

    def load_image(self) -> PIL.Image.Image: ...


def _pil_image() -> Any:
    from cvat_sdk._optional import require

    return require("PIL.Image", "pytorch", "decoding frames (cvat_sdk.datasets)")


#: Chunks kept open per process (reading a zip's directory costs about 1 ms per open).
OPEN_CHUNKS = 16
_open_chunks: OrderedDict[Path, tuple[zipfile.ZipFile, list[str]]] = OrderedDict()
_open_chunks_lock = threading.Lock()
_open_chunks_pid = os.getpid()


def _open_chunk(path: Path) -> tuple[zipfile.ZipFile, list[str]]:
    """An open chunk and its member names in frame order, reused while it stays among the
    last ``OPEN_CHUNKS`` used (per process: a forked data loader worker opens its own)."""
    global _open_chunks_pid
    with _open_chunks_lock:
        if _open_chunks_pid != os.getpid():
            _open_chunks.clear()  # the parent's handles share file offsets with it
            _open_chunks_pid = os.getpid()
        found = _open_chunks.get(path)
        if found is not None:
            _open_chunks.move_to_end(path)
            return found
        archive = zipfile.ZipFile(path)
        found = (archive, sorted(archive.namelist()))
        _open_chunks[path] = found
        while len(_open_chunks) > OPEN_CHUNKS:
            _, (oldest, _) = _open_chunks.popitem(last=False)
            oldest.close()
        return found


def _forget_open_chunks(root: Path) -> None:
    """Close the chunk ``root``, or the chunks under it (they are about to be replaced)."""
    with _open_chunks_lock:
        for path in [p for p in _open_chunks if p == root or root in p.parents]:
            _open_chunks.pop(path)[0].close()


@dataclass(frozen=True)
class _ChunkMember:
    """Frame ``index`` of a zip chunk (members are named in frame order)."""

    chunk: Path
    index: int

    def load_bytes(self) -> bytes:
        archive, names = _open_chunk(self.chunk)
        return archive.read(names[self.index])

    def load_image(self) -> PIL.Image.Image:
        image = _pil_image().open(io.BytesIO(self.load_bytes()))
        image.load()
        return image  # type: ignore[no-any-return]


@dataclass(frozen=True)
class _FrameFile:
    """A frame stored as an image file of its own (video tasks)."""

    path: Path

    def load_bytes(self) -> bytes:
        return self.path.read_bytes()

    def load_image(self) -> PIL.Image.Image:
        image = _pil_image().open(self.path)
        image.load()
        return image  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Sample:
    """One frame of a task: its index and file name in the task, annotations, and media.

    ``annotations`` is None when the dataset was made with ``load_annotations=False``.
    """

    frame_index: int
    frame_name: str
    annotations: FrameAnnotations | None
    media: MediaElement


def _models() -> Any:
    from cvat_sdk.api_client import models

    return models


class TaskDataset:
    """The frames of a task, in order (deleted frames left out), with their annotations.

    Attributes:
        labels: the task's labels (``models.Label``), as the server lists them.
        samples: one :class:`Sample` per frame.
    """

    def __init__(
        self,
        client: Client,
        task_id: int,
        *,
        update_policy: UpdatePolicy = UpdatePolicy.IF_MISSING_OR_STALE,
        load_annotations: bool = True,
        _task_json: bytes | None = None,
        _labels: Sequence[Any] | None = None,
        _stream_media: bool = False,
    ) -> None:
        if isinstance(task_id, bool) or not isinstance(task_id, int):
            raise TypeError(f"task_id: expected an int, got {type(task_id).__name__}")
        if not isinstance(update_policy, UpdatePolicy):
            raise TypeError(f"update_policy: expected an UpdatePolicy, got {update_policy!r}")
        self.task_id = task_id
        cache = TaskCache(client.config.cache_dir, client.api_map.host, task_id)
        loader = _Loader(client, cache, task_id, update_policy)
        downloads: _Downloads | None = None
        try:
            with DaemonExecutor(2, "cvat-dataset") as side:
                wanted = ["meta"]
                wanted += ["labels"] if _labels is None else []
                wanted += ["annotations"] if load_annotations else []
                # (the jobs below wait for these: submitted first, they are started first)
                loader.preload(side, wanted)
                task = loader.task(_task_json)
                self.task = task  # models.TaskRead, as the server (or the cache) has it
                video = str(task.get("data_original_chunk_type") or "") == "video"
                # with nothing of the media cached, the chunks are fetched at once (the task
                # tells their size and count), the labels, annotations and meta meanwhile
                downloads = loader.start_chunks(task) if not video else None
                labels_job = side.submit(loader.labels, task) if _labels is None else None
                annotations_job = (
                    side.submit(loader.annotations, task) if load_annotations else None
                )
                meta = loader.meta(task, keep_media=downloads is not None)
                indices = _frame_indices(meta)
                media, self._media_numbers, downloads = loader.media(
                    task, meta, indices, video=video, started=downloads, stream=_stream_media
                )
                self.labels: Sequence[Any] = (
                    labels_job.result() if labels_job is not None else list(_labels or [])
                )
                annotations = annotations_job.result() if annotations_job is not None else None
        except BaseException:
            if downloads is not None:
                downloads.close()
            raise
        if downloads is not None and not _stream_media:
            downloads.close()
            downloads = None
        self._downloads = downloads
        names = _frame_names(meta, indices, video=video)
        by_frame = _by_frame(annotations) if annotations is not None else None
        self.samples: Sequence[Sample] = [
            Sample(
                frame_index=i,
                frame_name=names[n],
                annotations=(by_frame.get(i) or FrameAnnotations())
                if by_frame is not None
                else None,
                media=media[n],
            )
            for n, i in enumerate(indices)
        ]

    def __repr__(self) -> str:
        return f"<TaskDataset task={self.task_id} samples={len(self.samples)}>"

    def _wait_for_media(self, position: int) -> None:
        """Until the image of ``samples[position]`` is cached (``_stream_media``: the
        downloads go on after construction, for ``annotate_task`` to start on the first
        frames meanwhile); raises its download's failure."""
        if self._downloads is not None:
            self._downloads.wait_for(self._media_numbers[position])

    def _close_media(self) -> None:
        """Stop the downloads still going (``_stream_media``)."""
        if self._downloads is not None:
            self._downloads.close()
            self._downloads = None


def _frame_indices(meta: Any) -> list[int]:
    size = int(meta.size)
    deleted = set(meta.get("deleted_frames") or [])
    included = meta.get("included_frames")
    allowed = set(included) if included is not None else None
    return [i for i in range(size) if i not in deleted and (allowed is None or i in allowed)]


def _frame_names(meta: Any, indices: list[int], *, video: bool) -> list[str]:
    frames = list(meta.get("frames") or [])
    if video or len(frames) < int(meta.size):
        return [f"frame_{i:06d}" for i in indices]
    return [str(frames[i].name) for i in indices]


def _by_frame(annotations: Any) -> dict[int, FrameAnnotations]:
    """Tags and shapes per frame, each in ascending ID order (the server's order varies)."""
    found: dict[int, FrameAnnotations] = {}
    for kind in ("tags", "shapes"):
        items = list(annotations.get(kind) or [])
        items.sort(key=lambda item: item.get("id") or 0)
        for item in items:
            frame = int(item.frame)
            entry = found.get(frame)
            if entry is None:
                entry = found[frame] = FrameAnnotations()
            getattr(entry, kind).append(item)
    return found


def _parse_meta(raw: bytes) -> tuple[Any, str]:
    """The meta, and the chunk date it reports (cached media is valid while it stays)."""
    wire = json.loads(raw)
    return _models().DataMetaRead._from_wire(wire), str(wire.get("chunks_updated_date") or "")


def _parse_labels(raw: bytes) -> list[Any]:
    label = _models().Label
    return [label._from_wire(item) for item in json.loads(raw)]


def _parse_annotations(raw: bytes) -> Any:
    return _models().LabeledData._from_wire(json.loads(raw))


_PARSERS: dict[str, Callable[[bytes], Any]] = {
    "meta": _parse_meta,
    "labels": _parse_labels,
    "annotations": _parse_annotations,
}
_MISSING = object()


class _Loader:
    """Reads each part of a task from the cache, fetching what is stale or missing."""

    def __init__(
        self, client: Client, cache: TaskCache, task_id: int, policy: UpdatePolicy
    ) -> None:
        self.client = client
        self.cache = cache
        self.task_id = task_id
        self.offline = policy is UpdatePolicy.NEVER
        self.version = ""
        self._preloaded: dict[str, Future[tuple[str | None, Any]]] = {}

    def _missing(self, what: str) -> CacheMissError:
        return CacheMissError(
            f"task {self.task_id}: {what} is not in the cache ({self.cache.root}) and the "
            "update policy is NEVER"
        )

    def task(self, given: bytes | None) -> Any:
        models = _models()
        if self.offline:
            raw = self.cache.read("task")
            if raw is None:
                raise self._missing("the task")
        else:
            if given is None:
                _, response = self.client.api_client.tasks_api.retrieve_endpoint(
                    id=self.task_id, _parse_response=False
                )
                given = bytes(response.data)
            raw = given
        task = models.TaskRead._from_wire(json.loads(raw))
        if str(task.get("dimension") or "2d") != "2d":
            raise UnsupportedDatasetError(
                f"task {self.task_id} has 3D data, which is not supported"
            )
        if not task.get("size"):
            raise UnsupportedDatasetError(f"task {self.task_id} has no data")
        self.version = str(json.loads(raw).get("updated_date") or "")
        if not self.offline and self.cache.version_of("task") != self.version:
            self.cache.write("task", raw, self.version)
        return task

    def preload(self, pool: Executor, names: Sequence[str]) -> None:
        """Read and parse the cached ``names`` in ``pool`` while the task request is out
        (whether they are current is known only once the task has come)."""
        for name in names:
            self._preloaded[name] = pool.submit(self._read_cached, name)

    def _read_cached(self, name: str) -> tuple[str | None, Any]:
        """The cached ``name``'s version and parsed value, ``(None, _MISSING)`` if it is not
        there or does not parse."""
        version = self.cache.version_of(name)
        raw = self.cache.read(name)
        if raw is None:
            return None, _MISSING
        try:
            return version, _PARSERS[name](raw)
        except (ValueError, TypeError, KeyError, AttributeError):
            return None, _MISSING

    def _document(self, name: str, what: str, fetch: Callable[[], bytes]) -> Any:
        """The parsed cached ``name`` if it belongs to this task version, else ``fetch()``'s
        (written to the cache)."""
        preloaded = self._preloaded.pop(name, None)
        version, value = preloaded.result() if preloaded is not None else self._read_cached(name)
        if self.offline:
            if value is _MISSING:
                raise self._missing(what)
            return value
        if value is not _MISSING and version == self.version:
            return value
        raw = fetch()
        self.cache.write(name, raw, self.version)
        return _PARSERS[name](raw)

    def meta(self, task: Any, *, keep_media: bool = False) -> Any:
        """The data meta; cached media of another chunk date is dropped (``keep_media``: the
        media being fetched now, for a cache that had none, is kept)."""
        tasks_api = self.client.api_client.tasks_api

        def fetch() -> bytes:
            _, response = tasks_api.retrieve_data_meta_endpoint(
                id=self.task_id, _parse_response=False
            )
            return bytes(response.data)

        meta, chunks_date = self._document("meta", "the data meta", fetch)
        if not self.offline and self.cache.raw_version("media") != chunks_date:
            # chunks stay valid while the server's chunk date stays the same
            if not keep_media:
                _forget_open_chunks(self.cache.root)
                self.cache.drop_media()
            self.cache.set_version("media", chunks_date)
        return meta

    def labels(self, task: Any) -> list[Any]:
        labels_api = self.client.api_client.labels_api

        def fetch() -> bytes:
            items = list(
                iter_paginated_collection(
                    labels_api.list_endpoint, return_json=True, task_id=self.task_id
                )
            )
            return json.dumps(items).encode()

        return self._document("labels", "the label list", fetch)  # type: ignore[no-any-return]

    def annotations(self, task: Any) -> Any:
        tasks_api = self.client.api_client.tasks_api

        def fetch() -> bytes:
            _, response = tasks_api.retrieve_annotations_endpoint(
                id=self.task_id, _parse_response=False
            )
            return bytes(response.data)

        return self._document("annotations", "the annotations", fetch)

    def _workers(self) -> int:
        """Downloads in flight: the client's connection pool, less the two side requests
        (labels, annotations) and the meta that may run beside them."""
        pool = int(getattr(self.client.api_client.configuration, "connection_pool_maxsize", 0))
        return max(1, min(MEDIA_DOWNLOAD_WORKERS, (pool or settings.POOL_MAXSIZE) - 3))

    def start_chunks(self, task: Any) -> _Downloads | None:
        """Begin fetching every chunk of a task whose cache has no media at all (the task's
        size and chunk size tell the chunks); None when some media is cached (the meta's
        chunk date must say first whether it is still valid) or with ``NEVER``."""
        size = int(task.get("size") or 0)
        chunk_size = int(task.get("data_chunk_size") or 0)
        if self.offline or chunk_size <= 0 or self.cache.raw_version("media") is not None:
            return None
        _forget_open_chunks(self.cache.root)
        self.cache.drop_media()  # files left without a manifest entry are of no known date
        count = -(-size // chunk_size)
        downloads = _Downloads(self, self._workers())
        downloads.add("chunk", {n: self.cache.chunk_path(n) for n in range(count)})
        return downloads

    def media(
        self,
        task: Any,
        meta: Any,
        indices: list[int],
        *,
        video: bool,
        started: _Downloads | None = None,
        stream: bool = False,
    ) -> tuple[list[_ChunkMember | _FrameFile], list[int], _Downloads | None]:
        """Where each frame's image is and in which chunk (or frame) number; downloads the
        chunks (or frames) not yet cached, added to ``started`` (those under way). With
        ``stream`` the downloads are returned still running, else finished."""
        if video:
            wanted = {i: self.cache.frame_path(i) for i in indices}
            elements: list[_ChunkMember | _FrameFile] = [_FrameFile(wanted[i]) for i in indices]
            numbers = list(indices)
            kind = "frame"
        else:
            size = int(meta.get("chunk_size") or task.get("data_chunk_size") or 0)
            if size <= 0:
                raise UnsupportedDatasetError(f"task {self.task_id} reports no chunk size")
            numbers = [i // size for i in indices]
            wanted = {n: self.cache.chunk_path(n) for n in sorted(set(numbers))}
            elements = [_ChunkMember(wanted[i // size], i % size) for i in indices]
            kind = "chunk"
        under_way = started.futures if started is not None else {}
        missing = {n: p for n, p in wanted.items() if n not in under_way and not p.exists()}
        if missing and self.offline:
            first = min(missing)
            raise self._missing(f"{len(missing)} {kind}(s) of the media (first: {kind} {first})")
        downloads = started
        if missing:
            downloads = downloads or _Downloads(self, self._workers())
            downloads.add(kind, missing)
        if downloads is not None and not stream:
            downloads.wait()
        return elements, numbers, downloads

    def fetch(self, kind: str, number: int, path: Path) -> None:
        """One original-quality chunk or frame, written whole or not at all."""
        _, response = self.client.api_client.tasks_api.retrieve_data_endpoint(
            id=self.task_id,
            type=kind,
            number=number,
            quality="original",
            _parse_response=False,
        )
        write_atomic(path, bytes(response.data))
        _forget_open_chunks(path)


class _Downloads:
    """Chunks or frames being fetched, several at a time, in ascending order."""

    def __init__(self, loader: _Loader, workers: int) -> None:
        self._loader = loader
        self._pool = DaemonExecutor(workers, "cvat-dataset-media")
        self.futures: dict[int, Future[None]] = {}

    def add(self, kind: str, paths: dict[int, Path]) -> None:
        for n in sorted(paths):
            self.futures[n] = self._pool.submit(self._loader.fetch, kind, n, paths[n])

    def wait_for(self, number: int) -> None:
        """Until chunk (or frame) ``number`` is written, if it is being fetched; raises its
        failure."""
        future = self.futures.get(number)
        if future is not None:
            future.result()

    def wait(self) -> None:
        """Until all are written; the first failure is raised (the others are cancelled)."""
        futures = list(self.futures.values())
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f for f in futures if f in done and f.exception() is not None), None)
        if failed is not None:
            self.close()
            raise failed.exception()  # type: ignore[misc]

    def close(self) -> None:
        """Cancel what has not started; wait for what has (no thread outlives the dataset)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
