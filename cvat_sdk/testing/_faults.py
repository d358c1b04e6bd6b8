"""Faults that tests arm at run time, to see how a client copes with a flaky server."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


class Headers(Protocol):
    """A request's headers as the server holds them (case-insensitive lookups)."""

    def get(self, name: str, /) -> Any: ...


@dataclass
class _Rule:
    kind: str  # "drop", "drop_response", "fail", "delay" or "background"
    value: float  # bytes, status or seconds
    path_prefix: str
    method: str | None
    times: int | None  # None: until cleared
    message: str = ""
    retry_after: int | None = None
    headers: tuple[tuple[str, str], ...] = ()

    def matches(self, kind: str, method: str, path: str, headers: Headers | None) -> bool:
        return (
            self.kind == kind
            and path.startswith(self.path_prefix)
            and (self.method is None or self.method == method)
            and all(headers is not None and headers.get(k) == v for k, v in self.headers)
        )


@dataclass(frozen=True)
class InjectedFailure:
    status: int
    headers: list[tuple[str, str]]


class Faults:
    """Arms faults for requests whose path starts with `path_prefix` (and use `method`, if given).

    Each fault fires `times` times, or until `clear()` when `times` is None. With `headers`,
    only requests that carry those header values match (names are case-insensitive), e.g.
    `headers={"Upload-Finish": "true"}` picks the last request of an upload. Thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []

    def drop_connection_after(
        self,
        n_bytes: int,
        *,
        path_prefix: str = "/",
        method: str | None = None,
        times: int | None = 1,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Hangs up, without answering, once `n_bytes` of a request body have been read.

        A body shorter than `n_bytes` is read whole before hanging up, so 0 drops any request
        (a GET included) unanswered. What the server received of a dropped request is discarded:
        a TUS chunk cut short does not move the upload's offset (CVAT reads a chunk whole before
        writing it), and nothing else of the request takes effect.
        """
        self._add(_Rule("drop", n_bytes, path_prefix, _upper(method), times, headers=_h(headers)))

    def drop_response_after(
        self,
        n_bytes: int,
        *,
        path_prefix: str = "/",
        method: str | None = None,
        times: int | None = 1,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answers as usual but hangs up once `n_bytes` of the response body were sent: the
        client sees a body shorter than its Content-Length (a download cut short)."""
        self._add(
            _Rule("drop_response", n_bytes, path_prefix, _upper(method), times, headers=_h(headers))
        )

    def fail_next(
        self,
        status: int = 503,
        *,
        path_prefix: str = "/",
        method: str | None = None,
        times: int | None = 1,
        retry_after: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answers `status` (with Retry-After, if given) instead of handling the request."""
        self._add(
            _Rule(
                "fail",
                status,
                path_prefix,
                _upper(method),
                times,
                retry_after=retry_after,
                headers=_h(headers),
            )
        )

    def delay(
        self,
        seconds: float,
        *,
        path_prefix: str = "/",
        method: str | None = None,
        times: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Waits `seconds` before handling the request (e.g. to trip a client's read timeout)."""
        self._add(_Rule("delay", seconds, path_prefix, _upper(method), times, headers=_h(headers)))

    def fail_background(
        self, message: str = "Injected failure", *, operation: str = "", times: int | None = 1
    ) -> None:
        """Makes background requests whose operation type starts with `operation` (e.g.
        "create:task", "export:", "import:annotations") end as "failed" with `message`."""
        self._add(_Rule("background", 0, operation, None, times, message=message))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    # Used by the server.

    def take_drop(self, method: str, path: str, headers: Headers | None = None) -> int | None:
        rule = self._take("drop", method, path, headers)
        return None if rule is None else int(rule.value)

    def take_response_drop(
        self, method: str, path: str, headers: Headers | None = None
    ) -> int | None:
        rule = self._take("drop_response", method, path, headers)
        return None if rule is None else int(rule.value)

    def take_failure(
        self, method: str, path: str, headers: Headers | None = None
    ) -> InjectedFailure | None:
        rule = self._take("fail", method, path, headers)
        if rule is None:
            return None
        extra = [] if rule.retry_after is None else [("Retry-After", str(rule.retry_after))]
        return InjectedFailure(int(rule.value), extra)

    def take_delay(self, method: str, path: str, headers: Headers | None = None) -> float:
        rule = self._take("delay", method, path, headers)
        return 0.0 if rule is None else rule.value

    def take_background_failure(self, operation_type: str) -> str | None:
        rule = self._take("background", "", operation_type, None)
        return None if rule is None else rule.message

    def _add(self, rule: _Rule) -> None:
        with self._lock:
            self._rules.append(rule)

    def _take(self, kind: str, method: str, path: str, headers: Headers | None) -> _Rule | None:
        with self._lock:
            rule = next((r for r in self._rules if r.matches(kind, method, path, headers)), None)
            if rule is not None and rule.times is not None:
                rule.times -= 1
                if rule.times <= 0:
                    self._rules.remove(rule)
            return rule


def _upper(method: str | None) -> str | None:
    return method.upper() if method else None


def _h(headers: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    return tuple((headers or {}).items())
