"""Comments on issues."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cvat_sdk.core.proxies.model_proxy import (
    CreateMixin,
    DeleteMixin,
    ListMixin,
    RemoveByIdsMixin,
    RetrieveMixin,
    UpdateMixin,
)

if TYPE_CHECKING:
    from cvat_sdk.api_client.models import ICommentRead as _Fields
else:
    _Fields = object

__all__ = ["Comment", "CommentsRepo"]


class Comment(UpdateMixin, DeleteMixin, _Fields):
    _api_name = "comments_api"


class CommentsRepo(
    CreateMixin[Comment], RetrieveMixin[Comment], ListMixin[Comment], RemoveByIdsMixin[Comment]
):
    _entity_type = Comment
