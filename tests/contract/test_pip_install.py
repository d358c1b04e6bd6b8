"""``CVAT_SDK_SCHEMA=<file> pip install .`` for every schema: the build hook generates the
client from that schema and the package takes its version.

Each build runs on a copy of the repository (the hook writes ``cvat_sdk/api_client`` next to
``gen/``, which must not replace the client the rest of the suite imports), without build
isolation: the test extra brings hatchling and the generator.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.contract import _schema, _tools

BUILD_TIMEOUT = 300.0


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | str]:
    """Version -> the built wheel, or the build's output when it failed (built in parallel)."""
    root = tmp_path_factory.mktemp("wheels")
    started = {}
    for version, schema in _schema.SCHEMA_FILES.items():
        source = root / f"source-{version}"
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            source.mkdir(exist_ok=True)
            shutil.copy2(_tools.REPO / name, source / name)
        ignore = shutil.ignore_patterns("api_client", "__pycache__")
        for folder in ("gen", "cvat_sdk"):
            shutil.copytree(_tools.REPO / folder, source / folder, ignore=ignore)
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
        command += ["--quiet", "-w", str(root / f"wheel-{version}"), str(source)]
        env = {**os.environ, "CVAT_SDK_SCHEMA": str(schema)}
        started[version] = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    built: dict[str, Path | str] = {}
    for version, process in started.items():
        output, _ = process.communicate(timeout=BUILD_TIMEOUT)
        found = sorted((root / f"wheel-{version}").glob("*.whl"))
        built[version] = found[0] if process.returncode == 0 and found else output[-4000:]
    return built


@pytest.mark.parametrize("version", list(_schema.SCHEMA_FILES))
def test_pip_install_generates_from_the_chosen_schema(
    wheels: dict[str, Path | str], version: str
) -> None:
    wheel = wheels[version]
    assert isinstance(wheel, Path), f"pip wheel failed:\n{wheel}"
    assert wheel.name.startswith(f"cvat_sdk-{version}-")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert "cvat_sdk/api_client/__init__.py" in names
        assert "cvat_sdk/py.typed" in names
        declared = sum(
            len(re.findall(r"_endpoint = EndpointSpec\(", archive.read(name).decode()))
            for name in names
            if name.startswith("cvat_sdk/api_client/apis/") and name.endswith("_api.py")
        )
    operations = _schema.operations(_schema.load(_schema.SCHEMA_FILES[version]))
    assert declared == len(operations)
