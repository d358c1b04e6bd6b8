"""CVAT's upload protocol on urllib3: Upload-Start, files, Upload-Finish.

Small files travel in bulk ``multipart/form-data`` requests (``Upload-Multiple``), grouped up
to a size limit and streamed from disk one file at a time. Large files go through TUS 1.0.0: a
creation request, then ``PATCH`` chunks read from disk as they are sent; after an error the
server's offset is read again with ``HEAD`` and the upload resumes from there, re-sending at
most the chunk that was in flight. The Locations the server gives (absolute or relative) are
followed on the configured host: a server behind a proxy names itself as the proxy reaches it
(``http://``, an internal host or port), and the chunks, with their credentials, must still go
where the client was pointed.

Task data that fits one bulk request goes in one request instead, carrying both Upload-Start
and Upload-Finish, the data params as form fields beside the files (CVAT takes it as a whole
upload, and spends a fixed time on each request).

In a session, the files set off together with Upload-Start, but no request of theirs is whole
before it is answered (a bulk body holds back its closing boundary, a TUS creation waits): a
server takes a request only whole, so it still sees the start first, and a refused start cuts
the bodies on their way, of which it keeps nothing.
"""

from __future__ import annotations

import base64
import importlib
import io
import json
import mimetypes
import os
import re
import stat
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple
from urllib.parse import quote, urlencode, urlsplit

import urllib3
from urllib3.fields import RequestField

from cvat_sdk._runtime import settings
from cvat_sdk._runtime.encode import json_body, multipart_fields
from cvat_sdk._runtime.exceptions import (
    ApiConnectionError,
    ApiException,
    ApiValueError,
    ConflictException,
    NotFoundException,
    ServiceException,
)
from cvat_sdk._runtime.model import Model
from cvat_sdk.core._concurrency import Gate, LockedProgress, Stopped, run_all
from cvat_sdk.core._urls import on_host
from cvat_sdk.core.exceptions import UploadError
from cvat_sdk.core.helpers import wait_for_request
from cvat_sdk.core.progress import NullProgress, ProgressReporter

if TYPE_CHECKING:
    from urllib3 import HTTPResponse

    from cvat_sdk._runtime.client import BaseApiClient

__all__ = ["upload_annotations", "upload_backup", "upload_dataset", "upload_task_data"]

TUS_VERSION = "1.0.0"


class _File(NamedTuple):
    path: Path
    name: str  # the name the server keeps the file under
    size: int


class _FileWindow(io.RawIOBase):
    """``length`` bytes of an open file from ``offset``, read as the request is sent.

    ``read`` is the fast path: urllib3 reads a body in ``SEND_BLOCK_SIZE`` pieces, and at
    loopback speeds the cost of each matters (``readinto`` plus the copy to ``bytes`` of
    ``RawIOBase.read`` takes a third more time than the bytes' trip through the socket).
    """

    def __init__(self, handle: io.FileIO, offset: int, length: int) -> None:
        super().__init__()
        handle.seek(offset)
        self._handle = handle
        self._left = length

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        wanted = self._left if size is None or size < 0 else min(size, self._left)
        if wanted <= 0:
            return b""
        data = self._handle.read(wanted)  # unbuffered: one read from the disk cache
        if not data:
            raise UploadError("the file became shorter while it was being uploaded")
        self._left -= len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        memoryview(buffer).cast("B")[: len(data)] = data
        return len(data)


class _BulkBody(io.RawIOBase):
    """A ``multipart/form-data`` body of ``client_files[i]`` read from disk as it is sent.

    Only one file is open at a time (a request may carry a thousand: as many descriptors would
    exceed common limits). Like ``_FileWindow``, it is read through ``read``, each piece in one
    unbuffered read of the file.
    """

    def __init__(
        self,
        files: Sequence[_File],
        progress: ProgressReporter,
        fields: Mapping[str, str] | None = None,
        on_sent: Callable[[], None] | None = None,
        before_end: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self._on_sent = on_sent  # called once, when the last byte is read or on close
        # called once, before the closing boundary: until it returns the request is not whole
        self._before_end = before_end
        self.boundary = uuid.uuid4().hex
        self._parts: list[bytes | _File] = []
        for name, value in (fields or {}).items():
            field = RequestField(name, value.encode())
            field.make_multipart()
            head = f"--{self.boundary}\r\n{field.render_headers()}".encode()
            self._parts += [head, value.encode(), b"\r\n"]
        for index, file in enumerate(files):
            field = RequestField(f"client_files[{index}]", b"", filename=file.name)
            field.make_multipart(content_type=_content_type(file.name))
            head = f"--{self.boundary}\r\n{field.render_headers()}".encode()
            self._parts += [head, file, b"\r\n"]
        self._parts.append(f"--{self.boundary}--\r\n".encode())
        self.length = sum(p.size if isinstance(p, _File) else len(p) for p in self._parts)
        self._progress = progress
        self._index = 0
        self._offset = 0  # in the current part
        self._handle: io.FileIO | None = None

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    @property
    def whole(self) -> bool:
        """Every byte was read out (which the server may or may not have received)."""
        return self._index >= len(self._parts)

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes (all that is left with -1), from one part at a time."""
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(settings.STREAM_CHUNK_SIZE), b""))
        if size == 0:
            return b""
        while self._index < len(self._parts):
            if self._index == len(self._parts) - 1 and self._before_end is not None:
                before_end, self._before_end = self._before_end, None
                before_end()
            part = self._parts[self._index]
            if isinstance(part, _File):
                data = self._read_file(part, size)
                end = part.size
            else:
                data = part[self._offset : self._offset + size]
                end = len(part)
            self._offset += len(data)
            if self._offset >= end:
                self._next_part(part)
            if data:
                return data
        self._sent()
        return b""

    def _sent(self) -> None:
        if self._on_sent is not None:
            callback, self._on_sent = self._on_sent, None
            callback()

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        memoryview(buffer).cast("B")[: len(data)] = data
        return len(data)

    def _read_file(self, file: _File, size: int) -> bytes:
        wanted = min(size, file.size - self._offset)
        if wanted <= 0:
            return b""
        if self._handle is None:
            self._handle = io.FileIO(file.path)  # closed by _next_part or close
        data = self._handle.read(wanted)
        if not data:
            raise UploadError(f"{file.path} became shorter while it was being uploaded")
        return data

    def _next_part(self, part: bytes | _File) -> None:
        if isinstance(part, _File):
            if self._handle is not None:
                self._handle.close()
                self._handle = None
            if part.size:
                self._progress.advance(part.size)
        self._index += 1
        self._offset = 0

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        self._sent()
        super().close()


def _content_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


class _Transport:
    """Requests to the configured host with the client's headers and credentials."""

    def __init__(self, api_client: BaseApiClient) -> None:
        self.api_client = api_client
        self.host = api_client.configuration.host

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> HTTPResponse:
        all_headers = self.api_client.get_common_headers()
        all_headers.update(headers or {})
        queries: list[tuple[str, str]] = []
        self.api_client.update_params_for_auth(all_headers, queries, method=method)
        if queries:
            url += ("&" if "?" in url else "?") + urlencode(queries)
        return self.api_client.request(method, url, headers=all_headers, body=body)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _metadata(name: str) -> str:
    return f"filename {_b64(name)},filetype {_b64(_content_type(name))}"


def _transient(error: Exception) -> bool:
    """Errors after which a chunk may be sent again once the server's offset is known."""
    if isinstance(error, (ApiConnectionError, ServiceException, ConflictException)):
        return True
    return isinstance(error, ApiException) and error.status == 429


def _backoff(failures: int) -> float:
    return float(min(0.1 * 2**failures, 5.0))


def _tus_upload(
    transport: _Transport,
    collection: str,
    file: _File,
    progress: ProgressReporter,
    started: Gate | None = None,
    stop: threading.Event | None = None,
) -> str:
    """One file through TUS, in ``TUS_CHUNK_SIZE`` chunks read from disk as they are sent;
    returns the name the server keeps it under (``Upload-Filename``: CVAT renames backups).
    Its first request waits for ``started``; between chunks it gives up (:class:`Stopped`)
    once ``stop`` is set.

    After a failed chunk the server's offset is read with HEAD and the upload goes on from
    there: at most the chunk in flight is sent again, never the file from the start.
    """
    if started is not None:
        started.wait(stop)
    created = transport.send(
        "POST",
        collection,
        headers={
            "Tus-Resumable": TUS_VERSION,
            "Upload-Length": str(file.size),
            "Upload-Metadata": _metadata(file.name),
            # CVAT builds the upload's Location from Origin unless a proxy names the host
            "Origin": transport.api_client.build_origin_header(),
        },
    )
    location_header = created.headers.get("Location")
    if not location_header:
        raise UploadError(f"the server gave no Location for the upload of {file.name}")
    location = on_host(transport.host, location_header, base=collection)
    server_name = created.headers.get("Upload-Filename") or file.name
    offset = 0
    failures = 0
    with io.FileIO(file.path) as handle:
        while offset < file.size:
            if stop is not None and stop.is_set():
                raise Stopped(f"the upload of {file.name} stopped at byte {offset}")
            length = min(settings.TUS_CHUNK_SIZE, file.size - offset)
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
                    body=_FileWindow(handle, offset, length),
                )
                confirmed = int(answer.headers.get("Upload-Offset", offset + length))
            except (ApiException, ApiConnectionError) as error:
                if not _transient(error):
                    raise
                failures += 1
                if failures > settings.TUS_MAX_RETRIES:
                    raise UploadError(
                        f"uploading {file.name} failed {failures} times in a row at byte "
                        f"{offset}: {error}"
                    ) from error
                time.sleep(_backoff(failures))
                last_chunk = offset + length == file.size
                confirmed = _server_offset(transport, location, file.name, file.size, last_chunk)
            else:
                failures = 0
            if confirmed > offset:
                progress.advance(confirmed - offset)
            elif confirmed < offset:
                raise UploadError(
                    f"the server lost part of {file.name} (offset {confirmed} < {offset})"
                )
            offset = confirmed
    return server_name


def _server_offset(
    transport: _Transport, location: str, name: str, size: int, last_chunk: bool
) -> int:
    """The server's offset of an upload, read with HEAD.

    CVAT forgets an upload once its last byte arrives (HEAD answers 404): after the last chunk
    was in flight, a 404 means the upload is complete and only the answer was lost.
    """
    for attempt in range(settings.TUS_MAX_RETRIES):
        try:
            head = transport.send("HEAD", location, headers={"Tus-Resumable": TUS_VERSION})
            return int(head.headers["Upload-Offset"])
        except NotFoundException:
            if last_chunk:
                return size
            raise UploadError(
                f"the server no longer knows the upload of {name} (HEAD answered 404)"
            ) from None
        except (ApiConnectionError, ServiceException, KeyError, ValueError):
            time.sleep(_backoff(attempt))
    raise UploadError(f"cannot read the server's offset of {name}")


def _bulk_groups(files: Sequence[_File]) -> list[list[_File]]:
    """Files in groups of about equal size, in order: as few as ``BULK_REQUEST_MAX`` bytes
    per group allows, two at least past ``BULK_SPLIT_ABOVE`` bytes, and none over
    ``BULK_REQUEST_MAX`` bytes or ``BULK_REQUEST_MAX_FILES`` files. Measured on CVAT 2.24
    (2 cores), a few large requests beat many smaller ones: the server spends a fixed time
    on each. A file goes in the group its middle byte falls in (ten files of 9 MB make two
    groups of five, not 4 + 4 + 2 as filling each group up to half of the bytes would)."""
    total = sum(f.size for f in files)
    count = max(
        -(-total // settings.BULK_REQUEST_MAX), 2 if total > settings.BULK_SPLIT_ABOVE else 1
    )
    share = total / count
    groups: list[list[_File]] = []
    current: list[_File] = []
    current_size = 0
    before = 0  # bytes of the files ahead of this one
    for file in files:
        past_share = before + file.size / 2 > share * (len(groups) + 1)
        too_big = current_size + file.size > settings.BULK_REQUEST_MAX
        too_many = len(current) >= settings.BULK_REQUEST_MAX_FILES
        if current and (past_share or too_big or too_many):
            groups.append(current)
            current, current_size = [], 0
        current.append(file)
        current_size += file.size
        before += file.size
    if current:
        groups.append(current)
    return groups


def _bulk_upload(
    transport: _Transport,
    url: str,
    group: list[_File],
    progress: ProgressReporter,
    fields: Mapping[str, str],
    wire: threading.Semaphore,
    started: Gate | None = None,
    stop: threading.Event | None = None,
) -> None:
    """One bulk request; its body waits for ``wire`` (held until the body is sent), so
    the next request streams while the server works on this one, and its last bytes wait
    for ``started``."""
    if stop is not None and stop.is_set():
        raise Stopped("the upload stopped before this bulk request")
    wire.acquire()
    if stop is not None and stop.is_set():
        wire.release()
        raise Stopped("the upload stopped before this bulk request")
    before_end = None if started is None else partial(started.wait, stop)
    with _BulkBody(group, progress, fields, on_sent=wire.release, before_end=before_end) as body:
        transport.send(
            "POST",
            url,
            headers={
                "Upload-Multiple": "true",
                "Content-Type": body.content_type,
                "Content-Length": str(body.length),
            },
            body=body,
        )


_DERIVED_RQ_IDS = (
    (re.compile(r"/api/tasks/(\d+)/data/?$"), "create:task-{}"),
    (re.compile(r"/api/tasks/(\d+)/annotations/?$"), "import:task-{}-annotations"),
    (re.compile(r"/api/jobs/(\d+)/annotations/?$"), "import:job-{}-annotations"),
    (re.compile(r"/api/projects/(\d+)/dataset/?$"), "import:project-{}-dataset"),
)
_BACKUP_PATH = re.compile(r"/api/(tasks|projects)/backup/?$")


class _Started:
    """What tells whether an Upload-Finish whose answer was lost started its request.

    CVAT names the request of a task's data or an import by its target (``create:task-5``,
    ``import:task-5-annotations``): the request of that name, if it changed since before the
    finish, is the finish's own. A backup's restore is named by a fresh uuid: a restore
    request that was not in the list before the finish is its own.
    """

    def __init__(self, transport: _Transport, finish_url: str) -> None:
        self.transport = transport
        path = urlsplit(finish_url).path
        self.rq_id: str | None = None
        self.backup_target: str | None = None
        for pattern, template in _DERIVED_RQ_IDS:
            found = pattern.search(path)
            if found:
                self.rq_id = template.format(found.group(1))
        backup = _BACKUP_PATH.search(path)
        if backup:
            self.backup_target = backup.group(1)[:-1]  # "task" or "project"
        self.before: set[tuple[str, str]] | None = None

    def snapshot(self) -> None:
        """The requests there are before the finish (None when they cannot be read)."""
        try:
            self.before = self._marks()
        except (ApiException, ApiConnectionError, UploadError):
            self.before = None

    def started(self) -> str | None:
        """The rq_id the finish started, or None if it started none (yet).

        Raises UploadError when that cannot be told: sending the finish again could start
        the work twice (a second restore of a backup, a second import).
        """
        if self.before is None:
            raise UploadError("cannot tell whether the server started the request")
        last: Exception | None = None
        for attempt in range(settings.FINISH_ATTEMPTS):
            try:
                new = self._marks() - self.before
            except (ApiException, ApiConnectionError, UploadError) as error:
                last = error
                time.sleep(_backoff(attempt + 1))
                continue
            ids = {rq_id for rq_id, _ in new}
            if len(ids) > 1:
                raise UploadError(
                    f"several requests started while the finish was unanswered: {sorted(ids)}"
                )
            return ids.pop() if ids else None
        raise UploadError(f"cannot read the server's requests: {last}")

    @property
    def checkable(self) -> bool:
        return self.rq_id is not None or self.backup_target is not None

    def _marks(self) -> set[tuple[str, str]]:
        """``(rq_id, created_date)`` of the requests this finish could start."""
        host = self.transport.host
        if self.rq_id is not None:
            try:
                answer = self.transport.send(
                    "GET", f"{host}/api/requests/{quote(self.rq_id, safe='')}"
                )
            except NotFoundException:
                return set()
            items = [json.loads(answer.data)]
        else:
            query = {
                "action": "import",
                "target": self.backup_target,
                "subresource": "backup",
                "sort": "-created_date",
                "page_size": 100,
            }
            answer = self.transport.send("GET", host + _with_query("/api/requests", query))
            items = json.loads(answer.data).get("results") or []
        try:
            return {(str(item["id"]), str(item.get("created_date"))) for item in items}
        except (KeyError, TypeError) as error:
            raise UploadError(f"unexpected answer from /api/requests: {error}") from error


def _accepted(rq_id: str) -> HTTPResponse:
    """The answer the lost one would have been: 202 with the request's rq_id."""
    return urllib3.HTTPResponse(
        body=json.dumps({"rq_id": rq_id}).encode(),
        status=202,
        headers={"Content-Type": "application/json"},
        preload_content=True,
    )


def _ambiguous(error: Exception) -> bool:
    """Failures after which the server may or may not have acted on the finish: a 5xx (a
    proxy's 502/504 can come after the server did the work), a connection lost on the way."""
    if isinstance(error, (ServiceException, ApiConnectionError)):
        return True
    return isinstance(error, ApiException) and error.status == 429


def _started_by(started: _Started, error: Exception) -> str | None:
    """The rq_id the lost finish started, or None; an UploadError (from ``error``) when that
    cannot be told."""
    try:
        return started.started()
    except UploadError as unknown:
        raise UploadError(
            f"Upload-Finish failed ({error}) and sending it again is not safe: {unknown}"
        ) from error


def _finish(transport: _Transport, url: str, body: Any, started: _Started) -> HTTPResponse:
    """Upload-Finish, sent again (``FINISH_ATTEMPTS`` in all) after a 5xx, a 429 or a lost
    connection: the files are already there, and an overloaded proxy should not cost the
    upload.

    Sending it again is safe only if the first one did not start the work: CVAT answers a
    second finish with 400 ("Adding more data is not supported", "No such file were
    uploaded") or 409 once the first one has started the task's creation or the import, and a
    second backup finish would restore it twice. So before each new attempt the server's
    requests are read: if the lost finish started one, its rq_id is the answer.
    """
    headers = {"Upload-Finish": "true"}
    payload = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        payload = json_body(body)
    unanswered = False  # a finish failed in a way that leaves the server's state unknown
    for attempt in range(1, settings.FINISH_ATTEMPTS + 1):
        try:
            return transport.send("POST", url, headers=headers, body=payload)
        except (ApiException, ApiConnectionError) as error:
            if unanswered and started.checkable:
                # e.g. a gateway's timeout while the server went on with the first finish:
                # this one fails (400, 409) because that one started the request
                rq_id = _started_by(started, error)
                if rq_id is not None:
                    return _accepted(rq_id)
            if not _ambiguous(error) or attempt == settings.FINISH_ATTEMPTS:
                raise
            if not started.checkable and not isinstance(error, ApiException):
                raise  # a lost connection, and no way to tell what the server did
            unanswered = True
            time.sleep(0.2 * attempt)
            if started.checkable:
                rq_id = _started_by(started, error)
                if rq_id is not None:
                    return _accepted(rq_id)
    raise AssertionError("unreachable")


class _ResentProgress:
    """Progress of a body that may be sent more than once: only bytes past the furthest
    attempt count, so the total stays the files' size."""

    def __init__(self, inner: ProgressReporter) -> None:
        self._inner = inner
        self._furthest = 0
        self._now = 0

    def again(self) -> None:
        self._now = 0

    def start(self, total: int | None) -> None:
        self._inner.start(total)

    def advance(self, n: int) -> None:
        self._now += n
        if self._now > self._furthest:
            self._inner.advance(self._now - self._furthest)
            self._furthest = self._now

    def finish(self) -> None:
        self._inner.finish()


def _one_request_form(files: Sequence[_File], finish_body: Any) -> dict[str, str] | None:
    """The finish's fields as form fields, when the files can travel with them in one
    request: all small enough for bulk, within one bulk request's limits, and fields a form
    can carry (``None`` otherwise: the upload then takes several requests)."""
    total = sum(f.size for f in files)
    if (
        not files
        or total > settings.ONE_REQUEST_MAX
        or total > settings.BULK_REQUEST_MAX
        or len(files) > settings.BULK_REQUEST_MAX_FILES
        or any(f.size > settings.BULK_FILE_MAX for f in files)
    ):
        return None
    try:
        fields = multipart_fields(finish_body)
    except ApiValueError:
        return None  # e.g. a key a form cannot spell: the finish goes as JSON instead
    if any(not isinstance(value, str) for _, value in fields):
        return None
    return dict(fields)


def _not_taken(error: Exception) -> bool:
    """Answers by which a server (or a gateway) says it did not take the request in."""
    return isinstance(error, ApiException) and error.status in (429, 503)


def _settled(started: _Started, error: Exception) -> str | None:
    """The rq_id the failed request started, waiting up to ``ONE_REQUEST_SETTLE`` seconds
    for it to appear; None if none did."""
    deadline = time.monotonic() + settings.ONE_REQUEST_SETTLE
    while True:
        rq_id = _started_by(started, error)
        if rq_id is not None or time.monotonic() >= deadline:
            return rq_id
        time.sleep(0.5)


def _whole_upload_headers(body: _BulkBody) -> dict[str, str]:
    """The headers of one request that is the whole upload (CVAT: start and finish at once)."""
    return {
        "Upload-Start": "true",
        "Upload-Finish": "true",
        "Content-Type": body.content_type,
        "Content-Length": str(body.length),
    }


def _what_became_of(started: _Started, error: Exception) -> str | None:
    """After an ambiguous failure of one request whose body was read out whole: the rq_id it
    started, or None when sending it again is safe (see :func:`_upload_in_one_request`);
    otherwise an UploadError that says what the server may hold."""
    if _not_taken(error):
        return _started_by(started, error)
    rq_id = _settled(started, error)
    if rq_id is None and not isinstance(error, ApiConnectionError):
        raise UploadError(
            f"the request carrying the files and Upload-Finish failed once sent whole "
            f"({error}), and the server started no request in "
            f"{settings.ONE_REQUEST_SETTLE:g} s. It may hold the files in the task's upload "
            "area, where a second upload would be appended to them, so they were not sent "
            f"again: upload to a new task (or see whether request {started.rq_id} appears "
            "later)"
        ) from error
    return rq_id


def _upload_in_one_request(
    transport: _Transport,
    url: str,
    files: list[_File],
    form: Mapping[str, str],
    reporter: ProgressReporter,
) -> HTTPResponse:
    """The files and the finish's fields in one request with both Upload-Start and
    Upload-Finish, which CVAT takes as a whole upload; returns its answer.

    The server's requests are read while the body streams (its end waits for that), so that
    after a failure it can be told whether this request started one; if it did, that is the
    answer. Otherwise it is sent again (``FINISH_ATTEMPTS`` in all) when the server holds
    none of the files:

    - the body was not all read out (CVAT keeps nothing of a request cut short);
    - the answer was a 429 or a 503 (not taken in);
    - the connection was lost and no request appeared within ``ONE_REQUEST_SETTLE`` seconds.
      The body may have been cut in the socket's buffers; one the server took whole would
      have started its request by then, or, if still at work, it holds the task's row
      locked and has registered the file names, which refuse a second copy (a 500).

    After a 500, 502 or 504 the server (or a gateway before it) answered: CVAT may have
    written the files into the task's upload area and failed afterwards, and it appends to a
    file of the same name, so they are not sent again: an UploadError says so instead.
    """
    started = _Started(transport, url)
    progress = _ResentProgress(reporter)
    read_before = Gate()

    def snapshot(_stop: threading.Event) -> HTTPResponse | None:
        try:
            started.snapshot()
        finally:
            read_before.open()
        return None

    for attempt in range(1, settings.FINISH_ATTEMPTS + 1):
        first = attempt == 1
        progress.again()
        body = _BulkBody(files, progress, form, before_end=read_before.wait if first else None)

        def send(_stop: threading.Event, body: _BulkBody = body) -> HTTPResponse | None:
            with body:
                return transport.send("POST", url, headers=_whole_upload_headers(body), body=body)

        try:
            answer = run_all([snapshot, send] if first else [send], 2)[-1]
        except (ApiException, ApiConnectionError) as error:
            if not _ambiguous(error):
                raise
            rq_id = _what_became_of(started, error) if body.whole else None
            if rq_id is not None:
                return _accepted(rq_id)
            if attempt == settings.FINISH_ATTEMPTS:
                raise
            time.sleep(0.2 * attempt)
            continue
        if answer is None:
            raise AssertionError("the request's job returned no answer")
        return answer
    raise AssertionError("unreachable")


def _with_query(path: str, query: Mapping[str, Any]) -> str:
    items = [(k, str(v).lower() if isinstance(v, bool) else str(v)) for k, v in query.items()]
    return f"{path}?{urlencode(items)}" if items else path


def _resources(resources: Sequence[str | os.PathLike[str]]) -> list[_File]:
    files = []
    seen: set[str] = set()
    for index, resource in enumerate(resources):
        path = Path(resource)
        try:
            info = path.stat()
        except OSError:
            info = None
        if info is None or not stat.S_ISREG(info.st_mode):
            raise ApiValueError(f"not a file: {path}", ["resources", index])
        name = path.name
        if name in seen:
            raise ApiValueError(
                f"two files are named {name!r}: the server keeps files by name",
                ["resources", index],
            )
        seen.add(name)
        files.append(_File(path, name, info.st_size))
    return files


def _rq_id(response: HTTPResponse) -> str:
    try:
        return str(json.loads(response.data)["rq_id"])
    except (ValueError, KeyError, TypeError) as error:
        raise UploadError(f"the server's answer has no rq_id: {response.data[:200]!r}") from error


def _upload(
    api_client: BaseApiClient,
    path: str,
    files: list[_File],
    *,
    query: Mapping[str, Any],
    finish_body: Any,
    bulk_fields: Mapping[str, str] | None,
    progress: ProgressReporter | None,
    name_in_query: bool = False,
) -> HTTPResponse:
    """Upload-Start, the files, then Upload-Finish with ``finish_body`` (or all in one
    request, see :func:`_upload_in_one_request`); returns the answer to the finish.

    With ``bulk_fields`` (form fields the server validates in every bulk request), small files
    travel in bulk requests; the others go through TUS.

    With ``name_in_query`` (imports of one file), the finish names the file in ``filename``
    as the server named it, which for backups is not the name it was sent under.
    """
    reporter = LockedProgress(progress or NullProgress())
    transport = _Transport(api_client)
    form = None if bulk_fields is None else _one_request_form(files, finish_body)
    if form is not None:
        reporter.start(sum(f.size for f in files))
        try:
            url = transport.host + _with_query(path, query)
            return _upload_in_one_request(transport, url, files, form, reporter)
        finally:
            reporter.finish()
    wire = threading.Semaphore(max(settings.BULK_BODIES_AT_ONCE, 1))
    upload_started = Gate()
    collection = transport.host + path
    names = {"filename": files[0].name} if name_in_query else {}
    url = transport.host + _with_query(path, {**query, **names})
    small = [f for f in files if bulk_fields is not None and f.size <= settings.BULK_FILE_MAX]
    large = [f for f in files if f not in small]
    jobs: list[Callable[[threading.Event], str | None]] = [
        *(
            partial(
                _bulk_upload, transport, url, g, reporter, bulk_fields or {}, wire, upload_started
            )
            for g in _bulk_groups(small)
        ),
        *(partial(_tus_upload, transport, collection, f, reporter, upload_started) for f in large),
    ]
    started = _Started(transport, url)
    if started.rq_id is not None:
        # named by its target, which the uploads leave alone: read it while the files go
        jobs.insert(0, lambda _stop: started.snapshot())

    def start(_stop: threading.Event) -> None:
        try:
            transport.send("POST", url, headers={"Upload-Start": "true"})
        except BaseException:
            upload_started.fail()
            raise
        upload_started.open()

    jobs.insert(0, start)  # the others wait for it as the module's docstring says
    reporter.start(sum(f.size for f in files))
    try:
        # side by side: CVAT spends a fixed time on each request, which a lone client waits out
        server_names = run_all(jobs, settings.UPLOAD_WORKERS + 1)
        if name_in_query and large:
            names["filename"] = str(server_names[-1])
        finish_url = transport.host + _with_query(path, {**query, **names})
        if started.backup_target is not None:
            started.snapshot()  # restores are named by uuid: any new one could be this one's
        return _finish(transport, finish_url, finish_body, started)
    finally:
        reporter.finish()


def _finished(api_client: BaseApiClient, response: HTTPResponse, wait: bool) -> Any:
    return wait_for_request(api_client, _rq_id(response)) if wait else response


#: The data_params that name files held elsewhere than on the caller's disk.
_OTHER_SOURCES = ("server_files", "remote_files", "cloud_storage_id")


def _check_one_source(resources: Sequence[Any], params: Mapping[str, Any]) -> None:
    """A task's files come from one place. CVAT 2.24 takes local files with another source,
    then fails later or quietly drops some: with ``server_files`` its background request
    fails (it looks for the local files in the share), with ``remote_files`` the local files
    are left out of the task."""
    if not resources:
        return
    given = [k for k in _OTHER_SOURCES if params.get(k) not in (None, [], ())]
    if given:
        named = " and ".join(given)
        raise ApiValueError(
            f"local files cannot be combined with {named} in data_params: a task's files "
            f"come from one place; pass resources=[] to use {named}, or leave {named} out "
            "to upload the local files",
            ["resources"],
        )


def _plain(value: Any) -> Any:
    """An enum member's value (models hold enums), anything else as is."""
    return getattr(value, "value", value)


def check_validation_params(params: Mapping[str, Any], segment_size: int | None = None) -> None:
    """Refuse ``validation_params`` that CVAT 2.24 takes (202, after every file went up) and
    then fails the creation over: a ground-truth pool (mode ``"gt_pool"``) with a
    ``job_file_mapping`` or with a sorting other than ``"random"``; and, where the task's
    ``segment_size`` is known (``create_from_data``: 0 when the spec has none), ground truth
    picked ``random_per_job`` by ``frames_per_job_count`` not below it."""
    validation = params.get("validation_params")
    if isinstance(validation, Model):
        validation = validation.to_dict()
    if not isinstance(validation, Mapping):
        return
    per_job = validation.get("frames_per_job_count")
    if (
        segment_size is not None
        and _plain(validation.get("mode")) == "gt"
        and _plain(validation.get("frame_selection_method")) == "random_per_job"
        and isinstance(per_job, int)
        and segment_size <= per_job
    ):
        raise ApiValueError(
            f"frames_per_job_count={per_job} needs a task whose segment_size is above it "
            f"(the spec's is {segment_size or 'not set'}): give the spec a segment_size, or "
            "use frames_per_job_share",
            ["data_params", "validation_params", "frames_per_job_count"],
        )
    if _plain(validation.get("mode")) != "gt_pool":
        return
    if params.get("job_file_mapping") is not None:
        raise ApiValueError(
            "a ground-truth pool (validation_params mode 'gt_pool') cannot be combined with "
            "job_file_mapping: use one or the other",
            ["data_params", "job_file_mapping"],
        )
    sorting = _plain(params.get("sorting_method"))
    if sorting != "random":
        raise ApiValueError(
            "a ground-truth pool (validation_params mode 'gt_pool') needs "
            f"sorting_method='random', not {sorting or 'lexicographical'!r}",
            ["data_params", "sorting_method"],
        )


#: The data params CVAT 2.24 cannot combine with ``job_file_mapping`` when set (not 0, empty
#: or None), and what sets them.
_NOT_WITH_JOB_FILE_MAPPING = {
    "start_frame": "a start_frame",
    "stop_frame": "a stop_frame",
    "frame_filter": "a frame_filter",
    "filename_pattern": "a filename_pattern",
    "server_files_exclude": "server_files_exclude",
}


def check_job_file_mapping(params: Mapping[str, Any], segment_size: Any = None) -> None:
    """Refuse what CVAT 2.24 takes with ``job_file_mapping`` (202, after every file went up)
    and then fails the creation over in the background ("job_file_mapping cannot be used
    with ..."): an empty mapping, another sorting than the lexicographical one, a start or
    stop frame, a frame filter, a filename pattern, excluded share files, or the task's own
    ``segment_size`` (known to ``create_from_data`` from the spec)."""
    mapping = params.get("job_file_mapping")
    if mapping is None:
        return
    if not any(group for group in mapping):
        raise ApiValueError(
            "job_file_mapping names no file: give each job's files, or leave it out",
            ["data_params", "job_file_mapping"],
        )
    sorting = _plain(params.get("sorting_method"))
    if sorting not in (None, "lexicographical"):
        raise ApiValueError(
            f"job_file_mapping lays out the jobs itself and cannot be combined with "
            f"sorting_method={sorting!r}: leave sorting_method out",
            ["data_params", "sorting_method"],
        )
    for name, what in _NOT_WITH_JOB_FILE_MAPPING.items():
        if params.get(name):
            raise ApiValueError(
                f"job_file_mapping lays out the jobs itself and cannot be combined with "
                f"{what} ({name}={params[name]!r}): use one or the other",
                ["data_params", name],
            )
    if segment_size:
        raise ApiValueError(
            f"job_file_mapping lays out the jobs itself and cannot be combined with the "
            f"task's segment_size={segment_size!r}: leave segment_size out of the spec",
            ["spec", "segment_size"],
        )


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
    ``wait=False``, the response to Upload-Finish, whose JSON body holds the ``rq_id``).

    ``data_params`` is a ``models.DataRequest`` or a dict of its fields (``image_quality``
    defaults to 70). Files that fit one bulk request go in one request with the data params;
    otherwise small files travel in bulk requests and large ones through TUS, so they do not
    reach the server in the given order: with ``sorting_method="predefined"`` the
    order is sent along as ``upload_file_order`` (unless given).

    Files on the server's share, at URLs or in a cloud storage are named in ``data_params``
    (``server_files``, ``remote_files``, ``cloud_storage_id``) with ``resources=[]``; given
    together with local files they raise ``ApiValueError`` before anything is sent.
    """
    params = data_params.to_dict() if isinstance(data_params, Model) else dict(data_params or {})
    params.setdefault("image_quality", 70)
    _check_one_source(resources, params)
    files = _resources(resources)
    if params.get("sorting_method") == "predefined":
        params.setdefault("upload_file_order", [f.name for f in files])
    request = _models(api_client).DataRequest(**params)  # validated before anything is sent
    check_validation_params(params)  # on values of the right types, as DataRequest saw
    check_job_file_mapping(params)
    response = _upload(
        api_client,
        f"/api/tasks/{int(task_id)}/data/",
        files,
        query={},
        finish_body=request,
        # CVAT validates every bulk request as a whole DataRequest: image_quality is required
        bulk_fields={"image_quality": str(request.image_quality)},
        progress=progress,
    )
    return _finished(api_client, response, wait)


def _models(api_client: BaseApiClient) -> Any:
    """The generated ``models`` package of the client's own schema, found from the generated
    ``ApiClient`` class (the client may be of a subclass defined anywhere)."""
    for cls in type(api_client).__mro__:
        package, _, module = cls.__module__.rpartition(".")
        if module == "api_client" and package:
            try:
                return importlib.import_module(f"{package}.models")
            except ImportError:
                continue
    raise ApiValueError(
        f"{type(api_client).__name__} is not a generated ApiClient: its models are unknown",
        ["api_client"],
    )


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
    """Import an annotation file into a task or a job; returns the finished ``Request`` (or,
    with ``wait=False``, the response to Upload-Finish)."""
    if kind not in ("tasks", "jobs"):
        raise ApiValueError("must be 'tasks' or 'jobs'", ["kind"])
    url = f"/api/{kind}/{int(resource_id)}/annotations/"
    return _import_file(api_client, url, path, format_name, progress, wait)


def upload_dataset(
    api_client: BaseApiClient,
    project_id: int,
    path: str | os.PathLike[str],
    *,
    format_name: str,
    progress: ProgressReporter | None = None,
    wait: bool = True,
) -> Any:
    """Import a dataset file into a project; returns the finished ``Request`` (or, with
    ``wait=False``, the response to Upload-Finish)."""
    url = f"/api/projects/{int(project_id)}/dataset/"
    return _import_file(api_client, url, path, format_name, progress, wait)


def _import_file(
    api_client: BaseApiClient,
    url: str,
    path: str | os.PathLike[str],
    format_name: str,
    progress: ProgressReporter | None,
    wait: bool,
) -> Any:
    """One file through TUS to an import endpoint that names its format in the query.

    The file goes up under a name of its own (``annotations-1a2b3c4d.zip``): CVAT keeps an
    imported file for a while and refuses another upload of the same name with 409 until its
    import ends, so a retry after a refused import, or two imports of one file, would fail.
    """
    (file,) = _resources([path])
    stem, dot, suffix = file.name.rpartition(".")
    unique = (
        f"{stem}-{uuid.uuid4().hex[:8]}.{suffix}" if dot else f"{file.name}-{uuid.uuid4().hex[:8]}"
    )
    files = [file._replace(name=unique)]
    _check_import_format(api_client, format_name)
    response = _upload(
        api_client,
        url,
        files,
        query={"format": format_name},
        finish_body=None,
        bulk_fields=None,
        progress=progress,
        name_in_query=True,
    )
    return _finished(api_client, response, wait)


def _check_import_format(api_client: BaseApiClient, format_name: str) -> None:
    """Refuse a format the server cannot import before the file goes up: the server would
    say so only at Upload-Finish, after the whole upload, and keep the file it received."""
    try:
        formats, _ = api_client.server_api.retrieve_annotation_formats()  # type: ignore[attr-defined]
        importers = [str(f.name) for f in formats.importers]
        exporters = {str(f.name) for f in formats.exporters}
    except (ApiException, ApiConnectionError, AttributeError, TypeError):
        return  # a server that cannot tell: let it decide
    if format_name in importers:
        return
    hint = " (that is an export format)" if format_name in exporters else ""
    raise ApiValueError(
        f"the server cannot import {format_name!r}{hint}; its import formats: "
        + ", ".join(repr(name) for name in importers),
        ["format_name"],
    )


def upload_backup(
    api_client: BaseApiClient,
    kind: Literal["tasks", "projects"],
    path: str | os.PathLike[str],
    *,
    progress: ProgressReporter | None = None,
    wait: bool = True,
) -> Any:
    """Restore a task or project from a backup file; returns the new id (or, with
    ``wait=False``, the response to Upload-Finish)."""
    if kind not in ("tasks", "projects"):
        raise ApiValueError("must be 'tasks' or 'projects'", ["kind"])
    files = _resources([path])
    response = _upload(
        api_client,
        f"/api/{kind}/backup/",
        files,
        query={},
        finish_body=None,
        bulk_fields=None,
        progress=progress,
        name_in_query=True,
    )
    if not wait:
        return response
    return int(wait_for_request(api_client, _rq_id(response)).result_id)
