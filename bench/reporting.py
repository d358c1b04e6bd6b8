"""What the real-server benches share: a plain-text table and a results file kept by key."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def text_table(lines: Sequence[Sequence[str]]) -> str:
    """``lines[0]`` is the header; columns padded to their widest cell, a rule under it."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    out = ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def write_results(path: Path, key: str, report: dict[str, Any]) -> None:
    """``report`` under ``key``, keeping what other benches wrote to the same file."""
    try:
        existing = json.loads(path.read_text())
    except (OSError, ValueError):
        existing = {}
    if not isinstance(existing, dict):
        existing = {}
    existing[key] = report
    path.write_text(json.dumps(existing, indent=2) + "\n")
