"""The generated models, under the documented name ``cvat_sdk.models``.

Each model loads on first use (as in ``cvat_sdk.api_client.models``), so importing this
module costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cvat_sdk.api_client.models import *  # noqa: F403


def __getattr__(name: str) -> Any:
    from cvat_sdk.api_client import models

    value = getattr(models, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    from cvat_sdk.api_client import models

    return list(models.__all__)
