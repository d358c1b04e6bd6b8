"""Jobs: the unit of annotation work inside a task."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cvat_sdk._runtime.exceptions import ApiValueError
from cvat_sdk.core.proxies._workflows import (
    AnnotationsMixin,
    ExportDatasetMixin,
    MediaMixin,
    Quality,
    SupportsWrite,
    _check_quality,
    _stream_to,
)
from cvat_sdk.core.proxies.model_proxy import (
    DeleteMixin,
    ListMixin,
    RetrieveMixin,
    UpdateMixin,
)

if TYPE_CHECKING:
    from cvat_sdk.api_client.models import IJobRead as _Fields
    from cvat_sdk.core.proxies.issues import Issue
else:
    _Fields = object

__all__ = ["Job", "JobsRepo"]


class Job(UpdateMixin, DeleteMixin, ExportDatasetMixin, AnnotationsMixin, MediaMixin, _Fields):
    """A job: ``update({"stage": ..., "state": ..., "assignee": user_id})``, its annotations,
    frames, issues and labels."""

    _api_name = "jobs_api"
    _upload_kind = "jobs"

    def download_chunk(
        self,
        chunk_id: int,
        output_file: SupportsWrite,
        *,
        quality: Quality = "compressed",
        job_relative: bool = False,
    ) -> None:
        """Write a media chunk to ``output_file`` as it arrives.

        ``chunk_id`` numbers the task's chunks, as for the task itself, so only the chunks
        holding this job's frames exist (the documented meaning, and the only one servers
        before 2.24 know). ``job_relative=True`` counts this job's own chunks from 0 instead
        (the server's ``index``), which is what a job that does not start on a chunk
        boundary needs.
        """
        if not job_relative:
            super().download_chunk(chunk_id, output_file, quality=quality)
            return
        _check_quality(quality)
        endpoint = self.api.retrieve_data_endpoint
        if "index" not in endpoint.params:
            raise ApiValueError(
                "this client's schema has no job-relative chunk index (CVAT 2.24 and later)",
                ["job_relative"],
            )
        _, response = endpoint(
            id=self.id, type="chunk", index=int(chunk_id), quality=quality, _parse_response=False
        )
        _stream_to(response, output_file, "GET", f"{self!r} chunk index {chunk_id}")

    def get_labels(self) -> list[Any]:
        return self._related("labels_api", job_id=self.id)

    def get_issues(self) -> list[Issue]:
        from cvat_sdk.core.proxies.issues import Issue

        return [Issue(self._client, m) for m in self._related("issues_api", job_id=self.id)]


class JobsRepo(RetrieveMixin[Job], ListMixin[Job]):
    _entity_type = Job
