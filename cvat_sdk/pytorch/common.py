"""What task and project datasets share: the target type, label indices, transforms."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cvat_sdk.datasets import FrameAnnotations

__all__ = ["Target", "TransformsSpec", "apply_transforms", "check_transforms", "label_indices"]


@dataclass(frozen=True)
class Target:
    """A sample's annotations and the label-ID-to-index map of its dataset."""

    annotations: FrameAnnotations
    #: server label ID -> the index the dataset assigned (the same for every sample)
    label_id_to_index: Mapping[int, int]


TransformsSpec = tuple[
    Callable[[Any, Any], Any] | None, Callable[[Any], Any] | None, Callable[[Any], Any] | None
]


def check_transforms(
    transforms: Callable[[Any, Any], Any] | None,
    transform: Callable[[Any], Any] | None,
    target_transform: Callable[[Any], Any] | None,
) -> TransformsSpec:
    """The three transform parameters, refused when ``transforms`` comes with the others."""
    if transforms is not None and (transform is not None or target_transform is not None):
        raise ValueError("transforms: cannot be given together with transform or target_transform")
    for name, value in (
        ("transforms", transforms),
        ("transform", transform),
        ("target_transform", target_transform),
    ):
        if value is not None and not callable(value):
            raise TypeError(f"{name}: expected a callable, got {type(value).__name__}")
    return transforms, transform, target_transform


def apply_transforms(spec: TransformsSpec, image: Any, target: Target) -> tuple[Any, Any]:
    transforms, transform, target_transform = spec
    if transforms is not None:
        result = transforms(image, target)
        return result[0], result[1]
    return (
        transform(image) if transform is not None else image,
        target_transform(target) if target_transform is not None else target,
    )


def label_indices(
    labels: Sequence[Any], label_name_to_index: Mapping[str, int] | None
) -> Mapping[int, int]:
    """Label ID -> index: by ``label_name_to_index`` when given, else the IDs in ascending
    order numbered from 0 (stable between runs as long as the labels stay)."""
    if label_name_to_index is None:
        return {
            int(label.id): i for i, label in enumerate(sorted(labels, key=lambda item: item.id))
        }
    if not isinstance(label_name_to_index, Mapping):
        raise TypeError("label_name_to_index: expected a mapping of label names to indices")
    mapping: dict[int, int] = {}
    for label in labels:
        name = str(label.name)
        if name not in label_name_to_index:
            raise ValueError(f"label_name_to_index: has no index for the label {name!r}")
        index = label_name_to_index[name]
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"label_name_to_index[{name!r}]: expected an int, got {index!r}")
        mapping[int(label.id)] = index
    return mapping
