"""Compare the generated ``cvat_sdk.api_client`` with the parsed reference document.

Each check returns every :class:`Difference` it finds, so a test reports all of them in one
assertion. The reference was rendered by another generator from the same CVAT 2.24.0 schema;
where the two disagree and the schema shows that ours follows it, the difference carries an
``explanation`` (checked against the schema, never assumed) and is reported, not failed.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gen.naming import snake_case
from tests.reference.refdoc import Operation, Reference, Row

SCHEMA = Path(__file__).resolve().parents[2].parent / "shared" / "cvat-schemas" / "cvat-2.24.0.yml"


@dataclass(frozen=True)
class Difference:
    """One disagreement between the reference and the generated package."""

    where: str
    text: str
    explanation: str | None = None  # the schema backs our side; None: a real mismatch
    cause: str = ""  # short key of the explanation, one of CAUSES

    def __str__(self) -> str:
        return f"{self.where}: {self.text}"


#: The kinds of difference the schema explains; anything else fails.
CAUSES = {
    "first-2xx": "the reference types only the first 2xx response",
    "enum-as-any": "the reference turns allOf-wrapped enum properties into any-type",
    "nullable-wrapper": "the reference keeps None inside composed wrapper models",
    "readonly-composed": "the reference drops readOnly on composed properties",
    "null-enum": "the reference prints the None of NullEnum as 'null'",
    "name-collision": "the reference snake-cases two wire names onto one attribute name",
}


def unexplained(found: Iterable[Difference]) -> list[Difference]:
    return [d for d in found if d.explanation is None]


def report(found: Iterable[Difference]) -> str:
    """A readable listing: one line per difference, explained ones with their reason."""
    lines = []
    for d in found:
        lines.append(f"  {d}" + (f"\n      explained: {d.explanation}" if d.explanation else ""))
    return "\n".join(lines)


@functools.lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The CVAT 2.24.0 schema the client was generated from."""
    with SCHEMA.open(encoding="utf-8") as stream:
        document: dict[str, Any] = yaml.safe_load(stream)
    return document


def package() -> Any:
    from cvat_sdk import api_client

    return api_client


def tag_attribute(api_class: str) -> str:
    """``CloudstoragesApi`` -> ``cloudstorages_api`` (the ``ApiClient`` property)."""
    return snake_case(api_class.removesuffix("Api")) + "_api"


def model_classes() -> tuple[dict[str, type], list[Difference]]:
    """Every generated model class by name (interfaces ``I<Name>`` left out), and the names
    ``models`` exports but cannot load."""
    from cvat_sdk._runtime.model import EnumModel, EnumUnion, Model

    models = package().models
    found: dict[str, type] = {}
    broken: list[Difference] = []
    for name in models.__all__:
        try:
            value = getattr(models, name)
        except AttributeError as error:
            broken.append(Difference(f"models.{name}", f"exported but cannot be loaded: {error}"))
            continue
        if isinstance(value, type) and issubclass(value, (Model, EnumModel, EnumUnion)):
            found[name] = value
    return found, broken


# --- API classes and operations ----------------------------------------------------------
def api_class_differences(ref: Reference) -> list[Difference]:
    pkg = package()
    ours = set(pkg.apis.__all__)
    documented = set(ref.apis)
    found = [Difference(n, "API class missing") for n in sorted(documented - ours)]
    found += [Difference(n, "API class not in the reference") for n in sorted(ours - documented)]
    client = pkg.ApiClient(pkg.Configuration(host="http://localhost"))
    try:
        for name in sorted(documented & ours):
            cls = getattr(pkg.apis, name)
            attribute = tag_attribute(name)
            instance = getattr(client, attribute, None)
            if not isinstance(instance, cls):
                found.append(Difference(f"ApiClient.{attribute}", f"not a {name}: {instance!r}"))
    finally:
        client.close()
    return found


def _signature_differences(op: Operation, method: Any) -> list[Difference]:
    where = f"{op.api}.{op.name}"
    params = list(inspect.signature(method).parameters.values())[1:]  # without self
    named = [p for p in params if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
    found = []
    if not any(p.kind is p.VAR_KEYWORD for p in params):
        found.append(Difference(where, "does not accept **kwargs"))
    ours = [p.name for p in named]
    documented = [p.name for p in op.params]
    if ours != documented:
        found.append(Difference(where, f"parameters {ours}, documented {documented}"))
    by_name = {p.name: p for p in named}
    for doc_param in op.params:
        param = by_name.get(doc_param.name)
        if param is None:
            continue
        if doc_param.required:
            if param.kind is not param.POSITIONAL_OR_KEYWORD or param.default is not param.empty:
                found.append(
                    Difference(
                        f"{where}({doc_param.name})",
                        f"documented required positional, ours {param.kind.name} "
                        f"with default {param.default!r}",
                    )
                )
        elif param.default is not None:
            found.append(
                Difference(
                    f"{where}({doc_param.name})", f"optional, ours has default {param.default!r}"
                )
            )
    return found


def declared_results(responses: dict[str, str | None]) -> set[str]:
    """The specs of the declared 2xx bodies of an endpoint."""
    return {spec for status, spec in responses.items() if status.startswith("2") and spec}


def _schema_responses(op: Operation) -> dict[str, Any]:
    item = schema()["paths"].get(op.path) or {}
    responses: dict[str, Any] = (item.get(op.http_method.lower()) or {}).get("responses") or {}
    return {str(k): v for k, v in responses.items() if str(k).startswith("2")}


def _result_difference(op: Operation, responses: dict[str, str | None]) -> Difference | None:
    where = f"{op.api}.{op.name}"
    ours = declared_results(responses)
    if op.returns is not None:
        if op.returns in ours:
            return None
        return Difference(where, f"returns {op.returns_text} in the reference, ours {sorted(ours)}")
    if not ours:
        return None
    text = f"returns None in the reference, ours declares {responses}"
    in_schema = _schema_responses(op)
    first = min(in_schema, default=None)
    typed = sorted(s for s, r in in_schema.items() if r.get("content"))
    explanation = None
    if first is not None and not in_schema[first].get("content") and typed:
        explanation = (
            f"schema: {first} has no body, {', '.join(typed)} has one; the reference's "
            f"generator types only the first 2xx ({first}), ours types each status"
        )
    return Difference(where, text, explanation, "first-2xx" if explanation else "")


def operation_differences(ref: Reference) -> list[Difference]:
    """Signature, route and result type of every documented operation."""
    apis = package().apis
    found: list[Difference] = []
    for op in ref.operations:
        where = f"{op.api}.{op.name}"
        cls = getattr(apis, op.api, None)
        if cls is None:
            continue  # reported by api_class_differences
        method = getattr(cls, op.name, None)
        if method is None or not callable(method):
            found.append(Difference(where, "method missing"))
            continue
        found += _signature_differences(op, method)
        endpoint = getattr(cls, f"{op.name}_endpoint", None)
        if endpoint is None:
            found.append(Difference(where, f"no {op.name}_endpoint"))
            continue
        if (endpoint.http_method, endpoint.path) != (op.http_method, op.path):
            found.append(
                Difference(
                    where,
                    f"route {endpoint.http_method} {endpoint.path}, "
                    f"documented {op.http_method} {op.path}",
                )
            )
        result = _result_difference(op, endpoint.responses)
        if result is not None:
            found.append(result)
    for name in sorted(set(apis.__all__) & set(ref.apis)):
        cls = getattr(apis, name)
        ours = {a.removesuffix("_endpoint") for a in vars(cls) if a.endswith("_endpoint")}
        for extra in sorted(ours - set(ref.apis[name])):
            found.append(Difference(f"{name}.{extra}", "operation not in the reference"))
    return found


def parameter_type_differences(ref: Reference) -> list[Difference]:
    """The documented parameter tables against our parameter declarations."""
    apis = package().apis
    found: list[Difference] = []
    for op in ref.operations:
        endpoint = getattr(getattr(apis, op.api, None), f"{op.name}_endpoint", None)
        if endpoint is None:
            continue
        for row in op.param_rows:
            where = f"{op.api}.{op.name}({row.name})"
            param = endpoint.params.get(row.name)
            if param is None:
                found.append(Difference(where, "no such parameter in the endpoint"))
                continue
            if not same_type(row.spec, param.spec):
                text = f"type {row.type_text} ({row.spec}) documented, ours {param.spec}"
                found.append(Difference(where, text))
            if param.required == row.optional:
                found.append(Difference(where, f"required={param.required}, documented {row}"))
    return found


# --- models ------------------------------------------------------------------------------
def same_type(documented: str, ours: str) -> bool:
    """Equal specs; ``any`` already admits None, so ``any?`` is ``any``."""
    return documented == ours or {documented, ours} == {"any", "any?"}


def model_set_differences(ref: Reference, ours: dict[str, type]) -> list[Difference]:
    found = [Difference(n, "model missing") for n in sorted(set(ref.models) - set(ours))]
    found += [
        Difference(n, "model not in the reference") for n in sorted(set(ours) - set(ref.models))
    ]
    return found


def enum_differences(ref: Reference, ours: dict[str, type]) -> list[Difference]:
    """Documented enum values against ``_values`` and ``allowed_values``."""
    from cvat_sdk._runtime.model import EnumModel

    found: list[Difference] = []
    for name, doc in sorted(ref.models.items()):
        cls = ours.get(name)
        if cls is None:
            continue
        is_enum = issubclass(cls, EnumModel)
        if doc.enum_values is None:
            if is_enum:
                found.append(Difference(name, "an enum here, an object in the reference"))
            continue
        if not is_enum:
            found.append(Difference(name, "an enum in the reference, not here"))
            continue
        enum: Any = cls
        values = list(enum._values)
        documented: list[Any] = list(doc.enum_values)
        explanation = None
        if values == [None] and documented == ["null"]:
            documented = [None]
            explanation = "schema: enum [null]; the reference prints None as “null”"
        if values != documented:
            found.append(Difference(name, f"_values {values}, documented {documented}"))
        elif explanation:
            found.append(
                Difference(name, "value None documented as 'null'", explanation, "null-enum")
            )
        allowed = enum.allowed_values.get(("value",), {})
        if sorted(map(str, allowed.values())) != sorted(map(str, values)):
            found.append(
                Difference(
                    name, f"allowed_values {{('value',): {allowed!r}}} lose values of {values}"
                )
            )
    return found


def _property(model: str, field: str) -> dict[str, Any] | None:
    """The schema of a model's property, looking through single-``allOf`` wrapper models."""
    schemas = schema()["components"]["schemas"]
    node = schemas.get(model)
    while node is not None:
        props = node.get("properties") or {}
        if field in props:
            prop: dict[str, Any] = props[field]
            return prop
        members = node.get("allOf") or []
        ref = members[0].get("$ref", "") if len(members) == 1 else ""
        node = schemas.get(ref.rsplit("/", 1)[-1]) if ref else None
    return None


def _single_ref(prop: dict[str, Any]) -> str | None:
    members = prop.get("allOf") or []
    if len(members) != 1 or "$ref" not in members[0]:
        return None
    return str(members[0]["$ref"]).rsplit("/", 1)[-1]


def _type_difference(where: str, model: str, row: Row, wire: str, ours: str) -> Difference:
    text = f"type {row.type_text!r} ({row.spec}) documented, ours {ours}"
    prop = _property(model, wire)
    if prop is None:
        return Difference(where, text)
    schemas = schema()["components"]["schemas"]
    ref = _single_ref(prop)
    if row.spec == "any" and ref and "enum" in schemas.get(ref, {}) and ours == ref:
        why = (
            f"schema: allOf [{ref}] with readOnly/description; the reference's generator "
            "turned this enum property into any-type, ours keeps the enum"
        )
        return Difference(where, text, why, "enum-as-any")
    composed = "allOf" in prop or "oneOf" in prop or "anyOf" in prop
    if ours == row.spec + "?" and prop.get("nullable") and composed:
        why = (
            "schema: nullable composed property; the reference keeps None inside the "
            f"wrapper {row.spec}, ours puts it on the field ({ours})"
        )
        return Difference(where, text, why, "nullable-wrapper")
    return Difference(where, text)


def _readonly_difference(where: str, model: str, row: Row, field: Any) -> Difference:
    text = f"read_only={field.read_only}, documented readonly={row.readonly}"
    prop = _property(model, field.wire)
    if prop is None or bool(prop.get("readOnly")) != field.read_only:
        return Difference(where, text)
    if "allOf" in prop or "oneOf" in prop or "anyOf" in prop:
        why = (
            f"schema: readOnly={field.read_only} on a composed (allOf/oneOf) property; "
            "the reference's generator drops readOnly there"
        )
        return Difference(where, text, why, "readonly-composed")
    return Difference(where, text)


def field_differences(ref: Reference, ours: dict[str, type]) -> list[Difference]:
    """Documented properties against ``Model._fields``: presence, flags and types."""
    found: list[Difference] = []
    for name, doc in sorted(ref.models.items()):
        cls = ours.get(name)
        if cls is None or doc.enum_values is not None:
            continue
        fields = {f.name: f for f in getattr(cls, "_fields", ())}
        seen: set[str] = set()
        for row in doc.rows:
            where = f"{name}.{row.name}"
            field = fields.get(row.name)
            if field is None or field.name in seen:
                field = _renamed(fields, row.name, seen)
            if field is None:
                found.append(Difference(where, "field missing"))
                continue
            seen.add(field.name)
            if field.name != row.name:
                text = (
                    f"documented as {row.name!r} (snake_case of the wire name), "
                    f"ours {field.name!r} (wire name {field.wire!r})"
                )
                found.append(_rename_difference(where, name, text, row.name, fields))
            if field.required == row.optional:
                flag = "[optional]" if row.optional else "required"
                found.append(Difference(where, f"required={field.required}, documented {flag}"))
            if field.read_only != row.readonly:
                found.append(_readonly_difference(where, name, row, field))
            if not same_type(row.spec, field.spec):
                found.append(_type_difference(where, name, row, field.wire, field.spec))
        for extra in sorted(set(fields) - seen):
            found.append(Difference(f"{name}.{extra}", "field not in the reference"))
    return found


def _rename_difference(
    where: str, model: str, text: str, doc_name: str, fields: dict[str, Any]
) -> Difference:
    """A field the reference names by the snake_case of its wire name. Explained only when that
    name is another property's wire name too: the reference lists the name twice."""
    other = fields.get(doc_name)
    if other is not None and _property(model, other.wire) is not None:
        why = (
            f"schema: properties {other.wire!r} and {_colliding_wire(fields, doc_name)!r} both "
            f"snake-case to {doc_name!r}; the reference lists that name twice, ours keeps "
            "the wire names apart"
        )
        return Difference(where, text, why, "name-collision")
    return Difference(where, text)


def _colliding_wire(fields: dict[str, Any], doc_name: str) -> str:
    """The wire name of the field (other than ``doc_name`` itself) that snake-cases to it."""
    return next(
        str(f.wire)
        for f in fields.values()
        if f.name != doc_name and snake_case(f.wire) == doc_name
    )


def _renamed(fields: dict[str, Any], doc_name: str, seen: set[str]) -> Any:
    """A field not yet matched whose wire name snake-cases to ``doc_name`` (``convMaskToPoly``)."""
    for field in fields.values():
        if field.name not in seen and field.name != doc_name and snake_case(field.wire) == doc_name:
            return field
    return None
