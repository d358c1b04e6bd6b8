"""CVAT's upload protocol on urllib3: Upload-Start, files, Upload-Finish.

Small files travel in bulk ``multipart/form-data`` requests (``Upload-Multiple``), grouped up
to a size limit and streamed from disk. Large files go through TUS 1.0.0: a creation request,
then ``PATCH`` chunks read from disk as they are sent; after an error the server's offset is
read again with ``HEAD`` and the upload resumes from there, never from zero. Locations the
server gives are resolved against the configured host, so a TLS-terminating proxy that answers
with ``http://`` locations does not break uploads.
"""

from __future__ import annotations

import base64
import io
import json
import mimetypes
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode, urlsplit

from cvat_sdk._runtime import settings
from cvat_sdk._runtime.encode import MultipartStream, json_body
from cvat_sdk._runtime.exceptions import (
    ApiConnectionError,
    ApiValueError,
    ConflictException,
    ServiceException,
)
from cvat_sdk._runtime.model import Model
from cvat_sdk.core.exceptions import UploadError
from cvat_sdk.core.helpers import wait_for_request
from cvat_sdk.core.progress import NullProgress, ProgressReporter

if TYPE_CHECKING:
    from urllib3 import HTTPResponse

    from cvat_sdk._runtime.client import BaseApiClient

__all__ = ["upload_annotations", "upload_backup", "upload_dataset", "upload_task_data"]

TUS_VERSION = "1.0.0"


class _FileWindow(io.RawIOBase):
    """``length`` bytes of an open file from ``offset``, read as the request is sent."""

    def __init__(self, handle: Any, offset: int, length: int, progress: ProgressReporter) -> None:
        super().__init__()
        handle.seek(offset)
        self._handle = handle
        self._left = length
        self._progress = progress
        self.sent = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            return 0
        view = memoryview(buffer)[: min(len(buffer), self._left, settings.STREAM_CHUNK_SIZE)]
        count = int(self._handle.readinto(view))
        if count == 0:
            raise UploadError("the file became shorter while it was being uploaded")
        self._left -= count
        self.sent += count
        return count


class _Transport:
    """Requests to one upload URL with the client's headers and credentials."""

    def __init__(self, api_client: BaseApiClient) -> None:
        self.api_client = api_client
        self.host = api_client.configuration.host

    def absolute(self, path_or_url: str) -> str:
        """A path, or a URL the server gave, on the configured host (scheme included)."""
        parts = urlsplit(path_or_url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return self.host + path

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        check: bool = True,
    ) -> HTTPResponse:
        all_headers = self.api_client.get_common_headers()
        all_headers.update(headers or {})
        queries: list[tuple[str, str]] = []
        self.api_client.update_params_for_auth(all_headers, queries, method=method)
        if queries:
            url += ("&" if "?" in url else "?") + urlencode(queries)
        return self.api_client.request(
            method, url, headers=all_headers, body=body, _check_status=check
        )


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _metadata(name: str) -> str:
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return f"filename {_b64(name)},filetype {_b64(kind)}"


def _tus_upload(
    transport: _Transport, url: str, path: Path, name: str, progress: ProgressReporter
) -> None:
    size = path.stat().st_size
    created = transport.send(
        "POST",
        url,
        headers={
            "Tus-Resumable": TUS_VERSION,
            "Upload-Length": str(size),
            "Upload-Metadata": _metadata(name),
        },
    )
    location_header = created.headers.get("Location")
    if not location_header:
        raise UploadError(f"the server gave no Location for the upload of {name}")
    location = transport.absolute(location_header)
    offset = 0
    failures = 0
    with open(path, "rb") as handle:
        while offset < size:
            length = min(settings.TUS_CHUNK_SIZE, size - offset)
            window = _FileWindow(handle, offset, length, progress)
            try:
                answer = transport.send(
                    "PATCH",
                    location,
                    headers={
                        "Tus-Resumable": TUS_VERSION,
                        "Upload-Offset": str(offset),
                        "Content-Type": "application/offset+octet-stream",
                        "Content-Length": str(length),
                    },
                    body=window,
                )
                confirmed = int(answer.headers.get("Upload-Offset", offset + length))
            except (ApiConnectionError, ServiceException, ConflictException) as error:
                failures += 1
                if failures > settings.TUS_MAX_RETRIES:
                    raise UploadError(
                        f"uploading {name} failed {failures} times in a row at byte {offset}: "
                        f"{error}"
                    ) from error
                time.sleep(min(0.1 * 2**failures, 5.0))
                confirmed = _server_offset(transport, location, name)
            else:
                failures = 0
            if confirmed > offset:
                progress.advance(confirmed - offset)
            elif confirmed < offset:
                raise UploadError(f"the server lost part of {name} (offset {confirmed} < {offset})")
            offset = confirmed


def _server_offset(transport: _Transport, location: str, name: str) -> int:
    for attempt in range(settings.TUS_MAX_RETRIES):
        try:
            head = transport.send("HEAD", location, headers={"Tus-Resumable": TUS_VERSION})
            return int(head.headers["Upload-Offset"])
        except (ApiConnectionError, ServiceException, KeyError, ValueError):
            time.sleep(min(0.1 * 2**attempt, 5.0))
    raise UploadError(f"cannot read the server's offset of {name}")


def _bulk_groups(files: Sequence[tuple[Path, str, int]]) -> list[list[tuple[Path, str, int]]]:
    groups: list[list[tuple[Path, str, int]]] = []
    current: list[tuple[Path, str, int]] = []
    current_size = 0
    for item in files:
        too_big = current_size + item[2] > settings.BULK_REQUEST_MAX
        if current and (too_big or len(current) >= settings.BULK_REQUEST_MAX_FILES):
            groups.append(current)
            current, current_size = [], 0
        current.append(item)
        current_size += item[2]
    if current:
        groups.append(current)
    return groups


def _bulk_upload(
    transport: _Transport, url: str, group: list[tuple[Path, str, int]], progress: ProgressReporter
) -> None:
    handles = [open(path, "rb") for path, _, _ in group]  # noqa: SIM115 (closed below)
    try:
        fields = [
            (f"client_files[{index}]", _Named(handle, name))
            for index, (handle, (_, name, _)) in enumerate(zip(handles, group, strict=True))
        ]
        stream = MultipartStream(fields)
        transport.send(
            "POST",
            url,
            headers={
                "Upload-Multiple": "true",
                "Content-Type": stream.content_type,
                "Content-Length": str(stream.length),
            },
            body=stream,
        )
    finally:
        for handle in handles:
            handle.close()
    progress.advance(sum(size for _, _, size in group))


class _Named(io.RawIOBase):
    """An open file presented under another name (the name the server records)."""

    def __init__(self, handle: Any, name: str) -> None:
        super().__init__()
        self._handle = handle
        self.name = name

    def fileno(self) -> int:
        return int(self._handle.fileno())

    def tell(self) -> int:
        return int(self._handle.tell())

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return int(self._handle.seek(offset, whence))

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return int(self._handle.readinto(buffer))

    def read(self, size: int = -1) -> bytes:
        return bytes(self._handle.read(size))


def _finish(transport: _Transport, url: str, body: Any) -> HTTPResponse:
    headers = {"Upload-Finish": "true"}
    payload = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        payload = json_body(body)
    for attempt in range(1, settings.FINISH_ATTEMPTS + 1):
        try:
            return transport.send("POST", url, headers=headers, body=payload)
        except ServiceException:
            if attempt == settings.FINISH_ATTEMPTS:
                raise
            time.sleep(0.2 * attempt)
    raise AssertionError("unreachable")


def _with_query(path: str, query: Mapping[str, Any]) -> str:
    items = [(k, str(v).lower() if isinstance(v, bool) else str(v)) for k, v in query.items()]
    return f"{path}?{urlencode(items)}" if items else path


def _resources(resources: Sequence[str | os.PathLike[str]]) -> list[tuple[Path, str, int]]:
    files = []
    seen: set[str] = set()
    for index, resource in enumerate(resources):
        path = Path(resource)
        if not path.is_file():
            raise ApiValueError(f"not a file: {path}", ["resources", index])
        name = path.name
        if name in seen:
            raise ApiValueError(
                f"two files are named {name!r}: the server keeps files by name",
                ["resources", index],
            )
        seen.add(name)
        files.append((path, name, path.stat().st_size))
    return files


def _rq_id(response: HTTPResponse) -> str:
    try:
        return str(json.loads(response.data)["rq_id"])
    except (ValueError, KeyError, TypeError) as error:
        raise UploadError(f"the server's answer has no rq_id: {response.data[:200]!r}") from error


def _upload(
    api_client: BaseApiClient,
    path: str,
    files: list[tuple[Path, str, int]],
    *,
    query: Mapping[str, Any],
    finish_body: Any,
    bulk: bool,
    progress: ProgressReporter | None,
) -> HTTPResponse:
    reporter = progress or NullProgress()
    transport = _Transport(api_client)
    url = transport.absolute(_with_query(path, query))
    reporter.start(sum(size for _, _, size in files))
    try:
        transport.send("POST", url, headers={"Upload-Start": "true"})
        small = [f for f in files if bulk and f[2] <= settings.BULK_FILE_MAX]
        for group in _bulk_groups(small):
            _bulk_upload(transport, url, group, reporter)
        for file_path, name, _ in (f for f in files if f not in small):
            _tus_upload(transport, transport.absolute(path), file_path, name, reporter)
        return _finish(transport, url, finish_body)
    finally:
        reporter.finish()


def upload_task_data(
    api_client: BaseApiClient,
    task_id: int,
    resources: Sequence[str | os.PathLike[str]],
    *,
    data_params: Any = None,
    progress: ProgressReporter | None = None,
    wait: bool = True,
) -> Any:
    """Attach local files to a task; returns the finished ``Request`` (or, with
    ``wait=False``, the response of the request that started processing).

    ``data_params`` is a ``models.DataRequest`` or a dict of its fields (``image_quality``
    defaults to 70). With ``sorting_method="predefined"`` the files keep the given order.
    """
    params = data_params.to_dict() if isinstance(data_params, Model) else dict(data_params or {})
    params.setdefault("image_quality", 70)
    files = _resources(resources)
    params["upload_file_order"] = [name for _, name, _ in files]
    _models(api_client).DataRequest(**params)  # validate before anything is sent
    response = _upload(
        api_client,
        f"/api/tasks/{int(task_id)}/data/",
        files,
        query={},
        finish_body=params,
        bulk=True,
        progress=progress,
    )
    return wait_for_request(api_client, _rq_id(response)) if wait else response


def _models(api_client: BaseApiClient) -> Any:
    """The generated ``models`` package of the client's own schema."""
    import importlib

    package = type(api_client).__module__.rsplit(".", 1)[0]
    return importlib.import_module(f"{package}.models")


def _single_file(path: str | os.PathLike[str]) -> list[tuple[Path, str, int]]:
    return _resources([path])


def upload_annotations(
    api_client: BaseApiClient,
    kind: Literal["tasks", "jobs"],
    resource_id: int,
    path: str | os.PathLike[str],
    *,
    format_name: str,
    progress: ProgressReporter | None = None,
    wait: bool = True,
) -> Any:
    """Import an annotation file into a task or a job; returns the finished ``Request``."""
    if kind not in ("tasks", "jobs"):
        raise ApiValueError("must be 'tasks' or 'jobs'", ["kind"])
    files = _single_file(path)
    query = {"format": format_name, "filename": files[0][1]}
    response = _upload(
        api_client,
        f"/api/{kind}/{int(resource_id)}/annotations/",
        files,
        query=query,
        finish_body=None,
        bulk=False,
        progress=progress,
    )
    return wait_for_request(api_client, _rq_id(response)) if wait else response


def upload_dataset(
    api_client: BaseApiClient,
    project_id: int,
    path: str | os.PathLike[str],
    *,
    format_name: str,
    progress: ProgressReporter | None = None,
    wait: bool = True,
) -> Any:
    """Import a dataset file into a project; returns the finished ``Request``."""
    files = _single_file(path)
    response = _upload(
        api_client,
        f"/api/projects/{int(project_id)}/dataset/",
        files,
        query={"format": format_name, "filename": files[0][1]},
        finish_body=None,
        bulk=False,
        progress=progress,
    )
    return wait_for_request(api_client, _rq_id(response)) if wait else response


def upload_backup(
    api_client: BaseApiClient,
    kind: Literal["tasks", "projects"],
    path: str | os.PathLike[str],
    *,
    progress: ProgressReporter | None = None,
    wait: bool = True,
) -> Any:
    """Restore a task or project from a backup file; returns the new id (or, with
    ``wait=False``, the response of the request that started the restore)."""
    if kind not in ("tasks", "projects"):
        raise ApiValueError("must be 'tasks' or 'projects'", ["kind"])
    files = _single_file(path)
    response = _upload(
        api_client,
        f"/api/{kind}/backup/",
        files,
        query={"filename": files[0][1]},
        finish_body=None,
        bulk=False,
        progress=progress,
    )
    if not wait:
        return response
    request = wait_for_request(api_client, _rq_id(response))
    return request.result_id
