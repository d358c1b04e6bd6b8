"""Imports of the optional extras (numpy, Pillow, torch...), with an error that names the extra.

Only the adapter packages call this, so ``import cvat_sdk`` never loads them.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["MissingExtraError", "require"]

#: Import names whose distribution is named otherwise.
_DISTRIBUTIONS = {"PIL": "pillow"}


class MissingExtraError(ImportError):
    """An optional dependency of an adapter is not installed."""


def require(module: str, extra: str, user: str) -> ModuleType:
    """``import module``, or fail with the ``pip install`` line that brings it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        top = module.split(".", maxsplit=1)[0]
        top = _DISTRIBUTIONS.get(top, top)
        raise MissingExtraError(
            f'{user} needs {top}, which is not installed: pip install "cvat-sdk[{extra}]"',
            name=top,
        ) from error
