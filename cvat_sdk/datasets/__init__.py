"""Tasks as sequences of samples (frame, annotations, image), cached on the local disk.

Decoding images needs Pillow (``pip install "cvat-sdk[pytorch]"``); it is imported only when
an image is loaded.
"""

from __future__ import annotations

from cvat_sdk.datasets.task_dataset import (
    CacheMissError,
    FrameAnnotations,
    MediaElement,
    Sample,
    TaskDataset,
    UnsupportedDatasetError,
    UpdatePolicy,
)

__all__ = [
    "CacheMissError",
    "FrameAnnotations",
    "MediaElement",
    "Sample",
    "TaskDataset",
    "UnsupportedDatasetError",
    "UpdatePolicy",
]
