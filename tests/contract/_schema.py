"""Reading a CVAT schema for contract tests: its operations and minimal or full valid values.

Standard library and PyYAML only: this module is imported both by pytest and by the runner,
which runs in a subprocess against a throwaway generated client.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
#: ``../shared`` beside the repository holds the server schemas (inputs, never copied here)
SCHEMA_DIR = Path(__file__).resolve().parents[3] / "shared" / "cvat-schemas"
SCHEMA_FILES = {
    "2.17.0": SCHEMA_DIR / "cvat-2.17.0.yml",
    "2.24.0": SCHEMA_DIR / "cvat-2.24.0.yml",
    "2.51.1": SCHEMA_DIR / "cvat-2.51.1.yml",
    "2.72.0": SCHEMA_DIR / "cvat-2.72.0.json",
}
MULTIPART = "multipart/form-data"

#: Strings tried, in order, for a string parameter or property with a ``pattern``.
_PATTERN_CANDIDATES = ("abc", "abc1", "1", "a-b_c", "a.b", "user@host")
_FORMATS = {
    "date-time": "2024-01-02T03:04:05Z",
    "date": "2024-01-02",
    "uri": "https://example.com/path",
    "email": "user@example.com",
    "uuid": "0b3c3d1e-3f4a-4b5c-8d6e-7f8091a2b3c4",
}


class UnsupportedSchema(Exception):
    """The value generator meets a schema construct it cannot satisfy."""


def load(path: str | Path) -> dict[str, Any]:
    text = Path(path).read_text(encoding="utf-8")
    if text.lstrip().startswith("{"):
        return json.loads(text)  # type: ignore[no-any-return]
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)  # type: ignore[no-any-return]


@dataclass
class Operation:
    """One path x method pair, with the path-level parameters merged in."""

    method: str
    path: str
    node: dict[str, Any]
    parameters: list[dict[str, Any]] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.method.upper()} {self.path}"

    @property
    def operation_id(self) -> str:
        return str(self.node.get("operationId") or self.key)

    def statuses(self) -> list[str]:
        return [str(s) for s in self.node.get("responses") or {}]

    def success_statuses(self) -> list[str]:
        return [s for s in self.statuses() if s.startswith("2")]

    def error_statuses(self) -> list[str]:
        return [s for s in self.statuses() if s[:1] in "45"]

    def body(self) -> tuple[dict[str, Any] | None, list[str], bool]:
        """The request body schema (of the first media type), its media types, required."""
        body = self.node.get("requestBody")
        if not body:
            return None, [], False
        content: dict[str, Any] = body.get("content") or {}
        first: dict[str, Any] = next(iter(content.values()), {})
        return first.get("schema") or {}, list(content), bool(body.get("required"))


def operations(document: dict[str, Any]) -> list[Operation]:
    """Every operation of the document, in document order."""
    found = []
    for path, item in document["paths"].items():
        shared = item.get("parameters") or []
        for method in HTTP_METHODS:
            node = item.get(method)
            if node is None:
                continue
            own = node.get("parameters") or []
            known = {(p["name"], p["in"]) for p in own}
            merged = [p for p in shared if (p["name"], p["in"]) not in known] + list(own)
            found.append(Operation(method, path, node, [resolve(document, p) for p in merged]))
    return found


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` (local references only) until a node without one."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise UnsupportedSchema(f"non-local reference {ref}")
        target: Any = document
        for part in ref[2:].split("/"):
            target = target[part]
        node = target
        seen += 1
        if seen > 50:
            raise UnsupportedSchema(f"reference loop at {ref}")
    return node


def is_binary(document: dict[str, Any], node: dict[str, Any]) -> bool:
    node = resolve(document, node)
    return node.get("type") == "string" and node.get("format") == "binary"


def _only_null_or_blank(node: dict[str, Any]) -> bool:
    values = node.get("enum")
    return values is not None and all(v in (None, "") for v in values)


_CLASS_SAMPLES = {"d": "1", "w": "a", "s": " "}


def from_pattern(pattern: str) -> str:
    """A string matching a simple regular expression: anchors, literals, escapes, classes and
    quantifiers (each repeated item is used once, or its minimum); groups are not supported."""
    text = pattern.removeprefix("^").removesuffix("$")
    out: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char == "\\":
            escaped = text[position + 1]
            sample = _CLASS_SAMPLES.get(escaped, escaped)
            position += 2
        elif char == "[":
            end = text.index("]", position + 2)
            members = text[position + 1 : end]
            if members.startswith("^"):
                raise UnsupportedSchema(f"negated class in {pattern!r}")
            sample = members[1] if members.startswith("\\") else members[0]
            sample = _CLASS_SAMPLES.get(sample, sample) if members.startswith("\\") else sample
            position = end + 1
        elif char in "()|":
            raise UnsupportedSchema(f"groups in {pattern!r}")
        else:
            sample = char
            position += 1
        count = 1
        if position < len(text) and text[position] in "+*?":
            position += 1
        elif position < len(text) and text[position] == "{":
            end = text.index("}", position)
            count = max(int(text[position + 1 : end].split(",")[0] or 0), 1)
            position = end + 1
        out.append(sample * count)
    return "".join(out)


class Values:
    """Valid JSON values for schema nodes: ``full`` sets every writable property.

    Binary strings become ``bytes`` (files); with ``files=False`` properties holding files
    are left out (a JSON body cannot carry them); with ``flat=True`` properties holding
    nested objects are left out (a multipart form cannot carry them).
    """

    def __init__(
        self, document: dict[str, Any], *, full: bool, files: bool = True, flat: bool = False
    ) -> None:
        self.document = document
        self.full = full
        self.files = files
        self.flat = flat

    # what a property may hold, for the files/flat filters
    def _holds_file(self, node: dict[str, Any]) -> bool:
        node = self._effective(node)
        if node.get("type") == "array":
            return self._holds_file(node.get("items") or {})
        return is_binary(self.document, node)

    def alternatives(self, node: dict[str, Any]) -> list[dict[str, Any]]:
        """The members of a ``oneOf``/``anyOf`` body (each is sent once), else the body."""
        node = resolve(self.document, node)
        for key in ("oneOf", "anyOf"):
            members = [
                m for m in node.get(key) or [] if not _only_null_or_blank(resolve(self.document, m))
            ]
            if members:
                return members
        return [node]

    def ambiguous(self, value: Any, member: dict[str, Any], members: list[dict[str, Any]]) -> bool:
        """Whether an object value for one ``oneOf`` member could also be another member."""
        if not isinstance(value, dict):
            return False
        for other in members:
            if other is member:
                continue
            required = set(self._effective(other).get("required") or [])
            if required <= set(value):
                return True
        return False

    def holds_files(self, node: dict[str, Any]) -> bool:
        """Whether a property of an object body holds files."""
        node = self._effective(node)
        return any(self._holds_file(prop) for prop in (node.get("properties") or {}).values())

    def _is_nested(self, node: dict[str, Any]) -> bool:
        node = self._effective(node)
        if node.get("type") == "array":
            item = self._effective(node.get("items") or {})
            return item.get("type") in ("array", "object") or "properties" in item
        return node.get("type") == "object" or "properties" in node

    def _effective(self, node: dict[str, Any]) -> dict[str, Any]:
        """The node a value is generated for, after references and single compositions."""
        node = resolve(self.document, node)
        for key in ("allOf", "oneOf", "anyOf"):
            members = node.get(key)
            if members:
                usable = [m for m in members if not _only_null_or_blank(resolve(self.document, m))]
                if usable:
                    return self._effective(usable[0])
        return node

    def object_properties(self, node: dict[str, Any]) -> list[tuple[str, dict[str, Any], bool]]:
        """(wire name, schema, required) of the properties a request sets, in schema order."""
        node = self._effective(node)
        required = set(node.get("required") or [])
        chosen = []
        for name, prop in (node.get("properties") or {}).items():
            if prop.get("readOnly") or resolve(self.document, prop).get("readOnly"):
                continue
            if not self.files and self._holds_file(prop):
                if name in required:
                    raise UnsupportedSchema(f"required file {name!r} in a JSON body")
                continue
            if self.flat and self._is_nested(prop):
                if name in required:
                    raise UnsupportedSchema(f"required nested {name!r} in a form")
                continue
            if name in required or self.full:
                chosen.append((name, prop, name in required))
        return chosen

    def value(self, node: dict[str, Any], index: int = 0) -> Any:
        """A value that validates against ``node``; ``index`` varies items of one array."""
        node = resolve(self.document, node)
        for key in ("allOf", "oneOf", "anyOf"):
            if node.get(key):
                return self.value(self._effective(node), index)
        if "enum" in node:
            usable = [v for v in node["enum"] if v not in (None, "")]
            if not usable:
                return node["enum"][0]
            return usable[index % len(usable)]
        kind = node.get("type")
        if kind == "object" or (kind is None and "properties" in node):
            return self._object(node)
        if kind == "array":
            return self._array(node)
        if kind == "string":
            return self._string(node, index)
        if kind in ("integer", "number"):
            return self._number(node, index, integer=kind == "integer")
        if kind == "boolean":
            return True
        return "any"  # a free-form value: any JSON will do

    def _object(self, node: dict[str, Any]) -> dict[str, Any]:
        result = {name: self.value(prop) for name, prop, _ in self.object_properties(node)}
        extra = node.get("additionalProperties")
        if self.full and isinstance(extra, dict) and not node.get("properties"):
            result["key"] = self.value(extra) if extra else "value"
        return result

    def _array(self, node: dict[str, Any]) -> list[Any]:
        low = int(node.get("minItems", 0))
        count = max(low, 1) if self.full else low
        if "maxItems" in node:
            count = min(count, int(node["maxItems"]))
        return [self.value(node.get("items") or {}, i) for i in range(count)]

    def _string(self, node: dict[str, Any], index: int) -> Any:
        fmt = node.get("format")
        if fmt == "binary":
            return f"file {index} contents\n".encode()
        low = int(node.get("minLength", 0))
        high = int(node.get("maxLength", 10**6))
        pattern = node.get("pattern")
        candidates = [_FORMATS[fmt]] if fmt in _FORMATS else []
        candidates += [f"{c}{index}" if index else c for c in _PATTERN_CANDIDATES]
        if pattern is not None:
            candidates.append(from_pattern(pattern))
        for candidate in candidates:
            text = candidate
            if low > len(text) and fmt not in _FORMATS:
                text += "x" * (low - len(text))
            text = text[:high]
            if not low <= len(text) <= high:
                continue
            if pattern is not None and not re.search(pattern, text):
                continue
            return text
        raise UnsupportedSchema(f"no candidate string fits {node}")

    @staticmethod
    def _number(node: dict[str, Any], index: int, *, integer: bool) -> float:
        """1 (plus ``index``), or a half more for floats, moved inside the schema's range."""
        low = node.get("minimum")
        high = node.get("maximum")
        step = 1 if integer else 0.5
        value: float = 1 + index + (0 if integer else 0.5)
        if low is not None:
            value = max(value, low + (step if node.get("exclusiveMinimum") else 0))
        if high is not None:
            value = min(value, high - (step if node.get("exclusiveMaximum") else 0))
        return int(value) if integer else float(value)
