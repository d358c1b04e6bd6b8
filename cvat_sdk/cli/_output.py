"""Output apart from the actions: progress bars on stderr, and errors as one line each."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any, TextIO

from cvat_sdk.core.progress import NullProgress

if TYPE_CHECKING:
    from cvat_sdk._runtime.exceptions import ApiException
    from cvat_sdk.core.progress import ProgressReporter

__all__ = ["TerminalProgress", "describe_error", "one_line", "progress_for", "server_message"]

#: The longest error message printed (server messages can hold whole tracebacks).
MAX_MESSAGE = 600


def progress_for(stream: TextIO, what: str, unit: str = "B") -> ProgressReporter:
    """A bar on ``stream`` if it is a terminal; nothing when output goes to a file or pipe."""
    isatty = getattr(stream, "isatty", None)
    if callable(isatty) and isatty():
        return TerminalProgress(stream, what, unit)
    return NullProgress()


def _amount(n: float, unit: str) -> str:
    if unit != "B":
        return f"{int(n)}"
    for prefix in ("", "Ki", "Mi", "Gi"):
        if n < 1024 or prefix == "Gi":
            return f"{n:.0f} {prefix}B" if not prefix else f"{n:.1f} {prefix}B"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover - the loop returns


class TerminalProgress:
    """A one-line bar redrawn in place (at most 10 times a second); no dependency on tqdm."""

    def __init__(self, stream: TextIO, what: str, unit: str = "B", width: int = 30) -> None:
        self.stream, self.what, self.unit, self.width = stream, what, unit, width
        self.total: int | None = None
        self.done = 0
        self._drawn = 0.0

    def start(self, total: int | None) -> None:
        self.total, self.done, self._drawn = total, 0, 0.0
        self._draw(force=True)

    def advance(self, n: int) -> None:
        self.done += n
        self._draw()

    def finish(self) -> None:
        self._draw(force=True)
        self.stream.write("\n")
        self.stream.flush()

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._drawn < 0.1:
            return
        self._drawn = now
        amount = _amount(self.done, self.unit)
        if self.total:
            share = min(1.0, self.done / self.total)
            filled = int(share * self.width)
            bar = "#" * filled + "-" * (self.width - filled)
            text = f"{self.what} [{bar}] {share:4.0%} {amount}/{_amount(self.total, self.unit)}"
        else:
            text = f"{self.what} {amount}"
        self.stream.write("\r" + text)
        self.stream.flush()


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` with its lines joined and cut to ``limit`` characters."""
    joined = " ".join(part.strip() for part in str(text).splitlines() if part.strip())
    return joined if len(joined) <= limit else joined[: limit - 3] + "..."


def _flatten(value: Any, prefix: str = "") -> list[str]:
    """CVAT's error bodies (``{"field": ["msg"]}``, ``["msg"]``, ``{"detail": "msg"}``) as
    messages, with the field each one is about."""
    if isinstance(value, dict):
        if set(value) == {"detail"}:
            return _flatten(value["detail"], prefix)
        found: list[str] = []
        for key, item in value.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key in ("non_field_errors", "detail"):
                name = prefix
            found += _flatten(item, name)
        return found
    if isinstance(value, list):
        return [m for item in value for m in _flatten(item, prefix)]
    text = str(value).strip()
    return [f"{prefix}: {text}" if prefix else text] if text else []


def server_message(error: ApiException) -> str:
    """What the server said in an error answer, else its status line."""
    status = f"{error.status} {error.reason or ''}".strip()
    body = error.body or b""
    text = ""
    try:
        text = "; ".join(_flatten(json.loads(body)))
    except (ValueError, UnicodeDecodeError):
        raw = body.decode("utf-8", "replace").strip()
        if raw and not raw.lstrip().startswith("<"):  # not an HTML error page
            text = raw
    return one_line(f"{text} ({status})" if text else status)


def _path_of(url: str | None) -> str:
    if not url:
        return ""
    from urllib.parse import urlsplit

    return urlsplit(url).path or url


def describe_error(error: BaseException) -> str:
    """One line naming the cause of ``error``, with the server's own words when it answered."""
    from cvat_sdk._runtime.exceptions import ApiConnectionError, ApiException
    from cvat_sdk.core.exceptions import BackgroundRequestFailed
    from cvat_sdk.core.proxies.tasks import TaskCreationError

    if isinstance(error, ApiException) and error.status is not None:
        where = f"{error.method} {_path_of(error.url)}: " if error.method else ""
        return one_line(f"{where}{server_message(error)}")
    if isinstance(error, TaskCreationError):
        cause = error.__cause__
        reason = describe_error(cause) if cause is not None else str(error)
        fate = "the task was removed" if error.removed else f"task {error.task_id} was kept"
        return one_line(f"{error.step} failed: {reason}; {fate}")
    if isinstance(error, BackgroundRequestFailed):
        return one_line(f"the server failed the request: {error.message or 'no details given'}")
    if isinstance(error, ApiConnectionError):
        return one_line(f"cannot reach the server: {error}")
    if isinstance(error, OSError) and error.filename is not None:
        return one_line(f"{error.filename}: {error.strerror or error}")
    return one_line(str(error) or type(error).__name__)
