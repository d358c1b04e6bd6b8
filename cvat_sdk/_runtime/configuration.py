"""Connection settings and credentials of an ``ApiClient``.

Secrets (password, API keys, session id, CSRF token) are kept out of ``repr()`` and ``str()``.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

if TYPE_CHECKING:
    from typing_extensions import Self

from cvat_sdk._runtime import settings
from cvat_sdk._runtime.exceptions import ApiValueError

#: ``_request_timeout``: total seconds, a (connect, read) pair (None: no limit on that part),
#: a ``urllib3.Timeout``, or None for the configuration's defaults.
Timeout = float | tuple[float | None, float | None] | urllib3.Timeout | None


#: The schemes of CVAT's security definitions, in the order credentials are tried.
class AuthScheme:
    """A security scheme of the schema: its name, style (``basic``, ``bearer`` or
    ``api_key``) and where its credential goes (``header``/``cookie``/``query`` and the key)."""

    __slots__ = ("key", "name", "style", "where")

    def __init__(self, name: str, style: str, where: str, key: str) -> None:
        self.name, self.style, self.where, self.key = name, style, where, key

    def __repr__(self) -> str:
        return f"AuthScheme({self.name!r}, {self.style!r}, {self.where!r}, {self.key!r})"


#: CVAT 2.24's schemes; a generated Configuration declares its own schema's.
DEFAULT_AUTH_SCHEMES = (
    AuthScheme("basicAuth", "basic", "header", "Authorization"),
    AuthScheme("csrfAuth", "api_key", "cookie", "csrftoken"),
    AuthScheme("sessionAuth", "api_key", "cookie", "sessionid"),
    AuthScheme("signatureAuth", "api_key", "query", "sign"),
    AuthScheme("tokenAuth", "api_key", "header", "Authorization"),
)


#: Request headers that carry credentials: never forwarded when a redirect leads to another
#: host (scheme, host or port), whatever retry policy the caller gives.
REDIRECT_SECRET_HEADERS = frozenset(
    {"Authorization", "Cookie", "X-CSRFToken", "Proxy-Authorization"}
)


class CappedRetry(Retry):
    """urllib3's policy, with the server's ``Retry-After`` honoured only up to a cap.

    A server (or a proxy in front of it) must not be able to park a client for hours; an
    unreadable ``Retry-After`` falls back to the exponential backoff instead of failing.
    """

    def __init__(self, *args: Any, retry_after_cap: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after_cap = (
            settings.RETRY_AFTER_MAX if retry_after_cap is None else float(retry_after_cap)
        )

    def new(self, **kw: Any) -> Self:
        kw.setdefault("retry_after_cap", self.retry_after_cap)
        return super().new(**kw)

    def get_retry_after(self, response: Any) -> float | None:
        try:
            wait = super().get_retry_after(response)
        except InvalidHeader:
            return None
        return None if wait is None else min(wait, self.retry_after_cap)


def retry_policy(
    attempts: int = settings.RETRY_TOTAL,
    *,
    methods: Collection[str] | None = settings.RETRY_METHODS,
    statuses: Collection[int] = settings.RETRY_STATUSES,
    backoff: float = settings.RETRY_BACKOFF,
    jitter: float = settings.RETRY_JITTER,
    backoff_max: float = settings.RETRY_BACKOFF_MAX,
    retry_after_max: float = settings.RETRY_AFTER_MAX,
    redirects: int = settings.MAX_REDIRECTS,
) -> CappedRetry:
    """The client's retry policy, with its knobs: pass the result as ``retries``.

    ``attempts`` retries (after the first try) on connection errors, broken or timed-out
    answers and ``statuses``, for ``methods`` only; the wait before retry *n* is
    ``backoff * 2**(n-1)`` plus up to ``jitter`` seconds (never more than ``backoff_max``), or
    the server's ``Retry-After`` up to ``retry_after_max``. POST and PATCH are not retried by
    default because the server may have acted on the first attempt; opt in with
    ``retry_policy(methods=(*settings.RETRY_METHODS, "POST"))`` (``methods=None``: all).
    A request that never reached the server (connection refused) is retried whatever its
    method.
    """
    upper = None if methods is None else frozenset(m.upper() for m in methods)
    return CappedRetry(
        total=None,  # each kind of failure has its own budget; redirects are not retries
        connect=attempts,
        read=attempts,
        status=attempts,
        other=0,  # TLS and protocol failures do not heal by retrying
        redirect=redirects,
        allowed_methods=upper,
        status_forcelist=frozenset(statuses),
        backoff_factor=backoff,
        backoff_jitter=jitter,
        backoff_max=backoff_max,
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
        remove_headers_on_redirect=REDIRECT_SECRET_HEADERS,
        retry_after_cap=retry_after_max,
    )


def default_retries() -> Retry:
    """Connection errors and overload answers retried for idempotent methods, with backoff."""
    return retry_policy()


def _normalized(retries: Retry) -> Retry:
    """A caller's policy, made to fit the client: the client raises its own status and redirect
    errors (with the status and body), and credentials never follow a redirect to another host.
    """
    extra: dict[str, Any] = {
        "raise_on_status": False,
        "raise_on_redirect": False,
        "remove_headers_on_redirect": retries.remove_headers_on_redirect
        | {h.lower() for h in REDIRECT_SECRET_HEADERS},
    }
    native_cap = getattr(Retry, "DEFAULT_RETRY_AFTER_MAX", None)
    if native_cap is not None and getattr(retries, "retry_after_max", None) == native_cap:
        extra["retry_after_max"] = settings.RETRY_AFTER_MAX  # urllib3's default is 6 hours
    return retries.new(**extra)


def _check_timeout(name: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ApiValueError(f"must be a positive number of seconds or None, got {value!r}", [name])


class Configuration:
    #: The security schemes credentials can be given for (see :meth:`auth_settings`).
    auth_schemes: ClassVar[tuple[AuthScheme, ...]] = DEFAULT_AUTH_SCHEMES

    """Where the server is and how to authenticate with it.

    Args:
        host: the server's base URL (``http://localhost`` by default).
        api_key: credentials by scheme: ``sessionAuth`` (session id), ``csrfAuth`` (CSRF token),
            ``tokenAuth`` (``"Token <key>"``), ``signatureAuth``.
        username, password: basic authentication.
        access_token: a token sent in ``Authorization`` by every request (also settable
            later as the attribute): ``Bearer <token>`` through the schema's bearer schemes
            (``accessTokenAuth`` of CVAT 2.51+, a personal access token); a schema without
            one (CVAT 2.24) sends it through its ``tokenAuth`` scheme as ``Token <token>``,
            the REST key ``POST /api/auth/login`` answers. A key given for a scheme in
            ``api_key`` wins over it for that scheme.
        verify_ssl, ssl_ca_cert, cert_file, key_file: TLS settings (verification on by default).
        proxy, proxy_headers: an HTTP(S) proxy (``http://user:password@proxy:3128``: the
            credentials go to the proxy as basic ``Proxy-Authorization``).
        retries: an int (retries per kind of failure, with the default backoff and methods),
            a ``urllib3.util.Retry`` or :func:`retry_policy`'s result; by default idempotent
            methods are retried on connection errors and 429/502/503/504.
        connect_timeout, read_timeout: defaults for every request, in seconds (``None``: wait
            forever). The read timeout bounds each wait for bytes, not a whole download, so a
            server that accepts a request and never answers ends in ``ApiTimeoutError``.
            ``_request_timeout`` overrides both per call.
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
        access_token: str | None = None,
    ) -> None:
        self.access_token = access_token
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
        if proxy is not None and urlsplit(proxy).scheme not in ("http", "https"):
            raise ApiValueError("the proxy must be an http(s) URL", ["proxy"])
        self.proxy = proxy
        self.proxy_headers = dict(proxy_headers or {})
        if isinstance(retries, bool) or not isinstance(retries, (int, Retry, type(None))):
            raise ApiValueError("retries must be an int or a urllib3 Retry", ["retries"])
        if isinstance(retries, int) and retries < 0:
            raise ApiValueError("retries must not be negative", ["retries"])
        self.retries = retries
        self.connection_pool_maxsize = connection_pool_maxsize or settings.POOL_MAXSIZE
        _check_timeout("connect_timeout", connect_timeout)
        _check_timeout("read_timeout", read_timeout)
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout

    # --- credentials --------------------------------------------------------------------
    @property
    def access_token(self) -> str | None:
        """The token every request carries (see the class docstring), or None."""
        return self._access_token

    @access_token.setter
    def access_token(self, token: str | None) -> None:
        if token is not None and (not isinstance(token, str) or not token.strip()):
            raise ApiValueError("must be a non-empty string or None", ["access_token"])
        self._access_token = token

    def _access_token_for(self, scheme: AuthScheme) -> str | None:
        """The ``Authorization`` value ``access_token`` gives ``scheme``, if it feeds it."""
        token = self._access_token
        if token is None or scheme.where != "header" or scheme.key != "Authorization":
            return None
        if scheme.style == "bearer":
            return token if token.startswith("Bearer ") else f"Bearer {token}"
        has_bearer = any(s.style == "bearer" for s in self.auth_schemes)
        if scheme.style == "api_key" and scheme.name == "tokenAuth" and not has_bearer:
            return token if token.startswith("Token ") else f"Token {token}"
        return None

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
        """The credentials that are set, by scheme name: where each goes and its value."""
        found: dict[str, dict[str, str]] = {}
        for scheme in self.auth_schemes:
            if scheme.style == "basic":
                if self.username is None and self.password is None:
                    continue
                value = self.get_basic_auth_token()
            else:
                key = self.get_api_key_with_prefix(scheme.name)
                if key is None:
                    key = self._access_token_for(scheme)
                if key is None:
                    continue
                bearer = scheme.style == "bearer" and not key.startswith("Bearer ")
                value = f"Bearer {key}" if bearer else key
            found[scheme.name] = {
                "type": scheme.style,
                "in": scheme.where,
                "key": scheme.key,
                "value": value,
            }
        return found

    # --- connection ---------------------------------------------------------------------
    def effective_retries(self) -> Retry:
        """The policy the pool uses (a caller's Retry is adapted: see ``_normalized``)."""
        if isinstance(self.retries, Retry):
            return _normalized(self.retries)
        if isinstance(self.retries, int):
            return retry_policy(self.retries)
        return default_retries()

    def __deepcopy__(self, memo: dict[int, Any]) -> Configuration:
        clone = Configuration.__new__(Configuration)
        for key, value in self.__dict__.items():
            setattr(clone, key, copy.deepcopy(value, memo))
        return clone

    def __repr__(self) -> str:
        from cvat_sdk._runtime.client import redact_url

        secrets = sorted(self.auth_settings())
        return (
            f"Configuration(host={redact_url(self.host)!r}, username={self.username!r}, "
            f"credentials={secrets}, verify_ssl={self.verify_ssl})"
        )

    __str__ = __repr__
