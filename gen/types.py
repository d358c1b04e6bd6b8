"""Schema nodes to type declarations: the runtime spec string and the Python annotations.

The runtime spec grammar (read by ``cvat_sdk._runtime.specs``):
``str int float bool date datetime file any object`` for primitives and free-form data,
``[T]`` for a list, ``{T}`` for a string-keyed map, ``Name`` for a model, and a trailing ``?``
for nullable. Annotations are what an editor shows: ``hint`` for reading an attribute, ``arg``
for what a constructor or method accepts (dicts for models, plain strings for enums).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gen.naming import snake_case

MODELS_PACKAGE = "cvat_sdk.api_client.models"


@dataclass(frozen=True)
class TypeInfo:
    spec: str
    hint: str
    arg: str
    models: frozenset[str] = field(default_factory=frozenset)

    def nullable(self) -> TypeInfo:
        if self.spec.endswith("?"):
            return self
        return TypeInfo(self.spec + "?", or_none(self.hint), or_none(self.arg), self.models)


def or_none(annotation: str) -> str:
    return annotation if "None" in annotation.split(" | ") else f"{annotation} | None"


_PRIMITIVES = {
    "str": TypeInfo("str", "str", "str"),
    "int": TypeInfo("int", "int", "int"),
    "float": TypeInfo("float", "float", "float"),
    "bool": TypeInfo("bool", "bool", "bool"),
    "date": TypeInfo("date", "datetime.date", "datetime.date | str"),
    "datetime": TypeInfo("datetime", "datetime.datetime", "datetime.datetime | str"),
    "file": TypeInfo("file", "IO[bytes]", "IO[bytes]"),
    "any": TypeInfo("any", "Any", "Any"),
    "object": TypeInfo("object", "dict[str, Any]", "dict[str, Any]"),
}


def ref_name(node: dict[str, Any]) -> str | None:
    ref = node.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def model_kind(schemas: dict[str, Any], name: str) -> str:
    """One of ``enum``, ``enum_union``, ``alias``, ``union``, ``object``."""
    schema = schemas[name]
    if "enum" in schema:
        return "enum"
    members = schema.get("allOf") or schema.get("oneOf") or schema.get("anyOf")
    if members:
        refs = [ref_name(m) for m in members]
        if all(r is not None and "enum" in schemas[r] for r in refs):
            return "enum_union"
        if "allOf" in schema and len(members) == 1 and refs[0] is not None:
            return "alias"
        return "union"
    return "object"


class TypeMapper:
    """Maps schema nodes of one document to :class:`TypeInfo`."""

    def __init__(self, schemas: dict[str, Any]) -> None:
        self.schemas = schemas

    def model_type(self, name: str) -> TypeInfo:
        kind = model_kind(self.schemas, name)
        if kind == "enum":
            if self.schemas[name]["enum"] == [None]:
                return TypeInfo(name, "None", "None", frozenset({name}))
            return TypeInfo(name, name, f"{name} | str", frozenset({name}))
        if kind == "enum_union":
            members = [self.model_type(r) for r in self._member_refs(name)]
            hint = " | ".join(dict.fromkeys(p for m in members for p in m.hint.split(" | ")))
            arg = " | ".join(dict.fromkeys(p for m in members for p in m.arg.split(" | ")))
            used = frozenset({name}).union(*(m.models for m in members))
            info = TypeInfo(name, hint, arg, used)
            return info.nullable() if self.schemas[name].get("nullable") else info
        return TypeInfo(name, name, f"{name} | dict[str, Any]", frozenset({name}))

    def _member_refs(self, name: str) -> list[str]:
        schema = self.schemas[name]
        members = schema.get("allOf") or schema.get("oneOf") or schema.get("anyOf") or []
        return [r for r in (ref_name(m) for m in members) if r is not None]

    def of(self, node: dict[str, Any]) -> TypeInfo:
        info = self._of(node)
        return info.nullable() if node.get("nullable") else info

    def _of(self, node: dict[str, Any]) -> TypeInfo:
        name = ref_name(node)
        if name is not None:
            return self.model_type(name)
        composed = node.get("allOf") or node.get("oneOf") or node.get("anyOf")
        if composed and len(composed) == 1:
            return self.of(composed[0])
        if composed:
            return _PRIMITIVES["any"]
        kind = node.get("type")
        fmt = node.get("format")
        if kind == "string":
            if fmt == "date-time":
                return _PRIMITIVES["datetime"]
            if fmt == "date":
                return _PRIMITIVES["date"]
            if fmt == "binary":
                return _PRIMITIVES["file"]
            return _PRIMITIVES["str"]
        if kind == "integer":
            return _PRIMITIVES["int"]
        if kind == "number":
            return _PRIMITIVES["float"]
        if kind == "boolean":
            return _PRIMITIVES["bool"]
        if kind == "array":
            item = self.of(node.get("items") or {})
            return TypeInfo(
                f"[{item.spec}]", f"list[{item.hint}]", f"list[{item.arg}]", item.models
            )
        if kind == "object" or "properties" in node or "additionalProperties" in node:
            extra = node.get("additionalProperties")
            if isinstance(extra, dict) and extra:
                value = self.of(extra)
                return TypeInfo(
                    f"{{{value.spec}}}",
                    f"dict[str, {value.hint}]",
                    f"dict[str, {value.arg}]",
                    value.models,
                )
            return _PRIMITIVES["object"]
        return _PRIMITIVES["any"]


def model_module(name: str) -> str:
    return snake_case(name)
