"""The predefined torchvision functions without a server: random weights (nothing is
downloaded), and named weights read from torch's cache (written here into TORCH_HOME)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torchvision.models
from PIL import Image

from cvat_sdk.auto_annotation.driver import _Context
from cvat_sdk.auto_annotation.functions import (
    torchvision_detection,
    torchvision_instance_segmentation,
)
from cvat_sdk.auto_annotation.functions.torchvision_instance_segmentation import _outline
from cvat_sdk.auto_annotation.interface import check_spec
from cvat_sdk.masks import decode_mask

DETECTOR = "fasterrcnn_mobilenet_v3_large_320_fpn"


def _image() -> Image.Image:
    return Image.fromarray(np.random.default_rng(0).integers(0, 256, (48, 64, 3)).astype(np.uint8))


def test_detection_with_random_weights() -> None:
    torch.manual_seed(0)
    function = torchvision_detection.create(DETECTOR, None, box_score_thresh=0.0)
    check_spec(function.spec)
    names = {label.name for label in function.spec.labels}
    assert {"person", "car"} <= names and not names & {"N/A", "__background__"}
    ids = {label.id for label in function.spec.labels}
    shapes = function.detect(_Context("f.png", None, False), _image())
    assert shapes and all(s.type == "rectangle" and s.label_id in ids for s in shapes)
    assert all(s.points[0] <= s.points[2] and s.points[1] <= s.points[3] for s in shapes)
    fewer = function.detect(_Context("f.png", 0.0125, False), _image())
    assert len(fewer) < len(shapes)  # conf_threshold filters


def test_named_weights_come_from_torch_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights = torchvision.models.get_model_weights(DETECTOR)["COCO_V1"]
    torch.manual_seed(1)
    reference = torchvision.models.get_model(
        DETECTOR, weights=None, weights_backbone=None, num_classes=91
    )
    checkpoints = tmp_path / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    torch.save(reference.state_dict(), checkpoints / Path(weights.url).name)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    function: Any = torchvision_detection.create(DETECTOR, "COCO_V1")
    loaded = function._model.state_dict()
    saved = reference.state_dict()
    # with weights, torchvision freezes batch norms (which then count no batches)
    assert set(loaded) == {k for k in saved if not k.endswith("num_batches_tracked")}
    assert all(torch.equal(v, saved[k]) for k, v in loaded.items())
    default: Any = torchvision_detection.create(DETECTOR)  # DEFAULT is COCO_V1
    assert torch.equal(
        next(iter(default._model.state_dict().values())),
        next(iter(reference.state_dict().values())),
    )
    with pytest.raises(ValueError, match="no weights 'NOPE'"):
        torchvision_detection.create(DETECTOR, "NOPE")
    with pytest.raises(ValueError, match="no model"):
        torchvision_detection.create("no_such_model")


def test_instance_segmentation_masks_and_polygons() -> None:
    torch.manual_seed(0)
    function = torchvision_instance_segmentation.create(
        "maskrcnn_resnet50_fpn",
        None,
        box_score_thresh=0.0,
        min_size=48,
        max_size=64,
        box_detections_per_img=5,
    )
    check_spec(function.spec)
    image = _image()
    masks = function.detect(_Context("f.png", None, False), image)
    assert masks and {s.type for s in masks} == {"mask"}
    for shape in masks:
        bitmap = decode_mask(shape.points, image_width=64, image_height=48)
        assert bitmap.any()
    polygons = function.detect(_Context("f.png", None, True), image)
    assert polygons and {s.type for s in polygons} == {"polygon"}
    assert all(len(s.points) >= 6 and len(s.points) % 2 == 0 for s in polygons)


def test_outline_traces_the_boundary() -> None:
    bitmap = np.zeros((6, 6), dtype=bool)
    bitmap[1:4, 2:5] = True  # a 3x3 square
    assert _outline(bitmap) == [(2, 1), (3, 1), (4, 1), (4, 2), (4, 3), (3, 3), (2, 3), (2, 2)]
    single = np.zeros((3, 3), dtype=bool)
    single[1, 1] = True
    assert _outline(single) == [(1, 1)]
