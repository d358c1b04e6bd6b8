"""Fixtures for the fake CVAT server's tests: a running server and a client for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cvat_sdk.testing import FakeCvatServer

from .support import Api


@pytest.fixture
def server() -> Iterator[FakeCvatServer]:
    with FakeCvatServer(polls_to_finish=2) as running:
        yield running


@pytest.fixture
def api(server: FakeCvatServer) -> Api:
    return Api(server)
