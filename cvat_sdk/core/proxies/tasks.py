"""Tasks: creation from local, shared or remote data, backups, media, annotations, exports."""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cvat_sdk._runtime.exceptions import ApiTypeError, ApiValueError
from cvat_sdk._runtime.model import Model
from cvat_sdk.core.exceptions import CvatSdkException
from cvat_sdk.core.proxies._workflows import (
    AnnotationsMixin,
    DownloadBackupMixin,
    ExportDatasetMixin,
    MediaMixin,
    PathLike,
    RestoreBackupMixin,
    rq_id_of,
)
from cvat_sdk.core.proxies.model_proxy import (
    CreateMixin,
    DeleteMixin,
    ListMixin,
    RemoveByIdsMixin,
    UpdateMixin,
    body_param,
    models_of,
)
from cvat_sdk.core.uploading import (
    check_job_file_mapping,
    check_validation_params,
    upload_task_data,
)

if TYPE_CHECKING:
    from cvat_sdk.api_client.models import ITaskRead as _Fields
    from cvat_sdk.core.progress import ProgressReporter
    from cvat_sdk.core.proxies.jobs import Job
else:
    _Fields = object

__all__ = ["ResourceType", "Task", "TaskCreationError", "TasksRepo"]


class ResourceType(enum.Enum):
    """Where a task's files are: sent from this machine, on the server's share, or at URLs."""

    LOCAL = enum.auto()
    SHARE = enum.auto()
    REMOTE = enum.auto()

    def __str__(self) -> str:
        return self.name.lower()


_REQUEST_FIELD = {ResourceType.SHARE: "server_files", ResourceType.REMOTE: "remote_files"}


class TaskCreationError(CvatSdkException):
    """``create_from_data`` failed after the task was created; says whether it was removed."""

    def __init__(self, task_id: int, step: str, cause: BaseException, removed: bool) -> None:
        self.task_id = task_id
        self.step = step
        self.removed = removed
        fate = "the task was removed" if removed else "the task was kept"
        super().__init__(f"task {task_id}: {step} failed ({cause}); {fate}")


class Task(
    UpdateMixin,
    DeleteMixin,
    ExportDatasetMixin,
    DownloadBackupMixin,
    AnnotationsMixin,
    MediaMixin,
    _Fields,
):
    _api_name = "tasks_api"
    _upload_kind = "tasks"
    _frames_from_chunks = True

    def upload_data(
        self,
        resources: Sequence[PathLike],
        *,
        resource_type: ResourceType = ResourceType.LOCAL,
        pbar: ProgressReporter | None = None,
        params: Any = None,
        wait_for_completion: bool = True,
        status_check_period: float | None = None,
    ) -> None:
        """Attach media: local files (streamed; bulk or TUS by size), files on the server's
        share, or remote URLs. ``params`` are the ``DataRequest`` fields (``image_quality``,
        ``sorting_method``...). Waits until the server has processed them, unless told not
        to."""
        if not isinstance(resource_type, ResourceType):
            raise ApiValueError("must be a ResourceType", ["resource_type"])
        values = params.to_dict() if isinstance(params, Model) else dict(params or {})
        api_client = self._client.api_client
        if resource_type is ResourceType.LOCAL:
            response = upload_task_data(
                api_client, self.id, resources, data_params=values, progress=pbar, wait=False
            )
            rq_id = rq_id_of(response)
        else:
            values.setdefault("image_quality", 70)
            values[_REQUEST_FIELD[resource_type]] = [str(r) for r in resources]
            endpoint = self.api.create_data_endpoint
            answer, _ = endpoint(id=self.id, **{body_param(endpoint): values})
            rq_id = answer.rq_id
        if wait_for_completion:
            self._client.wait_for_completion(
                rq_id,
                status_check_period=status_check_period,
                log_prefix=f"data of task {self.id}",
            )

    def get_jobs(self) -> list[Job]:
        from cvat_sdk.core.proxies.jobs import Job

        return [Job(self._client, m) for m in self._related("jobs_api", task_id=self.id)]

    def get_labels(self) -> list[Any]:
        return self._related("labels_api", task_id=self.id)


class TasksRepo(
    CreateMixin[Task], RestoreBackupMixin[Task], ListMixin[Task], RemoveByIdsMixin[Task]
):
    _entity_type = Task
    _backup_kind = "tasks"

    def create_from_data(
        self,
        spec: Any,
        resources: Sequence[PathLike] | None = None,
        *,
        resource_type: ResourceType = ResourceType.LOCAL,
        data_params: Any = None,
        annotation_path: PathLike = "",
        annotation_format: str = "CVAT 1.1",
        status_check_period: float | None = None,
        pbar: ProgressReporter | None = None,
        keep_on_failure: bool = False,
    ) -> Task:
        """Create a task, attach its data and (optionally) import annotations; returns it as
        the server has it afterwards.

        If attaching data or importing fails (or is interrupted), the task is removed (keep
        it with ``keep_on_failure=True``) and ``TaskCreationError`` says what failed.
        """
        files = self._check_data(spec, resources, resource_type, data_params)
        task = self.create(spec)
        step = "attaching data"
        try:
            task.upload_data(
                files,
                resource_type=resource_type,
                params=data_params,
                pbar=pbar,
                status_check_period=status_check_period,
            )
            if annotation_path:
                step = "importing annotations"
                task.import_annotations(
                    annotation_format,
                    annotation_path,
                    status_check_period=status_check_period,
                    pbar=pbar,
                )
        except BaseException as error:
            removed = False
            if not keep_on_failure:
                with contextlib.suppress(Exception):
                    task.remove()
                    removed = True
            if not isinstance(error, Exception):
                raise  # Ctrl-C and exits stay what they are, after the cleanup
            raise TaskCreationError(task.id, step, error, removed) from error
        return task.fetch()

    def _check_data(
        self,
        spec: Any,
        resources: Sequence[PathLike] | None,
        resource_type: Any,
        data_params: Any,
    ) -> Sequence[PathLike]:
        """Refuse what would fail after the task exists: nothing is created for bad input."""
        if not isinstance(resource_type, ResourceType):
            raise ApiValueError("must be a ResourceType", ["resource_type"])
        if not resources:
            raise ApiValueError("at least one file or URL is needed", ["resources"])
        if resource_type is ResourceType.LOCAL:
            for index, resource in enumerate(resources):
                if not Path(resource).is_file():
                    raise ApiValueError(f"not a file: {resource}", ["resources", index])
        values = (
            data_params.to_dict() if isinstance(data_params, Model) else dict(data_params or {})
        )
        values.setdefault("image_quality", 70)
        try:
            models_of(self._client.api_client).DataRequest(**values)
        except (ApiValueError, ApiTypeError) as error:
            raise type(error)(f"data_params.{error}") from None
        fields = spec.to_dict() if isinstance(spec, Model) else spec
        segment_size = fields.get("segment_size") if isinstance(fields, Mapping) else None
        # CVAT reads a spec without segment_size as 0; another type is the spec's own error
        known = 0 if segment_size is None else segment_size
        check_validation_params(values, known if isinstance(known, int) else None)
        check_job_file_mapping(values, segment_size=segment_size)
        return resources
