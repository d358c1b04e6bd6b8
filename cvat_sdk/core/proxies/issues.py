"""Issues raised on job frames, and their comments."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cvat_sdk.core.proxies.comments import Comment, CommentsRepo
from cvat_sdk.core.proxies.model_proxy import (
    CreateMixin,
    DeleteMixin,
    ListMixin,
    RemoveByIdsMixin,
    RetrieveMixin,
    UpdateMixin,
)

if TYPE_CHECKING:
    from cvat_sdk.api_client.models import IIssueRead as _Fields
else:
    _Fields = object

#: Comment and CommentsRepo are also importable from here, where the official SDK has them.
__all__ = ["Comment", "CommentsRepo", "Issue", "IssuesRepo"]


class Issue(UpdateMixin, DeleteMixin, _Fields):
    _api_name = "issues_api"

    def get_comments(self) -> list[Comment]:
        return [Comment(self._client, m) for m in self._related("comments_api", issue_id=self.id)]


class IssuesRepo(
    CreateMixin[Issue], RetrieveMixin[Issue], ListMixin[Issue], RemoveByIdsMixin[Issue]
):
    _entity_type = Issue
