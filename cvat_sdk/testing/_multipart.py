"""Request bodies of upload endpoints: multipart/form-data streamed to disk, or JSON, or a form.

Files go to a staging directory in pieces (never the whole body in memory), so a 300 MB upload
costs a few MiB of RAM.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from email.parser import HeaderParser
from email.utils import collapse_rfc2231_value
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from ._http import CHUNK_SIZE, HttpError

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from ._http import BodyReader, Call

_FIELD_LIMIT = 1 << 20
_JSON_LIMIT = 64 << 20
_INDEXED = re.compile(r"\[\d*\]$")  # client_files[0], upload_file_order[]
_NESTED = re.compile(r"^([^\[\]]+)\[(\d+)\]\[(\d+)\]$")  # job_file_mapping[0][1]


@dataclass
class StagedFile:
    field: str
    name: str
    path: Path


@dataclass
class Form:
    """Fields (a list where the client sent `name[i]` or repeated a name, a list of lists for
    `name[i][j]`, in index order as Django REST framework reads them) and staged files."""

    data: dict[str, Any] = field(default_factory=dict)
    files: list[StagedFile] = field(default_factory=list)
    _rows: dict[str, dict[int, dict[int, Any]]] = field(default_factory=dict, repr=False)

    def add_field(self, name: str, value: Any) -> None:
        nested = _NESTED.match(name)
        if nested:
            base, outer, inner = nested.group(1), int(nested.group(2)), int(nested.group(3))
            rows = self._rows.setdefault(base, {})
            rows.setdefault(outer, {})[inner] = value
            self.data[base] = [[row[i] for i in sorted(row)] for _, row in sorted(rows.items())]
            return
        base = _INDEXED.sub("", name)
        if base != name or base in self.data:
            current = self.data.get(base, [])
            self.data[base] = [*(current if isinstance(current, list) else [current]), value]
        else:
            self.data[base] = value


def read_form(call: Call, staging: Path) -> Form:
    content_type = call.headers.get_content_type()
    if content_type == "multipart/form-data":
        boundary = call.headers.get_param("boundary")
        if not isinstance(boundary, str):
            raise HttpError(400, "Multipart form parse error - Invalid boundary in multipart: None")
        return _read_multipart(call.body, boundary.encode(), staging)
    raw = call.body.read_all(_JSON_LIMIT)
    form = Form()
    if content_type == "application/x-www-form-urlencoded":
        for name, value in parse_qsl(raw.decode(), keep_blank_values=True):
            form.add_field(name, value)
    elif raw.strip():
        try:
            data = json.loads(raw)
        except ValueError as e:
            raise HttpError(400, f"JSON parse error - {e}") from None
        if not isinstance(data, dict):
            raise HttpError(400, {"non_field_errors": ["Invalid data. Expected a dictionary."]})
        form.data = data
    return form


def safe_name(name: str) -> str:
    """Uploaded names are relative paths inside the upload directory, as CVAT requires."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\\" in name or "\0" in name:
        raise HttpError(400, f"File name {name} is not allowed")
    return str(path)


def form_file_name(name: str) -> str | None:
    """The name Django gives a multipart file: the last path component, printable characters
    only; None (the part is dropped) when nothing usable is left."""
    name = name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    name = "".join(char for char in name if char.isprintable())
    return None if name in ("", ".", "..") else name


def _read_multipart(body: BodyReader, boundary: bytes, staging: Path) -> Form:
    form = Form()
    scan = _Scanner(body)
    scan.copy_until(b"--" + boundary, lambda _: None)  # the preamble
    delimiter = b"\r\n--" + boundary
    while (separator := scan.take(2)) == b"\r\n":
        name, filename = _disposition(scan.take_until(b"\r\n\r\n"))
        if filename is None:
            value = bytearray()
            scan.copy_until(delimiter, value.extend, limit=_FIELD_LIMIT)
            form.add_field(name, value.decode())
        else:
            sanitized = form_file_name(filename)
            if sanitized is None:
                scan.copy_until(delimiter, lambda _: None)
                continue
            staged = StagedFile(_INDEXED.sub("", name), sanitized, staging / str(len(form.files)))
            with staged.path.open("wb") as out:
                scan.copy_until(delimiter, out.write)
            form.files.append(staged)
    if separator != b"--":
        raise HttpError(400, "Multipart form parse error - malformed delimiter")
    body.drain()  # the epilogue, after the closing "--"
    return form


def _disposition(raw: bytes) -> tuple[str, str | None]:
    headers = HeaderParser().parsestr(raw.decode("utf-8", "replace"))
    name = headers.get_param("name", header="content-disposition")
    if name is None:
        raise HttpError(400, "Multipart form parse error - a part has no name")
    return collapse_rfc2231_value(name), headers.get_filename()


class _Scanner:
    """Finds delimiters in a body read piece by piece, keeping at most a piece in memory."""

    def __init__(self, body: BodyReader) -> None:
        self._body = body
        self._buf = bytearray()

    def take(self, n: int) -> bytes:
        while len(self._buf) < n:
            self._fill()
        data = bytes(self._buf[:n])
        del self._buf[:n]
        return data

    def take_until(self, marker: bytes) -> bytes:
        found = bytearray()
        self.copy_until(marker, found.extend, limit=_FIELD_LIMIT)
        return bytes(found)

    def copy_until(
        self, marker: bytes, write: Callable[[bytes], object], limit: int | None = None
    ) -> None:
        """Passes everything up to `marker` to `write` and consumes the marker."""
        copied = 0
        while (end := self._buf.find(marker)) < 0:
            keep = len(marker) - 1  # a marker may straddle two pieces
            if len(self._buf) > keep:
                copied += len(self._buf) - keep
                write(bytes(self._buf[:-keep]))
                del self._buf[:-keep]
            if limit is not None and copied > limit:
                raise HttpError(400, "Multipart form parse error - a field is too large")
            self._fill()
        write(bytes(self._buf[:end]))
        del self._buf[: end + len(marker)]

    def _fill(self) -> None:
        data = self._body.read(CHUNK_SIZE)
        if not data:
            raise HttpError(400, "Multipart form parse error - the body ended early")
        self._buf += data
