"""The official cvat-sdk 2.24.0 as a reference: installed aside, only ever run in a subprocess.

The official package has the same top-level name (``cvat_sdk``) as ours, so it lives in the
git-ignored ``.oracle`` directory and runs with only that directory on ``PYTHONPATH``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ORACLE_DIR = ROOT / ".oracle"
VERSION = "2.24.0"
WORKER = Path(__file__).resolve().parent / "oracle_worker.py"


def installed() -> bool:
    return (ORACLE_DIR / "cvat_sdk" / "api_client").is_dir()


def ensure_installed() -> bool:
    """Install the official SDK into ``.oracle`` if it is missing; False if that fails."""
    if installed():
        return True
    print(f"installing cvat-sdk=={VERSION} into {ORACLE_DIR} ...", file=sys.stderr)
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(ORACLE_DIR)]
    done = subprocess.run([*command, f"cvat-sdk=={VERSION}"], check=False)
    return done.returncode == 0 and installed()


def environment() -> dict[str, str]:
    """Our environment with only ``.oracle`` importable: never this repository's cvat_sdk."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(ORACLE_DIR)
    return env


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
