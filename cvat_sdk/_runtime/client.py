"""The HTTP core: one urllib3 pool per client, headers, cookies, auth, sending and errors."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from http.cookies import CookieError, SimpleCookie
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode, urlsplit

import urllib3
from typing_extensions import Self
from urllib3.exceptions import (
    HTTPError,
    MaxRetryError,
    ProtocolError,
    ProxyError,
    SSLError,
)
from urllib3.exceptions import (
    TimeoutError as Urllib3TimeoutError,
)

from cvat_sdk._runtime import settings
from cvat_sdk._runtime.configuration import AUTH_SCHEMES, Configuration, Timeout
from cvat_sdk._runtime.encode import header_value, json_body
from cvat_sdk._runtime.exceptions import (
    ApiConnectionError,
    ApiTimeoutError,
    ApiValueError,
    exception_class_for,
)

if TYPE_CHECKING:
    from urllib3 import HTTPResponse

logger = logging.getLogger("cvat_sdk")

#: Headers whose values are never logged or shown.
SECRET_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "x-csrftoken"})
_SECRET_QUERY = frozenset({"sign", "key", "token", "password"})


def redact_url(url: str) -> str:
    """The URL with secret query values (``sign``...) replaced by ``***``."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    items = [
        f"{name}=***" if name.split("=")[0].lower() in _SECRET_QUERY else name
        for name in parts.query.split("&")
    ]
    return parts._replace(query="&".join(items)).geturl()


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: ("***" if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}


class RESTClientObject:
    """The urllib3 pool of one client; thread-safe, keep-alive."""

    def __init__(self, configuration: Configuration) -> None:
        pool_args: dict[str, Any] = {
            "num_pools": 4,
            "maxsize": configuration.connection_pool_maxsize,
            "retries": configuration.effective_retries(),
            "cert_reqs": "CERT_REQUIRED" if configuration.verify_ssl else "CERT_NONE",
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
            self.pool_manager = urllib3.ProxyManager(
                configuration.proxy, proxy_headers=configuration.proxy_headers, **pool_args
            )
        else:
            self.pool_manager = urllib3.PoolManager(**pool_args)
        self.configuration = configuration

    def timeout_for(self, request_timeout: Timeout) -> urllib3.Timeout:
        if request_timeout is None:
            return urllib3.Timeout(
                connect=self.configuration.connect_timeout, read=self.configuration.read_timeout
            )
        if isinstance(request_timeout, (int, float)) and not isinstance(request_timeout, bool):
            return urllib3.Timeout(total=request_timeout)
        if isinstance(request_timeout, tuple) and len(request_timeout) == 2:
            return urllib3.Timeout(connect=request_timeout[0], read=request_timeout[1])
        raise ApiValueError("must be a number or a (connect, read) pair", ["_request_timeout"])

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
        started = time.perf_counter()
        shown = redact_url(url)
        try:
            response = self.pool_manager.request(  # always an HTTPResponse from a pool manager
                method,
                url,
                body=body,
                headers=dict(headers),
                timeout=self.timeout_for(timeout),
                preload_content=not stream,
                decode_content=True,
            )
        except MaxRetryError as error:
            reason = error.reason or error
            if isinstance(reason, Urllib3TimeoutError):
                raise ApiTimeoutError(method, shown, reason) from None
            raise ApiConnectionError(method, shown, reason) from None
        except Urllib3TimeoutError as error:
            raise ApiTimeoutError(method, shown, error) from None
        except (ProtocolError, ProxyError, SSLError, HTTPError, OSError) as error:
            raise ApiConnectionError(method, shown, error) from None
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %s in %.1f ms; request headers %s",
                method,
                shown,
                response.status,
                (time.perf_counter() - started) * 1000,
                redact_headers(headers),
            )
        return cast("HTTPResponse", response)

    def close(self) -> None:
        self.pool_manager.clear()


class BaseApiClient:
    """Sends requests for the generated APIs with shared configuration, headers and cookies."""

    def __init__(
        self,
        configuration: Configuration | None = None,
        header_name: str | None = None,
        header_value: str | None = None,
        cookie: str | None = None,
        pool_threads: int = 1,
    ) -> None:
        self.configuration = configuration or Configuration()
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
        return f"{type(self).__name__}(host={self.configuration.host!r})"

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
        wanted = AUTH_SCHEMES if auth_settings is None else auth_settings
        chosen = list(request_auths or [available[n] for n in wanted if n in available])
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
        raise exception_class_for(response.status)(
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
        from cvat_sdk._runtime.encode import path_segment

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
            except ValueError:
                data = None
        return data, response
