"""Fixtures for the helpers' tests: a fake CVAT server, a client logged in to it, quick polls."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from cvat_sdk._runtime import settings
from cvat_sdk.api_client import ApiClient, Configuration
from cvat_sdk.testing import FakeCvatServer
from tests.support.tcp_proxy import TcpProxy


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Background requests finish in a few polls; the default 1 s between them only slows."""
    monkeypatch.setattr(settings, "POLL_INTERVAL", 0.02)


@pytest.fixture
def server() -> Iterator[FakeCvatServer]:
    with FakeCvatServer(polls_to_finish=2) as running:
        yield running


@pytest.fixture
def client(server: FakeCvatServer) -> Iterator[ApiClient]:
    configuration = Configuration(host=server.url, username="admin", password="password")
    with ApiClient(configuration) as api_client:
        yield api_client


@pytest.fixture
def proxied(server: FakeCvatServer) -> Iterator[tuple[TcpProxy, ApiClient]]:
    """A client of the fake server through a loopback proxy that can cut requests or
    replace answers."""
    port = urlsplit(server.url).port or 80
    with TcpProxy(("127.0.0.1", port)) as proxy:
        configuration = Configuration(host=proxy.url, username="admin", password="password")
        with ApiClient(configuration) as api_client:
            yield proxy, api_client
        assert proxy.errors == []
