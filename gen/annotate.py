"""Compute every declaration the templates print and attach it as ``x-py`` vendor extensions.

Templates stay thin: they loop over ready-made lists (fields, parameters, imports) and print
them. Everything that needs a decision (types, names, parameter order, which models a module
imports) is decided here, in Python that is tested.
"""

from __future__ import annotations

import copy
from typing import Any

from gen.inline import hoist_wrappers
from gen.naming import api_attribute_name, api_class_name, method_name, python_name, snake_case
from gen.types import (
    MODELS_PACKAGE,
    TypeInfo,
    TypeMapper,
    model_kind,
    model_module,
    or_none,
    ref_name,
)

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
JSON_TYPES = ("application/json", "application/vnd.cvat+json")
_CONSTRAINTS = {
    "minLength": "min_length",
    "maxLength": "max_length",
    "minimum": "minimum",
    "maximum": "maximum",
    "pattern": "pattern",
}


def _first_line(text: str | None) -> str:
    for raw in (text or "").strip().splitlines():
        line = raw.strip().strip("*").strip()
        if line:
            return line.replace('"""', "'''").replace("\\", "\\\\")
    return ""


def _property_names(wires: list[str]) -> dict[str, str]:
    """Python names of a model's properties: snake_case (``GIT_INTEGRATION`` ->
    ``git_integration``), except where that would collide with another property's name."""
    taken = {python_name(w) for w in wires if python_name(snake_case(w)) == python_name(w)}
    names = {}
    for wire in wires:
        snake = python_name(snake_case(wire))
        clash = snake != python_name(wire) and snake in taken
        names[wire] = python_name(wire) if clash else snake
        taken.add(names[wire])
    return names


def _model_description(name: str, schema: dict[str, Any]) -> str:
    text = _first_line(schema.get("description"))
    if "enum" in schema:  # drf-spectacular describes enums as a "* `value` - NAME" list
        return f"{name}: one of {len(schema['enum'])} values."
    return text or f"The {name} model."


def _literal(value: Any) -> str:
    return repr(value)


def _constraints(node: dict[str, Any]) -> str:
    """Schema constraints as keyword arguments (``, min_length=1``) for request validation;
    those of a list's items (written inline) as ``items={...}``."""
    parts = [f", {py}={_literal(node[key])}" for key, py in _CONSTRAINTS.items() if key in node]
    items = _item_constraints(node)
    if items:
        parts.append(f", items={_literal(items)}")
    return "".join(parts)


def _item_constraints(node: dict[str, Any]) -> dict[str, Any]:
    item = node.get("items")
    if node.get("type") != "array" or not isinstance(item, dict) or "$ref" in item:
        return {}
    found: dict[str, Any] = {py: item[key] for key, py in _CONSTRAINTS.items() if key in item}
    nested = _item_constraints(item)
    if nested:
        found["items"] = nested
    return found


def _imports(models: set[str], own: str | None = None) -> list[dict[str, str]]:
    return [
        {"module": f"{MODELS_PACKAGE}.{model_module(name)}", "name": name}
        for name in sorted(models)
        if name != own
    ]


def type_only_imports(
    models: set[str], annotations: list[str], own: str | None = None
) -> list[str]:
    """The import lines annotations need (under ``TYPE_CHECKING``: none at run time)."""
    words = set(" ".join(annotations).replace("[", " ").replace("]", " ").replace(",", " ").split())
    lines = []
    if any(w.startswith("datetime.") for w in words):
        lines.append("import datetime")
    if "IO" in words:
        lines.append("from typing import IO")
    referenced = {m for m in models if m in words}
    lines += [f"from {i['module']} import {i['name']}" for i in _imports(referenced, own)]
    return lines


class Annotator:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.schemas: dict[str, Any] = document["components"]["schemas"]
        self.types = TypeMapper(self.schemas)

    # --- models -------------------------------------------------------------------------
    def object_fields(self, name: str) -> list[dict[str, Any]]:
        """Fields of an object model, or the union of its members' fields for composed ones."""
        schema = self.schemas[name]
        kind = model_kind(self.schemas, name)
        if kind in ("union", "alias"):
            merged: dict[str, dict[str, Any]] = {}
            members = schema.get("allOf") or schema.get("oneOf") or schema.get("anyOf") or []
            for member in members:
                member_name = ref_name(member)
                if member_name is None or model_kind(self.schemas, member_name) == "enum":
                    continue
                for item in self.object_fields(member_name):
                    merged.setdefault(
                        item["name"], item | {"required": kind == "alias" and item["required"]}
                    )
            return list(merged.values())
        required = set(schema.get("required") or [])
        fields = []
        names = _property_names(list(schema.get("properties") or {}))
        for wire, prop in (schema.get("properties") or {}).items():
            info = self.types.of(prop)
            fields.append(
                {
                    "name": names[wire],
                    "wire": wire,
                    "spec": info.spec,
                    "hint": info.hint,
                    "arg": info.arg,
                    "models": info.models,
                    "required": wire in required,
                    "read_only": bool(prop.get("readOnly")),
                    "write_only": bool(prop.get("writeOnly")),
                    "description": _first_line(prop.get("description")),
                    "constraints": _constraints(prop),
                }
            )
        return fields

    def model_declaration(self, name: str) -> dict[str, Any]:
        schema = self.schemas[name]
        kind = model_kind(self.schemas, name)
        decl: dict[str, Any] = {
            "kind": kind,
            "is_" + kind: True,
            "description": _model_description(name, schema),
        }
        used: set[str] = set()
        if kind == "enum":
            decl["values"] = [{"value": _literal(v)} for v in schema["enum"]]
        elif kind == "enum_union":
            members = [ref_name(m) for m in schema.get("oneOf") or schema.get("allOf") or []]
            decl["members"] = [{"name": m} for m in members if m]
            decl["members_literal"] = _literal(tuple(m for m in members if m))
            decl["nullable"] = bool(schema.get("nullable"))
            used.update(m for m in members if m)
        else:
            fields = self.object_fields(name)
            if kind == "alias":
                base = ref_name((schema.get("allOf") or [{}])[0])
                decl["base"] = base
                decl["base_module"] = model_module(str(base))
            if kind == "union":
                alternatives: list[dict[str, Any]] = (
                    schema.get("oneOf") or schema.get("anyOf") or []
                )
                specs = [self.types.of(m).spec for m in alternatives]
                decl["members_literal"] = _literal(tuple(specs))
                used.update(n for m in alternatives if (n := ref_name(m)))
            for item in fields:
                used.update(item.pop("models"))
                item["field_args"] = self._field_args(item)
            # required, writable fields may be given positionally, in declaration order
            positional = [f for f in fields if f["required"] and not f["read_only"]]
            keyword = [f for f in fields if f not in positional]
            decl.update(
                fields=fields,
                has_fields=bool(fields),
                positional=positional,
                keyword=keyword,
                has_keyword=bool(keyword),
            )
        hints = [f[k] for f in decl.get("fields", []) for k in ("hint", "arg")]
        decl["type_imports"] = type_only_imports(used, hints, own=name)
        return decl

    @staticmethod
    def _field_args(item: dict[str, Any]) -> str:
        args = [_literal(item["name"]), _literal(item["spec"])]
        if item["wire"] != item["name"]:
            args.append(f"wire={_literal(item['wire'])}")
        for flag in ("required", "read_only", "write_only"):
            if item[flag]:
                args.append(f"{flag}=True")
        return ", ".join(args) + str(item["constraints"])

    # --- operations ---------------------------------------------------------------------
    def _body(
        self, operation: dict[str, Any], op_id: str
    ) -> tuple[list[dict[str, Any]], list[str]]:
        body = operation.get("requestBody")
        if not body:
            return [], []
        content: dict[str, Any] = body.get("content") or {}
        content_types = list(content)
        schema = next(iter(content.values())).get("schema") or {}
        name = ref_name(schema)
        if name is not None:
            info = self.types.of(schema)
            return [
                self._param(
                    snake_case(name), name, "body", info, bool(body.get("required")), schema
                )
            ], content_types
        # an inline form: each property becomes a parameter of its own
        required = set(schema.get("required") or [])
        params = []
        for wire, prop in (schema.get("properties") or {}).items():
            params.append(
                self._param(
                    python_name(wire), wire, "form", self.types.of(prop), wire in required, prop
                )
            )
        return params, content_types

    def _param(
        self,
        name: str,
        wire: str,
        where: str,
        info: TypeInfo,
        required: bool,
        node: dict[str, Any],
        description: str = "",
        deprecated: bool = False,
    ) -> dict[str, Any]:
        enum = node.get("enum")
        args = [_literal(name), _literal(where), _literal(info.spec)]
        if wire != name and where != "body":
            args.append(f"wire={_literal(wire)}")
        if required:
            args.append("required=True")
        if enum:
            args.append(f"enum={_literal(tuple(enum))}")
        if deprecated:
            args.append("deprecated=True")
        return {
            "name": name,
            "arg": info.arg if required else or_none(info.arg),
            "required": required,
            "models": info.models,
            "param_args": ", ".join(args) + _constraints(node),
            "description": _first_line(description or node.get("description")),
        }

    def _responses(
        self, operation: dict[str, Any]
    ) -> tuple[dict[str, str | None], TypeInfo | None, list[str]]:
        returns: dict[str, str | None] = {}
        infos: list[TypeInfo | None] = []
        accept: list[str] = []
        for status, response in (operation.get("responses") or {}).items():
            if not str(status).startswith("2"):
                continue
            content = response.get("content") or {}
            accept += [m for m in content if m not in accept]
            media = next((c for c in content if c in JSON_TYPES), next(iter(content), None))
            if media is None:
                returns[str(status)] = None
                infos.append(None)
                continue
            info = self.types.of(content[media].get("schema") or {})
            returns[str(status)] = info.spec
            infos.append(info)
        accept.sort(key=lambda m: m not in JSON_TYPES and not m.endswith("+json"))
        typed = [i for i in infos if i is not None]
        if not typed:
            return returns, None, accept
        hint = " | ".join(dict.fromkeys("bytes" if i.spec == "file" else i.hint for i in typed))
        if len(typed) < len(infos):
            hint += " | None"
        models = frozenset().union(*(i.models for i in typed))
        return returns, TypeInfo("", hint, hint, models), accept

    def operation_declaration(
        self, path: str, method: str, operation: dict[str, Any]
    ) -> dict[str, Any]:
        tag = (operation.get("tags") or ["default"])[0]
        op_id = operation.get("operationId") or snake_case(f"{method} {path}")
        params = []
        for node in operation.get("parameters") or []:
            schema = node.get("schema") or {}
            params.append(
                self._param(
                    python_name(node["name"]),
                    node["name"],
                    node["in"],
                    self.types.of(schema),
                    bool(node.get("required")),
                    schema,
                    node.get("description", ""),
                    bool(node.get("deprecated")),
                )
            )
        body_params, content_types = self._body(operation, op_id)
        ordered = [p for p in params if p["required"]] + [p for p in params if not p["required"]]
        ordered += [p for p in body_params if p["required"]] + [
            p for p in body_params if not p["required"]
        ]
        returns, result, accept = self._responses(operation)
        security = operation.get("security", self.document.get("security") or [])
        auth = sorted({scheme for requirement in security for scheme in requirement})
        used: set[str] = set()
        for p in ordered:
            used.update(p.pop("models"))
        if result is not None:
            used.update(result.models)
        responses = ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in returns.items())
        return {
            "tag": tag,
            "api_class": api_class_name(tag),
            "method": method_name(op_id, tag),
            "operation_id": op_id,
            "http_method": method.upper(),
            "path": path,
            "summary": ("Deprecated. " if operation.get("deprecated") else "")
            + _first_line(operation.get("summary") or operation.get("description")),
            "params": ordered,
            "positional": [p for p in ordered if p["required"]],
            "keyword": [p for p in ordered if not p["required"]],
            "has_keyword": any(not p["required"] for p in ordered),
            "responses_literal": "{" + responses + "}",
            "content_types_literal": _literal(tuple(content_types)),
            "accept_literal": _literal(tuple(accept)),
            "auth_literal": _literal(tuple(auth)),
            "result_hint": result.hint if result else "None",
            "models": sorted(used),
            "deprecated": bool(operation.get("deprecated")),
        }

    def annotate(self) -> dict[str, Any]:
        for name in self.schemas:
            self.schemas[name]["x-py"] = self.model_declaration(name)
        per_api: dict[str, set[str]] = {}
        per_api_hints: dict[str, list[str]] = {}
        for path, item in self.document["paths"].items():
            for method in HTTP_METHODS:
                operation = item.get(method)
                if operation is None:
                    continue
                if "parameters" in item:  # path-level parameters apply to every operation
                    known = {(p["name"], p["in"]) for p in operation.get("parameters") or []}
                    extra = [p for p in item["parameters"] if (p["name"], p["in"]) not in known]
                    operation["parameters"] = extra + list(operation.get("parameters") or [])
                decl = self.operation_declaration(path, method, operation)
                operation["x-py"] = decl
                operation["tags"] = [decl["tag"]]
                per_api.setdefault(decl["api_class"], set()).update(decl["models"])
                per_api_hints.setdefault(decl["api_class"], []).extend(
                    [p["arg"] for p in decl["params"]] + [decl["result_hint"]]
                )
        # module-level imports of an API file; the template prints them from its first operation
        for item in self.document["paths"].values():
            for method in HTTP_METHODS:
                if method in item:
                    decl = item[method]["x-py"]
                    decl["api_imports"] = type_only_imports(
                        per_api[decl["api_class"]], per_api_hints[decl["api_class"]]
                    )
        return self.document


def prepare(document: dict[str, Any]) -> dict[str, Any]:
    """The schema with named wrappers and every ``x-py`` declaration, ready for the templates."""
    return Annotator(hoist_wrappers(copy.deepcopy(document))).annotate()


def api_list(document: dict[str, Any]) -> list[dict[str, str]]:
    """The API groups of a prepared schema, sorted: class, module and attribute names."""
    tags = sorted(
        {
            op["x-py"]["tag"]
            for item in document["paths"].values()
            for method, op in item.items()
            if method in HTTP_METHODS
        }
    )
    return [
        {
            "class_name": api_class_name(tag),
            "module": snake_case(api_class_name(tag)),
            "attribute": api_attribute_name(tag),
        }
        for tag in tags
    ]


def auth_schemes(document: dict[str, Any]) -> list[dict[str, str]]:
    """The schema's security schemes as ``AuthScheme(...)`` argument lists, in schema order.

    ``http``/``basic`` and ``http``/``bearer`` go in the Authorization header; ``apiKey``
    schemes go where they say (header, cookie or query) under their name.
    """
    found = []
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    for name, scheme in schemes.items():
        kind = scheme.get("type")
        if kind == "http" and scheme.get("scheme", "").lower() in ("basic", "bearer"):
            style = scheme["scheme"].lower()
            args = [name, style, "header", "Authorization"]
        elif kind == "apiKey" and scheme.get("in") in ("header", "cookie", "query"):
            args = [name, "api_key", scheme["in"], scheme["name"]]
        else:
            continue  # oauth2/openIdConnect: not something a client script configures
        found.append({"name": name, "args": ", ".join(_literal(a) for a in args)})
    return found
