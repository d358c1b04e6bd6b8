"""The live suite: tests against a real CVAT server, named by the environment.

``CVAT_LIVE_URL`` (e.g. ``http://127.0.0.1:8080``), ``CVAT_LIVE_USER`` and
``CVAT_LIVE_PASSWORD`` name the server and an admin account. ``scripts/test.sh`` brings up
``../shared/cvat-server`` and sets them. Without them, or with a server that does not answer,
every live test fails with the reason: the live suite is never skipped.

Each test makes objects with unique names and deletes them when it ends, failed or not.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from cvat_sdk._runtime import settings
from cvat_sdk.api_client import ApiClient, Configuration
from tests.support.tcp_proxy import TcpProxy

from .support import LiveServer, Trash, connect_live_server


@pytest.fixture(scope="session")
def live() -> LiveServer:
    """The real server; the test fails (not skips) when there is none."""
    return connect_live_server()


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real background requests take a second or two: poll often so tests end soon."""
    monkeypatch.setattr(settings, "POLL_INTERVAL", 0.25)


@pytest.fixture
def client(live: LiveServer) -> Iterator[ApiClient]:
    """A client with basic auth (what most scripts use)."""
    with live.client() as api_client:
        yield api_client


@pytest.fixture
def trash(live: LiveServer, request: pytest.FixtureRequest) -> Iterator[Trash]:
    """Unique names for this test's objects, and their deletion at the end."""
    bin_ = Trash(live, request.node.name)
    try:
        yield bin_
    finally:
        bin_.empty()


@pytest.fixture
def proxy(live: LiveServer) -> Iterator[TcpProxy]:
    """A recording (and, where the test adds faults, breaking) proxy before the server."""
    upstream = urlsplit(live.url)
    with TcpProxy((upstream.hostname or "127.0.0.1", upstream.port or 80)) as running:
        yield running
    assert running.errors == []


@pytest.fixture
def via_proxy(live: LiveServer, proxy: TcpProxy) -> Iterator[ApiClient]:
    """A client of the real server, with basic auth, that goes through the proxy."""
    configuration = Configuration(host=proxy.url, username=live.user, password=live.password)
    with ApiClient(configuration) as api_client:
        yield api_client
