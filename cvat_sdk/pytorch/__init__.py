"""CVAT tasks and projects as PyTorch datasets (``pip install "cvat-sdk[pytorch]"``).

Samples are ``(PIL image, Target)`` before transforms. The data comes from the local cache
of :mod:`cvat_sdk.datasets`, brought up to date when a dataset is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cvat_sdk._optional import require

if not TYPE_CHECKING:
    require("torch", "pytorch", "cvat_sdk.pytorch")
    require("PIL.Image", "pytorch", "cvat_sdk.pytorch")

from cvat_sdk.datasets import UpdatePolicy
from cvat_sdk.pytorch.common import Target
from cvat_sdk.pytorch.project_dataset import ProjectVisionDataset
from cvat_sdk.pytorch.task_dataset import TaskVisionDataset
from cvat_sdk.pytorch.transforms import (
    BoundingBoxes,
    ExtractBoundingBoxes,
    ExtractInstanceMasks,
    ExtractSingleLabelIndex,
    InstanceMasks,
)

__all__ = [
    "BoundingBoxes",
    "ExtractBoundingBoxes",
    "ExtractInstanceMasks",
    "ExtractSingleLabelIndex",
    "InstanceMasks",
    "ProjectVisionDataset",
    "Target",
    "TaskVisionDataset",
    "UpdatePolicy",
]
