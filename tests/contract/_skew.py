"""Explaining version-skew failures by the difference between the two schemas.

A call built from the client's schema can be refused by a server whose schema changed (a new
required parameter, a string that became an enum, a new maximum), and a response can change
type. Each failed call is matched with the schema nodes involved; when they differ between
the two versions, that difference is the explanation. Failures without one are real bugs.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.contract import _schema

_SUMMARY_KEYS = (
    "type",
    "format",
    "enum",
    "nullable",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "required",
)
_REQUIRED_PROPERTY = re.compile(r"required property '([^']+)'")


class Side:
    """One schema version: its document and operations by key."""

    def __init__(self, version: str, document: dict[str, Any]) -> None:
        self.version = version
        self.document = document
        self.operations = {op.key: op for op in _schema.operations(document)}

    def summary(self, node: dict[str, Any] | None) -> str:
        """The validation-relevant keywords of a node, references and compositions resolved."""
        if node is None:
            return "absent"
        node = self._effective(node)
        shown = {k: node[k] for k in _SUMMARY_KEYS if k in node}
        if "enum" in shown:
            shown["enum"] = sorted(str(v) for v in shown["enum"])
        if "required" in shown:
            shown["required"] = sorted(shown["required"])
        return json.dumps(shown, sort_keys=True)

    def _effective(self, node: dict[str, Any]) -> dict[str, Any]:
        return _schema.Values(self.document, full=True)._effective(node)

    def parameter(self, key: str, where: str, name: str) -> dict[str, Any] | None:
        """A parameter as a node: its schema plus whether it is required."""
        for param in self.operations[key].parameters:
            if param["name"] == name and param["in"] == where:
                schema = self._effective(param.get("schema") or {})
                return {**schema, "x-required": bool(param.get("required"))}
        return None

    def body_node(self, key: str, path: list[str]) -> dict[str, Any] | None:
        """The request body schema at a property path (array indexes as digits)."""
        node, _, _ = self.operations[key].body()
        for part in path:
            if node is None:
                return None
            node = self._effective(node)
            if part.isdigit() and node.get("type") == "array":
                node = node.get("items") or {}
                continue
            node = self._property(node, part)
        return node

    def _property(self, node: dict[str, Any], name: str) -> dict[str, Any] | None:
        found = (node.get("properties") or {}).get(name)
        if found is not None:
            return found  # type: ignore[no-any-return]
        for key in ("allOf", "oneOf", "anyOf"):
            for member in node.get(key) or []:
                inner = self._property(self._effective(member), name)
                if inner is not None:
                    return inner
        return None

    def response_node(self, key: str, status: str) -> dict[str, Any] | None:
        response = (self.operations[key].node.get("responses") or {}).get(status)
        if response is None:
            return None
        content: dict[str, Any] = response.get("content") or {}
        media: dict[str, Any] = next(iter(content.values()), {})
        return media.get("schema") or {"type": "none (no body)"}


def _validation_errors(outcome: dict[str, Any]) -> list[dict[str, Any]]:
    response = outcome["detail"].get("response") or {}
    if response.get("status") not in (400, 422):
        return []
    try:
        body = json.loads(response.get("body") or "")
    except ValueError:
        return []
    return [v for v in body.get("validation") or [] if v.get("severity") == "Error"]


def explain(client: Side, server: Side, key: str, outcome: dict[str, Any]) -> str | None:
    """Why a call of the client's version failed on the server's, from the schemas, or None."""
    errors = _validation_errors(outcome)
    if errors:
        reasons = [explain_request_error(client, server, key, e) for e in errors]
        if all(reasons):
            return "; ".join(dict.fromkeys(r for r in reasons if r))
        return None
    if outcome["problem"].startswith(("parsed as", "raised ApiResponseError")):
        before = client.response_node(key, outcome["status"])
        after = server.response_node(key, outcome["status"])
        if client.summary(before) != server.summary(after):
            return (
                f"response {outcome['status']} changed: {client.version} "
                f"{client.summary(before)}, {server.version} {server.summary(after)}"
            )
    return None


def explain_request_error(
    client: Side, server: Side, key: str, error: dict[str, Any]
) -> str | None:
    location = [str(part) for part in error.get("location") or []]
    message = str(error.get("message", ""))
    where = location[0] if location else ("body" if "Body parameter" in message else "")
    missing = _REQUIRED_PROPERTY.search(message)
    if where in ("query", "path", "header"):
        name = location[1] if len(location) > 1 else (missing.group(1) if missing else "")
        before = client.parameter(key, where, name)
        after = server.parameter(key, where, name)
        label = f"{where} parameter {name!r}"
        if before is None or after is None:
            return f"{label}: {'added' if before is None else 'removed'} in {server.version}"
        changed = _changed(client, server, before, after, label)
        if changed is None and before["x-required"] != after["x-required"]:
            return f"{label}: required in {server.version}, optional in {client.version}"
        return changed
    if where == "body":
        path = location[1:]
        if error.get("code") == "required" and missing:
            return _newly_required(client, server, key, path, missing.group(1))
        if not path and "Body parameter is required" in message:
            before_op, after_op = client.operations[key], server.operations[key]
            if before_op.body()[2] != after_op.body()[2]:
                return f"request body: required in {server.version}, optional in {client.version}"
            return None
        label = f"body property {'.'.join(path)}"
        return _changed(
            client, server, client.body_node(key, path), server.body_node(key, path), label
        )
    return None


def _newly_required(
    client: Side, server: Side, key: str, parent: list[str], name: str
) -> str | None:
    before = client.body_node(key, parent)
    after = server.body_node(key, parent)
    label = f"body property {'.'.join([*parent, name])}"
    if after is None or name not in _required(server, after):
        return None
    if before is not None and name in _required(client, before):
        return None
    known = before is not None and name in (client._effective(before).get("properties") or {})
    return f"{label}: required in {server.version}, {'optional' if known else 'absent'} in {client.version}"


def _required(side: Side, node: dict[str, Any]) -> list[str]:
    return list(side._effective(node).get("required") or [])


def _changed(
    client: Side,
    server: Side,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    label: str,
) -> str | None:
    old, new = client.summary(before), server.summary(after)
    if old == new:
        return None
    return f"{label}: {client.version} {old}, {server.version} {new}"
