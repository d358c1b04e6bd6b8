"""Python names for schema names: one place, so generator and tests agree."""

from __future__ import annotations

import keyword
import re

_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_IDENTIFIER = re.compile(r"[^0-9a-zA-Z_]+")


def camel_case(name: str) -> str:
    """``target_storage`` -> ``TargetStorage``."""
    return "".join(
        part[:1].upper() + part[1:] for part in _NOT_IDENTIFIER.sub("_", name).split("_")
    )


def snake_case(name: str) -> str:
    """``TaskWriteRequest`` -> ``task_write_request``; ``X-Organization`` -> ``x_organization``."""
    name = _WORD_BOUNDARY.sub("_", name)
    return _NOT_IDENTIFIER.sub("_", name).strip("_").lower()


def python_name(name: str) -> str:
    """A safe identifier for a wire name; keywords get a leading underscore (``_from``)."""
    candidate = snake_case(name) if not name.isidentifier() else name
    if keyword.iskeyword(candidate) or candidate in ("self",):
        return "_" + candidate
    if candidate[:1].isdigit():
        return "_" + candidate
    return candidate


def api_class_name(tag: str) -> str:
    return camel_case(tag) + "Api"


def api_attribute_name(tag: str) -> str:
    return snake_case(tag) + "_api"


def method_name(operation_id: str, tag: str) -> str:
    """operationId without its tag prefix: ``tasks_create_data`` -> ``create_data``."""
    prefix = snake_case(tag) + "_"
    operation = snake_case(operation_id)
    return operation[len(prefix) :] if operation.startswith(prefix) else operation
