"""Fixtures of the CLI tests: a fake CVAT, the CLI run as a subprocess, and a client to read
what the CLI left on the server."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cvat_sdk.api_client import ApiClient, Configuration
from cvat_sdk.testing import FakeCvatServer
from tests.live.support import png

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Run:
    """The outcome of one CLI run."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    def ok(self) -> Run:
        assert self.returncode == 0, f"{self.args}: exit {self.returncode}\n{self.stderr}"
        assert "Traceback" not in self.stderr
        return self

    def failed(self, code: int = 1) -> Run:
        assert self.returncode == code, (
            f"{self.args}: exit {self.returncode}, not {code}\nstdout: {self.stdout}\n"
            f"stderr: {self.stderr}"
        )
        assert "Traceback" not in self.stderr, self.stderr
        return self

    @property
    def error_line(self) -> str:
        """The last stderr line (where the one-line error is)."""
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        return lines[-1] if lines else ""


def cli_env(**extra: str) -> dict[str, str]:
    """The environment of a CLI run: no token or password from the caller's environment."""
    env = {k: v for k, v in os.environ.items() if k not in ("CVAT_ACCESS_TOKEN", "PASS")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def run_cli(
    *args: Any,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 120,
) -> Run:
    command = [sys.executable, "-m", "cvat_sdk.cli", *map(str, args)]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=env if env is not None else cli_env(),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )
    return Run(command[3:], done.returncode, done.stdout, done.stderr)


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
