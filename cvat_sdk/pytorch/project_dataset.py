"""A project as a PyTorch dataset: the samples of its tasks, one task after another."""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Container, Mapping
from typing import TYPE_CHECKING, Any

import torch.utils.data

from cvat_sdk.core.helpers import iter_paginated_collection
from cvat_sdk.datasets import UpdatePolicy
from cvat_sdk.datasets._cache import server_key, write_atomic
from cvat_sdk.datasets.task_dataset import CacheMissError
from cvat_sdk.pytorch.common import check_transforms, label_indices
from cvat_sdk.pytorch.task_dataset import TaskVisionDataset

if TYPE_CHECKING:
    from cvat_sdk.core.client import Client

__all__ = ["ProjectVisionDataset"]


class ProjectVisionDataset(torch.utils.data.Dataset[tuple[Any, Any]]):
    """The samples of a project's tasks, tasks in ascending ID order.

    The project's labels are read once and its tasks with one list request (a page per 100
    tasks); each task's dataset then reuses what the list returned. Tasks without data are
    skipped. ``task_filter`` (called with each ``models.TaskRead``) and ``include_subsets``
    narrow the tasks included; both must accept a task.
    """

    def __init__(
        self,
        client: Client,
        project_id: int,
        *,
        transforms: Callable[[Any, Any], Any] | None = None,
        transform: Callable[[Any], Any] | None = None,
        target_transform: Callable[[Any], Any] | None = None,
        label_name_to_index: Mapping[str, int] | None = None,
        task_filter: Callable[[Any], bool] | None = None,
        include_subsets: Container[str] | None = None,
        update_policy: UpdatePolicy = UpdatePolicy.IF_MISSING_OR_STALE,
    ) -> None:
        if isinstance(project_id, bool) or not isinstance(project_id, int):
            raise TypeError(f"project_id: expected an int, got {type(project_id).__name__}")
        if task_filter is not None and not callable(task_filter):
            raise TypeError("task_filter: expected a callable")
        check_transforms(transforms, transform, target_transform)
        from cvat_sdk.api_client import models

        labels_raw, tasks_raw = _project_parts(client, project_id, update_policy)
        labels = [models.Label._from_wire(item) for item in labels_raw]
        self.label_id_to_index: Mapping[int, int] = label_indices(labels, label_name_to_index)
        self._tasks: list[TaskVisionDataset] = []
        for raw in sorted(tasks_raw, key=lambda t: int(t["id"])):
            task = models.TaskRead._from_wire(json.loads(json.dumps(raw)))
            if not task.get("size"):
                continue
            if include_subsets is not None and (task.get("subset") or "") not in include_subsets:
                continue
            if task_filter is not None and not task_filter(task):
                continue
            self._tasks.append(
                TaskVisionDataset(
                    client,
                    int(task.id),
                    transforms=transforms,
                    transform=transform,
                    target_transform=target_transform,
                    update_policy=update_policy,
                    _task_json=json.dumps(raw).encode(),
                    _labels=labels,
                    _label_id_to_index=self.label_id_to_index,
                )
            )
        self._ends: list[int] = []
        total = 0
        for dataset in self._tasks:
            total += len(dataset)
            self._ends.append(total)

    @property
    def tasks(self) -> list[Any]:
        """The included tasks (``models.TaskRead``), in sample order."""
        return [d.task for d in self._tasks]

    def __len__(self) -> int:
        return self._ends[-1] if self._ends else 0

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"sample index {index} is out of range ({len(self)} samples)")
        position = bisect.bisect_right(self._ends, index)
        start = self._ends[position - 1] if position else 0
        return self._tasks[position][index - start]


def _project_parts(
    client: Client, project_id: int, policy: UpdatePolicy
) -> tuple[list[Any], list[Any]]:
    """The project's labels and tasks (plain JSON), from the server or (NEVER) the cache."""
    root = (
        client.config.cache_dir
        / "servers"
        / server_key(client.api_map.host)
        / "projects"
        / str(project_id)
    )
    path = root / "project.json"
    if policy is UpdatePolicy.NEVER:
        try:
            cached = json.loads(path.read_bytes())
        except OSError:
            raise CacheMissError(
                f"project {project_id} is not in the cache ({root}) and the update policy is NEVER"
            ) from None
        return cached["labels"], cached["tasks"]
    api = client.api_client
    api.projects_api.retrieve(project_id)  # a clear 404 for a project that is not there
    labels = list(
        iter_paginated_collection(
            api.labels_api.list_endpoint, return_json=True, project_id=project_id
        )
    )
    tasks = list(
        iter_paginated_collection(
            api.tasks_api.list_endpoint, return_json=True, project_id=project_id, page_size=100
        )
    )
    write_atomic(path, json.dumps({"labels": labels, "tasks": tasks}).encode())
    return labels, tasks
