"""The detection-function protocol, and helpers that build its spec and its results.

A detection function has a ``spec`` (:class:`DetectionFunctionSpec`: the labels it knows, by
ID and name) and a ``detect(context, image)`` method that returns the shapes it finds in one
image, with ``frame=0`` and label IDs from its spec. The driver maps labels to the task's by
name and sets the frame.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from cvat_sdk.core.exceptions import CvatSdkException

if TYPE_CHECKING:
    import PIL.Image

__all__ = [
    "BadFunctionError",
    "DetectionFunction",
    "DetectionFunctionContext",
    "DetectionFunctionSpec",
    "keypoint",
    "keypoint_spec",
    "label_spec",
    "mask",
    "polygon",
    "rectangle",
    "shape",
    "skeleton",
    "skeleton_label_spec",
]


class BadFunctionError(CvatSdkException):
    """The detection function broke the protocol (its spec, or what ``detect`` returned)."""


def _models() -> Any:
    from cvat_sdk.api_client import models

    return models


@dataclass(frozen=True)
class DetectionFunctionSpec:
    """What a detection function can produce.

    ``labels`` are ``models.PatchedLabelRequest`` objects (:func:`label_spec`,
    :func:`skeleton_label_spec`), each with a unique ``id`` and a ``name`` (a name may repeat
    only if the task has no label of that name, as torchvision's "N/A" categories do). A skeleton
    label (``type="skeleton"``) has ``sublabels`` (:func:`keypoint_spec`), unique by ID and by
    name within it; other labels have none. Shapes that ``detect`` returns refer to these IDs;
    a label with a ``type`` other than ``"any"`` gets shapes of that type only.
    """

    labels: Sequence[Any]

    def __post_init__(self) -> None:
        check_spec(self)


def check_spec(spec: Any) -> None:
    """Raise :class:`BadFunctionError` for a spec that breaks the rules above."""
    models = _models()
    if not isinstance(spec, DetectionFunctionSpec):
        raise BadFunctionError(f"spec: expected a DetectionFunctionSpec, got {type(spec).__name__}")
    ids: set[int] = set()
    for index, label in enumerate(spec.labels):
        where = f"spec.labels[{index}]"
        if not isinstance(label, models.PatchedLabelRequest):
            raise BadFunctionError(
                f"{where}: expected a PatchedLabelRequest, got {type(label).__name__}"
            )
        label_id, name = label.get("id"), label.get("name")
        if not isinstance(label_id, int) or not isinstance(name, str):
            raise BadFunctionError(f"{where}: a label needs an int id and a name")
        if label_id in ids:
            raise BadFunctionError(f"{where}: the label id {label_id} is used twice")
        ids.add(label_id)
        sublabels = list(label.get("sublabels") or [])
        if str(label.get("type") or "") == "skeleton":
            sub_ids: set[int] = set()
            sub_names: set[str] = set()
            for sub_index, sub in enumerate(sublabels):
                sub_where = f"{where}.sublabels[{sub_index}]"
                if not isinstance(sub, models.SublabelRequest):
                    raise BadFunctionError(
                        f"{sub_where}: expected a SublabelRequest, got {type(sub).__name__}"
                    )
                sub_id, sub_name = sub.get("id"), sub.get("name")
                if not isinstance(sub_id, int) or not isinstance(sub_name, str):
                    raise BadFunctionError(f"{sub_where}: a sublabel needs an int id and a name")
                if sub_id in sub_ids or sub_name in sub_names:
                    raise BadFunctionError(
                        f"{sub_where}: the id {sub_id} or name {sub_name!r} is used twice"
                    )
                sub_ids.add(sub_id)
                sub_names.add(sub_name)
            if not sublabels:
                raise BadFunctionError(f"{where}: a skeleton label needs sublabels")
        elif sublabels:
            raise BadFunctionError(f"{where}: only skeleton labels may have sublabels")


class DetectionFunctionContext(abc.ABC):
    """What ``detect`` is told besides the image."""

    @property
    @abc.abstractmethod
    def frame_name(self) -> str:
        """The frame's file name on the server."""

    @property
    @abc.abstractmethod
    def conf_threshold(self) -> float | None:
        """The confidence below which results should be dropped (None: the function's own)."""

    @property
    @abc.abstractmethod
    def conv_mask_to_poly(self) -> bool:
        """Whether masks must be returned as polygons (``mask`` shapes are refused)."""


class DetectionFunction(Protocol):
    """An auto-annotation function (an object, or a module with these two names)."""

    @property
    def spec(self) -> DetectionFunctionSpec: ...

    def detect(self, context: DetectionFunctionContext, image: PIL.Image.Image) -> list[Any]: ...


# --- spec helpers ------------------------------------------------------------------------
def label_spec(name: str, id: int, **kwargs: Any) -> Any:
    """A ``models.PatchedLabelRequest`` for the spec."""
    return _models().PatchedLabelRequest(name=name, id=id, **kwargs)


def skeleton_label_spec(
    name: str,
    id: int,
    sublabels: Sequence[Any],
    **kwargs: Any,
) -> Any:
    """A skeleton label (``type="skeleton"``) with its keypoints (:func:`keypoint_spec`)."""
    return _models().PatchedLabelRequest(
        name=name, id=id, type="skeleton", sublabels=list(sublabels), **kwargs
    )


def keypoint_spec(name: str, id: int, **kwargs: Any) -> Any:
    """A ``models.SublabelRequest``: one keypoint of a skeleton label."""
    return _models().SublabelRequest(name=name, id=id, **kwargs)


# --- result helpers ----------------------------------------------------------------------
def shape(label_id: int, **kwargs: Any) -> Any:
    """A ``models.LabeledShapeRequest`` on frame 0 (the driver sets the real frame)."""
    return _models().LabeledShapeRequest(label_id=label_id, frame=0, **kwargs)


def rectangle(label_id: int, points: Sequence[float], **kwargs: Any) -> Any:
    """A box: ``points`` are ``[x1, y1, x2, y2]``."""
    return shape(label_id, type="rectangle", points=list(points), **kwargs)


def polygon(label_id: int, points: Sequence[float], **kwargs: Any) -> Any:
    """A polygon: ``points`` are ``[x1, y1, x2, y2, ...]``."""
    return shape(label_id, type="polygon", points=list(points), **kwargs)


def mask(label_id: int, points: Sequence[float], **kwargs: Any) -> Any:
    """A mask: ``points`` from :func:`cvat_sdk.masks.encode_mask`."""
    return shape(label_id, type="mask", points=list(points), **kwargs)


def skeleton(label_id: int, elements: Sequence[Any], **kwargs: Any) -> Any:
    """A skeleton with its keypoints (:func:`keypoint`)."""
    return shape(label_id, type="skeleton", elements=list(elements), **kwargs)


def keypoint(label_id: int, points: Sequence[float], **kwargs: Any) -> Any:
    """A ``models.SubLabeledShapeRequest``: one keypoint (``points=[x, y]``) of a skeleton."""
    return _models().SubLabeledShapeRequest(
        label_id=label_id, frame=0, type="points", points=list(points), **kwargs
    )
