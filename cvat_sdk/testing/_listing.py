"""List endpoints: equality filters, `search`, `sort` and page-number pagination, as in DRF."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from ._http import HttpError, Reply

if TYPE_CHECKING:
    from ._http import Call, Json

Extract = Callable[["Json"], object]
DEFAULT_PAGE_SIZE = 10


def key(name: str) -> Extract:
    return lambda item: item.get(name)


def username(name: str) -> Extract:
    return lambda item: (item.get(name) or {}).get("username")


def fields(*names: str) -> dict[str, Extract]:
    return {name: key(name) for name in names}


@dataclass(frozen=True)
class ListSpec:
    """What a collection can be filtered and sorted by; `search` names filters to match in."""

    filters: Mapping[str, Extract]
    search: tuple[str, ...] = ()
    default_sort: str = "-id"


def reply(call: Call, items: list[Json], spec: ListSpec) -> Reply:
    for name, extract in spec.filters.items():
        if name in call.query:
            items = [item for item in items if _text(extract(item)) == call.query[name]]
    term = call.query.get("search", "").lower()
    if term:
        items = [
            item
            for item in items
            if any(term in _text(spec.filters[name](item)).lower() for name in spec.search)
        ]
    for field in reversed((call.query.get("sort") or spec.default_sort).split(",")):
        extract_sort = spec.filters.get(field.lstrip("-"))
        if extract_sort:  # DRF ignores unknown ordering fields
            items.sort(
                key=lambda item: _sort_key(extract_sort(item)), reverse=field.startswith("-")
            )
    return Reply.json(200, _page(call, items))


def _page(call: Call, items: list[Json]) -> Json:
    try:
        page = int(call.query.get("page", "1"))
        size = int(call.query.get("page_size", DEFAULT_PAGE_SIZE))
    except ValueError:
        raise HttpError(404, "Invalid page.") from None
    size = size if size > 0 else DEFAULT_PAGE_SIZE
    pages = max(1, math.ceil(len(items) / size))
    if not 1 <= page <= pages:
        raise HttpError(404, "Invalid page.")
    return {
        "count": len(items),
        "next": _page_url(call, page + 1) if page < pages else None,
        "previous": _page_url(call, page - 1) if page > 1 else None,
        "results": items[(page - 1) * size : page * size],
    }


def _page_url(call: Call, page: int) -> str:
    """Like DRF: the request's own URL with `page` replaced (and dropped for the first page)."""
    query = {k: v for k, v in call.query.items() if k != "page"}
    if page > 1:
        query["page"] = str(page)
    return call.base_url + call.path + (f"?{urlencode(sorted(query.items()))}" if query else "")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _sort_key(value: object) -> tuple[bool, object]:
    return (value is None, value if value is not None else 0)
