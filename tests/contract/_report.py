"""Failure messages of the contract tests, and the known bugs that make a failure expected."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

_SHOWN = 2000


#: The variant suffix of calls made with ``_check_status=False`` (see ``_runner``).
UNCHECKED = "-unchecked"


def part(record: dict[str, Any], *, unchecked: bool) -> dict[str, Any]:
    """The record restricted to the ``_check_status=False`` calls, or to the others; a call
    that could not be built belongs to both."""
    outcomes = [
        o
        for o in record["outcomes"]
        if o["variant"] == "build" or o["variant"].endswith(UNCHECKED) == unchecked
    ]
    return {**record, "outcomes": outcomes, "ok": all(o["ok"] for o in outcomes)}


def failures(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [o for o in record["outcomes"] if not o["ok"]]


def describe(record: dict[str, Any], limit: int = 3) -> str:
    """The failed calls of an operation: variant, status, problem, call, response, traceback."""
    failed = failures(record)
    lines = [
        f"{record['key']} ({record['id']}): {len(failed)} of {len(record['outcomes'])} calls failed"
    ]
    for outcome in failed[:limit]:
        lines.append(
            f"- {outcome['variant']} call, Prefer: code={outcome['status']}: {outcome['problem']}"
        )
        for key, value in outcome["detail"].items():
            text = value if isinstance(value, str) else json.dumps(value)
            text = text if len(text) <= _SHOWN else text[:_SHOWN] + "..."
            lines.append(f"    {key}: {text}")
    if len(failed) > limit:
        lines.append(f"- ... and {len(failed) - limit} more")
    return "\n".join(lines)


@dataclass(frozen=True)
class KnownBug:
    """A client or generator bug (reported, not fixed here) and how its failed calls look."""

    name: str
    reason: str
    #: a regular expression matched at the start of the failed call's problem
    problem: str
    #: a regular expression searched in the failed call's details (exception, response)
    detail: str = ""

    def matches(self, outcome: dict[str, Any]) -> bool:
        if re.match(self.problem, outcome["problem"]) is None:
            return False
        return not self.detail or re.search(self.detail, json.dumps(outcome["detail"])) is not None


KNOWN_BUGS = (
    KnownBug(
        "binary-as-json",
        "a `format: binary` response declared under a JSON media type is JSON-decoded: "
        "the method returns str, not bytes",
        r"parsed as file, but <result>: expected file, got str",
    ),
    KnownBug(
        "binary-union-as-json",
        "a oneOf [Model, binary] response (AnnotationsRead, DataResponse) under a JSON media "
        "type fails validation when the body is a string, though the binary member allows it",
        r"raised ApiResponseError",
        r"expected an object \((AnnotationsRead|DataResponse)\), got str",
    ),
    KnownBug(
        "no-bearer-auth",
        "accessTokenAuth (HTTP bearer) credentials cannot be configured: "
        "the Authorization header is never sent for bearer-only operations",
        r"raised UnauthorizedException|asked for \d+, got 401",
        r"Bearer",
    ),
    KnownBug(
        "non-json-accept",
        "Accept lists only JSON types, so an operation answering only text/event-stream "
        "cannot be answered (406); its str result would not be read either",
        r"raised ServiceException",
        r"NOT_ACCEPTABLE",
    ),
    KnownBug(
        "error-body-as-result",
        "with _check_status=False an error answer's body is read as the success type "
        "(a 404/422 problem body becomes e.g. a TaskRead, or raises ApiResponseError)",
        r"the \d+ body was read as |raised ApiResponseError though _check_status=False",
    ),
)


def known_bug(outcome: dict[str, Any]) -> KnownBug | None:
    return next((bug for bug in KNOWN_BUGS if bug.matches(outcome)), None)


def classify(
    record: dict[str, Any], explain: Callable[[dict[str, Any]], str | None] | None = None
) -> tuple[list[str], list[dict[str, Any]]]:
    """Reasons for the failed calls that a known bug (or ``explain``) accounts for, and the
    failed calls nothing accounts for."""
    reasons: list[str] = []
    unexplained = []
    for outcome in failures(record):
        bug = known_bug(outcome)
        reason = f"known bug {bug.name}: {bug.reason}" if bug else explain and explain(outcome)
        if reason:
            reasons.extend(reason.split("; "))
        else:
            unexplained.append(outcome)
    return list(dict.fromkeys(reasons)), unexplained


def check(
    record: dict[str, Any], explain: Callable[[dict[str, Any]], str | None] | None = None
) -> None:
    """Pass, xfail when every failed call is accounted for, else fail with the details."""
    if record["ok"]:
        return
    reasons, unexplained = classify(record, explain)
    if unexplained:
        shown = {**record, "outcomes": unexplained}
        pytest.fail(describe(shown), pytrace=False)
    pytest.xfail("; ".join(reasons))
