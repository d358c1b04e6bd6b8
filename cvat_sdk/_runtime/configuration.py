"""Connection settings and credentials of an ``ApiClient``.

Secrets (password, API keys, session id, CSRF token) are kept out of ``repr()`` and ``str()``.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from urllib3.util.retry import Retry

from cvat_sdk._runtime import settings
from cvat_sdk._runtime.exceptions import ApiValueError

Timeout = float | tuple[float, float] | None

#: The schemes of CVAT's security definitions, in the order credentials are tried.
AUTH_SCHEMES = ("basicAuth", "csrfAuth", "sessionAuth", "signatureAuth", "tokenAuth")


class CappedRetry(Retry):
    """urllib3's policy, with the server's ``Retry-After`` honoured only up to a cap."""

    def get_retry_after(self, response: Any) -> float | None:
        wait = super().get_retry_after(response)
        return None if wait is None else min(wait, settings.RETRY_AFTER_MAX)


def default_retries() -> Retry:
    """Connection errors and overload answers retried for idempotent methods, with backoff."""
    return CappedRetry(
        total=settings.RETRY_TOTAL,
        connect=settings.RETRY_TOTAL,
        read=settings.RETRY_TOTAL,
        status=settings.RETRY_TOTAL,
        other=0,
        allowed_methods=frozenset(settings.RETRY_METHODS),
        status_forcelist=frozenset(settings.RETRY_STATUSES),
        backoff_factor=settings.RETRY_BACKOFF,
        backoff_jitter=settings.RETRY_JITTER,
        backoff_max=settings.RETRY_BACKOFF_MAX,
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
        redirect=settings.MAX_REDIRECTS,
        remove_headers_on_redirect=frozenset(
            {"Authorization", "Cookie", "X-CSRFToken", "Proxy-Authorization"}
        ),
    )


class Configuration:
    """Where the server is and how to authenticate with it.

    Args:
        host: the server's base URL (``http://localhost`` by default).
        api_key: credentials by scheme: ``sessionAuth`` (session id), ``csrfAuth`` (CSRF token),
            ``tokenAuth`` (``"Token <key>"``), ``signatureAuth``.
        username, password: basic authentication.
        verify_ssl, ssl_ca_cert, cert_file, key_file: TLS settings (verification on by default).
        proxy, proxy_headers: an HTTP(S) proxy.
        retries: an int or a ``urllib3.util.Retry``; by default idempotent methods are retried
            on connection errors and 429/502/503/504.
        connect_timeout, read_timeout: defaults for every request (``_request_timeout``
            overrides them per call).
    """

    def __init__(
        self,
        host: str | None = None,
        api_key: Mapping[str, str] | None = None,
        api_key_prefix: Mapping[str, str] | None = None,
        username: str | None = None,
        password: str | None = None,
        discard_unknown_keys: bool = False,
        disabled_client_side_validations: str = "",
        server_index: int | None = None,
        server_variables: Mapping[str, str] | None = None,
        server_operation_index: Mapping[str, int] | None = None,
        server_operation_variables: Mapping[str, Mapping[str, str]] | None = None,
        ssl_ca_cert: str | None = None,
        *,
        verify_ssl: bool = True,
        cert_file: str | None = None,
        key_file: str | None = None,
        assert_hostname: bool | str | None = None,
        proxy: str | None = None,
        proxy_headers: Mapping[str, str] | None = None,
        retries: int | Retry | None = None,
        connection_pool_maxsize: int | None = None,
        connect_timeout: float | None = settings.CONNECT_TIMEOUT,
        read_timeout: float | None = settings.READ_TIMEOUT,
    ) -> None:
        self.host = (host or "http://localhost").rstrip("/")
        parts = urlsplit(self.host)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ApiValueError(f"host must be an http(s) URL, got {self.host!r}", ["host"])
        self.api_key: dict[str, str] = dict(api_key or {})
        self.api_key_prefix: dict[str, str] = dict(api_key_prefix or {})
        self.username = username
        self.password = password
        self.discard_unknown_keys = discard_unknown_keys
        self.disabled_client_side_validations = disabled_client_side_validations
        self.verify_ssl = verify_ssl
        self.ssl_ca_cert = ssl_ca_cert
        self.cert_file = cert_file
        self.key_file = key_file
        self.assert_hostname = assert_hostname
        self.proxy = proxy
        self.proxy_headers = dict(proxy_headers or {})
        if isinstance(retries, bool) or not isinstance(retries, (int, Retry, type(None))):
            raise ApiValueError("retries must be an int or a urllib3 Retry", ["retries"])
        self.retries = retries
        self.connection_pool_maxsize = connection_pool_maxsize or settings.POOL_MAXSIZE
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout

    # --- credentials --------------------------------------------------------------------
    def get_api_key_with_prefix(self, identifier: str, alias: str | None = None) -> str | None:
        key = self.api_key.get(identifier, self.api_key.get(alias) if alias else None)
        if key is None:
            return None
        prefix = self.api_key_prefix.get(identifier)
        return f"{prefix} {key}" if prefix else key

    def get_basic_auth_token(self) -> str:
        raw = f"{self.username or ''}:{self.password or ''}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")

    def auth_settings(self) -> dict[str, dict[str, str]]:
        """The credentials that are set, by scheme: where each goes and its value."""
        found: dict[str, dict[str, str]] = {}
        if self.username is not None or self.password is not None:
            found["basicAuth"] = {
                "type": "basic",
                "in": "header",
                "key": "Authorization",
                "value": self.get_basic_auth_token(),
            }
        places = {
            "csrfAuth": ("header", "X-CSRFToken"),
            "sessionAuth": ("cookie", "sessionid"),
            "signatureAuth": ("query", "sign"),
            "tokenAuth": ("header", "Authorization"),
        }
        for scheme, (where, key) in places.items():
            value = self.get_api_key_with_prefix(scheme)
            if value is not None:
                found[scheme] = {"type": "api_key", "in": where, "key": key, "value": value}
        return found

    # --- connection ---------------------------------------------------------------------
    def effective_retries(self) -> Retry:
        if isinstance(self.retries, Retry):
            return self.retries
        if isinstance(self.retries, int):
            return default_retries().new(
                total=self.retries, connect=self.retries, read=self.retries, status=self.retries
            )
        return default_retries()

    def __deepcopy__(self, memo: dict[int, Any]) -> Configuration:
        clone = Configuration.__new__(Configuration)
        for key, value in self.__dict__.items():
            setattr(clone, key, copy.deepcopy(value, memo))
        return clone

    def __repr__(self) -> str:
        secrets = sorted(self.auth_settings())
        return (
            f"Configuration(host={self.host!r}, username={self.username!r}, "
            f"credentials={secrets}, verify_ssl={self.verify_ssl})"
        )

    __str__ = __repr__
