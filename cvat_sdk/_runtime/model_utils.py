"""What ``cvat_sdk.api_client.model_utils`` offers: base classes and plain-data conversions."""

from __future__ import annotations

import io
from typing import Any

from cvat_sdk._runtime.model import (
    UNSET,
    EnumModel,
    EnumUnion,
    Model,
    UnionModel,
    to_json_data,
    to_plain,
)

#: Names other generators use for the same base classes.
OpenApiModel = Model
ModelNormal = Model
ModelComposed = UnionModel
ModelSimple = EnumModel

file_type = io.IOBase
none_type = type(None)


def to_dict(value: Any) -> Any:
    """Plain Python data of a model (or of lists and dicts of models)."""
    return to_plain(value)


def to_json(value: Any) -> Any:
    """JSON-ready data of a model: wire names, enum values, ISO 8601 dates."""
    return to_json_data(value)


__all__ = [
    "UNSET",
    "EnumModel",
    "EnumUnion",
    "Model",
    "ModelComposed",
    "ModelNormal",
    "ModelSimple",
    "OpenApiModel",
    "UnionModel",
    "file_type",
    "none_type",
    "to_dict",
    "to_json",
]
