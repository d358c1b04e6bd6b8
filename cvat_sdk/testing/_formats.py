"""The annotation formats CVAT 2.24 offers (GET /api/server/annotation/formats), by which
imports and exports are checked. The fake does not convert: a known name is all it needs."""

from __future__ import annotations

from typing import Any

# (name, import extensions, dimension); every format but CVAT's own imports and exports.
_COMMON = (
    ("COCO 1.0", "JSON, ZIP", "2d"),
    ("COCO Keypoints 1.0", "JSON, ZIP", "2d"),
    ("Datumaro 1.0", "JSON, ZIP", "2d"),
    ("Datumaro 3D 1.0", "JSON, ZIP", "3d"),
    ("LabelMe 3.0", "ZIP", "2d"),
    ("Segmentation mask 1.1", "ZIP", "2d"),
    ("MOT 1.1", "ZIP", "2d"),
    ("MOTS PNG 1.0", "ZIP", "2d"),
    ("PASCAL VOC 1.1", "ZIP", "2d"),
    ("YOLO 1.1", "ZIP", "2d"),
    ("YOLOv8 Detection 1.0", "ZIP", "2d"),
    ("YOLOv8 Segmentation 1.0", "ZIP", "2d"),
    ("YOLOv8 Oriented Bounding Boxes 1.0", "ZIP", "2d"),
    ("YOLOv8 Pose 1.0", "ZIP", "2d"),
    ("YOLOv8 Classification 1.0", "ZIP", "2d"),
    ("ImageNet 1.0", "ZIP", "2d"),
    ("CamVid 1.0", "ZIP", "2d"),
    ("WiderFace 1.0", "ZIP", "2d"),
    ("VGGFace2 1.0", "ZIP", "2d"),
    ("Market-1501 1.0", "ZIP", "2d"),
    ("ICDAR Recognition 1.0", "ZIP", "2d"),
    ("ICDAR Localization 1.0", "ZIP", "2d"),
    ("ICDAR Segmentation 1.0", "ZIP", "2d"),
    ("Kitti Raw Format 1.0", "ZIP", "3d"),
    ("Sly Point Cloud Format 1.0", "ZIP", "3d"),
    ("KITTI 1.0", "ZIP", "2d"),
    ("LFW 1.0", "ZIP", "2d"),
    ("Cityscapes 1.0", "ZIP", "2d"),
    ("Open Images V6 1.0", "ZIP", "2d"),
)
# CVAT's own format is "CVAT 1.1" to import, and one of two layouts to export.
_IMPORTERS = (*_COMMON[:2], ("CVAT 1.1", "XML, ZIP", "2d"), *_COMMON[2:])
_EXPORTERS = (
    *((name, "ZIP", dim) for name, _, dim in _COMMON[:2]),
    ("CVAT for video 1.1", "ZIP", "2d"),
    ("CVAT for images 1.1", "ZIP", "2d"),
    *((name, "ZIP", dim) for name, _, dim in _COMMON[2:]),
)
IMPORT_FORMATS = frozenset(name for name, _, _ in _IMPORTERS)
EXPORT_FORMATS = frozenset(name for name, _, _ in _EXPORTERS)


def formats() -> dict[str, list[dict[str, Any]]]:
    """The body of GET /api/server/annotation/formats."""

    def render(name: str, ext: str, dimension: str) -> dict[str, Any]:
        version = name.rsplit(" ", 1)[-1]
        return {
            "name": name,
            "ext": ext,
            "version": version,
            "enabled": True,
            "dimension": dimension,
        }

    return {
        "importers": [render(*f) for f in _IMPORTERS],
        "exporters": [render(*f) for f in _EXPORTERS],
    }
