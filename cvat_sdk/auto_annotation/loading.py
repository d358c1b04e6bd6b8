"""Loading a detection function by module name or file, as the CLI's auto-annotate does.

A module is the function itself when it defines ``spec`` and ``detect``; a module with a
``create(**parameters)`` factory is called with the parameters given (``-p name=type:value``).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cvat_sdk.auto_annotation.interface import BadFunctionError, DetectionFunction

__all__ = ["load_function", "parse_function_parameter"]


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "1", "on"):
        return True
    if lowered in ("false", "no", "0", "off"):
        return False
    raise ValueError(f"not a boolean: {text!r}")


_TYPES: dict[str, Any] = {"str": str, "int": int, "float": float, "bool": _boolean}


def parse_function_parameter(text: str) -> tuple[str, Any]:
    """``"name=type:value"`` (type ``str``, ``int``, ``float`` or ``bool``) -> (name, value).

    Raises:
        ValueError: the text is not of that form, or the value is not of its type.
    """
    name, sep, typed = text.partition("=")
    kind, colon, value = typed.partition(":")
    if not sep or not colon or not name.isidentifier():
        raise ValueError(f"function parameter {text!r}: expected NAME=TYPE:VALUE")
    convert = _TYPES.get(kind)
    if convert is None:
        raise ValueError(
            f"function parameter {name!r}: unknown type {kind!r} (use {', '.join(_TYPES)})"
        )
    try:
        return name, convert(value)
    except ValueError:
        raise ValueError(f"function parameter {name!r}: {value!r} is not a {kind}") from None


def load_function(
    *,
    function_module: str | None = None,
    function_file: str | Path | None = None,
    parameters: Mapping[str, Any] | None = None,
) -> DetectionFunction:
    """The detection function a module (by import name) or a Python file defines.

    Raises:
        ValueError: neither or both of ``function_module`` and ``function_file``; parameters
            for a module without ``create``.
        BadFunctionError: the module has neither ``create`` nor ``spec`` and ``detect``.
    """
    if (function_module is None) == (function_file is None):
        raise ValueError("give exactly one of function_module and function_file")
    if function_module is not None:
        module = importlib.import_module(function_module)
        origin = function_module
    else:
        path = Path(function_file)  # type: ignore[arg-type]
        if not path.is_file():
            raise ValueError(f"function_file: {path} is not a file")
        name = f"_cvat_function_{abs(hash(str(path.resolve())))}"
        loader_spec = importlib.util.spec_from_file_location(name, path)
        if loader_spec is None or loader_spec.loader is None:
            raise ValueError(f"function_file: {path} cannot be loaded as a Python module")
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[name] = module
        loader_spec.loader.exec_module(module)
        origin = str(path)
    given = dict(parameters or {})
    create = getattr(module, "create", None)
    if callable(create):
        function: DetectionFunction = create(**given)
        return function
    if given:
        raise ValueError(f"{origin} defines no create() function, so it takes no parameters")
    if not hasattr(module, "spec") or not callable(getattr(module, "detect", None)):
        raise BadFunctionError(f"{origin} defines neither create() nor spec and detect()")
    found: Any = module  # a module with spec and detect is the function itself
    return found  # type: ignore[no-any-return]
