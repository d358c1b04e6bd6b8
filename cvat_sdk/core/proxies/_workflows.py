"""Capabilities that tasks, jobs and projects share: exports, backups, annotations, media.

Each is a few calls: a generated endpoint, then :meth:`Client.wait_for_completion` for the
background request, then a :mod:`cvat_sdk.core` helper for the bytes.
"""

from __future__ import annotations

import enum
import io
import mimetypes
import os
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

from urllib3.exceptions import HTTPError

from cvat_sdk._runtime import settings
from cvat_sdk._runtime.exceptions import ApiConnectionError, ApiValueError, ConflictException
from cvat_sdk.core._concurrency import run_all
from cvat_sdk.core.downloading import download_file
from cvat_sdk.core.exceptions import CvatSdkException
from cvat_sdk.core.progress import NullProgress, ProgressReporter
from cvat_sdk.core.proxies.model_proxy import (
    Entity,
    EntityT,
    RetrieveMixin,
    body_param,
    model_values,
)
from cvat_sdk.core.proxies.types import Location
from cvat_sdk.core.uploading import upload_annotations, upload_backup

if TYPE_CHECKING:
    from urllib3 import HTTPResponse

__all__ = [
    "AnnotationUpdateAction",
    "AnnotationsMixin",
    "DownloadBackupMixin",
    "ExportDatasetMixin",
    "MediaMixin",
    "PathLike",
    "RestoreBackupMixin",
    "rq_id_of",
]

PathLike = str | os.PathLike[str]

#: Concurrent frame requests of ``download_frames`` by default (within the connection pool).
FRAME_DOWNLOAD_WORKERS = 4


class SupportsWrite(Protocol):
    def write(self, data: bytes, /) -> Any: ...


def rq_id_of(response: HTTPResponse) -> str:
    """The ``rq_id`` of a 202 answer (from an upload helper's ``wait=False`` result)."""
    import json

    try:
        return str(json.loads(response.data)["rq_id"])
    except (ValueError, KeyError, TypeError) as error:
        raise CvatSdkException(
            f"the server's answer has no rq_id: {response.data[:200]!r}"
        ) from error


def _stream_to(response: Any, out: SupportsWrite, method: str, url: str) -> int:
    """Copy a streamed answer's body to ``out`` as it arrives; returns the bytes written."""
    written = 0
    try:
        while block := response.read(settings.DOWNLOAD_CHUNK_SIZE):
            out.write(block)
            written += len(block)
    except (HTTPError, OSError) as error:
        raise ApiConnectionError(method, url, error) from None
    finally:
        release = getattr(response, "release_conn", None)  # also reads zip members
        if release is not None:
            release()
    return written


#: Seconds an export waits for the same export, already running, to end (409 answers)
#: when ``Config.wait_timeout`` is not set.
EXPORT_CONFLICT_WAIT = 600.0


def _start_export(entity: Entity, start: Callable[[], tuple[Any, Any]]) -> Any:
    """Start an export; while the server answers 409 (the same export, by this user, is
    still queued or running: e.g. one a Ctrl-C left behind, or another process), wait with
    backoff and ask again, instead of failing."""
    config = entity._client.config
    limit = config.wait_timeout or EXPORT_CONFLICT_WAIT
    deadline = time.monotonic() + limit
    delay = 0.1
    while True:
        try:
            rq, _ = start()
            return rq
        except ConflictException:
            left = deadline - time.monotonic()
            if left <= 0:
                raise
            time.sleep(min(delay, left))
            delay = min(delay * 2, config.status_check_period)


def _location_name(location: str | Location | None) -> str | None:
    if location is None:
        return None
    name = str(getattr(location, "value", location))
    if name not in ("local", "cloud_storage"):
        raise ApiValueError("must be 'local' or 'cloud_storage'", ["location"])
    return name


class ExportDatasetMixin(Entity):
    """``export_dataset``: the server builds the file in the background, then it is streamed
    to disk."""

    def export_dataset(
        self,
        format_name: str,
        filename: PathLike,
        *,
        pbar: ProgressReporter | None = None,
        status_check_period: float | None = None,
        include_images: bool = True,
        location: str | Location | None = None,
        cloud_storage_id: int | None = None,
    ) -> Path | None:
        """Export the annotations (and with ``include_images`` the media) in ``format_name``
        to ``filename``; to cloud storage with ``location="cloud_storage"`` (returns None)."""
        if not isinstance(format_name, str) or not format_name:
            raise ApiValueError(
                "must be a format name, e.g. 'CVAT for images 1.1'", ["format_name"]
            )
        options: dict[str, Any] = {"save_images": bool(include_images)}
        location = _location_name(location)
        if location is not None:
            options["location"] = location
        if cloud_storage_id is not None:
            options["cloud_storage_id"] = cloud_storage_id
        if location == "cloud_storage":
            options["filename"] = os.fspath(filename)
        rq = _start_export(
            self, lambda: self.api.create_dataset_export(format_name, self.id, **options)
        )
        return self._finish_export(rq, filename, pbar, status_check_period, location)

    def _finish_export(
        self,
        rq: Any,
        filename: PathLike,
        pbar: ProgressReporter | None,
        status_check_period: float | None,
        location: str | None,
    ) -> Path | None:
        request, _ = self._client.wait_for_completion(
            rq.rq_id, status_check_period=status_check_period, log_prefix=f"export of {self!r}"
        )
        if location == "cloud_storage":
            return None
        result_url = request.get("result_url")
        if not result_url:
            raise CvatSdkException(f"export {rq.rq_id} finished without a file to download")
        return download_file(self._client.api_client, result_url, filename, progress=pbar)


class DownloadBackupMixin(Entity):
    """``download_backup``: a backup made in the background, then streamed to disk."""

    def download_backup(
        self,
        filename: PathLike,
        *,
        status_check_period: float | None = None,
        pbar: ProgressReporter | None = None,
        location: str | Location | None = None,
        cloud_storage_id: int | None = None,
    ) -> Path | None:
        """Back up to ``filename``, or to cloud storage with ``location="cloud_storage"``
        (returns None)."""
        options: dict[str, Any] = {}
        location = _location_name(location)
        if location is not None:
            options["location"] = location
        if cloud_storage_id is not None:
            options["cloud_storage_id"] = cloud_storage_id
        if location == "cloud_storage":
            options["filename"] = os.fspath(filename)
        rq = _start_export(self, lambda: self.api.create_backup_export(self.id, **options))
        request, _ = self._client.wait_for_completion(
            rq.rq_id, status_check_period=status_check_period, log_prefix=f"backup of {self!r}"
        )
        if location == "cloud_storage":
            return None
        result_url = request.get("result_url")
        if not result_url:
            raise CvatSdkException(f"backup {rq.rq_id} finished without a file to download")
        return download_file(self._client.api_client, result_url, filename, progress=pbar)


class AnnotationUpdateAction(str, enum.Enum):
    """What ``update_annotations`` does with the annotations given."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


AnnotationAction = Literal["create", "update", "delete"] | AnnotationUpdateAction


class AnnotationsMixin(Entity):
    """Annotations of a task or a job: read, replace, change, remove and import."""

    #: The ``kind`` the upload helper takes ("tasks" or "jobs").
    _upload_kind: Literal["tasks", "jobs"]

    def get_annotations(self) -> Any:
        """The annotations (``models.LabeledData``-like: ``version``, ``tags``, ``shapes``,
        ``tracks``)."""
        annotations, _ = self.api.retrieve_annotations(self.id)
        return annotations

    def set_annotations(self, data: Any) -> None:
        """Replace all annotations with ``data`` (a model or a dict)."""
        endpoint = self.api.update_annotations_endpoint
        endpoint(id=self.id, **{body_param(endpoint): model_values(data, "data")})

    def update_annotations(self, data: Any, *, action: AnnotationAction = "update") -> None:
        """Create, update or delete the given annotations (matched by id for the latter two)."""
        action_name = getattr(action, "value", action)
        if action_name not in ("create", "update", "delete"):
            raise ApiValueError("must be 'create', 'update' or 'delete'", ["action"])
        endpoint = self.api.partial_update_annotations_endpoint
        endpoint(
            action=action_name, id=self.id, **{body_param(endpoint): model_values(data, "data")}
        )

    def remove_annotations(self, *, ids: Sequence[int] | None = None) -> None:
        """Remove all annotations, or only the tags, shapes and tracks with these ids."""
        if ids is None:
            self.api.destroy_annotations(self.id)
            return
        wanted = {int(i) for i in ids}
        if not wanted:
            return
        current = self.get_annotations()
        selected = {
            kind: [a.to_dict() for a in (current.get(kind) or []) if a.get("id") in wanted]
            for kind in ("tags", "shapes", "tracks")
        }
        selected["version"] = current.get("version") or 0  # type: ignore[assignment]
        self.update_annotations(selected, action="delete")

    def import_annotations(
        self,
        format_name: str,
        filename: PathLike,
        *,
        status_check_period: float | None = None,
        pbar: ProgressReporter | None = None,
    ) -> None:
        """Upload an annotation file in ``format_name`` and wait until it is imported."""
        response = upload_annotations(
            self._client.api_client,
            self._upload_kind,
            self.id,
            filename,
            format_name=format_name,
            progress=pbar,
            wait=False,
        )
        self._client.wait_for_completion(
            rq_id_of(response),
            status_check_period=status_check_period,
            log_prefix=f"annotation import into {self!r}",
        )


Quality = Literal["compressed", "original"]


def _check_quality(quality: str) -> None:
    if quality not in ("compressed", "original"):
        raise ApiValueError("must be 'compressed' or 'original'", ["quality"])


class MediaMixin(Entity):
    """Frames, chunks, previews and media metadata of a task or a job."""

    def _data(self, *, type: str, number: int, quality: str) -> HTTPResponse:
        _check_quality(quality)
        _, response = self.api.retrieve_data_endpoint(
            id=self.id, type=type, number=int(number), quality=quality, _parse_response=False
        )
        return response  # type: ignore[no-any-return]

    def get_frame(self, frame_id: int, *, quality: Quality = "compressed") -> io.BytesIO:
        """One frame as the server encodes it (``quality="original"``: the file uploaded,
        for images)."""
        response = self._data(type="frame", number=frame_id, quality=quality)
        out = io.BytesIO()
        _stream_to(response, out, "GET", f"{self!r} frame {frame_id}")
        out.seek(0)
        return out

    def get_preview(self) -> io.BytesIO:
        """The preview image the server shows for this object."""
        _, response = self.api.retrieve_preview_endpoint(id=self.id, _parse_response=False)
        out = io.BytesIO()
        _stream_to(response, out, "GET", f"{self!r} preview")
        out.seek(0)
        return out

    def download_chunk(
        self, chunk_id: int, output_file: SupportsWrite, *, quality: Quality = "compressed"
    ) -> None:
        """Write a media chunk (a zip or video segment) to ``output_file`` as it arrives."""
        response = self._data(type="chunk", number=chunk_id, quality=quality)
        _stream_to(response, output_file, "GET", f"{self!r} chunk {chunk_id}")

    def get_meta(self) -> Any:
        """Media metadata (``models.DataMetaRead``): frame sizes and names, deleted frames."""
        meta, _ = self.api.retrieve_data_meta(self.id)
        return meta

    def get_frames_info(self) -> list[Any]:
        """Per-frame metadata (``name``, ``width``, ``height``...)."""
        return list(self.get_meta().frames or [])

    def remove_frames_by_ids(self, ids: Sequence[int]) -> None:
        """Mark these frames deleted (the list replaces the previous one)."""
        endpoint = self.api.partial_update_data_meta_endpoint
        endpoint(id=self.id, **{body_param(endpoint): {"deleted_frames": list(ids)}})

    #: Whether original frames may come in chunks (task chunks are numbered by frame; job
    #: chunks are not, so jobs fetch frame by frame).
    _frames_from_chunks: ClassVar[bool] = False

    def download_frames(
        self,
        frame_ids: Iterable[int],
        *,
        image_extension: str | None = None,
        outdir: PathLike = "",
        quality: Quality = "original",
        filename_pattern: str = "frame_{frame_id:06d}{frame_ext}",
        max_workers: int = FRAME_DOWNLOAD_WORKERS,
        pbar: ProgressReporter | None = None,
    ) -> list[Path]:
        """Save frames to ``outdir`` as ``filename_pattern`` names them; returns the paths.

        The bytes are written as the server sends them (for ``quality="original"`` images,
        the uploaded files), with ``max_workers`` requests at a time. Original frames of an
        image task come a chunk at a time (one request for up to ``chunk_size`` frames)
        where enough frames of the chunk are wanted. ``frame_ext`` is ``image_extension``
        when given (``".jpg"``), else the extension of the type the server sent. Progress
        counts frames.
        """
        _check_quality(quality)
        ids = [int(i) for i in frame_ids]
        if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
            raise ApiValueError("must be a positive number", ["max_workers"])
        extension = None
        if image_extension is not None:
            extension = (
                image_extension if image_extension.startswith(".") else f".{image_extension}"
            )
        directory = Path(outdir)
        directory.mkdir(parents=True, exist_ok=True)
        positions: dict[int, list[int]] = {}
        for index, frame_id in enumerate(ids):
            positions.setdefault(frame_id, []).append(index)
        plan = self._chunk_plan(sorted(positions), quality)
        in_chunks = {f for frames, _, _ in plan.values() for f in frames}
        reporter = pbar or NullProgress()
        reporter.start(len(ids))
        paths: list[Path | None] = [None] * len(ids)

        def save(frame_id: int, source: Any, media_type: str) -> None:
            frame_ext = extension or _extension_for(media_type)
            target = directory / filename_pattern.format(frame_id=frame_id, frame_ext=frame_ext)
            _write_file(source, target, convert_to=extension, received=_extension_for(media_type))
            for index in positions[frame_id]:
                paths[index] = target
                reporter.advance(1)

        def fetch_frame(frame_id: int, _stop: threading.Event) -> None:
            response = self._data(type="frame", number=frame_id, quality=quality)
            received = (response.headers.get("Content-Type") or "").split(";")[0].strip()
            save(frame_id, response, received)

        def fetch_chunk(
            number: int, frames: list[int], first: int, count: int, _stop: threading.Event
        ) -> None:
            response = self._data(type="chunk", number=number, quality="original")
            handle, chunk_path = tempfile.mkstemp(prefix=".chunk.", suffix=".zip", dir=directory)
            try:
                with os.fdopen(handle, "wb") as out:
                    _stream_to(response, out, "GET", f"{self!r} chunk {number}")
                with zipfile.ZipFile(chunk_path) as archive:
                    members = archive.infolist()
                    if len(members) != count:
                        raise CvatSdkException(
                            f"chunk {number} of {self!r} holds {len(members)} files where "
                            f"{count} frames were expected"
                        )
                    for frame_id in frames:
                        member = members[frame_id - first]
                        media_type = mimetypes.guess_type(member.filename)[0] or ""
                        with archive.open(member) as source:
                            save(frame_id, source, media_type)
            finally:
                Path(chunk_path).unlink(missing_ok=True)

        try:
            workers = min(max_workers, settings.POOL_MAXSIZE, max(1, len(positions)))
            # the first failure (or a Ctrl-C) keeps the requests not yet made from starting
            jobs: list[Callable[[threading.Event], None]] = [
                partial(fetch_chunk, number, frames, first, count)
                for number, (frames, first, count) in plan.items()
            ]
            jobs += [partial(fetch_frame, f) for f in positions if f not in in_chunks]
            run_all(jobs, workers)
        finally:
            reporter.finish()
        return [p for p in paths if p is not None]

    def _chunk_plan(
        self, frame_ids: list[int], quality: str
    ) -> dict[int, tuple[list[int], int, int]]:
        """The original chunks worth fetching whole: chunk number -> (its wanted frames, its
        first frame, its frame count). Only for image tasks whose frames are the data's own
        (no start frame, no step), and only where at least a quarter of a chunk's frames are
        wanted (a chunk costs one request instead of one per frame, at most 4x the bytes)."""
        model = self._model
        if not self._frames_from_chunks or quality != "original" or len(frame_ids) < 2:
            return {}
        if str(model.get("data_original_chunk_type") or "") != "imageset":
            return {}
        meta = self.get_meta()
        size, total = meta.get("chunk_size"), meta.get("size")
        if not size or not total or meta.get("start_frame") or meta.get("frame_filter"):
            return {}
        wanted: dict[int, list[int]] = {}
        for frame_id in frame_ids:
            if 0 <= frame_id < total:
                wanted.setdefault(frame_id // size, []).append(frame_id)
        plan = {}
        for number, frames in wanted.items():
            first = number * size
            count = min(size, total - first)
            if len(frames) * 4 >= count:
                plan[number] = (frames, first, count)
        return plan


def _write_file(source: Any, target: Path, *, convert_to: str | None, received: str) -> None:
    """Copy a readable (an answer being received, a zip member) to ``target`` through a
    temporary file beside it, re-encoding only when ``convert_to`` is another image type."""
    handle, part_path = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            _stream_to(source, out, "GET", str(target.name))
        if convert_to is not None and received != convert_to:
            _convert(Path(part_path), convert_to)
        Path(part_path).replace(target)
    except BaseException:
        Path(part_path).unlink(missing_ok=True)
        raise


_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/bmp": ".bmp", "image/tiff": ".tif"}


def _extension_for(media_type: str) -> str:
    return _EXTENSIONS.get(media_type) or mimetypes.guess_extension(media_type) or ""


def _convert(path: Path, extension: str) -> None:
    """Re-encode an image file in place to the type ``extension`` names (needs Pillow): only
    when a caller asks for a type other than the one the server sent."""
    try:
        from PIL import Image
    except ImportError as error:
        raise CvatSdkException(
            f"saving frames as {extension} needs Pillow (pip install pillow), because the "
            "server sent another image type; or leave image_extension unset to keep its bytes"
        ) from error
    with Image.open(path) as image:
        image.load()
        converted = image.convert("RGB") if extension in (".jpg", ".jpeg") else image
        fmt = Image.registered_extensions().get(extension)
        if fmt is None:
            raise ApiValueError(f"unknown image type {extension!r}", ["image_extension"])
        converted.save(path, format=fmt)


class RestoreBackupMixin(RetrieveMixin[EntityT]):
    """``create_from_backup`` of the repositories whose entities ``download_backup``."""

    #: The upload endpoint's collection.
    _backup_kind: ClassVar[Literal["tasks", "projects"]]

    def create_from_backup(
        self,
        filename: PathLike,
        *,
        status_check_period: float | None = None,
        pbar: ProgressReporter | None = None,
    ) -> EntityT:
        """Restore an object from a backup file (as ``download_backup`` writes); a new id."""
        kind = self._backup_kind
        response = upload_backup(self._client.api_client, kind, filename, progress=pbar, wait=False)
        request, _ = self._client.wait_for_completion(
            rq_id_of(response),
            status_check_period=status_check_period,
            log_prefix=f"{kind[:-1]} restore",
        )
        return self.retrieve(int(request.result_id))
