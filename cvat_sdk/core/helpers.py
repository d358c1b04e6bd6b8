"""Pagination and background requests."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from cvat_sdk._runtime import settings
from cvat_sdk._runtime.exceptions import ApiValueError
from cvat_sdk.core.exceptions import BackgroundRequestFailed, BackgroundRequestTimeout

if TYPE_CHECKING:
    from cvat_sdk._runtime.client import BaseApiClient
    from cvat_sdk._runtime.endpoint import Endpoint

__all__ = [
    "get_paginated_collection",
    "iter_paginated_collection",
    "next_poll_delay",
    "wait_for_request",
]

#: The shortest wait between two polls of a background request, in seconds.
FIRST_POLL_DELAY = 0.1
#: Each wait between polls lasts this fraction of the time waited so far (from
#: ``FIRST_POLL_DELAY`` up to the poll interval), so a request's end is noticed at most about
#: 10% late. A quarter overshot a 2.1 s task creation by up to 0.5 s on CVAT 2.24; a tenth
#: costs about 50 polls for a minute's wait (each about 15 ms of server time).
POLL_GROWTH = 0.1


def next_poll_delay(waited: float, longest: float) -> float:
    """Seconds to wait before the next poll of a request waited for ``waited`` seconds."""
    return min(longest, max(FIRST_POLL_DELAY, waited * POLL_GROWTH))


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

    Items are handed over one by one and the page is let go before the next one is fetched,
    so listing 10,000 tasks costs the memory of one page (plus what the caller keeps).

    Args:
        endpoint: a list endpoint, e.g. ``api_client.tasks_api.list_endpoint``.
        return_json: yield plain dicts decoded from JSON instead of models (faster).
        kwargs: the endpoint's parameters (filters, ``page_size``...).
    """
    if "page" not in endpoint.params:
        raise ApiValueError(f"{endpoint.operation_id} is not a paginated list", ["endpoint"])
    arguments = dict(kwargs)
    while True:
        results, next_url = _fetch_page(endpoint, arguments, return_json)
        results.reverse()
        while results:
            yield results.pop()  # the page keeps no reference to what was handed over
        if not next_url:
            return
        arguments = {**kwargs, **_next_page_arguments(endpoint, next_url)}


def _fetch_page(
    endpoint: Endpoint, arguments: dict[str, Any], return_json: bool
) -> tuple[list[Any], str | None]:
    """A page's items (a list of its own, which the caller may empty) and its ``next`` link."""
    if return_json:
        _, response = endpoint(**arguments, _parse_response=False)
        page = json.loads(response.data)
        return list(page.get("results") or []), page.get("next")
    page, _ = endpoint(**arguments)
    return list(page.results), page.get("next")


def get_paginated_collection(
    endpoint: Endpoint, *, return_json: bool = False, **kwargs: Any
) -> list[Any]:
    """All items of a paginated list, as models (or dicts with ``return_json=True``)."""
    return list(iter_paginated_collection(endpoint, return_json=return_json, **kwargs))


_TRACEBACK = "Traceback (most recent call last)"


def condensed_failure(message: str) -> str:
    """A raw Python traceback reduced to its last line (the exception raised last)."""
    if _TRACEBACK not in message:
        return message
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return lines[-1] if lines else message


def failure_message(requests_api: Any, rq_id: str, request: Any) -> str:
    """The failed request's message. Right after a failure CVAT 2.24 may still answer the
    raw traceback, until its worker stores the formatted one: read again a few times, then
    keep the traceback's last line."""
    message = str(request.get("message") or "")
    for _ in range(3):
        if _TRACEBACK not in message:
            return message
        time.sleep(0.3)
        again, _ = requests_api.retrieve(rq_id)
        message = str(again.get("message") or "")
    return condensed_failure(message)


def _with_end(requests_api: Any, rq_id: str, request: Any, response: Any) -> tuple[Any, Any]:
    """A finished request as it is once its end is stored. CVAT 2.24 reads the status afresh
    but the rest from an earlier read, so an answer may say "finished" with no
    ``finished_date`` or ``expiry_date`` yet (met on the real server): read it again."""
    for _ in range(3):
        if request.get("finished_date") is not None:
            break
        time.sleep(0.1)
        request, response = requests_api.retrieve(rq_id)
    return request, response


def wait_for_request(
    api_client: BaseApiClient,
    rq_id: str,
    *,
    poll_interval: float | None = None,
    timeout: float | None = None,
) -> Any:
    """Poll a background request until it finishes and return it (a ``models.Request``).

    Polls come quickly at first (every 0.1 s), then wait a tenth of the time waited so far
    (``next_poll_delay``), up to ``poll_interval`` (``settings.POLL_INTERVAL`` by default):
    a request's end is noticed soon after it, and long ones cost few requests. With a
    ``timeout``, the last poll is made at the deadline.

    Raises:
        BackgroundRequestFailed: the server reports the request failed (with its message).
        BackgroundRequestTimeout: ``timeout`` seconds passed first.
    """
    longest = settings.POLL_INTERVAL if poll_interval is None else poll_interval
    requests_api = api_client.requests_api  # type: ignore[attr-defined]
    request, _ = poll_request(requests_api, rq_id, longest=longest, timeout=timeout)
    return request


def poll_request(
    requests_api: Any,
    rq_id: str,
    *,
    longest: float,
    timeout: float | None,
    on_status: Callable[[str], None] | None = None,
) -> tuple[Any, Any]:
    """The polling both waits share (``wait_for_request``, ``Client.wait_for_completion``):
    ``(Request, response)`` once finished; ``on_status`` hears each status read."""
    started = time.monotonic()
    deadline = None if timeout is None else started + timeout
    while True:
        request, response = requests_api.retrieve(rq_id)
        status = str(request.status)
        if on_status is not None:
            on_status(status)
        if status == "finished":
            return _with_end(requests_api, rq_id, request, response)
        if status == "failed":
            message = failure_message(requests_api, rq_id, request)
            raise BackgroundRequestFailed(rq_id, message, request)
        now = time.monotonic()
        delay = next_poll_delay(now - started, longest)
        if deadline is not None:
            left = deadline - now
            if left <= 0:
                raise BackgroundRequestTimeout(rq_id, timeout or 0.0, status)
            delay = min(delay, left)
        time.sleep(delay)
