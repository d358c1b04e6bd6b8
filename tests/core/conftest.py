"""Fixtures for the helpers' tests: a fake CVAT server, a client logged in to it, quick polls."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cvat_sdk._runtime import settings
from cvat_sdk.api_client import ApiClient, Configuration
from cvat_sdk.testing import FakeCvatServer


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
