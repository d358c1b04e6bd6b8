"""The differences from the official SDK that we mean, each with the README entry giving why.

Every difference the equivalence pass finds must match one of these rules, or the test fails;
and every rule must be seen at least once, or it is stale (see test_equivalence).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.equivalence._compare import Difference


@dataclass(frozen=True)
class Context:
    """What a rule may look at besides the difference: the call and both results."""

    #: the status declares another response type than the operation's first 2xx status
    own_type: bool
    ours: dict[str, Any]
    official: dict[str, Any]
    bodies_empty: bool
    #: the answer both SDKs were given
    answer_body: bytes


@dataclass(frozen=True)
class Rule:
    key: str
    #: the README's entry for it, word for word (checked)
    readme: str
    applies: Callable[[Difference, Context], bool]


def _no_content_type_without_body(diff: Difference, context: Context) -> bool:
    return (
        diff.where.endswith(".content-type")
        and diff.ours is None
        and diff.official == "application/json"
        and context.bodies_empty
    )


def _csrf_token_sent(diff: Difference, context: Context) -> bool:
    """Ours sends the CSRF token as cookie and header; the official SDK neither (its cookie
    schemes overwrite each other, and the session one is set last)."""
    if diff.where.endswith(".x-csrftoken"):
        return diff.official is None and isinstance(diff.ours, str)
    if diff.where.endswith(".cookie") and isinstance(diff.ours, str):
        ours = set(diff.ours.split("; "))
        official = set(str(diff.official).split("; "))
        return official < ours and {c.split("=")[0] for c in ours - official} == {"csrftoken"}
    return False


def _json_booleans(diff: Difference, context: Context) -> bool:
    return diff.ours in ("true", "false") and diff.official == str(diff.ours).capitalize()


def _accept_every_type(diff: Difference, context: Context) -> bool:
    if not diff.where.endswith(".accept") or not isinstance(diff.ours, str):
        return False
    offered = [media.strip() for media in diff.ours.split(",")]
    return diff.official in offered and len(offered) > 1


def _each_status_its_type(diff: Difference, context: Context) -> bool:
    return diff.where.startswith("result") and context.own_type and "error" not in context.ours


def _specific_error_class(diff: Difference, context: Context) -> bool:
    return diff.where == "result.error" and diff.official in context.ours.get("error_classes", [])


def _bytes_as_received(diff: Difference, context: Context) -> bool:
    """Ours returned the answer's bytes untouched; the official SDK a file, a decoded JSON
    string, or an error for the same bytes."""
    as_received = {"$binary": base64.b64encode(context.answer_body).decode()}
    return diff.where.startswith("result") and context.ours.get("data") == as_received


def _numbers_as_decoded(diff: Difference, context: Context) -> bool:
    return (
        type(diff.ours) is int
        and type(diff.official) is float
        and diff.ours == diff.official
        and diff.where.startswith("result")
    )


RULES = (
    Rule(
        "no-content-type-without-body",
        "A request without a body has no `Content-Type` header",
        _no_content_type_without_body,
    ),
    Rule(
        "csrf-token-sent",
        "With session credentials the CSRF token is sent",
        _csrf_token_sent,
    ),
    Rule(
        "json-booleans",
        "Booleans in query strings and forms are `true`/`false`",
        _json_booleans,
    ),
    Rule(
        "accept-every-type",
        "`Accept` lists every media type the operation can answer with",
        _accept_every_type,
    ),
    Rule(
        "each-status-its-type",
        "Each 2xx status is read as the type the schema declares for it",
        _each_status_its_type,
    ),
    Rule(
        "specific-error-class",
        "400 and 409 raise `BadRequestException` and `ConflictException`",
        _specific_error_class,
    ),
    Rule(
        "bytes-as-received",
        "Binary answers are the `bytes` received",
        _bytes_as_received,
    ),
    Rule(
        "numbers-as-decoded",
        "Numbers keep the JSON type they arrived with",
        _numbers_as_decoded,
    ),
)


def explain(diff: Difference, context: Context) -> Rule | None:
    """The rule that makes ``diff`` deliberate, or None."""
    return next((rule for rule in RULES if rule.applies(diff, context)), None)
