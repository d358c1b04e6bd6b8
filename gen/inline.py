"""Naming the inline composed schemas of model properties.

CVAT's schemas wrap references in ``allOf``/``oneOf`` to add ``nullable`` or to offer a
``NullEnum`` alternative. The SDK exposes such wrappers as models of their own, named
``<Model><Property>`` in CamelCase; identical wrappers share the first name given (models in
schema order). A single-reference ``allOf`` to an enum that adds nothing but documentation
flags is no wrapper: the property simply has the enum's type.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from gen.naming import camel_case

_COMPOSITION_KEYS = ("allOf", "oneOf", "anyOf")


def _ref_name(node: dict[str, Any]) -> str | None:
    ref = node.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _is_enum(schemas: dict[str, Any], name: str | None) -> bool:
    return name is not None and "enum" in schemas.get(name, {})


def needs_wrapper(schemas: dict[str, Any], prop: dict[str, Any]) -> bool:
    """Whether a property schema becomes a named wrapper model."""
    if not any(key in prop for key in _COMPOSITION_KEYS):
        return False
    if "allOf" in prop and len(prop["allOf"]) == 1 and not prop.get("nullable"):
        return not _is_enum(schemas, _ref_name(prop["allOf"][0]))
    return True


def _wrapper_key(prop: dict[str, Any]) -> str:
    """Identity of a wrapper: its structure, with documentation text left out."""
    meaningful = {k: v for k, v in prop.items() if k not in ("description", "title", "example")}
    return json.dumps(meaningful, sort_keys=True)


def hoist_wrappers(document: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of the schema whose property wrappers are named component schemas.

    The property keeps its flags (nullable, readOnly, ...) and points at the new component
    through a single-item ``allOf``.
    """
    document = copy.deepcopy(document)
    schemas: dict[str, Any] = document["components"]["schemas"]
    named: dict[str, str] = {}
    hoisted: dict[str, Any] = {}
    for model_name, model in list(schemas.items()):
        for prop_name, prop in (model.get("properties") or {}).items():
            if not needs_wrapper(schemas, prop):
                continue
            key = _wrapper_key(prop)
            wrapper_name = named.get(key)
            if wrapper_name is None:
                wrapper_name = model_name + camel_case(prop_name)
                if wrapper_name in schemas or wrapper_name in hoisted:
                    raise ValueError(f"wrapper name {wrapper_name} clashes with a schema")
                named[key] = wrapper_name
                body = {k: v for k, v in prop.items() if k in (*_COMPOSITION_KEYS, "nullable")}
                hoisted[wrapper_name] = body | {"x-py-wrapper": True}
            flags = {k: v for k, v in prop.items() if k not in _COMPOSITION_KEYS}
            model["properties"][prop_name] = flags | {
                "allOf": [{"$ref": f"#/components/schemas/{wrapper_name}"}]
            }
    schemas.update(hoisted)
    document["components"]["schemas"] = dict(sorted(schemas.items()))
    return document
