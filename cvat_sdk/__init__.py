"""A client library for the CVAT REST API.

``cvat_sdk.api_client`` is generated from a CVAT server schema at install time; the helpers in
``cvat_sdk.core`` build multi-request workflows on it, ``cvat_sdk.core.client`` is the
high-level layer (``make_client``, ``Client``, repositories and entities), and
``cvat_sdk.testing`` offers an in-memory CVAT-compatible server for tests.

The high-level names load on first use, so ``import cvat_sdk`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cvat_sdk import exceptions as exceptions
    from cvat_sdk import models as models
    from cvat_sdk.core.client import Client as Client
    from cvat_sdk.core.client import Config as Config
    from cvat_sdk.core.client import make_client as make_client

#: Name -> (module, attribute; None for the module itself).
_LAZY: dict[str, tuple[str, str | None]] = {
    "Client": ("cvat_sdk.core.client", "Client"),
    "Config": ("cvat_sdk.core.client", "Config"),
    "make_client": ("cvat_sdk.core.client", "make_client"),
    "models": ("cvat_sdk.models", None),
    "exceptions": ("cvat_sdk.exceptions", None),
}

__all__ = ["Client", "Config", "exceptions", "make_client", "models"]


def __getattr__(name: str) -> Any:
    found = _LAZY.get(name)
    if found is None:
        raise AttributeError(f"module 'cvat_sdk' has no attribute {name!r}")
    module = importlib.import_module(found[0])
    value = module if found[1] is None else getattr(module, found[1])
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
