"""The official cvat-sdk 2.24.0, a black-box reference: installed aside, run in a subprocess.

Its top-level package is also named ``cvat_sdk``, so it lives in the git-ignored ``.oracle``
directory and runs only in interpreters that have that directory, and not this repository,
on ``PYTHONPATH``. It is never imported by the package, only by tests and benchmarks.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ORACLE_DIR = ROOT / ".oracle"
VERSION = "2.24.0"


def installed() -> bool:
    return (ORACLE_DIR / "cvat_sdk" / "api_client").is_dir()


def ensure_installed() -> str:
    """Install the official SDK into ``.oracle`` if it is missing: "" or why it failed."""
    if installed():
        return ""
    print(f"installing cvat-sdk=={VERSION} into {ORACLE_DIR} ...", file=sys.stderr)
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(ORACLE_DIR)]
    done = subprocess.run(
        [*command, f"cvat-sdk=={VERSION}"], capture_output=True, text=True, check=False
    )
    if done.returncode != 0 or not installed():
        return f"pip install --target .oracle cvat-sdk=={VERSION} failed:\n{done.stderr[-2000:]}"
    return ""


def environment() -> dict[str, str]:
    """Our environment with only ``.oracle`` importable: never this repository's cvat_sdk."""
    return python_environment(ORACLE_DIR)


def python_environment(pythonpath: Path) -> dict[str, str]:
    """Our environment without PYTHON* settings, and ``pythonpath`` as the only extra place
    Python imports from (one of the two ``cvat_sdk`` packages, never both)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(pythonpath)
    return env
