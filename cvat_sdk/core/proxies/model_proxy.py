"""The generic entity and repository, and the capabilities an entity type opts into.

An entity wraps the read model the server returned (``entity._model``); its fields read as
attributes. Type checkers see them because each entity class also derives, for type checking
only, from the generated ``I<Model>`` annotation class (``class Task(..., ITaskRead)``); at
run time the class stays independent of the schema the client was built from, so fields a
newer server adds are readable too and fields an older one lacks raise ``AttributeError``.

Repositories list lazily (:meth:`ListMixin.iter`) and eagerly (:meth:`ListMixin.list`), and
every method is a call of the generated endpoint of the entity's API group.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from cvat_sdk._runtime.exceptions import ApiValueError
from cvat_sdk._runtime.model import Model
from cvat_sdk.core.helpers import get_paginated_collection, iter_paginated_collection

if TYPE_CHECKING:
    from typing_extensions import Self

    from cvat_sdk._runtime.endpoint import Endpoint
    from cvat_sdk.core.client import Client

__all__ = [
    "CreateMixin",
    "DeleteMixin",
    "Entity",
    "ListMixin",
    "RemoveByIdsMixin",
    "Repo",
    "RetrieveMixin",
    "UpdateMixin",
    "body_param",
    "model_values",
    "models_of",
]

EntityT = TypeVar("EntityT", bound="Entity")


def body_param(endpoint: Endpoint) -> str:
    """The Python name of an endpoint's body parameter (``patched_task_write_request``...),
    which differs per operation and per schema."""
    for name, param in endpoint.params.items():
        if param.where == "body":
            return name
    raise ApiValueError(f"{endpoint.operation_id} takes no body", ["endpoint"])


def models_of(api_client: Any) -> Any:
    """The generated ``models`` package of a low-level client's own schema."""
    for cls in type(api_client).__mro__:
        package, _, module = cls.__module__.rpartition(".")
        if module == "api_client" and package:
            with contextlib.suppress(ImportError):
                return importlib.import_module(f"{package}.models")
    raise ApiValueError(f"{type(api_client).__name__} is not a generated ApiClient", ["api_client"])


def model_values(values: Any, what: str) -> Any:
    """A model or a mapping of fields, as given: the endpoint validates it before sending."""
    if isinstance(values, (Model, Mapping)):
        return values
    raise ApiValueError(f"must be a model or a dict of fields, got {type(values).__name__}", [what])


class Entity:
    """An object on the server, as last read: fields are attributes, ``fetch()`` refreshes."""

    #: The API group's attribute on the low-level client (``"tasks_api"``).
    _api_name: ClassVar[str]

    def __init__(self, client: Client, model: Any) -> None:
        self._client = client
        self._model = model

    @property
    def api(self) -> Any:
        """The low-level API group of this kind of entity (e.g. ``TasksApi``)."""
        return getattr(self._client.api_client, self._api_name)

    if TYPE_CHECKING:
        id: int  # every entity has one; at run time it is read from the model like any field

    def fetch(self) -> Self:
        """Read the object again from the server."""
        self._model, _ = self.api.retrieve(self.id)
        return self

    def to_dict(self) -> dict[str, Any]:
        return self._model.to_dict()  # type: ignore[no-any-return]

    def _related(self, api_name: str, **owner: Any) -> list[Any]:
        """Every model ``api_name`` lists for ``owner`` (``task_id=self.id``), read in pages of
        ``LIST_PAGE_SIZE``: CVAT spends about the same time on a list request of any size."""
        endpoint = getattr(self._client.api_client, api_name).list_endpoint
        return get_paginated_collection(endpoint, page_size=LIST_PAGE_SIZE, **owner)

    if not TYPE_CHECKING:
        # at run time fields come from the model received; type checkers read them from the
        # I<Model> base each entity declares (see the module docstring)
        def __getattr__(self, name: str) -> Any:
            if name.startswith("_"):
                raise AttributeError(name)
            model = self.__dict__.get("_model")
            if model is None:
                raise AttributeError(name)
            try:
                return model[name]
            except KeyError:
                raise AttributeError(
                    f"{type(self).__name__} has no field {name!r} (the server did not send it)"
                ) from None

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self._model})

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Entity) or type(other) is not type(self):
            return NotImplemented
        return bool(self._model == other._model)

    __hash__ = None  # type: ignore[assignment]  # mutable through fetch() and update()

    def __repr__(self) -> str:
        name = self._model.get("name") if "name" in self._model else None
        extra = f", name={name!r}" if name is not None else ""
        return f"<{type(self).__name__} id={self._model.get('id')}{extra}>"


class UpdateMixin(Entity):
    """``update(values)``: a PATCH of the given fields; the entity takes the answer."""

    def update(self, values: Any) -> Self:
        endpoint = self.api.partial_update_endpoint
        self._model, _ = endpoint(
            id=self.id, **{body_param(endpoint): model_values(values, "values")}
        )
        return self


class DeleteMixin(Entity):
    """``remove()``: delete the object on the server; the local copy stays as it was."""

    def remove(self) -> None:
        self.api.destroy(self.id)


class Repo(Generic[EntityT]):
    """The objects of one kind on the server: a client's ``tasks``, ``projects``..."""

    _entity_type: ClassVar[type[Entity]]

    def __init__(self, client: Client) -> None:
        self._client = client

    @property
    def api(self) -> Any:
        return getattr(self._client.api_client, self._entity_type._api_name)

    def _entity(self, model: Any) -> EntityT:
        return self._entity_type(self._client, model)  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client.api_map.host}>"


class CreateMixin(Repo[EntityT]):
    def create(self, spec: Any) -> EntityT:
        """Create an object from a write model or a dict of its fields."""
        endpoint = self.api.create_endpoint
        model, _ = endpoint(**{body_param(endpoint): model_values(spec, "spec")})
        return self._entity(model)


class RetrieveMixin(Repo[EntityT]):
    def retrieve(self, obj_id: int) -> EntityT:
        model, _ = self.api.retrieve(obj_id)
        return self._entity(model)


#: Items per page that ``iter()`` asks for unless told (the server's default is 10): CVAT
#: spends about 0.1 s on each list request whatever its size, so 1,000 tasks listed 10 at
#: a time took 11-14 s against 2 s in pages of 100 (measured on CVAT 2.24).
ITER_PAGE_SIZE = 100
#: Items per page for ``list()``, which keeps every item anyway: 1,000 tasks in one page
#: took 0.8-1 s.
LIST_PAGE_SIZE = 1000


class ListMixin(Repo[EntityT]):
    def iter(self, **filters: Any) -> Iterator[EntityT]:
        """Objects one page at a time, as they are needed: ``filter`` (JSON logic),
        ``search``, ``sort``, ``page_size`` (``ITER_PAGE_SIZE`` unless given) and the API's
        field filters (``name=...``)."""
        endpoint = self.api.list_endpoint
        if "page_size" in endpoint.params:
            filters.setdefault("page_size", ITER_PAGE_SIZE)
        for model in iter_paginated_collection(endpoint, **filters):
            yield self._entity(model)

    def list(self, *, return_json: bool = False, **filters: Any) -> list[Any]:
        """All objects (every page), as entities, or as plain dicts with ``return_json``;
        pages of ``LIST_PAGE_SIZE`` unless ``page_size`` is given."""
        if "page_size" in self.api.list_endpoint.params:
            filters.setdefault("page_size", LIST_PAGE_SIZE)
        if return_json:
            return list(
                iter_paginated_collection(self.api.list_endpoint, return_json=True, **filters)
            )
        return [*self.iter(**filters)]


class RemoveByIdsMixin(Repo[EntityT]):
    def remove_by_ids(self, ids: Iterable[int]) -> None:
        """Delete each object by id (one request each: the API has no batch delete)."""
        for obj_id in ids:
            self.api.destroy(obj_id)
