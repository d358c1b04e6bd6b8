"""Rectangles from a torchvision object detection model (``pip install "cvat-sdk[pytorch]"``).

    create("fasterrcnn_resnet50_fpn_v2", "DEFAULT", box_score_thresh=0.5)

Extra keyword arguments go to the model's constructor.
"""

from __future__ import annotations

from typing import Any

import cvat_sdk.auto_annotation as cvataa
from cvat_sdk.auto_annotation.functions._torchvision import TorchvisionFunction

__all__ = ["create"]


class _Detection(TorchvisionFunction):
    @property
    def spec(self) -> cvataa.DetectionFunctionSpec:
        return cvataa.DetectionFunctionSpec(
            labels=[cvataa.label_spec(name, i, type="rectangle") for i, name in self._categories()]
        )

    def detect(self, context: cvataa.DetectionFunctionContext, image: Any) -> list[Any]:
        threshold = context.conf_threshold or 0.0
        known = {i for i, _ in self._categories()}
        result = self._run(image)
        return [
            cvataa.rectangle(int(label), [float(v) for v in box])
            for box, label, score in zip(
                result["boxes"], result["labels"], result["scores"], strict=True
            )
            if float(score) >= threshold and int(label) in known
        ]


def create(model_name: str, weights_name: str | None = "DEFAULT", **kwargs: Any) -> _Detection:
    """The function for torchvision model ``model_name`` with weights ``weights_name``."""
    return _Detection(model_name, weights_name, **kwargs)
