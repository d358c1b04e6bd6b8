"""The annotation format names CVAT 2.24 knows (GET /api/server/annotation/formats), by which
imports and exports are checked. The fake does not convert: a known name is all it needs."""

from __future__ import annotations

_COMMON = (
    "COCO 1.0",
    "COCO Keypoints 1.0",
    "Datumaro 1.0",
    "Datumaro 3D 1.0",
    "LabelMe 3.0",
    "Segmentation mask 1.1",
    "MOT 1.1",
    "MOTS PNG 1.0",
    "PASCAL VOC 1.1",
    "YOLO 1.1",
    "YOLOv8 Detection 1.0",
    "YOLOv8 Segmentation 1.0",
    "YOLOv8 Oriented Bounding Boxes 1.0",
    "YOLOv8 Pose 1.0",
    "YOLOv8 Classification 1.0",
    "ImageNet 1.0",
    "CamVid 1.0",
    "WiderFace 1.0",
    "VGGFace2 1.0",
    "Market-1501 1.0",
    "ICDAR Recognition 1.0",
    "ICDAR Localization 1.0",
    "ICDAR Segmentation 1.0",
    "Kitti Raw Format 1.0",
    "Sly Point Cloud Format 1.0",
    "KITTI 1.0",
    "LFW 1.0",
    "Cityscapes 1.0",
    "Open Images V6 1.0",
)
# CVAT's own format is "CVAT 1.1" to import, and one of two layouts to export.
IMPORT_FORMATS = frozenset({*_COMMON, "CVAT 1.1"})
EXPORT_FORMATS = frozenset({*_COMMON, "CVAT for video 1.1", "CVAT for images 1.1"})
