"""CVAT's upload protocol, shared by task data, annotation, dataset and backup imports.

An upload is either one request carrying everything, or a session: `Upload-Start: true`, then
files as TUS 1.0.0 uploads or bulk `Upload-Multiple` multipart requests, then `Upload-Finish: true`
with the remaining fields. Received files wait on disk in an upload area until the finish.
"""

from __future__ import annotations

import base64
import binascii
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._http import CHUNK_SIZE, HttpError, Reply
from ._multipart import read_form, safe_name

if TYPE_CHECKING:
    from pathlib import Path

    from ._http import Call
    from ._multipart import Form
    from ._store import Store, User

TUS_MAX_SIZE = 2 << 40
TUS_HEADERS = (
    ("Tus-Resumable", "1.0.0"),
    ("Tus-Version", "1.0.0"),
    ("Tus-Max-Size", str(TUS_MAX_SIZE)),
    ("Cache-Control", "no-store"),
)


@dataclass(eq=False)
class UploadArea:
    """The files received so far by one upload endpoint (e.g. one task's data)."""

    key: str
    dir: Path
    files: dict[str, Path] = field(default_factory=dict)  # in the order they arrived

    def add(self, name: str, source: Path) -> None:
        """Moves a received file in; CVAT appends to a file of the same name, and so does this."""
        target = self.dir / name
        if name in self.files:
            with source.open("rb") as src, target.open("ab") as dst:
                shutil.copyfileobj(src, dst, CHUNK_SIZE)
            source.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            source.replace(target)
            self.files[name] = target


@dataclass(eq=False)
class TusUpload:
    id: str
    area: UploadArea
    filename: str
    length: int
    path: Path
    owner: User
    collection: str  # the URL path the upload was created at
    offset: int = 0
    busy: bool = False


Finish = Callable[["Call", UploadArea, "Form"], Reply]


def endpoint(call: Call, key: str, finish: Finish, *, unique_names: bool = False) -> Reply:
    """Serves one request of the protocol; `finish` turns the received files into a request.

    The caller has already checked that the user may write to the target.
    """
    headers = call.headers
    finishing = "Upload-Finish" in headers
    if not finishing and "Upload-Start" in headers:
        with call.store.lock:
            _reset_area(call.store, key)
        return Reply.empty(202)
    if not finishing and "Upload-Length" in headers:
        return _tus_create(call, key, unique_names)
    staging = call.store.dir("staging", uuid.uuid4().hex)
    try:
        form = read_form(call, staging)
        with call.store.lock:
            target = _area(call.store, key)
            for staged in form.files:
                target.add(staged.name, staged.path)
            if not finishing and "Upload-Multiple" in headers:
                return Reply.empty(200)
            return finish(call, target, form)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def take_area(store: Store, key: str) -> UploadArea:
    """Hands the received files over to a finishing request."""
    area = _area(store, key)
    del store.upload_areas[key]
    return area


def tus_options(call: Call) -> Reply:
    return Reply.empty(204, TUS_HEADERS)


def tus_chunk(call: Call) -> Reply:
    """HEAD reports an upload's offset; PATCH appends a chunk at exactly that offset."""
    with call.store.lock:
        upload = call.store.tus_uploads.get(call.params["file_id"])
        if upload is None or upload.collection != call.path.rstrip("/").rsplit("/", 1)[0]:
            raise HttpError(404, "Not found.", TUS_HEADERS)
        if upload.owner is not call.me and not call.me.is_superuser:
            raise HttpError(403, "You do not have permission to perform this action.")
        if call.method == "HEAD":
            return Reply.empty(
                200,
                [
                    ("Upload-Offset", str(upload.offset)),
                    ("Upload-Length", str(upload.length)),
                    *TUS_HEADERS,
                ],
            )
        _check_chunk(call, upload)
        upload.busy = True
    start, received = upload.offset, 0
    try:
        with upload.path.open("r+b") as out:
            out.seek(start)
            while data := call.body.read():
                received += len(data)
                if start + received > upload.length:
                    raise HttpError(413, "The chunk goes past Upload-Length.", TUS_HEADERS)
                out.write(data)
    finally:
        upload.busy = False  # a chunk cut short is discarded: the offset stays where it was
    with call.store.lock:
        if call.store.tus_uploads.get(upload.id) is not upload:
            raise HttpError(404, "The upload was cancelled.", TUS_HEADERS)
        upload.offset = start + received
        if upload.offset == upload.length:
            _complete(call.store, upload)
    return Reply.empty(
        204,
        [("Upload-Offset", str(upload.offset)), ("Upload-Filename", upload.filename), *TUS_HEADERS],
    )


def _check_chunk(call: Call, upload: TusUpload) -> None:
    if call.headers.get("Tus-Resumable", "1.0.0") != "1.0.0":
        raise HttpError(412, "Unsupported TUS version.", TUS_HEADERS)
    if call.headers.get_content_type() != "application/offset+octet-stream":
        raise HttpError(415, "Content-Type must be application/offset+octet-stream.", TUS_HEADERS)
    if upload.busy or call.headers.get("Upload-Offset") != str(upload.offset):
        raise HttpError(409, f"Upload-Offset must be {upload.offset}.", TUS_HEADERS)


def _tus_create(call: Call, key: str, unique_names: bool) -> Reply:
    if call.headers.get("Tus-Resumable", "1.0.0") != "1.0.0":
        raise HttpError(412, "Unsupported TUS version.", TUS_HEADERS)
    filename = safe_name(_metadata(call.headers.get("Upload-Metadata", "")).get("filename", ""))
    if unique_names:  # concurrent backup imports may use the same file name
        filename = f"{uuid.uuid4().hex}-{filename.rsplit('/', 1)[-1]}"
    length_header = call.headers.get("Upload-Length", "")
    if not length_header.isdigit():
        raise HttpError(400, "Upload-Length must be a non-negative integer.", TUS_HEADERS)
    length = int(length_header)
    if length > TUS_MAX_SIZE:
        raise HttpError(413, f"File size exceeds max limit of {TUS_MAX_SIZE} bytes", TUS_HEADERS)
    with call.store.lock:
        area = _area(call.store, key)
        pending = {u.filename for u in call.store.tus_uploads.values() if u.area is area}
        if filename in area.files or filename in pending:
            raise HttpError(409, "File with same name already exists", TUS_HEADERS)
        upload_id = str(uuid.uuid4())
        path = call.store.dir("tus") / upload_id
        with path.open("wb") as file:
            file.truncate(length)
        collection = call.path.rstrip("/")
        upload = TusUpload(upload_id, area, filename, length, path, call.me, collection)
        call.store.tus_uploads[upload_id] = upload
        if length == 0:
            _complete(call.store, upload)
    headers = [("Location", call.url(f"{collection}/{upload_id}")), ("Upload-Filename", filename)]
    return Reply.empty(201, [*headers, *TUS_HEADERS])


def _metadata(header: str) -> dict[str, str]:
    """Upload-Metadata: comma-separated "key base64(value)" pairs."""
    metadata = {}
    for pair in filter(None, (p.strip() for p in header.split(","))):
        name, _, value = pair.partition(" ")
        try:
            metadata[name] = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise HttpError(400, f"Invalid Upload-Metadata value for {name}", TUS_HEADERS) from None
    return metadata


def _complete(store: Store, upload: TusUpload) -> None:
    """A finished TUS upload joins its area; like CVAT, it is then gone for HEAD and PATCH."""
    upload.area.add(upload.filename, upload.path)
    del store.tus_uploads[upload.id]


def _area(store: Store, key: str) -> UploadArea:
    if key not in store.upload_areas:
        store.upload_areas[key] = UploadArea(key, store.dir("uploads", uuid.uuid4().hex))
    return store.upload_areas[key]


def _reset_area(store: Store, key: str) -> None:
    area = store.upload_areas.pop(key, None)
    if area is None:
        return
    for upload in [u for u in store.tus_uploads.values() if u.area is area]:
        upload.path.unlink(missing_ok=True)
        del store.tus_uploads[upload.id]
    shutil.rmtree(area.dir, ignore_errors=True)
