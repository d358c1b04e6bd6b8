"""Users: the current one, and the others this user may see."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cvat_sdk.core.proxies.model_proxy import (
    DeleteMixin,
    ListMixin,
    RemoveByIdsMixin,
    RetrieveMixin,
    UpdateMixin,
)

if TYPE_CHECKING:
    from cvat_sdk.api_client.models import IMetaUser as _Fields
else:
    _Fields = object

__all__ = ["User", "UsersRepo"]


class User(UpdateMixin, DeleteMixin, _Fields):
    _api_name = "users_api"


class UsersRepo(RetrieveMixin[User], ListMixin[User], RemoveByIdsMixin[User]):
    _entity_type = User

    def retrieve_current_user(self) -> User:
        model, _ = self.api.retrieve_self()
        return self._entity(model)
