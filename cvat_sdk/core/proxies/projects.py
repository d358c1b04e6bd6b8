"""Projects: groups of tasks with shared labels; dataset import and export, backups."""

from __future__ import annotations

import contextlib
import io
from typing import TYPE_CHECKING, Any

from cvat_sdk.core.exceptions import CvatSdkException
from cvat_sdk.core.proxies._workflows import (
    DownloadBackupMixin,
    ExportDatasetMixin,
    PathLike,
    RestoreBackupMixin,
    _stream_to,
    rq_id_of,
)
from cvat_sdk.core.proxies.model_proxy import (
    CreateMixin,
    DeleteMixin,
    ListMixin,
    RemoveByIdsMixin,
    UpdateMixin,
)
from cvat_sdk.core.uploading import upload_dataset

if TYPE_CHECKING:
    from cvat_sdk.api_client.models import IProjectRead as _Fields
    from cvat_sdk.core.progress import ProgressReporter
    from cvat_sdk.core.proxies.tasks import Task
else:
    _Fields = object

__all__ = ["Project", "ProjectAnnotationsUnavailable", "ProjectsRepo"]


class ProjectAnnotationsUnavailable(CvatSdkException, TypeError):
    """``Project.get_annotations()``: CVAT has no request that answers a project's annotations
    as data. A ``TypeError`` too, which is what the official SDK raises there."""

    def __init__(self, project_id: int) -> None:
        self.project_id = project_id
        super().__init__(
            f"project {project_id}: CVAT serves no project annotations as data (GET "
            f"/api/projects/{project_id}/annotations is the deprecated dataset export); use "
            "project.export_dataset(format_name, filename, include_images=False) for a file, "
            "or task.get_annotations() for each task of project.get_tasks() (frame numbers "
            "are per task)"
        )


class Project(UpdateMixin, DeleteMixin, ExportDatasetMixin, DownloadBackupMixin, _Fields):
    _api_name = "projects_api"

    def import_dataset(
        self,
        format_name: str,
        filename: PathLike,
        *,
        status_check_period: float | None = None,
        pbar: ProgressReporter | None = None,
    ) -> None:
        """Upload a dataset file in ``format_name``; its tasks are created in the project."""
        response = upload_dataset(
            self._client.api_client,
            self.id,
            filename,
            format_name=format_name,
            progress=pbar,
            wait=False,
        )
        self._client.wait_for_completion(
            rq_id_of(response),
            status_check_period=status_check_period,
            log_prefix=f"dataset import into {self!r}",
        )

    def get_tasks(self) -> list[Task]:
        from cvat_sdk.core.proxies.tasks import Task

        return [Task(self._client, m) for m in self._related("tasks_api", project_id=self.id)]

    def get_labels(self) -> list[Any]:
        return self._related("labels_api", project_id=self.id)

    def get_annotations(self) -> Any:
        """Always raises ``ProjectAnnotationsUnavailable``, before any request, naming the
        ways out: merged per-task annotations would mix up frame numbers, and the endpoint
        of that name only exports a dataset."""
        raise ProjectAnnotationsUnavailable(self.id)

    def get_preview(self) -> io.BytesIO:
        _, response = self.api.retrieve_preview_endpoint(id=self.id, _parse_response=False)
        out = io.BytesIO()
        _stream_to(response, out, "GET", f"{self!r} preview")
        out.seek(0)
        return out


class ProjectsRepo(
    CreateMixin[Project], RestoreBackupMixin[Project], ListMixin[Project], RemoveByIdsMixin[Project]
):
    _entity_type = Project
    _backup_kind = "projects"

    def create_from_dataset(
        self,
        spec: Any,
        *,
        dataset_path: PathLike = "",
        dataset_format: str = "CVAT 1.1",
        status_check_period: float | None = None,
        pbar: ProgressReporter | None = None,
    ) -> Project:
        """Create a project and (with ``dataset_path``) import a dataset into it; the project
        is removed if the import fails."""
        project = self.create(spec)
        if dataset_path:
            try:
                project.import_dataset(
                    dataset_format,
                    dataset_path,
                    status_check_period=status_check_period,
                    pbar=pbar,
                )
            except BaseException:
                with contextlib.suppress(Exception):
                    project.remove()
                raise
            project.fetch()
        return project
