"""Pagination and background requests."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from cvat_sdk._runtime import settings
from cvat_sdk._runtime.exceptions import ApiValueError
from cvat_sdk.core.exceptions import BackgroundRequestFailed, BackgroundRequestTimeout

if TYPE_CHECKING:
    from cvat_sdk._runtime.client import BaseApiClient
    from cvat_sdk._runtime.endpoint import Endpoint

__all__ = ["get_paginated_collection", "iter_paginated_collection", "wait_for_request"]


def _next_page_arguments(endpoint: Endpoint, next_url: str) -> dict[str, Any]:
    """The query of the server's ``next`` link, as the endpoint's keyword arguments.

    Following the link's query (not its host) keeps working behind proxies that rewrite
    hosts, and the endpoint validates and parses every page as it does the first.
    """
    by_wire = {p.wire: p for p in endpoint.params.values() if p.where == "query"}
    arguments: dict[str, Any] = {}
    for wire, text in parse_qsl(urlsplit(next_url).query, keep_blank_values=True):
        param = by_wire.get(wire)
        if param is None:
            continue  # e.g. a signature the server adds: credentials come from the client
        arguments[param.name] = _from_query_text(param.spec, text)
    return arguments


def _from_query_text(spec: str, text: str) -> Any:
    if spec.rstrip("?") == "int":
        return int(text)
    if spec.rstrip("?") == "bool":
        return text.lower() == "true"
    return text


def iter_paginated_collection(
    endpoint: Endpoint, *, return_json: bool = False, **kwargs: Any
) -> Iterator[Any]:
    """Yield every item of a paginated list, one page in memory at a time.

    Args:
        endpoint: a list endpoint, e.g. ``api_client.tasks_api.list_endpoint``.
        return_json: yield plain dicts decoded from JSON instead of models (faster).
        kwargs: the endpoint's parameters (filters, ``page_size``...).
    """
    if "page" not in endpoint.params:
        raise ApiValueError(f"{endpoint.operation_id} is not a paginated list", ["endpoint"])
    arguments = dict(kwargs)
    while True:
        if return_json:
            _, response = endpoint(**arguments, _parse_response=False)
            page = json.loads(response.data)
            results, next_url = page.get("results") or [], page.get("next")
        else:
            page, _ = endpoint(**arguments)
            results, next_url = page.results, page.get("next")
        yield from results
        if not next_url:
            return
        arguments = {**kwargs, **_next_page_arguments(endpoint, next_url)}


def get_paginated_collection(
    endpoint: Endpoint, *, return_json: bool = False, **kwargs: Any
) -> list[Any]:
    """All items of a paginated list, as models (or dicts with ``return_json=True``)."""
    return list(iter_paginated_collection(endpoint, return_json=return_json, **kwargs))


def wait_for_request(
    api_client: BaseApiClient,
    rq_id: str,
    *,
    poll_interval: float = settings.POLL_INTERVAL,
    timeout: float | None = None,
) -> Any:
    """Poll a background request until it finishes and return it (a ``models.Request``).

    Raises:
        BackgroundRequestFailed: the server reports the request failed (with its message).
        BackgroundRequestTimeout: ``timeout`` seconds passed first.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    requests_api = api_client.requests_api  # type: ignore[attr-defined]
    while True:
        request, _ = requests_api.retrieve(rq_id)
        status = str(request.status)
        if status == "finished":
            return request
        if status == "failed":
            raise BackgroundRequestFailed(rq_id, request.get("message") or "", request)
        if deadline is not None and time.monotonic() + poll_interval > deadline:
            raise BackgroundRequestTimeout(rq_id, timeout or 0.0, status)
        time.sleep(poll_interval)
