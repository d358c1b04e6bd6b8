"""The target transforms and transform rules on hand-made targets (no server)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from cvat_sdk.datasets import FrameAnnotations
from cvat_sdk.masks import encode_mask
from cvat_sdk.models import Label, LabeledImage, LabeledShape
from cvat_sdk.pytorch import (
    ExtractBoundingBoxes,
    ExtractInstanceMasks,
    ExtractSingleLabelIndex,
    Target,
)
from cvat_sdk.pytorch.common import apply_transforms, check_transforms, label_indices

INDEX = {10: 0, 20: 1}


def _shape(kind: str, points: list[float], label: int = 10, **extra: object) -> LabeledShape:
    return LabeledShape._from_wire(
        {
            "type": kind,
            "points": points,
            "label_id": label,
            "frame": 0,
            "group": 0,
            "source": "manual",
            "attributes": [],
            "occluded": False,
            "z_order": 0,
            **extra,
        }
    )


def _tag(label: int) -> LabeledImage:
    return LabeledImage._from_wire(
        {"label_id": label, "frame": 0, "group": 0, "source": "manual", "attributes": []}
    )


def _target(shapes: list[LabeledShape] = [], tags: list[LabeledImage] = []) -> Target:  # noqa: B006
    return Target(FrameAnnotations(tags=list(tags), shapes=list(shapes)), INDEX)


def test_bounding_boxes_of_each_shape_type() -> None:
    target = _target(
        [
            _shape("rectangle", [1, 2, 5, 4]),
            _shape("polygon", [3, 9, 1, 2, 8, 4], label=20),
            _shape("polyline", [0, 0, 2, 7]),
            _shape("points", [4, 4]),
            _shape("ellipse", [10, 10, 13, 8]),  # center (10, 10), radii 3 and 2
            _shape("rectangle", [0, 0, 4, 2], rotation=90),  # center (2, 1): 2 wide, 4 high
            _shape("mask", [0, 1, 0, 0, 0, 0]),
        ]
    )
    everything = ExtractBoundingBoxes(
        include_shape_types=["rectangle", "polygon", "polyline", "points", "ellipse"]
    )(target)
    assert torch.allclose(
        everything["boxes"],
        torch.tensor(
            [[1, 2, 5, 4], [1, 2, 8, 9], [0, 0, 2, 7], [4, 4, 4, 4], [7, 8, 13, 12], [1, -1, 3, 3]],
            dtype=torch.float,
        ),
        atol=1e-5,
    )
    assert everything["labels"].tolist() == [0, 1, 0, 0, 0, 0]
    assert everything["boxes"].dtype == torch.float and everything["labels"].dtype == torch.long
    only = ExtractBoundingBoxes(include_shape_types={"polygon"})(target)
    assert only["labels"].tolist() == [1]
    empty = ExtractBoundingBoxes(include_shape_types=["ellipse"])(_target())
    assert empty["boxes"].shape == (0, 4) and empty["labels"].shape == (0,)
    with pytest.raises(ValueError, match="mask"):
        ExtractBoundingBoxes(include_shape_types=["mask"])
    with pytest.raises(TypeError, match="include_shape_types"):
        ExtractBoundingBoxes(include_shape_types="rectangle")


def test_single_label_index() -> None:
    index = ExtractSingleLabelIndex()(_target(tags=[_tag(20)]))
    assert index.shape == () and index.dtype == torch.long and index.item() == 1
    with pytest.raises(ValueError, match="found 0"):
        ExtractSingleLabelIndex()(_target())
    with pytest.raises(ValueError, match="found 2"):
        ExtractSingleLabelIndex()(_target(tags=[_tag(10), _tag(20)]))


def test_instance_masks() -> None:
    bitmap = np.zeros((6, 8), dtype=bool)
    bitmap[2:4, 3:6] = True
    target = _target(
        [
            _shape("mask", encode_mask(bitmap, [3, 2, 5, 3]), label=20),
            _shape("rectangle", [0, 0, 2, 1]),
            _shape("points", [1, 1]),
        ]
    )
    image = Image.new("RGB", (8, 6))
    same, found = ExtractInstanceMasks()(image, target)
    assert same is image and found["labels"].tolist() == [1, 0]
    assert torch.equal(found["masks"][0], torch.from_numpy(bitmap))
    assert found["masks"][1, :2, :3].all() and int(found["masks"][1].sum()) == 6


def test_transform_rules_and_label_indices() -> None:
    target = _target()
    assert apply_transforms(check_transforms(None, None, None), "img", target) == ("img", target)
    spec = check_transforms(None, str.upper, lambda t: 5)
    assert apply_transforms(spec, "img", target) == ("IMG", 5)
    spec = check_transforms(lambda i, t: (t, i), None, None)
    assert apply_transforms(spec, "img", target) == (target, "img")
    with pytest.raises(ValueError, match="transforms"):
        check_transforms(lambda i, t: (i, t), None, lambda t: t)
    with pytest.raises(TypeError, match="transform"):
        check_transforms(None, "not callable", None)  # type: ignore[arg-type]

    labels = [Label._from_wire({"id": i, "name": n}) for i, n in ((30, "b"), (4, "a"))]
    assert label_indices(labels, None) == {4: 0, 30: 1}
    assert label_indices(labels, {"a": 9, "b": 2}) == {4: 9, 30: 2}
    with pytest.raises(ValueError, match="'b'"):
        label_indices(labels, {"a": 0})
