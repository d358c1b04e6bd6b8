"""Target transforms for the common tasks: classification, detection, instance segmentation."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypedDict

import torch

from cvat_sdk.pytorch.common import Target

if TYPE_CHECKING:
    import PIL.Image

__all__ = [
    "BoundingBoxes",
    "ExtractBoundingBoxes",
    "ExtractInstanceMasks",
    "ExtractSingleLabelIndex",
    "InstanceMasks",
]

_BOX_SHAPE_TYPES = frozenset({"ellipse", "points", "polygon", "polyline", "rectangle"})


class ExtractSingleLabelIndex:
    """For classification: the index of the frame's only tag, as a 0-dimensional tensor.

    Raises ``ValueError`` when the frame has no tag or more than one.
    """

    def __call__(self, target: Target) -> torch.Tensor:
        tags = target.annotations.tags
        if len(tags) != 1:
            raise ValueError(f"expected exactly one tag on the frame, found {len(tags)}")
        return torch.tensor(target.label_id_to_index[int(tags[0].label_id)], dtype=torch.long)


class BoundingBoxes(TypedDict):
    boxes: torch.Tensor  # float, N x 4: x_min, y_min, x_max, y_max
    labels: torch.Tensor  # int64, N: label indices


def _corners(shape: Any) -> list[tuple[float, float]]:
    """The points whose bounding box is the shape's, with ellipses and rotation applied."""
    points = [float(v) for v in shape.points]
    kind = str(shape.type)
    if kind == "ellipse":  # center, then the point (center x + rx, center y - ry)
        cx, cy, right, top = points[:4]
        rx, ry = abs(right - cx), abs(cy - top)
        angle = math.radians(float(shape.get("rotation") or 0))
        if angle:
            # the extremes of a rotated ellipse along each axis
            half_w = math.hypot(rx * math.cos(angle), ry * math.sin(angle))
            half_h = math.hypot(rx * math.sin(angle), ry * math.cos(angle))
        else:
            half_w, half_h = rx, ry
        return [(cx - half_w, cy - half_h), (cx + half_w, cy + half_h)]
    xy = list(zip(points[0::2], points[1::2], strict=False))
    rotation = float(shape.get("rotation") or 0)
    if kind == "rectangle" and rotation:
        (x1, y1), (x2, y2) = xy[:2]
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        cos, sin = math.cos(math.radians(rotation)), math.sin(math.radians(rotation))
        xy = [
            (cx + (x - cx) * cos - (y - cy) * sin, cy + (x - cx) * sin + (y - cy) * cos)
            for x, y in ((x1, y1), (x2, y1), (x2, y2), (x1, y2))
        ]
    return xy


class ExtractBoundingBoxes:
    """For detection: ``{"boxes": N x 4 float tensor, "labels": N int64 tensor}`` of the
    frame's shapes whose type is in ``include_shape_types``.

    Boxes are ``[x_min, y_min, x_max, y_max]`` around the shape as drawn: rotation of
    rectangles and ellipses is taken into account, and an ellipse's box is around the
    ellipse (not its two defining points).
    """

    def __init__(self, *, include_shape_types: Iterable[str]) -> None:
        if isinstance(include_shape_types, str):
            raise TypeError("include_shape_types: expected a collection of shape types")
        types = frozenset(include_shape_types)
        unknown = sorted(types - _BOX_SHAPE_TYPES)
        if unknown:
            raise ValueError(
                f"include_shape_types: unsupported {unknown}; choose from "
                f"{sorted(_BOX_SHAPE_TYPES)}"
            )
        self._types = types

    def __call__(self, target: Target) -> BoundingBoxes:
        boxes: list[list[float]] = []
        labels: list[int] = []
        for shape in target.annotations.shapes:
            if str(shape.type) not in self._types:
                continue
            xy = _corners(shape)
            xs, ys = [p[0] for p in xy], [p[1] for p in xy]
            boxes.append([min(xs), min(ys), max(xs), max(ys)])
            labels.append(target.label_id_to_index[int(shape.label_id)])
        return BoundingBoxes(
            boxes=torch.tensor(boxes, dtype=torch.float).reshape(-1, 4),
            labels=torch.tensor(labels, dtype=torch.long),
        )


class InstanceMasks(TypedDict):
    masks: torch.Tensor  # bool, N x H x W
    labels: torch.Tensor  # int64, N


class ExtractInstanceMasks:
    """For instance segmentation: one ``H x W`` bool mask per mask, polygon, rectangle or
    ellipse shape, with its label index. Use it through ``transforms`` (it needs the image's
    size): ``transforms=ExtractInstanceMasks()`` returns ``(image, masks)``."""

    def __call__(self, image: PIL.Image.Image, target: Target) -> tuple[Any, InstanceMasks]:
        import numpy as np
        import PIL.Image
        import PIL.ImageDraw

        from cvat_sdk.masks import decode_mask

        width, height = image.size
        masks: list[Any] = []
        labels: list[int] = []
        for shape in target.annotations.shapes:
            kind = str(shape.type)
            points = [float(v) for v in shape.points]
            if kind == "mask":
                bitmap = decode_mask(points, image_width=width, image_height=height)
            elif kind in ("polygon", "rectangle", "ellipse"):
                canvas = PIL.Image.new("1", (width, height))
                draw = PIL.ImageDraw.Draw(canvas)
                if kind == "ellipse" and not shape.get("rotation"):
                    (x1, y1), (x2, y2) = _corners(shape)
                    draw.ellipse([x1, y1, x2, y2], fill=1)
                elif kind == "ellipse":
                    cx, cy, right, top = points[:4]
                    rx, ry = abs(right - cx), abs(cy - top)
                    angle = math.radians(float(shape.rotation))
                    outline = [
                        (
                            cx
                            + rx * math.cos(t) * math.cos(angle)
                            - ry * math.sin(t) * math.sin(angle),
                            cy
                            + rx * math.cos(t) * math.sin(angle)
                            + ry * math.sin(t) * math.cos(angle),
                        )
                        for t in (2 * math.pi * k / 72 for k in range(72))
                    ]
                    draw.polygon(outline, fill=1)
                elif kind == "rectangle":
                    corners = _corners(shape)
                    if len(corners) == 2:
                        (x1, y1), (x2, y2) = corners
                        draw.rectangle([x1, y1, x2, y2], fill=1)
                    else:
                        draw.polygon(corners, fill=1)
                else:
                    draw.polygon(list(zip(points[0::2], points[1::2], strict=False)), fill=1)
                bitmap = np.asarray(canvas, dtype=bool)
            else:
                continue
            masks.append(torch.from_numpy(np.array(bitmap, dtype=bool)))
            labels.append(target.label_id_to_index[int(shape.label_id)])
        stacked = torch.stack(masks) if masks else torch.zeros((0, height, width), dtype=torch.bool)
        return image, InstanceMasks(masks=stacked, labels=torch.tensor(labels, dtype=torch.long))
