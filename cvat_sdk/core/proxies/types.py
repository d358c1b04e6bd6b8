"""Small shared types of the high-level layer."""

from __future__ import annotations

import enum

__all__ = ["Location"]


class Location(str, enum.Enum):
    """Where an export goes or an import comes from: this machine or a cloud storage."""

    LOCAL = "local"
    CLOUD_STORAGE = "cloud_storage"
