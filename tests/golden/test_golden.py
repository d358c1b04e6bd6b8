"""The generator's output for a small schema of our own, pinned file by file.

``schema.yml`` uses every construct of the CVAT schemas; its generated client is committed in
``expected/``. A change to ``gen/`` that alters the output fails here with a unified diff:
review it, then run ``python -m tests.golden.update``. The fresh output must also pass
``mypy --strict`` together with the runtime, and import and work in a clean interpreter.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.golden import snapshot

SMOKE = Path(__file__).resolve().parent / "smoke_check.py"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The golden client, freshly generated (about 3 s) into a scratch directory."""
    return snapshot.generate_package(tmp_path_factory.mktemp("golden"))


@pytest.fixture(scope="module")
def site(generated: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sys.path directory: the runtime from this checkout plus the golden ``api_client``."""
    return snapshot.build_site(tmp_path_factory.mktemp("golden-site"), generated)


def _env(site: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MYPYPATH")}
    return env | {"PYTHONPATH": str(site), "MYPYPATH": str(site), "PYTHONDONTWRITEBYTECODE": "1"}


def test_generated_output_matches_the_snapshot(generated: Path) -> None:
    found = snapshot.differences(generated)
    if found:
        pytest.fail(
            f"{len(found)} generated file(s) differ from tests/golden/expected/.\n"
            f"If the change is intended, run `{snapshot.UPDATE_HINT}` and commit the result.\n\n"
            + "\n".join(found),
            pytrace=False,
        )


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed")
def test_generated_code_passes_mypy_strict(site: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--python-version=3.10",
            "--no-incremental",
            f"--cache-dir={site.parent / 'mypy-cache'}",
            "--config-file=",
            "-p",
            "cvat_sdk.api_client",
        ],
        cwd=site,
        env=_env(site),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(
            f"mypy --strict on the golden client:\n{done.stdout}{done.stderr}", pytrace=False
        )


def test_generated_package_imports_and_works(site: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SMOKE), str(site)],
        cwd=site,
        env=_env(site),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stdout + done.stderr
