"""Auto-annotation: run a detection function over a task's frames and upload its shapes.

The driver decodes frames with Pillow (``pip install "cvat-sdk[pytorch]"``); the predefined
functions in ``cvat_sdk.auto_annotation.functions`` need torchvision.
"""

from __future__ import annotations

from cvat_sdk.auto_annotation.driver import annotate_task
from cvat_sdk.auto_annotation.interface import (
    BadFunctionError,
    DetectionFunction,
    DetectionFunctionContext,
    DetectionFunctionSpec,
    keypoint,
    keypoint_spec,
    label_spec,
    mask,
    polygon,
    rectangle,
    shape,
    skeleton,
    skeleton_label_spec,
)
from cvat_sdk.auto_annotation.loading import load_function, parse_function_parameter

__all__ = [
    "BadFunctionError",
    "DetectionFunction",
    "DetectionFunctionContext",
    "DetectionFunctionSpec",
    "annotate_task",
    "keypoint",
    "keypoint_spec",
    "label_spec",
    "load_function",
    "mask",
    "parse_function_parameter",
    "polygon",
    "rectangle",
    "shape",
    "skeleton",
    "skeleton_label_spec",
]
