"""The HTTP core: one urllib3 pool per client, headers, cookies, auth, sending and errors.

Whatever goes wrong on the way surfaces as an exception of ``exceptions`` naming the request's
method and (redacted) URL: never a bare urllib3, socket or TLS error, also when the caller
streams a body with ``_parse_response=False`` and the connection breaks while reading it.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import re
import sys
import threading
import time
import warnings
from collections.abc import Generator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from http.cookies import CookieError, SimpleCookie
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, cast
from urllib.parse import unquote, urlencode, urlsplit

import urllib3
from urllib3.exceptions import (
    DecodeError,
    HTTPError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
)
from urllib3.exceptions import (
    IncompleteRead as Urllib3IncompleteRead,
)
from urllib3.exceptions import (
    TimeoutError as Urllib3TimeoutError,
)
from urllib3.util.retry import Retry

from cvat_sdk._runtime import settings
from cvat_sdk._runtime.configuration import Configuration, Timeout
from cvat_sdk._runtime.encode import header_value, json_body, path_segment
from cvat_sdk._runtime.exceptions import (
    ApiConnectionError,
    ApiResponseError,
    ApiTimeoutError,
    ApiValueError,
    OpenApiException,
    RedirectError,
    ServerVersionWarning,
    exception_class_for,
)
from cvat_sdk._runtime.redact import (
    SECRET_HEADERS,
    install_log_filter,
    redact_headers,
    redact_url,
)

if TYPE_CHECKING:
    from typing_extensions import Self
    from urllib3 import HTTPResponse

logger = logging.getLogger("cvat_sdk")

CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "X-CSRFToken"

__all__ = [
    "SECRET_HEADERS",
    "BaseApiClient",
    "RESTClientObject",
    "redact_headers",
    "redact_url",
]


def _cause_chain(error: BaseException) -> Iterator[BaseException]:
    """The error, then what it wraps (urllib3 keeps the cause in ``reason`` or ``args``)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        inner = getattr(current, "reason", None) or getattr(current, "original_error", None)
        if not isinstance(inner, BaseException):
            inner = next((a for a in current.args if isinstance(a, BaseException)), None)
        current = inner or current.__cause__


def _partial_body(error: BaseException) -> tuple[bytes | None, int | None] | None:
    """(bytes received, bytes missing) when the error is a body cut short, else None."""
    for cause in _cause_chain(error):
        if isinstance(cause, Urllib3IncompleteRead):  # streaming: counts only
            return None, cause.expected
        if isinstance(cause, http.client.IncompleteRead):
            partial = cause.partial if isinstance(cause.partial, bytes) else None
            return partial, cause.expected
    return None


def translate_error(
    method: str, url: str, error: BaseException, response: HTTPResponse | None = None
) -> OpenApiException:
    """The client's exception for a failure of the transport (``url`` already redacted)."""
    if isinstance(error, OpenApiException):
        return error
    cut = _partial_body(error) if response is not None else None
    if cut is not None and response is not None:
        received, missing = cut
        announced = response.headers.get("Content-Length")
        detail = "the body was cut short"
        if announced:
            detail += f" ({announced} bytes announced"
            detail += f", {missing} missing)" if missing is not None else ")"
        return ApiResponseError(
            detail,
            status=response.status,
            headers=response.headers,
            body=received,
            method=method,
            url=url,
        )
    if response is not None and any(isinstance(c, DecodeError) for c in _cause_chain(error)):
        encoding = response.headers.get("Content-Encoding", "")
        return ApiResponseError(
            f"the body cannot be decoded ({encoding or 'no'} content encoding)",
            status=response.status,
            headers=response.headers,
            body=None,
            method=method,
            url=url,
        )
    timeout = next((c for c in _cause_chain(error) if _is_timeout(c)), None)
    if timeout is not None:
        return ApiTimeoutError(method, url, timeout)
    reason = error.reason if isinstance(error, MaxRetryError) and error.reason else error
    return ApiConnectionError(method, url, reason)


def _is_timeout(error: BaseException) -> bool:
    # urllib3 derives NewConnectionError (refused, unreachable) from ConnectTimeoutError
    if isinstance(error, NewConnectionError):
        return False
    return isinstance(error, (Urllib3TimeoutError, TimeoutError))


#: What the transport may raise while sending or reading (urllib3, sockets, TLS, http.client).
TRANSPORT_ERRORS = (HTTPError, OSError, http.client.HTTPException)


class _StreamedResponse(urllib3.HTTPResponse):
    """A response whose body the caller reads: read errors become the client's exceptions.

    The pool creates plain ``HTTPResponse`` objects; the client re-classes the ones it hands
    out unread (same layout, only these overrides), so callers keep the urllib3 interface.
    """

    _cvat_request: tuple[str, str]

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except TRANSPORT_ERRORS as error:
            method, url = self._cvat_request
            raise translate_error(method, url, error, self) from None

    def read(
        self,
        amt: int | None = None,
        decode_content: bool | None = None,
        cache_content: bool = False,
    ) -> bytes:
        with self._translated():
            return super().read(amt, decode_content, cache_content)

    def read1(self, amt: int | None = None, decode_content: bool | None = None) -> bytes:
        with self._translated():
            return super().read1(amt, decode_content)

    def read_chunked(
        self, amt: int | None = None, decode_content: bool | None = None
    ) -> Generator[bytes, None, None]:
        chunks = super().read_chunked(amt, decode_content)
        while True:
            with self._translated():
                chunk = next(chunks, None)
            if chunk is None:
                return
            yield chunk

    def drain_conn(self) -> None:
        try:
            super().drain_conn()
        except OpenApiException:
            pass  # draining is best effort: the connection is closed instead


def _resendable(body: Any) -> bool:
    """Only bodies held in memory can be sent again; a stream is consumed by the first try."""
    return body is None or isinstance(body, (bytes, bytearray, str))


def _rewindable(body: Any) -> bool:
    """Whether urllib3 can send the body again (it seeks a file back to where it started)."""
    if _resendable(body):
        return True
    seekable = getattr(body, "seekable", None)
    try:
        return bool(seekable()) if callable(seekable) else False
    except (OSError, ValueError):
        return False


class RESTClientObject:
    """The urllib3 pool of one client; thread-safe, keep-alive."""

    def __init__(self, configuration: Configuration) -> None:
        self.retries = configuration.effective_retries()
        pool_args: dict[str, Any] = {
            "num_pools": 4,
            "maxsize": configuration.connection_pool_maxsize,
            "retries": self.retries,
            "cert_reqs": "CERT_REQUIRED" if configuration.verify_ssl else "CERT_NONE",
            # bytes per send of a streamed body: urllib3's 16 KiB default halves upload speed
            "blocksize": settings.SEND_BLOCK_SIZE,
        }
        if configuration.ssl_ca_cert:
            pool_args["ca_certs"] = configuration.ssl_ca_cert
        if configuration.cert_file:
            pool_args["cert_file"] = configuration.cert_file
        if configuration.key_file:
            pool_args["key_file"] = configuration.key_file
        if configuration.assert_hostname is not None:
            pool_args["assert_hostname"] = configuration.assert_hostname
        self.pool_manager: urllib3.PoolManager
        if configuration.proxy:
            proxy, proxy_headers = proxy_settings(configuration.proxy, configuration.proxy_headers)
            self.pool_manager = urllib3.ProxyManager(
                proxy, proxy_headers=proxy_headers, **pool_args
            )
        else:
            self.pool_manager = urllib3.PoolManager(**pool_args)
        self.configuration = configuration
        install_log_filter()

    def timeout_for(self, request_timeout: Timeout) -> urllib3.Timeout:
        if request_timeout is None:
            return urllib3.Timeout(
                connect=self.configuration.connect_timeout, read=self.configuration.read_timeout
            )
        if isinstance(request_timeout, urllib3.Timeout):
            return request_timeout
        if isinstance(request_timeout, (int, float)) and _seconds(request_timeout):
            return urllib3.Timeout(total=request_timeout)
        if (
            isinstance(request_timeout, tuple)
            and len(request_timeout) == 2
            and all(v is None or _seconds(v) for v in request_timeout)
        ):
            return urllib3.Timeout(connect=request_timeout[0], read=request_timeout[1])
        raise ApiValueError(
            "must be a positive number of seconds or a (connect, read) pair",
            ["_request_timeout"],
        )

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: Any = None,
        timeout: Timeout = None,
        stream: bool = False,
    ) -> HTTPResponse:
        """Send, with the retry policy; the body is read here unless ``stream``.

        Reading the body here (rather than in urllib3) keeps what arrived of a body cut short,
        and a body that breaks while being read is retried under the same policy as a
        connection error (for the methods it allows, and bodies that can be sent again).
        """
        started = time.perf_counter()
        shown = redact_url(url)
        timeout_ = self.timeout_for(timeout)
        retries = self.retries
        if not _rewindable(body):
            # a consumed stream cannot be sent again: an overload answer is the caller's to see
            # (urllib3 would fail the retry with an unrelated "unrewindable body" error)
            retries = retries.new(connect=0, read=0, status=0)
        while True:
            response = self._send(method, url, shown, headers, body, timeout_, retries, started)
            if stream:
                response.__class__ = _StreamedResponse
                cast("_StreamedResponse", response)._cvat_request = (method, shown)
                break
            try:
                response.read(cache_content=True)
                break
            except TRANSPORT_ERRORS as error:
                following = self._next_attempt(method, url, body, response, retries, error)
                if following is None:
                    self._log_failure(method, shown, started, error)
                    raise translate_error(method, shown, error, response) from None
                retries = following
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %s in %.1f ms; request headers %s",
                method,
                shown,
                response.status,
                (time.perf_counter() - started) * 1000,
                redact_headers(headers),
            )
        return response

    def _send(
        self,
        method: str,
        url: str,
        shown: str,
        headers: Mapping[str, str],
        body: Any,
        timeout: urllib3.Timeout,
        retries: Retry,
        started: float,
    ) -> HTTPResponse:
        try:
            response = self.pool_manager.request(
                method,
                url,
                body=body,
                headers=dict(headers),
                timeout=timeout,
                retries=retries,
                preload_content=False,
                decode_content=True,
            )
        except TRANSPORT_ERRORS as error:
            self._log_failure(method, shown, started, error)
            raise translate_error(method, shown, error) from None
        return cast("HTTPResponse", response)  # always an HTTPResponse from a pool manager

    @staticmethod
    def _next_attempt(
        method: str,
        url: str,
        body: Any,
        response: HTTPResponse,
        retries: Retry,
        error: BaseException,
    ) -> Retry | None:
        """The policy for one more try after a body broke while read, or None if it is spent."""
        if not _resendable(body) or not isinstance(error, Exception):
            return None
        if any(isinstance(c, DecodeError) for c in _cause_chain(error)):
            return None  # a body that cannot be decoded will not decode next time either
        policy = response.retries if isinstance(response.retries, Retry) else retries
        if not isinstance(error, (ProtocolError, Urllib3TimeoutError)):
            error = ProtocolError(str(error), error)  # urllib3 counts these as read errors
        try:
            following = policy.increment(method, url, error=error)
        except Exception:  # exhausted, or a method the policy does not retry
            return None
        following.sleep()
        return following

    @staticmethod
    def _log_failure(method: str, shown: str, started: float, error: BaseException) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s failed after %.1f ms: %s",
                method,
                shown,
                (time.perf_counter() - started) * 1000,
                type(error).__name__,
            )

    def close(self) -> None:
        self.pool_manager.clear()


def proxy_settings(proxy: str, headers: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The proxy URL without credentials, and its headers with them.

    urllib3 ignores ``user:password@`` in a proxy URL; the convention (curl, requests) is
    basic authentication with the proxy, unless the caller gives a Proxy-Authorization.
    """
    parts = urlsplit(proxy)
    given = dict(headers)
    if parts.username is None and parts.password is None:
        return proxy, given
    if not any(k.lower() == "proxy-authorization" for k in given):
        user, password = unquote(parts.username or ""), unquote(parts.password or "")
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        given["Proxy-Authorization"] = f"Basic {token}"
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl(), given


def keep_dot_segments(url: str) -> str:
    """The URL with ``.`` and ``..`` path segments percent-encoded.

    urllib3 resolves dot segments before sending (``/api/requests/..`` goes out as ``/api/``),
    so a path parameter of ``..`` would reach another resource. An API client sends the path
    it was given: encoded, the server reads the segment back as the literal value.
    """
    if "/." not in url:
        return url
    parts = urlsplit(url)
    segments = parts.path.split("/")
    if not any(s in (".", "..") for s in segments):
        return url
    path = "/".join(s.replace(".", "%2E") if s in (".", "..") else s for s in segments)
    return parts._replace(path=path).geturl()


def _outside_stacklevel() -> int:
    """The ``stacklevel`` of the first caller outside this package, for warnings."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith("cvat_sdk."):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def _seconds(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


_VERSION = re.compile(r"(\d+)\.(\d+)")


def major_minor(version: str) -> tuple[int, int] | None:
    """``"v2.24.1-dev"`` -> ``(2, 24)``; None when the text holds no version."""
    found = _VERSION.search(version)
    return (int(found.group(1)), int(found.group(2))) if found else None


class BaseApiClient:
    """Sends requests for the generated APIs with shared configuration, headers and cookies."""

    #: What ``ApiClient()`` builds when no configuration is given (the generated subclass).
    configuration_class: ClassVar[type[Configuration]] = Configuration

    #: The CVAT version of the schema the client was generated from (set by ``ApiClient``).
    schema_version: ClassVar[str | None] = None

    def __init__(
        self,
        configuration: Configuration | None = None,
        header_name: str | None = None,
        header_value: str | None = None,
        cookie: str | None = None,
        pool_threads: int = 1,
    ) -> None:
        self.configuration = configuration or self.configuration_class()
        self.rest_client = RESTClientObject(self.configuration)
        self.default_headers: dict[str, str] = {}
        if header_name is not None:
            self.set_default_header(header_name, header_value or "")
        self.cookies: SimpleCookie = SimpleCookie()
        self._cookie_lock = threading.Lock()
        if cookie:
            self.cookies.load(cookie)
        self.user_agent = settings.USER_AGENT
        self.pool_threads = pool_threads
        #: The version the server reported (see :meth:`note_server_version`).
        self.server_version: str | None = None
        self._version_warned = False
        self._version_lock = threading.Lock()

    # --- lifecycle ----------------------------------------------------------------------
    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.rest_client.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(host={redact_url(self.configuration.host)!r})"

    # --- server version -----------------------------------------------------------------
    def note_server_version(self, version: str | None) -> None:
        """Record the server's version; warn once if its major.minor is not the schema's.

        A server of another minor version may have added, changed or removed fields and
        operations: the client still works where they agree, but the user should know, and
        how to get a client for that server.
        """
        if not isinstance(version, str):
            return
        self.server_version = version
        ours = self.schema_version
        if ours is None:
            return
        theirs, built = major_minor(version), major_minor(ours)
        if theirs is None or built is None or theirs == built:
            return
        with self._version_lock:
            if self._version_warned:
                return
            self._version_warned = True
        schema_url = redact_url(self.configuration.host) + "/api/schema/"
        warnings.warn(
            f"the CVAT server is version {version}, but this client was generated from the "
            f"schema of CVAT {ours}; operations and fields that differ between them may fail. "
            f"Generate a client for this server: CVAT_SDK_SCHEMA={schema_url} pip install .",
            ServerVersionWarning,
            stacklevel=_outside_stacklevel(),
        )

    # --- headers and cookies ------------------------------------------------------------
    @property
    def user_agent(self) -> str:
        return self.default_headers["User-Agent"]

    @user_agent.setter
    def user_agent(self, value: str) -> None:
        self.default_headers["User-Agent"] = value

    def set_default_header(self, header_name: str, header_value_: str) -> None:
        self.default_headers[header_name] = header_value(header_name, header_value_)

    def build_origin_header(self) -> str:
        parts = urlsplit(self.configuration.host)
        return f"{parts.scheme}://{parts.netloc}"

    def _cookie_header(self) -> str | None:
        with self._cookie_lock:
            if not self.cookies:
                return None
            return "; ".join(f"{k}={m.value}" for k, m in self.cookies.items())

    def get_common_headers(self) -> dict[str, str]:
        """Default headers plus the stored cookies: what every request of this client carries."""
        headers = dict(self.default_headers)
        cookie = self._cookie_header()
        if cookie:
            headers["Cookie"] = cookie
        return headers

    def _remember_cookies(self, response: HTTPResponse) -> None:
        values = response.headers.getlist("Set-Cookie")
        if not values:
            return
        with self._cookie_lock:
            for value in values:
                try:
                    self.cookies.load(value)
                except CookieError:
                    logger.warning("ignored a malformed Set-Cookie header")

    def update_params_for_auth(
        self,
        headers: dict[str, str],
        queries: list[tuple[str, str]],
        auth_settings: Sequence[str] | None = None,
        resource_path: str | None = None,
        method: str | None = None,
        body: Any = None,
        request_auths: Sequence[Mapping[str, str]] | None = None,
    ) -> None:
        """Add the configured credentials for ``auth_settings`` (all schemes by default)."""
        available = self.configuration.auth_settings()
        wanted = available if auth_settings is None else auth_settings
        chosen = list(request_auths or [available[n] for n in wanted if n in available])
        # CVAT checks a session's CSRF token twice, as a cookie and as a header
        csrf = next((a for a in chosen if a["in"] == "cookie" and a["key"] == CSRF_COOKIE), None)
        if csrf is not None and not any(a["key"].lower() == CSRF_HEADER.lower() for a in chosen):
            chosen.append({"in": "header", "key": CSRF_HEADER, "value": csrf["value"]})
        for auth in chosen:
            where, key, value = auth["in"], auth["key"], auth["value"]
            if where == "header":
                headers[key] = header_value(key, value)
            elif where == "query":
                queries.append((key, value))
            elif where == "cookie":
                cookie = f"{key}={value}"
                headers["Cookie"] = (
                    f"{headers['Cookie']}; {cookie}" if headers.get("Cookie") else cookie
                )

    # --- sending ------------------------------------------------------------------------
    def request(
        self,
        method: str,
        url: str,
        query_params: Sequence[tuple[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        post_params: Sequence[tuple[str, Any]] | None = None,
        body: Any = None,
        _parse_response: bool = True,
        _request_timeout: Timeout = None,
        _check_status: bool = True,
    ) -> HTTPResponse:
        """Send one request as it is given (a full URL); the answer is checked, not parsed.

        With ``_parse_response=False`` the body is left unread, to be streamed with
        ``response.read(n)`` (or read whole with ``response.data``).
        """
        method = method.upper()
        url = keep_dot_segments(url)
        if query_params:
            url += ("&" if "?" in url else "?") + urlencode(list(query_params))
        headers = dict(headers or {})
        if post_params and body is None:
            body = urlencode(list(post_params))
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif body is not None and not isinstance(body, (bytes, str)) and not hasattr(body, "read"):
            body = json_body(body)
            headers.setdefault("Content-Type", "application/json")
        response = self.rest_client.request(
            method,
            url,
            headers=headers,
            body=body,
            timeout=_request_timeout,
            stream=not _parse_response,
        )
        self._remember_cookies(response)
        if _check_status:
            self.raise_for_status(method, url, response)
        return response

    def raise_for_status(self, method: str, url: str, response: HTTPResponse) -> None:
        if 200 <= response.status < 300:
            return
        body = response.data  # error bodies are read whole: they are small, and kept for users
        error_class = exception_class_for(response.status)
        if 300 <= response.status < 400 and response.get_redirect_location():
            error_class = RedirectError  # the policy stopped following: a loop, or too many
        raise error_class(
            response.status,
            response.reason,
            headers=response.headers,
            body=body,
            method=method,
            url=redact_url(url),
        )

    def call_api(
        self,
        resource_path: str,
        method: str,
        path_params: Mapping[str, Any] | None = None,
        query_params: Sequence[tuple[str, Any]] | None = None,
        header_params: Mapping[str, str] | None = None,
        body: Any = None,
        post_params: Sequence[tuple[str, Any]] | None = None,
        files: Mapping[str, Any] | None = None,
        response_schema: Any = None,
        auth_settings: Sequence[str] | None = None,
        collection_formats: Mapping[str, str] | None = None,
        *,
        _parse_response: bool = True,
        _request_timeout: Timeout = None,
        _check_status: bool = True,
        _content_type: str | None = None,
        _host: str | None = None,
        **_ignored: Any,
    ) -> tuple[Any, HTTPResponse]:
        """Send a request to a path of the server with this client's headers and credentials.

        Returns ``(data, response)``: data is the decoded JSON body when parsing is on (and the
        answer is JSON), else None.
        """

        path = resource_path
        for name, value in (path_params or {}).items():
            path = path.replace("{" + name + "}", path_segment(value))
        headers = self.get_common_headers()
        headers.update(header_params or {})
        queries = [(k, str(v)) for k, v in (query_params or [])]
        self.update_params_for_auth(headers, queries, auth_settings, path, method, body)
        if _content_type:
            headers["Content-Type"] = _content_type
        url = (_host or self.configuration.host) + path
        response = self.request(
            method,
            url,
            query_params=queries,
            headers=headers,
            post_params=post_params,
            body=body,
            _parse_response=_parse_response,
            _request_timeout=_request_timeout,
            _check_status=_check_status,
        )
        if not _parse_response:
            return None, response
        data: Any = None
        if response.data and "json" in (response.headers.get("Content-Type") or ""):
            try:
                data = json.loads(response.data)
            except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
                data = None
        return data, response
