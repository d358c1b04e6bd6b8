"""What a route receives and returns, and the streaming reader for request bodies."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from email.message import Message
    from io import BufferedIOBase
    from pathlib import Path

    from ._store import Organization, Store, User

Json = dict[str, Any]
CHUNK_SIZE = 1 << 20
JSON_CONTENT_TYPE = "application/vnd.cvat+json"


class ConnectionDropped(Exception):
    """The connection is gone: the client hung up, or a fault tells the server to hang up."""


HTML_500 = (
    '\n<!doctype html>\n<html lang="en">\n<head>\n  <title>Server Error (500)</title>\n'
    "</head>\n<body>\n  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n"
)
TEXT_CONTENT_TYPE = "text/html; charset=utf-8"


class HttpError(Exception):
    """Ends a request with an error status and a DRF-shaped body.

    `detail` is a dict of field errors, or a message sent as {"detail": message}; with
    `as_is`, a message (or list) is sent as the bare JSON value, as CVAT does where a view
    answers Response(data="..."); with `text`, the body is that plain text (Django's own
    answers: HttpResponseBadRequest, the 500 page)."""

    def __init__(
        self,
        status: int,
        detail: str | Json | list[str],
        headers: Iterable[tuple[str, str]] = (),
        *,
        as_is: bool = False,
        text: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.body: Json = detail if isinstance(detail, dict) else {"detail": detail}
        self._wire: object = detail if as_is else self.body
        self._text = text
        self.headers = list(headers)

    @property
    def message(self) -> str:
        """The error as one line, for a background request's `message`."""
        return str(self.body.get("detail", self.body))

    def reply(self) -> Reply:
        if self._text is not None:
            return Reply(self.status, self._text.encode(), TEXT_CONTENT_TYPE, self.headers)
        return Reply.json(self.status, self._wire, self.headers)


def server_error() -> HttpError:
    """What CVAT answers when a view raises: Django's plain 500 page (DEBUG off)."""
    return HttpError(500, "Server Error (500)", text=HTML_500)


@dataclass
class Reply:
    """A response; `file` is streamed from disk instead of `body`."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    file: Path | None = None

    @classmethod
    def json(cls, status: int, data: object, headers: Iterable[tuple[str, str]] = ()) -> Reply:
        body = json.dumps(data, separators=(",", ":")).encode()  # compact, as DRF renders
        return cls(status, body, JSON_CONTENT_TYPE, list(headers))

    @classmethod
    def empty(cls, status: int, headers: Iterable[tuple[str, str]] = ()) -> Reply:
        return cls(status, headers=list(headers))


class BodyReader:
    """Reads a request body piece by piece, sized by Content-Length or chunked encoding.

    `hang_up_after` arms the dropped-connection fault: once that many bytes were read (or the
    body ended before that), the next read raises ConnectionDropped.
    """

    def __init__(
        self,
        stream: BufferedIOBase,
        length: int,
        *,
        chunked: bool,
        hang_up_after: int | None = None,
    ) -> None:
        self._stream = stream
        self._chunked = chunked
        self._left = 0 if chunked else length  # in the body, or in the current chunk
        self._ended = not chunked and length == 0
        self._hang_up_after = hang_up_after
        self.received = 0

    def read(self, size: int = CHUNK_SIZE) -> bytes:
        """Returns up to `size` bytes, b"" at the end of the body."""
        if self._hang_up_after is not None:
            size = min(size, self._hang_up_after - self.received)
            if size <= 0:
                raise ConnectionDropped
        data = self._read_chunked(size) if self._chunked else self._read_exact(size)
        if not data and self._hang_up_after is not None:
            raise ConnectionDropped
        self.received += len(data)
        return data

    def read_all(self, limit: int) -> bytes:
        parts: list[bytes] = []
        size = 0
        while data := self.read():
            size += len(data)
            if size > limit:
                raise HttpError(413, "Request body is too large.")
            parts.append(data)
        return b"".join(parts)

    def drain(self) -> None:
        while self.read():
            pass

    def _read_exact(self, size: int) -> bytes:
        if self._ended:
            return b""
        data = self._stream.read(min(size, self._left))
        if not data:
            raise ConnectionDropped
        self._left -= len(data)
        self._ended = self._left == 0
        return data

    def _read_chunked(self, size: int) -> bytes:
        if self._ended:
            return b""
        if self._left == 0:
            line = self._stream.readline(1024)
            if not line:
                raise ConnectionDropped
            try:
                self._left = int(line.split(b";")[0], 16)
            except ValueError:
                raise HttpError(400, "Malformed chunked encoding.") from None
            if self._left == 0:
                while self._stream.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailer fields
                self._ended = True
                return b""
        data = self._stream.read(min(size, self._left))
        if not data:
            raise ConnectionDropped
        self._left -= len(data)
        if self._left == 0:
            self._stream.readline(1024)  # the CRLF closing the chunk
        return data


@dataclass
class Call:
    """One request as a route handler sees it."""

    method: str
    path: str
    query: dict[str, str]
    headers: Message
    body: BodyReader
    params: dict[str, str]
    base_url: str
    store: Store
    user: User | None = None
    org: Organization | None = None
    raw: bytes = b""  # the whole body, read up front for routes that don't stream
    public: bool = False  # base_url is the server's public_url, as behind a reverse proxy

    @property
    def id(self) -> int:
        return int(self.params["id"])

    @property
    def me(self) -> User:
        assert self.user is not None, "route requires authentication"
        return self.user

    def json(self) -> Json:
        if not self.raw.strip():
            return {}
        try:
            data = json.loads(self.raw)
        except ValueError as e:
            raise HttpError(400, f"JSON parse error - {e}") from None
        if not isinstance(data, dict):
            raise HttpError(400, {"non_field_errors": ["Invalid data. Expected a dictionary."]})
        return data

    def url(self, path: str, query: Mapping[str, object] | None = None) -> str:
        """An absolute URL on this server, as seen by the client (from its Host header)."""
        return self.base_url + path + (f"?{urlencode(query)}" if query else "")

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.query.get(name)
        return default if value is None else value.lower() in ("1", "true", "yes", "on")
