"""The one error hierarchy of the client.

Bad input raises ``ApiTypeError``/``ApiValueError``/``ApiKeyError`` before anything is sent;
an answer the server gives raises an ``ApiException`` (per-status subclasses); a response that
cannot be read raises ``ApiResponseError`` (an ``ApiException`` that keeps the raw body); the
network raises ``ApiConnectionError``/``ApiTimeoutError``. Messages name the request's method
and URL with credentials redacted, and never quote the value of a secret field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from cvat_sdk._runtime.redact import path_is_secret, redact_text

PathItem = str | int

# what quotes a caller's value in a validation message: "got str ('...')", "'...' is not ..."
_PREVIEW = re.compile(r" \(.*\)$", re.DOTALL)
_LEADING_VALUE = re.compile(r"^b?(['\"]).*\1 is ", re.DOTALL)


def render_path(path: Sequence[PathItem]) -> str:
    """``["shapes", 17, "points", 2]`` -> ``shapes[17].points[2]``."""
    text = ""
    for item in path:
        if isinstance(item, int):
            text += f"[{item}]"
        else:
            text += f".{item}" if text else str(item)
    return text


class OpenApiException(Exception):
    """The base class of every error the client raises."""


class _PathMixin:
    path_to_item: tuple[PathItem, ...]

    def _with_path(self, msg: str, path_to_item: Sequence[PathItem] | None) -> str:
        self.path_to_item = tuple(path_to_item or ())
        if path_is_secret(self.path_to_item):
            msg = hide_value(msg)
        where = render_path(self.path_to_item)
        return f"{where}: {msg}" if where else msg


def hide_value(msg: str) -> str:
    """A validation message without the value it quotes (the field holds a credential)."""
    msg = _PREVIEW.sub(" (value hidden)", msg)
    if _LEADING_VALUE.match(msg):
        return _LEADING_VALUE.sub("the value is ", msg, count=1)
    return msg


class ApiTypeError(OpenApiException, TypeError, _PathMixin):
    """A value of the wrong type was given for a parameter or a field."""

    def __init__(
        self,
        msg: str,
        path_to_item: Sequence[PathItem] | None = None,
        valid_classes: tuple[type, ...] | None = None,
        key_type: bool | None = None,
    ) -> None:
        self.valid_classes = valid_classes
        self.key_type = key_type
        super().__init__(self._with_path(msg, path_to_item))


class ApiValueError(OpenApiException, ValueError, _PathMixin):
    """A value is of the right type but not allowed (enum, range, length, pattern, header)."""

    def __init__(self, msg: str, path_to_item: Sequence[PathItem] | None = None) -> None:
        super().__init__(self._with_path(msg, path_to_item))


class ApiKeyError(OpenApiException, KeyError, _PathMixin):
    """A required field or parameter is missing, or an unknown one was given."""

    def __init__(self, msg: str, path_to_item: Sequence[PathItem] | None = None) -> None:
        self.message = self._with_path(msg, path_to_item)
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class ApiAttributeError(OpenApiException, AttributeError, _PathMixin):
    """A model field that was not set was read."""

    def __init__(self, msg: str, path_to_item: Sequence[PathItem] | None = None) -> None:
        super().__init__(self._with_path(msg, path_to_item))


class ApiConnectionError(OpenApiException, ConnectionError):
    """The server could not be reached, or the connection broke before an answer came."""

    def __init__(self, method: str, url: str, reason: object) -> None:
        self.method, self.url, self.reason = method, url, reason
        super().__init__(f"{method} {url}: connection failed: {redact_text(str(reason))}")


class ApiTimeoutError(ApiConnectionError, TimeoutError):
    """The server did not answer in time."""

    def __init__(self, method: str, url: str, reason: object) -> None:
        super().__init__(method, url, reason)
        self.args = (f"{method} {url}: timed out: {redact_text(str(reason))}",)

    def __str__(self) -> str:
        return str(self.args[0])


class ApiException(OpenApiException):
    """The server answered with an error status (or an answer that cannot be used)."""

    def __init__(
        self,
        status: int | None = None,
        reason: str | None = None,
        http_resp: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        if http_resp is not None:
            status = http_resp.status if status is None else status
            reason = http_resp.reason if reason is None else reason
            headers = http_resp.headers if headers is None else headers
            if body is None:
                body = http_resp.data
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.method = method
        self.url = url
        super().__init__(self._message())

    def _message(self) -> str:
        where = f"{self.method} {self.url}: " if self.method and self.url else ""
        text = f"{where}({self.status}) {self.reason or ''}".rstrip()
        if self.body:
            preview = self.body[:512].decode("utf-8", "replace")
            text += f"\nResponse body: {preview}"
            if len(self.body) > 512:
                text += f"... ({len(self.body)} bytes)"
        return text

    def __str__(self) -> str:
        return self._message()


class BadRequestException(ApiException):
    """400."""


class UnauthorizedException(ApiException):
    """401."""


class ForbiddenException(ApiException):
    """403."""


class NotFoundException(ApiException):
    """404."""


class ConflictException(ApiException):
    """409."""


class ServiceException(ApiException):
    """5xx."""


class RedirectError(ApiException):
    """Redirects were not followed to the end: a redirect loop, or more than the policy allows.

    ``status``, ``headers`` (with ``Location``) and ``body`` are those of the last redirect.
    """

    def _message(self) -> str:
        from cvat_sdk._runtime.redact import redact_url

        location = (self.headers or {}).get("Location", "")
        where = f"{self.method} {self.url}: " if self.method and self.url else ""
        return (
            f"{where}({self.status}) too many redirects (a redirect loop?); the last one led to "
            f"{redact_url(location)!r}"
        )


class ApiResponseError(ApiException):
    """An answer whose body cannot be used (kept in ``body``): not JSON, not the declared
    type (``path_to_item`` says where), or cut short (``body`` has what arrived)."""

    def __init__(
        self,
        msg: str,
        *,
        status: int | None,
        headers: Mapping[str, str] | None,
        body: bytes | None,
        method: str | None = None,
        url: str | None = None,
        path_to_item: Sequence[PathItem] = (),
    ) -> None:
        self.detail = msg
        self.path_to_item = tuple(path_to_item)
        super().__init__(
            status, "invalid response", headers=headers, body=body, method=method, url=url
        )

    def _message(self) -> str:
        where = render_path(self.path_to_item)
        detail = f"{where}: {self.detail}" if where else self.detail
        prefix = f"{self.method} {self.url}: " if self.method and self.url else ""
        size = len(self.body) if self.body is not None else 0
        return f"{prefix}({self.status}) unusable response body ({size} bytes): {detail}"


_BY_STATUS: dict[int, type[ApiException]] = {
    400: BadRequestException,
    401: UnauthorizedException,
    403: ForbiddenException,
    404: NotFoundException,
    409: ConflictException,
}


def exception_class_for(status: int) -> type[ApiException]:
    if status >= 500:
        return ServiceException
    return _BY_STATUS.get(status, ApiException)


class ServerVersionWarning(UserWarning):
    """The server's version is not the one the client was generated from (major.minor)."""
