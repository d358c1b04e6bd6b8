"""Putting values on the wire: path, query and header parameters, JSON and multipart bodies."""

from __future__ import annotations

import datetime
import io
import json
import mimetypes
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NoReturn
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
    """Flatten a body into form fields, spelled the way CVAT's forms parser (Django REST
    framework's HTML-form rules) reads nested values back:

    - a list item is ``name[0]``, ``name[1]``, ... (lists of lists: ``name[0][1]``);
    - an object's member is ``name.key`` (``validation_params.mode``), but directly after
      an index it follows without a dot (``tags[0]label_id``, ``tags[0]attributes[0]value``).

    A JSON part (OpenAPI's default for objects in forms) would reach CVAT as a plain string:
    an object is then silently ignored, a list of lists refused. What the server cannot
    read back from a form is refused here, before anything is sent (:func:`_refuse`).
    """
    if isinstance(body, Model):
        items: Iterable[tuple[str, Any]] = body._to_wire().items()
    elif isinstance(body, Mapping):
        items = body.items()
    else:
        raise ApiTypeError(f"a multipart body must be a model or a dict, got {type(body).__name__}")
    fields: list[tuple[str, Any]] = []
    for name, value in items:
        if value is not None:
            _flatten(fields, name, value, [name], item=False)
    return fields


#: Fields CVAT's serializers insist be JSON numbers, which a form (all text) cannot carry:
#: annotation ``points`` (refused by the server as "Value must be a float or an integer").
NUMBERS_ONLY = frozenset({"points"})


def _flatten(
    fields: list[tuple[str, Any]], name: str, value: Any, path: list[Any], *, item: bool
) -> None:
    """Append ``value``'s form fields under ``name``; ``item``: it is a list's item (the
    server reads a list's items back from their indexes, so none may go missing)."""
    if _is_file(value):
        fields.append((name, value))
        return
    if isinstance(value, Model):
        value = value._to_wire()
    if isinstance(value, Mapping):
        for key, member in value.items():
            if member is None:
                continue  # as for top-level fields: left out
            if not isinstance(key, str) or not key or any(c in key for c in ".[]"):
                _refuse(
                    [*path, str(key)],
                    "a key that is empty or holds '.', '[' or ']' cannot be sent in a form "
                    "(the server would read it as nesting)",
                )
            joint = "" if item else "."
            _flatten(fields, f"{name}{joint}{key}", member, [*path, key], item=False)
        return
    if isinstance(value, (list, tuple)):
        if value and path[-1] in NUMBERS_ONLY:
            _refuse(path, "the server takes these numbers only from a JSON body")
        for index, entry in enumerate(value):
            before = len(fields)
            if entry is not None:
                _flatten(fields, f"{name}[{index}]", entry, [*path, index], item=True)
            if len(fields) == before:
                _refuse(
                    [*path, index],
                    "a list item that is null or empty (or holds only empty values) cannot "
                    "be sent in a form: the server would drop it and move the next items up",
                )
        return
    fields.append((name, text_of(value)))


def _refuse(path: list[Any], why: str) -> NoReturn:
    raise ApiValueError(
        f'{why}; send this body as JSON instead (_content_type="application/json"; '
        "files go through the upload helpers of cvat_sdk.core.uploading)",
        path,
    )


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
