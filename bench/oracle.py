"""The official cvat-sdk 2.24.0 measured in its own process (see ``tests.support.oracle``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support import oracle
from tests.support.oracle import ORACLE_DIR, environment, installed

__all__ = ["ORACLE_DIR", "ensure_installed", "installed", "run_worker"]

WORKER = Path(__file__).resolve().parent / "oracle_worker.py"


def ensure_installed() -> bool:
    """Install the official SDK into ``.oracle`` if it is missing; False if that fails."""
    problem = oracle.ensure_installed()
    if problem:
        print(problem, file=sys.stderr)
    return not problem


def run_worker(config: dict[str, Any], timeout: float = 300.0) -> dict[str, list[float]] | None:
    """Samples of ``floor`` and ``official`` for one scenario, or None if the worker failed."""
    try:
        done = subprocess.run(
            [sys.executable, str(WORKER), json.dumps(config)],
            env=environment(),
            cwd=ORACLE_DIR,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        print(f"official SDK: {config['scenario']} timed out", file=sys.stderr)
        return None
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-3:]
        print(f"official SDK: {config['scenario']} failed: {' | '.join(tail)}", file=sys.stderr)
        return None
    samples: dict[str, list[float]] = json.loads(done.stdout)["samples"]
    return samples
