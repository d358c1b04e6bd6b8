"""Shared by the golden test and ``python -m tests.golden.update``: generate, compare, install.

The golden schema (``schema.yml``) is generated into a scratch directory, never into the
repository's ``cvat_sdk/api_client``; ``expected/`` holds the committed output, with the
package's subpaths (``apis/books_api.py``, ``models/book_read.py``...).
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SCHEMA = HERE / "schema.yml"
EXPECTED = HERE / "expected"
UPDATE_HINT = "python -m tests.golden.update"


def generate_package(scratch: Path) -> Path:
    """Generate the golden schema's client as ``<scratch>/cvat_sdk/api_client``; return it."""
    from gen.generate import generate

    out = scratch / "cvat_sdk" / "api_client"
    out.parent.mkdir(parents=True, exist_ok=True)
    generate(SCHEMA, out)
    return out


def package_files(root: Path) -> dict[str, Path]:
    """The files of a generated tree by relative POSIX path (byte-code caches left out)."""
    return {
        path.relative_to(root).as_posix(): path
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def differences(generated: Path, expected: Path = EXPECTED) -> list[str]:
    """Unified diffs (expected -> generated) of every file that differs, appears or vanished."""
    ours = package_files(generated)
    theirs = package_files(expected) if expected.is_dir() else {}
    found = []
    for name in sorted(ours.keys() | theirs.keys()):
        old = (
            theirs[name].read_text(encoding="utf-8").splitlines(keepends=True)
            if name in theirs
            else []
        )
        new = (
            ours[name].read_text(encoding="utf-8").splitlines(keepends=True) if name in ours else []
        )
        if old == new:
            continue
        diff = difflib.unified_diff(
            old,
            new,
            fromfile=f"expected/{name}" if name in theirs else "/dev/null",
            tofile=f"generated/{name}" if name in ours else "/dev/null",
        )
        found.append("".join(diff))
    return found


def install(generated: Path, expected: Path = EXPECTED) -> None:
    """Make ``expected`` an exact copy of the generated package's files."""
    shutil.rmtree(expected, ignore_errors=True)
    for name, path in package_files(generated).items():
        target = expected / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def build_site(scratch: Path, generated: Path) -> Path:
    """A directory to put on ``sys.path``: the repository's ``cvat_sdk`` (without the shared
    ``api_client/`` and ``testing/``) with the golden ``api_client`` in its place."""
    site = scratch / "site"
    shutil.copytree(
        REPO / "cvat_sdk",
        site / "cvat_sdk",
        ignore=shutil.ignore_patterns("api_client", "testing", "__pycache__", "*.pyc"),
    )
    shutil.copytree(generated, site / "cvat_sdk" / "api_client")
    return site
