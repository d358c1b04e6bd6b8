"""Fixtures of the high-level tests: a fake CVAT, a logged-in ``Client`` with quick polls,
small images, and a certificate authority for the TLS probing tests."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from cvat_sdk import Client, Config
from cvat_sdk._runtime import settings
from cvat_sdk.testing import FakeCvatServer
from tests.live.support import png


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "POLL_INTERVAL", 0.02)


@pytest.fixture
def server() -> Iterator[FakeCvatServer]:
    with FakeCvatServer(polls_to_finish=2) as running:
        yield running


@pytest.fixture
def config() -> Config:
    return Config(status_check_period=0.02)


@pytest.fixture
def hl(server: FakeCvatServer, config: Config) -> Iterator[Client]:
    with Client(server.url, config=config) as client:
        client.login(("admin", "password"))
        yield client


@pytest.fixture
def images(tmp_path: Path) -> list[Path]:
    return [png(tmp_path / f"image{i}.png", 16, 12, seed=i) for i in range(1, 4)]


@pytest.fixture(scope="session")
def tls_context(tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext:
    """A server context with a certificate of a CA the client does not trust."""
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context
