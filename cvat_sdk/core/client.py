"""The high-level entry point: a :class:`Client` bound to one CVAT server, and :func:`make_client`.

A client owns a low-level ``ApiClient`` (``client.api_client``) and hands out repositories
(``client.tasks``, ``client.projects``...) whose entities call the generated endpoints and the
helpers of :mod:`cvat_sdk.core`; nothing here sends HTTP another way.
"""

from __future__ import annotations

import contextlib
import logging
import os
import ssl
import sys
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property, total_ordering
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from cvat_sdk._runtime.client import _cause_chain
from cvat_sdk._runtime.exceptions import ApiConnectionError, ApiValueError
from cvat_sdk.core.exceptions import (
    CvatSdkException,
)
from cvat_sdk.core.helpers import poll_request

if TYPE_CHECKING:
    from types import TracebackType

    from typing_extensions import Self
    from urllib3 import HTTPResponse

    from cvat_sdk.api_client import ApiClient
    from cvat_sdk.core.proxies.comments import CommentsRepo
    from cvat_sdk.core.proxies.issues import IssuesRepo
    from cvat_sdk.core.proxies.jobs import JobsRepo
    from cvat_sdk.core.proxies.organizations import OrganizationsRepo
    from cvat_sdk.core.proxies.projects import ProjectsRepo
    from cvat_sdk.core.proxies.tasks import TasksRepo
    from cvat_sdk.core.proxies.users import UsersRepo

__all__ = [
    "ApiMap",
    "Client",
    "Config",
    "IncompatibleVersionException",
    "InvalidHostException",
    "Version",
    "make_client",
]

#: The server versions this client's high-level layer is tested against (inclusive).
SUPPORTED_VERSIONS = ("2.17.0", "2.72.99")

ORGANIZATION_HEADER = "X-Organization"


def default_cache_dir() -> Path:
    """The platform's per-user cache directory for this library."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "cvat-sdk" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "cvat-sdk"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cvat-sdk"


@dataclass
class Config:
    """How a :class:`Client` connects and waits.

    Attributes:
        status_check_period: the longest wait between two polls of a background request, in
            seconds; polls start every 0.1 s, then each waits a tenth of the time waited
            so far, up to it.
        wait_timeout: seconds after which waiting for a background request gives up with
            ``BackgroundRequestTimeout`` (None: no limit).
        allow_unsupported_server: warn (True) or raise (False) when the server's version is
            outside the tested range.
        verify_ssl: check the server's TLS certificate (None: yes).
        ssl_ca_cert: a CA bundle to check it with.
        proxy: an HTTP(S) proxy URL.
        connect_timeout, read_timeout: seconds per connection and per wait for bytes.
        cache_dir: where adapters may cache downloaded data.
    """

    status_check_period: float = 5.0
    wait_timeout: float | None = None
    allow_unsupported_server: bool = True
    verify_ssl: bool | None = None
    ssl_ca_cert: str | None = None
    proxy: str | None = None
    connect_timeout: float | None = 30.0
    read_timeout: float | None = 300.0
    cache_dir: Path = field(default_factory=default_cache_dir)

    def __post_init__(self) -> None:
        if not isinstance(self.status_check_period, (int, float)) or self.status_check_period <= 0:
            raise ApiValueError("must be a positive number of seconds", ["status_check_period"])
        if self.wait_timeout is not None and not self.wait_timeout > 0:
            raise ApiValueError("must be a positive number of seconds or None", ["wait_timeout"])
        self.cache_dir = Path(self.cache_dir)


class InvalidHostException(CvatSdkException):
    """No CVAT server answers at the address given (with the reason for each scheme tried)."""


class IncompatibleVersionException(CvatSdkException):
    """The server's version is outside the range this client is tested against."""


@total_ordering
class Version:
    """A server version (``2.24.0``) that compares with other versions and with strings."""

    def __init__(self, text: str) -> None:
        self.text = str(text)
        numbers: list[int] = []
        for part in self.text.split(".")[:3]:
            digits = "".join(c for c in part if c.isdigit()) if part[:1].isdigit() else ""
            numbers.append(int(digits) if digits else 0)
        numbers += [0] * (3 - len(numbers))
        self.release: tuple[int, int, int] = (numbers[0], numbers[1], numbers[2])

    @property
    def major(self) -> int:
        return self.release[0]

    @property
    def minor(self) -> int:
        return self.release[1]

    @property
    def micro(self) -> int:
        return self.release[2]

    @staticmethod
    def _release_of(other: object) -> tuple[int, int, int] | None:
        if isinstance(other, Version):
            return other.release
        if isinstance(other, str):
            return Version(other).release
        return None

    def __eq__(self, other: object) -> bool:
        theirs = self._release_of(other)
        return NotImplemented if theirs is None else self.release == theirs

    def __lt__(self, other: object) -> bool:
        theirs = self._release_of(other)
        return NotImplemented if theirs is None else self.release < theirs

    def __hash__(self) -> int:
        return hash(self.release)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Version({self.text!r})"


class ApiMap:
    """URLs of the server's endpoints, for the few requests scripts build themselves."""

    def __init__(self, host: str) -> None:
        self.host = host.rstrip("/")
        self.base_url = self.host + "/api/"

    def make_endpoint_url(
        self,
        path: str,
        *,
        psub: tuple[Any, ...] | Mapping[str, Any] | None = None,
        kwsub: Mapping[str, Any] | None = None,
        query_params: Mapping[str, Any] | None = None,
    ) -> str:
        """``host + path``, with ``psub`` (a tuple for ``%s``) or ``kwsub`` (a mapping for
        ``%(name)s``) substituted into the path, and the query appended."""
        url = self.host + path
        if psub is not None:
            url = url % (psub if isinstance(psub, tuple) else dict(psub))
        if kwsub is not None:
            url = url % dict(kwsub)
        if query_params:
            url += "?" + urlencode(dict(query_params))
        return url

    @property
    def login(self) -> str:
        return self.make_endpoint_url("/api/auth/login")

    @property
    def logout(self) -> str:
        return self.make_endpoint_url("/api/auth/logout")


class Client:
    """A session with one CVAT server: credentials, organization context and repositories.

    ``url`` may omit the scheme (``localhost:8080``): https is tried first, then http. The
    server's version is checked once it is found (``check_server_version=False`` skips it).
    ``api_client_class`` is the low-level client to use, e.g. one generated from the
    schema of another server version (the installed one by default).
    """

    def __init__(
        self,
        url: str,
        *,
        logger: logging.Logger | None = None,
        config: Config | None = None,
        check_server_version: bool = True,
        api_client_class: type[ApiClient] | None = None,
    ) -> None:
        self.logger = logger or logging.getLogger("cvat_sdk")
        self.config = config or Config()
        if api_client_class is None:
            from cvat_sdk.api_client import ApiClient

            api_client_class = ApiClient
        self._api_client_class: type[ApiClient] = api_client_class
        self._logged_in = False
        self._organization_slug: str | None = None
        about: Any = None
        if urlsplit(url).scheme in ("http", "https"):
            self.api_client = self._new_api_client(url)
        else:
            self.api_client, about = self._locate(url)
        self.api_map = ApiMap(self.api_client.configuration.host)
        if check_server_version:
            try:
                self.check_server_version(about=about)
            except BaseException:
                self.api_client.close()
                raise

    # --- connection -----------------------------------------------------------------------
    def _new_api_client(self, host: str, **options: Any) -> ApiClient:
        config = self.config
        configuration = self._api_client_class.configuration_class(
            host=host,
            ssl_ca_cert=config.ssl_ca_cert,
            verify_ssl=config.verify_ssl is not False,
            proxy=config.proxy,
            connect_timeout=config.connect_timeout,
            read_timeout=config.read_timeout,
            **options,
        )
        return self._api_client_class(configuration)

    def _locate(self, address: str) -> tuple[ApiClient, Any]:
        """Find the server at a scheme-less address: https first, then http.

        http is tried only when https could not connect or the port speaks plain HTTP. A
        server that answered TLS but failed the handshake (a certificate that does not verify,
        no common protocol) is an error: falling back would send credentials in clear text to
        a server that meant to use TLS.
        """
        address = address.rstrip("/")
        reasons: list[str] = []
        for scheme in ("https", "http"):
            candidate = self._new_api_client(f"{scheme}://{address}", retries=0)
            try:
                about, _ = candidate.server_api.retrieve_about()
            except ApiConnectionError as error:
                candidate.close()
                if scheme == "https" and _tls_answered(error):
                    raise InvalidHostException(
                        f"{address} answered TLS but the handshake failed: {error.reason}. "
                        f"Fix the certificate settings (Config.verify_ssl, Config.ssl_ca_cert) "
                        f"or give the scheme explicitly (http://{address})"
                    ) from error
                reasons.append(f"{scheme}: {error.reason}")
                continue
            except Exception as error:
                candidate.close()
                reasons.append(f"{scheme}: {error}")
                continue
            candidate.close()
            # the probe had no retries; the client keeps the usual policy
            return self._new_api_client(f"{scheme}://{address}"), about
        raise InvalidHostException(f"no CVAT server answers at {address} ({'; '.join(reasons)})")

    # --- lifecycle --------------------------------------------------------------------------
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
        """End the session (log out if :meth:`login` started one) and release connections."""
        try:
            if self._logged_in:
                with contextlib.suppress(Exception):  # closing must not fail on a dead server
                    self.logout()
        finally:
            self.api_client.close()

    def __repr__(self) -> str:
        return f"Client({self.api_map.host!r})"

    # --- credentials ------------------------------------------------------------------------
    def login(self, credentials: tuple[str, str]) -> None:
        """Start a session: the server's session cookie and CSRF token go with every request."""
        if (
            not isinstance(credentials, tuple)
            or len(credentials) != 2
            or not all(isinstance(c, str) for c in credentials)
        ):
            raise ApiValueError("must be a (user, password) tuple of strings", ["credentials"])
        user, password = credentials
        self.api_client.auth_api.create_login({"username": user, "password": password})
        csrf = self.api_client.cookies.get("csrftoken")
        if "sessionid" not in self.api_client.cookies or csrf is None:
            raise CvatSdkException("the server accepted the login but started no session")
        self.api_client.set_default_header("X-CSRFToken", csrf.value)
        self.api_client.set_default_header("Origin", self.api_client.build_origin_header())
        self._logged_in = True

    def logout(self) -> None:
        """End the session on the server and forget its cookies."""
        if self._logged_in:
            self.api_client.auth_api.create_logout()
        self._logged_in = False
        self.api_client.cookies.clear()
        for header in ("X-CSRFToken", "Origin"):
            self.api_client.default_headers.pop(header, None)

    def has_credentials(self) -> bool:
        """Whether requests carry credentials (a session, a token or basic auth)."""
        if "sessionid" in self.api_client.cookies:
            return True
        if "Authorization" in self.api_client.default_headers:
            return True
        return bool(self.api_client.configuration.auth_settings())

    def use_access_token(self, token: str) -> None:
        """Authenticate every request with ``token``: sets ``Configuration.access_token``,
        so it goes as ``Bearer <token>`` where the schema has a bearer scheme (personal
        access tokens, CVAT 2.51+) and as ``Token <token>`` (the REST key) on older ones."""
        if not isinstance(token, str) or not token.strip():
            raise ApiValueError("must be a non-empty string", ["access_token"])
        self.api_client.configuration.access_token = token

    # --- organization context -------------------------------------------------------------
    @property
    def organization_slug(self) -> str | None:
        """The organization requests act in: a slug, ``""`` for the personal workspace, or
        None (everything visible; new objects go to the personal workspace)."""
        return self._organization_slug

    @organization_slug.setter
    def organization_slug(self, slug: str | None) -> None:
        if slug is not None and not isinstance(slug, str):
            raise ApiValueError("must be a string or None", ["organization_slug"])
        self._organization_slug = slug
        if slug is None:
            self.api_client.default_headers.pop(ORGANIZATION_HEADER, None)
        else:
            self.api_client.set_default_header(ORGANIZATION_HEADER, slug)

    @contextlib.contextmanager
    def organization_context(self, slug: str | None) -> Iterator[None]:
        """Act in ``slug`` inside the ``with`` block, then return to the previous context."""
        previous = self.organization_slug
        self.organization_slug = slug
        try:
            yield
        finally:
            self.organization_slug = previous

    # --- server version -------------------------------------------------------------------
    def get_server_version(self) -> Version:
        about, _ = self.api_client.server_api.retrieve_about()
        return Version(about.version)

    def check_server_version(
        self, fail_if_unsupported: bool | None = None, *, about: Any = None
    ) -> None:
        """Warn (or raise ``IncompatibleVersionException``) if the server's version is outside
        the tested range; ``fail_if_unsupported`` defaults to ``not
        config.allow_unsupported_server``."""
        if about is None:
            about, _ = self.api_client.server_api.retrieve_about()
        version = Version(about.get("version") or "0")
        low, high = (Version(v) for v in SUPPORTED_VERSIONS)
        if low <= version <= high:
            return
        if fail_if_unsupported is None:
            fail_if_unsupported = not self.config.allow_unsupported_server
        message = (
            f"the server's version {version} is outside the range this client is tested "
            f"against ({low.text}..{high.major}.{high.minor}); some operations may fail"
        )
        if fail_if_unsupported:
            raise IncompatibleVersionException(message)
        warnings.warn(message, UserWarning, stacklevel=3)

    # --- background requests --------------------------------------------------------------
    def wait_for_completion(
        self,
        rq_id: str,
        *,
        status_check_period: float | None = None,
        timeout: float | None = None,
        log_prefix: str | None = None,
    ) -> tuple[Any, HTTPResponse]:
        """Poll a background request until it finishes; returns ``(Request, response)``.

        Polls start every 0.1 s, then each waits a tenth of the time waited so far, up to
        ``status_check_period`` (``Config``'s by default): the end of a request is noticed
        soon after it, and a long one costs few requests. ``timeout`` (else
        ``Config.wait_timeout``) bounds the wait. Ctrl-C interrupts the wait at once: the
        request goes on on the server and can be waited for again with its id.

        Raises:
            BackgroundRequestFailed: the server reports the request failed, with its message.
            BackgroundRequestTimeout: the time ran out first.
        """
        longest = status_check_period or self.config.status_check_period
        limit = timeout if timeout is not None else self.config.wait_timeout
        prefix = f"{log_prefix}: " if log_prefix else ""

        def log(status: str) -> None:
            self.logger.debug("%sbackground request %s is %s", prefix, rq_id, status)

        return poll_request(
            self.api_client.requests_api, rq_id, longest=longest, timeout=limit, on_status=log
        )

    # --- repositories -----------------------------------------------------------------------
    @cached_property
    def tasks(self) -> TasksRepo:
        from cvat_sdk.core.proxies.tasks import TasksRepo

        return TasksRepo(self)

    @cached_property
    def projects(self) -> ProjectsRepo:
        from cvat_sdk.core.proxies.projects import ProjectsRepo

        return ProjectsRepo(self)

    @cached_property
    def jobs(self) -> JobsRepo:
        from cvat_sdk.core.proxies.jobs import JobsRepo

        return JobsRepo(self)

    @cached_property
    def users(self) -> UsersRepo:
        from cvat_sdk.core.proxies.users import UsersRepo

        return UsersRepo(self)

    @cached_property
    def organizations(self) -> OrganizationsRepo:
        from cvat_sdk.core.proxies.organizations import OrganizationsRepo

        return OrganizationsRepo(self)

    @cached_property
    def issues(self) -> IssuesRepo:
        from cvat_sdk.core.proxies.issues import IssuesRepo

        return IssuesRepo(self)

    @cached_property
    def comments(self) -> CommentsRepo:
        from cvat_sdk.core.proxies.comments import CommentsRepo

        return CommentsRepo(self)


def _tls_answered(error: ApiConnectionError) -> bool:
    """Whether an https attempt reached a TLS server whose handshake failed (as opposed to
    no connection at all, or a port that answers plain HTTP)."""
    for cause in _cause_chain(error):
        if isinstance(cause, ssl.SSLCertVerificationError):
            return True
        if isinstance(cause, ssl.SSLError):
            reason = (getattr(cause, "reason", None) or str(cause)).upper()
            # a plain-HTTP port answers the ClientHello with text: not a TLS server
            return not any(
                sign in reason
                for sign in (
                    "WRONG_VERSION_NUMBER",
                    "HTTP_REQUEST",
                    "UNKNOWN_PROTOCOL",
                    "RECORD_LAYER_FAILURE",
                )
            )
    return False


def make_client(
    host: str,
    *,
    port: int | str | None = None,
    credentials: tuple[str, str] | None = None,
    access_token: str | None = None,
    config: Config | None = None,
    check_server_version: bool = True,
) -> Client:
    """A :class:`Client` for ``host`` (with or without a scheme), logged in with
    ``credentials`` (a session) or authenticated with ``access_token``."""
    if not isinstance(host, str) or not host.strip():
        raise ApiValueError("must be a host name or URL", ["host"])
    if credentials is not None and access_token is not None:
        raise ApiValueError("give credentials or an access token, not both", ["access_token"])
    url = host.strip().rstrip("/")
    if port is not None:
        if isinstance(port, bool) or not str(port).isdigit() or not 0 < int(port) < 65536:
            raise ApiValueError(f"must be a TCP port number, got {port!r}", ["port"])
        parts = urlsplit(url if "://" in url else f"//{url}")
        if parts.port is not None:
            raise ApiValueError(f"{host!r} already names a port", ["port"])
        netloc = f"{parts.netloc}:{int(port)}"
        url = urlunsplit((parts.scheme, netloc, parts.path, "", "")).removeprefix("//")
    client = Client(url, config=config, check_server_version=check_server_version)
    try:
        if credentials is not None:
            client.login(credentials)
        elif access_token is not None:
            client.use_access_token(access_token)
    except BaseException:
        client.close()
        raise
    return client
