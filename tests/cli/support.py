"""Running cvat-cli as a subprocess, for the fake-server tests and the live suite."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
