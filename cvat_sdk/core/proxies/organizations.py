"""Organizations: shared workspaces (see ``Client.organization_context``)."""

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
    from cvat_sdk.api_client.models import IOrganizationRead as _Fields
else:
    _Fields = object

__all__ = ["Organization", "OrganizationsRepo"]


class Organization(UpdateMixin, DeleteMixin, _Fields):
    _api_name = "organizations_api"


class OrganizationsRepo(
    CreateMixin[Organization],
    RetrieveMixin[Organization],
    ListMixin[Organization],
    RemoveByIdsMixin[Organization],
):
    _entity_type = Organization
