"""Keeping credentials out of what the client shows: URLs, headers, log records, messages.

One place decides what is secret, so that ``repr()``, exceptions and logs agree.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

#: What replaces a secret.
MASK = "***"

#: Headers whose values are never logged or shown.
SECRET_HEADERS = frozenset(
    {"authorization", "cookie", "set-cookie", "x-csrftoken", "proxy-authorization"}
)
#: Query parameters that carry credentials (``sign`` is CVAT's signed-URL scheme).
SECRET_QUERY = frozenset({"sign", "key", "token", "password", "api_key", "sessionid"})

# field and parameter names whose values are credentials (matched on a whole name or its parts)
_SECRET_NAME = re.compile(
    r"(^|_)(pass(word)?\d*|secret|token|key|session(id)?|csrf(token)?|sign|credentials?"
    r"|connection_string|authorization|cookie)(_|$|\d)",
    re.IGNORECASE,
)
_URL = re.compile(r"(?:\bhttps?://|/)[^\s'\"<>]*")


def is_secret_name(name: str) -> bool:
    """Whether a field, parameter or header of this name holds a credential."""
    return bool(_SECRET_NAME.search(name)) or name.lower() in SECRET_HEADERS


def redact_url(url: str) -> str:
    """The URL with a password in it and secret query values (``sign``...) replaced."""
    parts = urlsplit(url)
    if parts.password is not None:
        host = parts.netloc.rpartition("@")[2]
        parts = parts._replace(netloc=f"{parts.username or ''}:{MASK}@{host}")
    if parts.query:
        items = [
            f"{item.split('=', maxsplit=1)[0]}={MASK}" if _secret_query(item) else item
            for item in parts.query.split("&")
        ]
        parts = parts._replace(query="&".join(items))
    return parts.geturl()


def _secret_query(item: str) -> bool:
    name = item.split("=", maxsplit=1)[0].lower()
    return name in SECRET_QUERY or is_secret_name(name)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: (MASK if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}


def redact_text(text: str) -> str:
    """Every URL in a text redacted (log messages of other libraries carry request URLs)."""
    if "?" not in text and "@" not in text:
        return text
    return _URL.sub(lambda m: redact_url(m.group(0)), text)


def path_is_secret(path: Sequence[str | int]) -> bool:
    return any(isinstance(item, str) and is_secret_name(item) for item in path)


class RedactingFilter(logging.Filter):
    """Redacts URLs in the records of urllib3's loggers (they log request URLs, queries included).

    Attached by the client to ``urllib3``'s own loggers: a filter on a parent logger does not see
    records its children propagate.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(redact_text(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact_text(record.msg)
        return True


_FILTER = RedactingFilter()
#: The loggers of urllib3 that log URLs.
URLLIB3_LOGGERS = ("urllib3.connectionpool", "urllib3.poolmanager", "urllib3.util.retry")


def install_log_filter() -> None:
    """Idempotent: once per process, however many clients are made."""
    for name in URLLIB3_LOGGERS:
        target = logging.getLogger(name)
        if _FILTER not in target.filters:
            target.addFilter(_FILTER)
