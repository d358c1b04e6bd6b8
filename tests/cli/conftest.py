"""Fixtures of the CLI tests: a fake CVAT, the CLI run as a subprocess, and a client to read
what the CLI left on the server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cvat_sdk.api_client import ApiClient, Configuration
from cvat_sdk.testing import FakeCvatServer
from tests.live.support import png

from .support import Run, run_cli

__all__ = ["FakeCli", "Run", "run_cli"]


@dataclass
class FakeCli:
    """The CLI pointed at a fake server, and a client to look at the server's state."""

    server: FakeCvatServer
    api: ApiClient
    cwd: Path

    @property
    def common(self) -> list[str]:
        return ["--auth", "admin:password", "--server-host", self.server.url]

    def __call__(self, *args: Any, env: dict[str, str] | None = None) -> Run:
        return run_cli(*self.common, *args, env=env, cwd=self.cwd)

    def task_ids(self) -> list[int]:
        page, _ = self.api.tasks_api.list(page_size=1000)
        return sorted(t.id for t in page.results)

    def project_ids(self) -> list[int]:
        page, _ = self.api.projects_api.list(page_size=1000)
        return sorted(p.id for p in page.results)


@pytest.fixture
def server() -> Iterator[FakeCvatServer]:
    with FakeCvatServer(polls_to_finish=2) as running:
        yield running


@pytest.fixture
def cli(server: FakeCvatServer, tmp_path: Path) -> Iterator[FakeCli]:
    configuration = Configuration(host=server.url, username="admin", password="password")
    with ApiClient(configuration) as api:
        yield FakeCli(server, api, tmp_path)


@pytest.fixture
def images(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "dataset_1" / "images"
    folder.mkdir(parents=True)
    return [png(folder / f"image{i}.png", 16, 12, seed=i) for i in range(1, 4)]


@pytest.fixture
def labels_file(tmp_path: Path) -> Path:
    path = tmp_path / "labels.json"
    path.write_text('[{"name": "cat", "attributes": []}, {"name": "dog", "attributes": []}]')
    return path
