"""Jobs: the unit of annotation work inside a task."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cvat_sdk.core.helpers import get_paginated_collection
from cvat_sdk.core.proxies._workflows import AnnotationsMixin, ExportDatasetMixin, MediaMixin
from cvat_sdk.core.proxies.model_proxy import (
    LIST_PAGE_SIZE,
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

    def get_labels(self) -> list[Any]:
        return get_paginated_collection(
            self._client.api_client.labels_api.list_endpoint,
            page_size=LIST_PAGE_SIZE,
            job_id=self.id,
        )

    def get_issues(self) -> list[Issue]:
        from cvat_sdk.core.proxies.issues import Issue

        return [
            Issue(self._client, m)
            for m in get_paginated_collection(
                self._client.api_client.issues_api.list_endpoint,
                page_size=LIST_PAGE_SIZE,
                job_id=self.id,
            )
        ]


class JobsRepo(RetrieveMixin[Job], ListMixin[Job]):
    _entity_type = Job
