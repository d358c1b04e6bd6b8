"""Parse the "APIs" and "Models" sections of the published CVAT SDK reference (plain text).

The document is the contract of the low-level client: every API class with its operations
(HTTP route, signature, returned type, parameter table) and every model with its property
table. Types are translated into the spec grammar of ``cvat_sdk._runtime.specs``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

DOC = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "reference"
    / "cvat-api-and-sdk-docs.txt"
)

#: How the reference spells "any JSON value, or None".
ANY_TYPE = "bool, date, datetime, dict, float, int, list, str, none_type"
_LEAVES = {
    "str": "str",
    "int": "int",
    "float": "float",
    "bool": "bool",
    "date": "date",
    "datetime": "datetime",
    "file_type": "file",
    "dict": "object",
}
_TABLE_HEADER = "Name Type Description Notes"
_API_HEADING = re.compile(r"^2\.1\.1\.\d+ - (\w+) class reference$")
_MODEL_HEADING = re.compile(r"^2\.1\.2\.\d+ - (\w+) class reference$")
_ROUTE = re.compile(r"^(\w+) (GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (\S+)(?: .*)?$")
_SIGNATURE = re.compile(r"^(\w+)\( ?(.*?) ?\)$")
_RETURNED = re.compile(r"^Returned type: Tuple\[(.*), urllib3\.HTTPResponse\]\.?$")
_ENUM_VALUES = re.compile(r"must be one of \[(.*)\]\s*$")
_QUOTED = re.compile(r"“([^”]*)”|\"([^\"]*)\"")


class RefDocError(ValueError):
    """The reference text is not laid out the way this parser expects."""


@dataclass(frozen=True)
class Row:
    """One row of a ``Name Type Description Notes`` table."""

    name: str
    type_text: str
    spec: str
    optional: bool
    readonly: bool


@dataclass(frozen=True)
class Param:
    name: str
    required: bool


@dataclass
class Operation:
    api: str
    name: str
    http_method: str
    path: str
    params: list[Param] = field(default_factory=list)
    returns: str | None = None  # a spec, or None for "no value"
    returns_text: str = ""
    param_rows: list[Row] = field(default_factory=list)


@dataclass
class ModelDoc:
    name: str
    rows: list[Row] = field(default_factory=list)
    enum_values: list[str] | None = None


@dataclass
class Reference:
    apis: dict[str, dict[str, Operation]]
    models: dict[str, ModelDoc]

    @property
    def operations(self) -> list[Operation]:
        return [op for ops in self.apis.values() for op in ops.values()]


# --- types -------------------------------------------------------------------------------
def _split_top(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` outside brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def type_to_spec(text: str) -> str:
    """``[int], none_type`` -> ``[int]?``; ``{str: (X,)}`` -> ``{X}``; the any-type -> ``any``."""
    text = text.strip()
    if text == ANY_TYPE:
        return "any"
    alternatives = _split_top(text)
    nullable = "none_type" in alternatives
    rest = [a for a in alternatives if a != "none_type"]
    if len(rest) != 1:
        raise RefDocError(f"unsupported type: {text!r}")
    body = rest[0]
    if body.startswith("[") and body.endswith("]"):
        spec = f"[{type_to_spec(body[1:-1])}]"
    elif body.startswith("{str: (") and body.endswith(")}"):
        value = body[len("{str: (") : -2].rstrip().rstrip(",")
        value_spec = type_to_spec(value)
        spec = "object" if value_spec == "any" else f"{{{value_spec}}}"
    elif body in _LEAVES:
        spec = _LEAVES[body]
    elif body.isidentifier() and body[:1].isupper():
        spec = body
    else:
        raise RefDocError(f"unsupported type: {text!r}")
    return spec + "?" if nullable else spec


def returned_to_spec(text: str) -> str | None:
    """The first element of ``Tuple[..., urllib3.HTTPResponse]`` as a spec (None: no value)."""
    text = text.strip()
    if text == "None":
        return None
    if text == "dict[str, typing.Union[typing.Any, none_type]]":
        return "object"
    found = re.fullmatch(r"list\[(.*)\]", text)
    if found:
        return f"[{returned_to_spec(found.group(1))}]"
    return type_to_spec(text)


def _split_row(line: str) -> tuple[str, str, str]:
    """``name type rest``: the type ends at the first top-level space not after a comma."""
    name, _, rest = line.partition(" ")
    depth = 0
    for i, ch in enumerate(rest):
        if ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        elif ch == " " and depth == 0 and rest[i - 1] != ",":
            return name, rest[:i], rest[i + 1 :]
    return name, rest, ""


def parse_row(line: str) -> Row:
    name, type_text, rest = _split_row(line)
    return Row(
        name=name,
        type_text=type_text,
        spec=type_to_spec(type_text),
        optional="[optional]" in rest,
        readonly="[readonly]" in rest,
    )


def _table(lines: list[str], start: int) -> tuple[list[str], int]:
    """The rows of the table whose header is at ``start``, and the index after it."""
    rows = []
    i = start + 1
    while i < len(lines) and lines[i].strip():
        rows.append(lines[i].strip())
        i += 1
    return rows, i


# --- sections ----------------------------------------------------------------------------
def _index(lines: list[str], text: str, after: int = 0) -> int:
    try:
        return lines.index(text, after)
    except ValueError:
        raise RefDocError(f"heading {text!r} not found") from None


def _sections(lines: list[str], heading: re.Pattern[str]) -> list[tuple[str, list[str]]]:
    starts = [(i, m.group(1)) for i, line in enumerate(lines) if (m := heading.match(line))]
    bounds = [*(i for i, _ in starts[1:]), len(lines)]
    return [(name, lines[i + 1 : end]) for (i, name), end in zip(starts, bounds, strict=True)]


def _parse_api(name: str, lines: list[str]) -> dict[str, Operation]:
    header = _index(lines, "Method HTTP request Description")
    routes, _ = _table(lines, header)
    operations: dict[str, Operation] = {}
    for route in routes:
        found = _ROUTE.match(route)
        if not found:
            raise RefDocError(f"{name}: unreadable route row {route!r}")
        method, verb, path = found.groups()
        operations[method] = Operation(name, method, verb, path)
    current: Operation | None = None
    for i, line in enumerate(lines):
        signature = _SIGNATURE.match(line)
        if signature and signature.group(1) in operations:
            current = operations[signature.group(1)]
            for token in (t.strip() for t in signature.group(2).split(",")):
                if token == "**kwargs":
                    continue
                param, _, default = token.partition("=")
                if default not in ("", "None"):
                    raise RefDocError(f"{name}.{current.name}: unexpected default {token!r}")
                current.params.append(Param(param, required=not default))
            continue
        if current is None:
            continue
        if line == _TABLE_HEADER:
            rows, _ = _table(lines, i)
            current.param_rows = [parse_row(r) for r in rows]
        returned = _RETURNED.match(line)
        if returned:
            current.returns_text = returned.group(1)
            current.returns = returned_to_spec(returned.group(1))
    missing = [m for m, op in operations.items() if not op.returns_text]
    if missing:
        raise RefDocError(f"{name}: no signature or returned type for {missing}")
    return operations


def _parse_model(name: str, lines: list[str]) -> ModelDoc:
    model = ModelDoc(name)
    header = _index(lines, _TABLE_HEADER)
    rows, _ = _table(lines, header)
    if len(rows) == 1 and rows[0].startswith("value str") and _ENUM_VALUES.search(rows[0]):
        found = _ENUM_VALUES.search(rows[0])
        assert found is not None
        model.enum_values = [a or b for a, b in _QUOTED.findall(found.group(1))]
        return model
    model.rows = [parse_row(r) for r in rows]
    return model


@functools.lru_cache(maxsize=1)
def load(path: Path = DOC) -> Reference:
    """Parse the reference once per test session."""
    lines = [line.rstrip() for line in path.read_text(encoding="utf-8").splitlines()]
    apis_at = _index(lines, "2.1.1 - APIs")
    models_at = _index(lines, "2.1.2 - Models", apis_at)
    end = _index(lines, "2.2 - Low-level API", models_at)
    apis = {
        name: _parse_api(name, body)
        for name, body in _sections(lines[apis_at:models_at], _API_HEADING)
    }
    models = {
        name: _parse_model(name, body)
        for name, body in _sections(lines[models_at:end], _MODEL_HEADING)
    }
    return Reference(apis, models)
