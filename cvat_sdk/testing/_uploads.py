"""CVAT's upload protocol, shared by task data, annotation, dataset and backup imports.

An upload is either one request carrying everything, or a session: `Upload-Start: true`, then
files as TUS 1.0.0 uploads or bulk `Upload-Multiple` multipart requests, then `Upload-Finish: true`
with the remaining fields. Received files wait on disk in an upload area until the finish.

As in CVAT 2.24 (engine/mixins.py, UploadMixin), an area is never cleared by Upload-Start: what
was received stays until a finish uses it. A task's data area also remembers every file name it
was told about (CVAT's ClientFile rows), and a name told twice is a database error (500).
"""

from __future__ import annotations

import base64
import binascii
import posixpath
import secrets
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from ._http import CHUNK_SIZE, HttpError, Reply, server_error
from ._multipart import read_form

if TYPE_CHECKING:
    from pathlib import Path

    from ._http import Call, Json
    from ._multipart import Form, StagedFile
    from ._store import Store, User

TUS_MAX_SIZE = 26843545600  # CVAT's default TUS_MAX_FILE_SIZE: 25 GiB
TUS_HEADERS = (
    ("Tus-Resumable", "1.0.0"),
    ("Tus-Version", "1.0.0"),
    ("Tus-Extension", ""),
    ("Tus-Max-Size", str(TUS_MAX_SIZE)),
    ("Cache-Control", "no-store"),
)
_TEMP_NAME_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789_"  # Python's tempfile names


@dataclass(eq=False)
class UploadArea:
    """The files received so far by one upload endpoint (e.g. one task's data).

    `kind` is the last segment of the endpoint's path, as CVAT names it: "data",
    "annotations", "dataset" or "backup". For "data", `registered` lists the file names the
    task was told about (by bulk requests and TUS creations) and `server_files` the share
    files named by finishes, both kept across refused and failed finishes, as in CVAT.
    """

    key: str
    dir: Path
    kind: str
    files: dict[str, Path] = field(default_factory=dict)  # in the order they arrived
    registered: list[str] = field(default_factory=list)
    server_files: list[str] = field(default_factory=list)

    def append(self, name: str, source: Path) -> None:
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

    def free_name(self, name: str) -> str:
        """A finished TUS upload whose name is taken becomes name_1.ext, name_2.ext..., as CVAT
        renames it."""
        stem, ext = posixpath.splitext(name)
        number = 1
        while name in self.files:
            name = f"{stem}_{number}{ext}"
            number += 1
        return name

    def take(self, name: str, store: Store) -> Path:
        """Removes one file from the area and hands it over (an import uses it up)."""
        target = store.dir("taken", uuid.uuid4().hex) / posixpath.basename(name)
        self.files.pop(name).replace(target)
        return target


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


def endpoint(call: Call, key: str, finish: Finish, *, import_rq_id: str | None = None) -> Reply:
    """Serves one request of the protocol; `finish` turns the received files into a request.

    A finishing request's own files are not put in the area: `finish` decides (task data
    appends them, imports read them from their form field). `import_rq_id` is the import
    request whose end frees a file name (annotations and datasets). The caller has already
    checked that the user may write to the target.
    """
    headers = call.headers
    kind = call.path.strip("/").split("/")[-1]
    finishing = "Upload-Finish" in headers
    if not finishing and "Upload-Start" in headers:
        return Reply.empty(202)  # CVAT does nothing here: earlier files stay
    if not finishing and "Upload-Length" in headers:
        return _tus_create(call, key, kind, import_rq_id)
    staging = call.store.dir("staging", uuid.uuid4().hex)
    try:
        form = read_form(call, staging)
        with call.store.lock:
            area = _area(call.store, key, kind)
            if not finishing and "Upload-Multiple" in headers:
                check_data_fields(form.data)  # CVAT validates each bulk request as DataRequest
                add_files(area, form.files)
                return Reply.empty(200)
            return finish(call, area, form)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def check_data_fields(fields: Json) -> int:
    """The image_quality every DataRequest needs; returns it. Also refuses, as CVAT does in
    every bulk request and finish, an empty list in job_file_mapping and validation_params
    that break its rules."""
    quality = integer_field(fields, "image_quality", 0, 100, required=True) or 0
    mapping = fields.get("job_file_mapping")
    empty = ["This list may not be empty."]
    if mapping == []:
        raise HttpError(400, {"job_file_mapping": empty})
    for index, group in enumerate(mapping if isinstance(mapping, list) else []):
        if group == []:
            raise HttpError(400, {"job_file_mapping": {str(index): empty}})
    _check_validation_params(fields)
    return quality


def validation_params(fields: Json) -> dict[str, Any] | None:
    """``validation_params`` as JSON gives it, or from a form's ``validation_params.key``
    fields (as DRF reads them back)."""
    value = fields.get("validation_params")
    if isinstance(value, dict):
        return value
    prefix = "validation_params."
    dotted = {k[len(prefix) :]: v for k, v in fields.items() if k.startswith(prefix)}
    return dotted or None


_VALIDATION_CHOICES = {
    "mode": ("gt", "gt_pool"),
    "frame_selection_method": ("random_uniform", "random_per_job", "manual"),
}


def _check_validation_params(fields: Json) -> None:
    """CVAT 2.24's checks of validation_params, in its order (each 400 nests under the field)."""
    params = validation_params(fields)
    if params is None:
        return
    errors = {}
    for name, choices in _VALIDATION_CHOICES.items():
        value = params.get(name)
        if value in (None, ""):
            errors[name] = ["This field is required."]
        elif value not in choices:
            errors[name] = [f'"{value}" is not a valid choice.']
    if errors:
        raise HttpError(400, {"validation_params": errors})
    mode, method = params["mode"], params["frame_selection_method"]
    allowed = ["manual", "random_uniform"] + (["random_per_job"] if mode == "gt" else [])
    if method not in allowed:
        _refuse(f'The "frame_selection_method" field must be one of {", ".join(allowed)}')
    if mode == "gt_pool":
        _one_of(params, "frames_per_job_count", "frames_per_job_share")
    if method == "random_uniform":
        _one_of(params, "frame_count", "frame_share")
    elif method == "random_per_job":
        _one_of(params, "frames_per_job_count", "frames_per_job_share")
    elif "frames" not in params:
        _refuse('The "frames" field is required')
    frames = params.get("frames")
    if frames is not None and method != "manual":
        _refuse('"frames" can only be used when "frame_selection_method" is "manual"')
    if isinstance(frames, list) and len(set(frames)) != len(frames):
        _refuse("Frames must not repeat")


def _one_of(params: dict[str, Any], *names: str) -> None:
    given = sum(name in params for name in names)
    options = ", ".join(f'"{name}"' for name in names)
    if given == 0:
        _refuse(f"One of the fields {options} required")
    if given > 1:
        _refuse(f"Only 1 of the fields {options} can be used")


def _refuse(message: str) -> None:
    raise HttpError(400, {"validation_params": {"non_field_errors": [message]}})


def integer_field(
    fields: Json, name: str, low: int, high: int | None, *, required: bool = False
) -> int | None:
    """An integer form or JSON field, checked with DRF's messages."""
    value = fields.get(name)
    if value in (None, ""):
        if required:
            raise HttpError(400, {name: ["This field is required."]})
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise HttpError(400, {name: ["A valid integer is required."]}) from None
    if number < low:
        raise HttpError(400, {name: [f"Ensure this value is greater than or equal to {low}."]})
    if high is not None and number > high:
        raise HttpError(400, {name: [f"Ensure this value is less than or equal to {high}."]})
    return number


def add_files(area: UploadArea, files: list[StagedFile]) -> None:
    """Files of a bulk request (or of a data finish). For task data, CVAT records each name
    once per task: a name it already has (or two in one request) fails its insert, a 500,
    and nothing of the request is kept."""
    if area.kind == "data":
        names = [f.name for f in files]
        if len(set(names)) != len(names) or set(names) & set(area.registered):
            raise server_error()
        area.registered.extend(names)
    for staged in files:
        area.append(staged.name, staged.path)


def drop_area(store: Store, key: str) -> None:
    """Forgets an area once a finish used it up (task data that became a task)."""
    area = store.upload_areas.pop(key, None)
    if area is None:
        return
    for upload in [u for u in store.tus_uploads.values() if u.area is area]:
        upload.path.unlink(missing_ok=True)
        del store.tus_uploads[upload.id]
    shutil.rmtree(area.dir, ignore_errors=True)


def tus_options(call: Call) -> Reply:
    """CVAT 2.24 answers a plain OPTIONS on an upload endpoint with a 500; only a CORS
    preflight (Origin and Access-Control-Request-Method) gets through, answered by the CORS
    middleware with 200."""
    if "Origin" in call.headers and "Access-Control-Request-Method" in call.headers:
        return Reply.empty(200, [("Access-Control-Allow-Origin", call.headers["Origin"])])
    raise server_error()


def tus_chunk(call: Call) -> Reply:
    """HEAD reports an upload's offset; PATCH appends a chunk at exactly that offset."""
    with call.store.lock:
        upload = call.store.tus_uploads.get(call.params["file_id"])
        if upload is not None and upload.collection != call.path.rstrip("/").rsplit("/", 1)[0]:
            upload = None
        if upload is not None and upload.owner is not call.me and not call.me.is_superuser:
            raise HttpError(403, "You do not have permission to perform this action.")
        if call.method == "HEAD":
            if upload is None:
                return Reply.empty(404, TUS_HEADERS)
            return Reply.empty(
                200,
                [
                    *TUS_HEADERS,
                    ("Upload-Offset", str(upload.offset)),
                    ("Upload-Length", str(upload.length)),
                ],
            )
        if upload is None:  # CVAT reads the missing upload's metadata: AttributeError, 500
            raise server_error()
        _check_chunk_type(call)
        if upload.busy or call.headers.get("Upload-Offset") != str(upload.offset):
            return Reply.empty(409, TUS_HEADERS)
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
            raise server_error()
        upload.offset = start + received
        if upload.offset == upload.length:
            _complete(call.store, upload)
    return Reply.empty(
        204,
        [*TUS_HEADERS, ("Upload-Offset", str(upload.offset)), ("Upload-Filename", upload.filename)],
    )


def _check_chunk_type(call: Call) -> None:
    """DRF parses a chunk that has a body, and knows only TUS's media type; an empty chunk
    is not parsed."""
    has_body = call.headers.get("Content-Length", "0") not in ("", "0") or (
        "chunked" in call.headers.get("Transfer-Encoding", "").lower()
    )
    content_type = call.headers.get("Content-Type", "")
    if has_body and content_type.split(";")[0].strip() != "application/offset+octet-stream":
        raise HttpError(415, f'Unsupported media type "{content_type}" in request.')


def _tus_create(call: Call, key: str, kind: str, import_rq_id: str | None) -> Reply:
    """TUS creation, checked in CVAT's order: the name, then whether it is taken, then the
    length, then the Location (which needs Origin, unless a proxy names the host)."""
    filename = _metadata(call.headers.get("Upload-Metadata", "")).get("filename", "")
    if not _inside_upload_dir(filename):
        raise HttpError(400, f"File name {filename} is not allowed", TUS_HEADERS, as_is=True)
    if kind == "backup":  # a temporary name, unique among concurrent imports of one file
        if "/" in filename:
            raise server_error()
        suffix = "".join(secrets.choice(_TEMP_NAME_LETTERS) for _ in range(8))
        filename = f"cvat-backup-{filename}-by-{call.me.username}{suffix}.zip"
    with call.store.lock:
        area = _area(call.store, key, kind)
        on_disk = posixpath.normpath(filename)
        taken = kind != "backup" and (on_disk in area.files or on_disk == ".")
        if taken and kind == "data":
            raise server_error()  # CVAT looks for an import request "...-data": ValueError
        if taken and on_disk in area.files:
            finished = call.store.requests.get(import_rq_id or "")
            if finished is not None and finished.done:
                area.files.pop(on_disk).unlink(missing_ok=True)
                taken = False
        if taken:
            raise HttpError(409, "File with same name already exists", TUS_HEADERS, as_is=True)
        try:
            length = int(call.headers.get("Upload-Length", ""))
        except ValueError:
            raise server_error() from None
        if length > TUS_MAX_SIZE:
            raise HttpError(
                413, f"File size exceeds max limit of {TUS_MAX_SIZE} bytes", TUS_HEADERS, as_is=True
            )
        if length <= 0:
            raise server_error()  # CVAT pre-sizes the file with seek(length - 1)
        upload_id = str(uuid.uuid4())
        location = _location(call, upload_id)
        path = call.store.dir("tus") / upload_id
        with path.open("wb") as file:
            file.truncate(length)
        collection = call.path.rstrip("/")
        upload = TusUpload(upload_id, area, filename, length, path, call.me, collection)
        call.store.tus_uploads[upload_id] = upload
        if kind == "data" and filename not in area.registered:
            area.registered.append(filename)
    headers = [("Location", location), ("Upload-Filename", filename)]
    return Reply.empty(201, [*TUS_HEADERS, *headers])


def _location(call: Call, upload_id: str) -> str:
    """CVAT joins the upload id to Origin + the request path; behind a proxy that sends
    X-Forwarded-Host (or with `public_url`), to the absolute URL of the request. Without
    either, Origin is None and the join raises: a 500."""
    if call.public:
        base = call.url(call.path)
    elif "X-Forwarded-Host" in call.headers:
        base = f"http://{call.headers['X-Forwarded-Host']}{call.path}"
    elif "Origin" in call.headers:
        base = call.headers["Origin"] + call.path
    else:
        raise server_error()
    return urljoin(base, upload_id)


def _inside_upload_dir(name: str) -> bool:
    """CVAT's check: the name, joined to the upload directory, stays inside it."""
    return posixpath.normpath(posixpath.join("/upload", name)).startswith("/upload")


def _metadata(header: str) -> dict[str, str]:
    """Upload-Metadata: comma-separated "key base64(value)" pairs; a key alone is ""."""
    metadata = {}
    for pair in header.split(",") if header else ():
        parts = pair.split(" ")
        if len(parts) != 2:
            metadata[parts[0]] = ""
            continue
        try:
            metadata[parts[0]] = base64.b64decode(parts[1]).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise server_error() from None
    return metadata


def _complete(store: Store, upload: TusUpload) -> None:
    """A finished TUS upload joins its area under a free name; like CVAT, it is then gone for
    HEAD and PATCH. CVAT cannot move it into a subdirectory that does not exist (it makes
    none): such an upload stays complete and unfinished, and the chunk answers 500."""
    name = posixpath.normpath(upload.filename)
    if "/" in name:
        raise server_error()
    upload.filename = upload.area.free_name(name)
    upload.area.append(upload.filename, upload.path)
    del store.tus_uploads[upload.id]


def _area(store: Store, key: str, kind: str) -> UploadArea:
    if key not in store.upload_areas:
        store.upload_areas[key] = UploadArea(key, store.dir("uploads", uuid.uuid4().hex), kind)
    return store.upload_areas[key]
