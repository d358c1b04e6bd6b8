"""Putting values on the wire: path, query and header parameters, JSON and multipart bodies."""

from __future__ import annotations

import datetime
import io
import json
import mimetypes
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote

from urllib3.fields import RequestField

from cvat_sdk._runtime import settings
from cvat_sdk._runtime.exceptions import ApiTypeError, ApiValueError
from cvat_sdk._runtime.model import Model


def text_of(value: Any) -> str:
    """The text form of a parameter value (booleans as JSON spells them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    return str(value)


def path_segment(value: Any) -> str:
    """A path parameter, fully escaped: ``../`` or ``?`` cannot change the request path."""
    return quote(text_of(value), safe="")


def header_value(name: str, value: Any) -> str:
    text = text_of(value)
    if "\r" in text or "\n" in text or "\0" in text:
        raise ApiValueError("header values must not contain CR, LF or NUL", [name])
    return text


def query_items(name: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, (list, tuple)):
        return [(name, text_of(v)) for v in value]
    return [(name, text_of(value))]


def _json_default(value: Any) -> Any:
    if isinstance(value, Model):
        return value._to_wire()
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"cannot send a {type(value).__name__} as JSON")


def json_body(value: Any) -> bytes:
    try:
        return json.dumps(value, default=_json_default, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError) as error:
        raise ApiTypeError(f"the request body cannot be sent as JSON: {error}") from None


# --- multipart ------------------------------------------------------------------------------


def _is_file(value: Any) -> bool:
    return isinstance(value, (io.IOBase, bytes, bytearray)) or callable(
        getattr(value, "read", None)
    )


def _file_name(value: Any, fallback: str) -> str:
    name = getattr(value, "name", None)
    return os.path.basename(name) if isinstance(name, str) and name else fallback


def multipart_fields(body: Any) -> list[tuple[str, Any]]:
    """Flatten a body into form fields: lists become ``name[0]``, ``name[1]``, ..."""
    if isinstance(body, Model):
        items: Iterable[tuple[str, Any]] = body._to_wire().items()
    elif isinstance(body, Mapping):
        items = body.items()
    else:
        raise ApiTypeError(f"a multipart body must be a model or a dict, got {type(body).__name__}")
    fields: list[tuple[str, Any]] = []
    for name, value in items:
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                fields.append((f"{name}[{index}]", _form_value(f"{name}[{index}]", item)))
        else:
            fields.append((name, _form_value(name, value)))
    return fields


def _form_value(name: str, value: Any) -> Any:
    if _is_file(value):
        return value
    if isinstance(value, (Mapping, Model, list, tuple)):
        raise ApiValueError(
            "nested data cannot be sent as multipart/form-data; send it in a JSON request "
            "(see the upload protocol: Upload-Start / Upload-Finish)",
            [name],
        )
    return text_of(value)


class MultipartStream(io.RawIOBase):
    """A ``multipart/form-data`` body read piece by piece: files are streamed, never loaded.

    Its length is known in advance (from the files' sizes), so it goes with a Content-Length.
    """

    def __init__(self, fields: list[tuple[str, Any]], boundary: str | None = None) -> None:
        super().__init__()
        self.boundary = boundary or os.urandom(16).hex()
        self._parts: list[bytes | Any] = []
        self.length = 0
        for name, value in fields:
            if _is_file(value):
                field = RequestField(name, b"", filename=_file_name(value, name))
                field.make_multipart(content_type=_guess_type(field))
                self._add(self._head(field))
                if isinstance(value, (bytes, bytearray)):
                    self._add(bytes(value))
                else:
                    self._add_file(value)
            else:
                field = RequestField(name, value)
                field.make_multipart(content_type=None)
                self._add(self._head(field) + value.encode("utf-8"))
            self._add(b"\r\n")
        self._add(f"--{self.boundary}--\r\n".encode())
        self._iterator: Iterator[bytes] = self._pieces()
        self._pending = memoryview(b"")

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def _head(self, field: RequestField) -> bytes:
        return f"--{self.boundary}\r\n".encode() + field.render_headers().encode("utf-8")

    def _add(self, data: bytes) -> None:
        self._parts.append(data)
        self.length += len(data)

    def _add_file(self, handle: Any) -> None:
        try:
            size = os.fstat(handle.fileno()).st_size - handle.tell()
        except (OSError, AttributeError, io.UnsupportedOperation):
            start = handle.tell()
            size = handle.seek(0, os.SEEK_END) - start
            handle.seek(start)
        self._parts.append(_FilePart(handle, size))
        self.length += size

    def _pieces(self) -> Iterator[bytes]:
        for part in self._parts:
            if isinstance(part, bytes):
                yield part
                continue
            remaining = part.size
            while remaining > 0:
                chunk = part.handle.read(min(settings.STREAM_CHUNK_SIZE, remaining))
                if not chunk:
                    raise ApiValueError(
                        f"{_file_name(part.handle, 'a file')} ended before its size "
                        f"({part.size} bytes) was sent; was it changed while uploading?"
                    )
                remaining -= len(chunk)
                yield bytes(chunk)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        while not self._pending:
            try:
                self._pending = memoryview(next(self._iterator))
            except StopIteration:
                return 0
        size = min(len(view), len(self._pending))
        view[:size] = self._pending[:size]
        self._pending = self._pending[size:]  # a view: no copy of the rest
        return size

    def __iter__(self) -> Iterator[bytes]:
        """Whole pieces, for senders that iterate a body."""
        if self._pending:
            yield bytes(self._pending)
            self._pending = memoryview(b"")
        yield from self._iterator


class _FilePart:
    __slots__ = ("handle", "size")

    def __init__(self, handle: Any, size: int) -> None:
        self.handle = handle
        self.size = size


def _guess_type(field: RequestField) -> str:
    filename = field._filename if isinstance(field._filename, str) else ""
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"
