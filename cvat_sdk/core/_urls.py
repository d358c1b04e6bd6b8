"""Where requests for URLs that the server gives out go: to the configured host, always."""

from __future__ import annotations

from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def on_host(host: str, url: str, base: str | None = None) -> str:
    """``url`` (absolute, or relative to ``base``) with the scheme and authority of ``host``.

    Behind a proxy the server names itself as it is seen from the proxy (``http://`` behind a
    TLS-terminating one, an internal host name or port), so following its URLs as given would
    miss the server, or send credentials elsewhere. A path without the host's path prefix
    (``https://example.com/cvat``) is given it.
    """
    server = urlsplit(host)
    given = urlsplit(urljoin(base, url) if base else url)
    prefix = server.path.rstrip("/")
    path = given.path if given.path.startswith("/") else "/" + given.path
    if prefix and path != prefix and not path.startswith(prefix + "/"):
        path = prefix + path
    return urlunsplit((server.scheme, server.netloc, path, given.query, ""))


def same_host(a: str, b: str) -> bool:
    """Whether two absolute URLs name the same host and port, whatever their schemes: a
    server behind a TLS-terminating proxy names itself ``http://`` and is still the same."""
    return _authority(urlsplit(a)) == _authority(urlsplit(b))


def _authority(parts: SplitResult) -> tuple[str, int | None]:
    try:
        port = parts.port
    except ValueError:  # not a number: never the same as a valid one
        return (parts.netloc.lower(), -1)
    if port == _DEFAULT_PORTS.get(parts.scheme.lower()):
        port = None  # http://h:80 is http://h
    return ((parts.hostname or "").lower(), port)
