"""Skeletons from a torchvision keypoint detection model (``pip install "cvat-sdk[pytorch]"``).

Keypoints the model marks invisible are sent as occluded.

    create("keypointrcnn_resnet50_fpn", "DEFAULT", box_score_thresh=0.5)
"""

from __future__ import annotations

from typing import Any

import cvat_sdk.auto_annotation as cvataa
from cvat_sdk.auto_annotation.functions._torchvision import TorchvisionFunction

__all__ = ["create"]


class _Keypoints(TorchvisionFunction):
    def __init__(self, model_name: str, weights_name: str | None = "DEFAULT", **kwargs: Any):
        super().__init__(model_name, weights_name, **kwargs)
        self._keypoint_names = [str(n) for n in self._meta.get("keypoint_names") or []]
        if not self._keypoint_names:
            raise ValueError(f"model_name: {model_name} is not a keypoint detection model")

    @property
    def spec(self) -> cvataa.DetectionFunctionSpec:
        return cvataa.DetectionFunctionSpec(
            labels=[
                cvataa.skeleton_label_spec(
                    name,
                    i,
                    [cvataa.keypoint_spec(k, j) for j, k in enumerate(self._keypoint_names)],
                )
                for i, name in self._categories()
            ]
        )

    def detect(self, context: cvataa.DetectionFunctionContext, image: Any) -> list[Any]:
        threshold = context.conf_threshold or 0.0
        known = {i for i, _ in self._categories()}
        result = self._run(image)
        return [
            cvataa.skeleton(
                int(label),
                [
                    cvataa.keypoint(j, [float(x), float(y)], occluded=not bool(visible))
                    for j, (x, y, visible) in enumerate(points.tolist())
                ],
            )
            for points, label, score in zip(
                result["keypoints"], result["labels"], result["scores"], strict=True
            )
            if float(score) >= threshold and int(label) in known
        ]


def create(model_name: str, weights_name: str | None = "DEFAULT", **kwargs: Any) -> _Keypoints:
    """The function for torchvision model ``model_name`` with weights ``weights_name``."""
    return _Keypoints(model_name, weights_name, **kwargs)
