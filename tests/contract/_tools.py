"""Throwaway generated clients ("sites"), Prism mock servers and runner invocations."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support import oracle

REPO = Path(__file__).resolve().parents[2]
PRISM = REPO / "node_modules" / ".bin" / "prism"
RUNNER = Path(__file__).resolve().with_name("_runner.py")
PRISM_START_TIMEOUT = 60.0
RUNNER_TIMEOUT = 600.0


class ToolError(Exception):
    """A generator, Prism or runner process failed; the message carries its output."""


def start_generation(schema: str | Path, site: Path) -> subprocess.Popen[str]:
    """Copy the handwritten package into ``site`` and start generating its api_client there."""
    target = site / "cvat_sdk"
    shutil.rmtree(site, ignore_errors=True)
    shutil.copytree(
        REPO / "cvat_sdk",
        target,
        ignore=shutil.ignore_patterns("api_client", "testing", "__pycache__"),
    )
    return subprocess.Popen(
        [sys.executable, "-m", "gen", "--schema", str(schema), "--out", str(target / "api_client")],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process: subprocess.Popen[str], what: str, timeout: float = 300.0) -> str:
    output, _ = process.communicate(timeout=timeout)
    if process.returncode != 0:
        raise ToolError(f"{what} failed ({process.returncode}):\n{output[-4000:]}")
    return output


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def prism(schema: Path, *, seed: int | None = None, log: Path | None = None) -> Iterator[str]:
    """A Prism mock of ``schema`` (dynamic with ``seed``) for the ``with`` block: its URL."""
    if not PRISM.exists():
        raise ToolError(f"{PRISM} is missing: run `npm ci` in {REPO}")
    port = free_port()
    args = [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), "-v", "warn"]
    if seed is not None:
        args += ["--dynamic", "--seed", str(seed)]
    args.append(str(schema))
    log_file = open(log or os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(args, stdout=log_file, stderr=subprocess.STDOUT, cwd=REPO)
    try:
        _wait_listening(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log_file.close()


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + PRISM_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ToolError(f"prism exited with {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise ToolError(f"prism did not listen on port {port} within {PRISM_START_TIMEOUT} s")


def run_contract(
    site: Path,
    client_schema: Path,
    server_schema: Path,
    url: str,
    out: Path,
    *,
    errors: bool,
    skew: bool,
) -> list[dict[str, Any]]:
    """Run every operation through the client of ``site``: one record per operation."""
    args = [
        sys.executable,
        str(RUNNER),
        "--client-schema",
        str(client_schema),
        "--server-schema",
        str(server_schema),
        "--url",
        url,
        "--out",
        str(out),
    ]
    args += ["--errors"] * errors + ["--skew"] * skew
    done = subprocess.run(
        args,
        capture_output=True,
        text=True,
        env=oracle.python_environment(site),
        timeout=RUNNER_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise ToolError(f"the runner failed ({done.returncode}):\n{done.stderr[-4000:]}")
    records: list[dict[str, Any]] = json.loads(out.read_text(encoding="utf-8"))
    return records
