"""get_paginated_collection / iter_paginated_collection against the fake server."""

from __future__ import annotations

import json
import tracemalloc
import weakref
from typing import Any
from urllib.parse import urlsplit

import pytest

from cvat_sdk._runtime.exceptions import ApiValueError
from cvat_sdk.api_client import ApiClient, Configuration, models
from cvat_sdk.core.helpers import get_paginated_collection, iter_paginated_collection
from cvat_sdk.testing import FakeCvatServer
from tests.support.loopback import LoopbackServer, Recorded, Reply

from .support import server_process


def page_requests(server: FakeCvatServer, path: str = "/api/tasks") -> list[str]:
    return [r.query for r in server.request_log if r.method == "GET" and r.path == path]


def test_models_page_by_page(server: FakeCvatServer, client: ApiClient) -> None:
    ids = server.seed_tasks(25)
    tasks = get_paginated_collection(client.tasks_api.list_endpoint, page_size=10)
    assert all(isinstance(t, models.TaskRead) for t in tasks)
    assert [t.id for t in tasks] == sorted(ids, reverse=True)  # the server's default: -id
    assert [t.name for t in tasks][-2:] == ["task 1", "task 0"]
    assert page_requests(server) == ["page_size=10", "page=2&page_size=10", "page=3&page_size=10"]


def test_json_pages(server: FakeCvatServer, client: ApiClient) -> None:
    ids = server.seed_tasks(7)
    tasks = get_paginated_collection(client.tasks_api.list_endpoint, return_json=True, page_size=3)
    assert all(type(t) is dict for t in tasks)
    assert [t["id"] for t in tasks] == sorted(ids, reverse=True)
    assert len(page_requests(server)) == 3


def test_filters_go_to_every_page(server: FakeCvatServer, client: ApiClient) -> None:
    train = server.seed_tasks(12, name="train {i}", subset="train")
    server.seed_tasks(18, name="val {i}", subset="val")
    endpoint = client.tasks_api.list_endpoint
    found = get_paginated_collection(endpoint, subset="train", sort="id", page_size=5)
    assert [t.id for t in found] == train
    assert all("subset=train" in q and "sort=id" in q for q in page_requests(server))
    assert len(page_requests(server)) == 3

    searched = get_paginated_collection(endpoint, return_json=True, search="train 1", page_size=2)
    assert sorted(t["name"] for t in searched) == ["train 1", "train 10", "train 11"]


def test_an_empty_list_and_a_lazy_start(server: FakeCvatServer, client: ApiClient) -> None:
    assert get_paginated_collection(client.tasks_api.list_endpoint) == []
    server.clear_request_log()
    items = iter_paginated_collection(client.tasks_api.list_endpoint)
    assert server.request_log == []  # nothing is fetched before the first item is asked for
    assert list(items) == []


def test_not_a_list_endpoint(client: ApiClient) -> None:
    with pytest.raises(ApiValueError, match="not a paginated list"):
        get_paginated_collection(client.tasks_api.retrieve_endpoint)


def test_the_next_link_is_followed_on_the_configured_host() -> None:
    """The query of `next` decides the next request (page, page size, filters, even when the
    server changes them), but not its host, and credentials in it (`sign`) are dropped."""

    def pages(request: Recorded) -> Reply:
        query = dict(request.query)
        if "page" not in query:
            link = "http://elsewhere.invalid:81/api/tasks?page=5&page_size=2&subset=b&sign=x"
            return Reply.json({"count": 3, "next": link, "previous": None, "results": [{"id": 1}]})
        return Reply.json({"count": 3, "next": None, "previous": None, "results": [{"id": 2}]})

    with (
        LoopbackServer(pages) as loopback,
        ApiClient(Configuration(host=loopback.url, username="u", password="p")) as client,
    ):
        items = get_paginated_collection(
            client.tasks_api.list_endpoint, return_json=True, subset="a", page_size=10
        )
        assert items == [{"id": 1}, {"id": 2}]
        first, second = (dict(r.query) for r in loopback.requests)
    assert first == {"subset": "a", "page_size": "10"}
    assert second == {"subset": "b", "page_size": "2", "page": "5"}


def test_next_links_of_a_server_behind_a_proxy(client: ApiClient, server: FakeCvatServer) -> None:
    server.public_url = "http://backend.invalid:8080"
    server.seed_tasks(5)
    tasks = get_paginated_collection(client.tasks_api.list_endpoint, return_json=True, page_size=2)
    assert len(tasks) == 5 and urlsplit(tasks[0]["url"]).netloc == "backend.invalid:8080"


class ObservedClient(ApiClient):
    """A client that runs a callback before each request it sends."""

    def __init__(self, configuration: Configuration, before: Any) -> None:
        super().__init__(configuration)
        self.before = before

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        self.before()
        return super().request(method, url, *args, **kwargs)


def test_ten_thousand_tasks_one_page_alive_at_a_time(server: FakeCvatServer) -> None:
    """When the next page is asked for, the items handed out before are all released (but
    the one the caller's loop still holds): the previous page is not kept while fetching."""
    ids = server.seed_tasks(10_000)
    handed_out: list[weakref.ref[Any]] = []
    alive_at_fetch: list[int] = []

    def count_alive() -> None:
        alive_at_fetch.append(sum(ref() is not None for ref in handed_out))

    configuration = Configuration(host=server.url, username="admin", password="password")
    seen = []
    with ObservedClient(configuration, count_alive) as client:
        for task in iter_paginated_collection(client.tasks_api.list_endpoint, page_size=250):
            handed_out.append(weakref.ref(task))
            seen.append(task.id)
        del task  # the loop's variable
    assert seen == sorted(ids, reverse=True)
    assert len(alive_at_fetch) == 40
    assert alive_at_fetch[0] == 0 and max(alive_at_fetch) <= 1, alive_at_fetch
    assert sum(ref() is not None for ref in handed_out) == 0


def test_ten_thousand_tasks_as_json_cost_about_a_page() -> None:
    """Iterating lazily peaks at a small part of what the whole collection takes; the server
    runs in another process, so that tracemalloc counts the client alone."""
    with (
        server_process(10_000) as url,
        ApiClient(Configuration(host=url, username="admin", password="password")) as client,
    ):
        endpoint = client.tasks_api.list_endpoint
        next(iter_paginated_collection(endpoint, return_json=True, page_size=1))  # connect
        tracemalloc.start()
        try:
            seen = sum(
                1 for _ in iter_paginated_collection(endpoint, return_json=True, page_size=250)
            )
            _, lazy_peak = tracemalloc.get_traced_memory()
            everything = get_paginated_collection(endpoint, return_json=True, page_size=250)
            whole, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert seen == len(everything) == 10_000
    page = whole / 40  # decoded
    text = len(json.dumps(everything).encode()) / 40  # as received
    # one decoded page, plus its text as received and decoded (not two pages)
    assert lazy_peak < page + 3 * text, (lazy_peak, page, text)
