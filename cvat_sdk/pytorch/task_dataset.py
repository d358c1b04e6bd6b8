"""A task as a PyTorch dataset: one sample per frame, in frame order."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import torch.utils.data

from cvat_sdk.datasets import TaskDataset, UpdatePolicy
from cvat_sdk.datasets._readahead import ReadAhead
from cvat_sdk.pytorch.common import Target, apply_transforms, check_transforms, label_indices

if TYPE_CHECKING:
    from cvat_sdk.core.client import Client

__all__ = ["TaskVisionDataset"]


class TaskVisionDataset(torch.utils.data.Dataset[tuple[Any, Any]]):
    """The frames of a task (deleted frames left out) as ``(image, target)`` samples.

    All requests happen here, in the constructor (see :class:`cvat_sdk.datasets.TaskDataset`);
    indexing reads the local cache only. Samples read in order have the next few images
    decoded ahead in background threads (``cvat_sdk.datasets._readahead``).
    """

    def __init__(
        self,
        client: Client,
        task_id: int,
        *,
        transforms: Callable[[Any, Any], Any] | None = None,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
        label_name_to_index: Mapping[str, int] | None = None,
        update_policy: UpdatePolicy = UpdatePolicy.IF_MISSING_OR_STALE,
        _task_json: bytes | None = None,
        _labels: Sequence[Any] | None = None,
        _label_id_to_index: Mapping[int, int] | None = None,
    ) -> None:
        self._transforms = check_transforms(transforms, transform, target_transform)
        self._underlying = TaskDataset(
            client,
            task_id,
            update_policy=update_policy,
            load_annotations=True,
            _task_json=_task_json,
            _labels=_labels,
        )
        self.label_id_to_index: Mapping[int, int] = (
            _label_id_to_index
            if _label_id_to_index is not None
            else label_indices(self._underlying.labels, label_name_to_index)
        )
        self._samples = self._underlying.samples
        self._images = ReadAhead([sample.media.load_image for sample in self._samples])

    @property
    def task(self) -> Any:
        """The task (``models.TaskRead``) as it was when the dataset was made."""
        return self._underlying.task

    def __len__(self) -> int:
        return len(self._samples)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        sample = self._samples[index]  # an IndexError out of range
        assert sample.annotations is not None  # loaded above
        if index < 0:
            index += len(self._samples)
        image = self._images.get(index)
        target = Target(sample.annotations, self.label_id_to_index)
        return apply_transforms(self._transforms, image, target)
