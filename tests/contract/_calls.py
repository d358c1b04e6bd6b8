"""The calls made for an operation, as wire data: which parameters and body, not which client.

The contract runner turns them into keyword arguments of our generated client; the
equivalence worker turns the same calls into arguments of ours and of the official SDK.
Standard library and PyYAML only (through ``_schema``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

try:  # under pytest, as part of the tests package
    from tests.contract import _schema
except ImportError:  # in a runner or worker subprocess, run as a script beside this file
    import _schema  # type: ignore[no-redef]


class PlanError(Exception):
    """No valid call can be built for the operation from its schema."""


@dataclass
class WireCall:
    """One request: (location, wire name, value) per parameter, and the body if any.

    Binary values (files) are ``bytes``; everything else is JSON data with wire names.
    """

    variant: str
    params: list[tuple[str, str, Any]] = field(default_factory=list)
    has_body: bool = False
    body: Any = None
    content_type: str | None = None

    @property
    def full(self) -> bool:
        return self.variant.startswith("full")


def plan(operation: _schema.Operation, document: dict[str, Any]) -> list[WireCall]:
    """The minimal call and the full call(s): one per body member and content type."""
    calls = []
    schema, media_types, body_required = operation.body()
    for variant in ("minimal", "full"):
        full = variant == "full"
        values = _schema.Values(document, full=full)
        params = [
            (node["in"], node["name"], values.value(node.get("schema") or {}))
            for node in operation.parameters
            if node.get("required") or full
        ]
        if schema is None or not (body_required or full):
            calls.append(WireCall(variant, params))
            continue
        bodies = _bodies(document, schema, media_types, full)
        if not bodies:
            raise PlanError("no content type can carry a valid body")
        for suffix, content_type, body in bodies:
            calls.append(WireCall(variant + suffix, list(params), True, body, content_type))
    return calls


def _bodies(
    document: dict[str, Any], schema: dict[str, Any], media_types: list[str], full: bool
) -> list[tuple[str, str | None, Any]]:
    """(variant suffix, content type, body) for each way the body is sent."""
    json_types = [m for m in media_types if "json" in m]
    multipart = _schema.MULTIPART in media_types
    found: list[tuple[str, str | None, Any]] = []
    members = _schema.Values(document, full=full).alternatives(schema)
    for number, member in enumerate(members if full else members[:1], 1):
        probe = _schema.Values(document, full=full).value(member)
        if len(members) > 1 and _schema.Values(document, full=full).ambiguous(
            probe, member, members
        ):
            continue  # e.g. {annotation_file} fits both members: no valid oneOf body exists
        suffix = f"-member{number}" if len(members) > 1 and full else ""
        sent = False
        if json_types:
            try:
                body = _schema.Values(document, full=full, files=False).value(member)
            except _schema.UnsupportedSchema:
                pass
            else:
                found.append((suffix, None, body))
                sent = True
        holds_files = _schema.Values(document, full=True).holds_files(member)
        if multipart and (not sent or (full and holds_files)):
            body = _schema.Values(document, full=full, flat=True).value(member)
            found.append((suffix + ("-multipart" if sent else ""), _schema.MULTIPART, body))
    return found
