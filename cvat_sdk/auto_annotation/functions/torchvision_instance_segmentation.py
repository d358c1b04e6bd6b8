"""Masks (or polygons, with ``conv_mask_to_poly``) from a torchvision instance segmentation
model (``pip install "cvat-sdk[pytorch]"``).

    create("maskrcnn_resnet50_fpn_v2", "DEFAULT", box_score_thresh=0.5)
"""

from __future__ import annotations

import math
from typing import Any

import cvat_sdk.auto_annotation as cvataa
from cvat_sdk.auto_annotation.functions._torchvision import TorchvisionFunction
from cvat_sdk.masks import encode_mask

__all__ = ["create"]

#: Polygons keep at most this many vertices.
MAX_POLYGON_POINTS = 200

# the 8 neighbours, clockwise from west (y grows downwards)
_RING = ((-1, 0), (-1, -1), (0, -1), (1, -1), (1, 0), (1, 1), (0, 1), (-1, 1))


def _outline(bitmap: Any) -> list[tuple[int, int]]:
    """The outer boundary pixels of the topmost component of ``bitmap`` (Moore tracing)."""
    import numpy as np

    ys, xs = np.nonzero(bitmap)
    if not len(xs):
        return []
    first = int(np.lexsort((xs, ys))[0])
    start = (int(xs[first]), int(ys[first]))
    height, width = bitmap.shape

    def on(x: int, y: int) -> bool:
        return 0 <= x < width and 0 <= y < height and bool(bitmap[y, x])

    contour = [start]
    current, back = start, 0  # the west neighbour of the first pixel is background
    for _ in range(4 * bitmap.size):
        for step in range(1, 9):
            direction = (back + step) % 8
            dx, dy = _RING[direction]
            candidate = (current[0] + dx, current[1] + dy)
            if on(*candidate):
                px, py = _RING[(back + step - 1) % 8]
                previous = (current[0] + px, current[1] + py)
                back = _RING.index((previous[0] - candidate[0], previous[1] - candidate[1]))
                current = candidate
                break
        else:
            return contour  # a single pixel
        if current == start:
            return contour
        contour.append(current)
    return contour


class _Segmentation(TorchvisionFunction):
    @property
    def spec(self) -> cvataa.DetectionFunctionSpec:
        return cvataa.DetectionFunctionSpec(
            labels=[cvataa.label_spec(name, i, type="mask") for i, name in self._categories()]
        )

    def detect(self, context: cvataa.DetectionFunctionContext, image: Any) -> list[Any]:
        threshold = context.conf_threshold or 0.0
        known = {i for i, _ in self._categories()}
        result = self._run(image)
        shapes = []
        for box, mask, label, score in zip(
            result["boxes"], result["masks"], result["labels"], result["scores"], strict=True
        ):
            if float(score) < threshold or int(label) not in known:
                continue
            bitmap = (mask[0] >= 0.5).numpy()
            if not bitmap.any():
                continue
            if context.conv_mask_to_poly:
                outline = _outline(bitmap)
                if len(outline) < 3:
                    continue
                stride = math.ceil(len(outline) / MAX_POLYGON_POINTS)
                points = [float(v) for xy in outline[::stride] for v in xy]
                shapes.append(cvataa.polygon(int(label), points))
            else:
                ys, xs = bitmap.nonzero()
                bbox = [int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())]
                del box  # the mask's own extent is tighter than the detector's box
                shapes.append(cvataa.mask(int(label), encode_mask(bitmap, bbox)))
        return shapes


def create(model_name: str, weights_name: str | None = "DEFAULT", **kwargs: Any) -> _Segmentation:
    """The function for torchvision model ``model_name`` with weights ``weights_name``."""
    return _Segmentation(model_name, weights_name, **kwargs)
