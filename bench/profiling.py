"""Where our time goes: cProfile of our calls, ``-X importtime`` of our import.

Printed on request (``--profile``) so a missed goal comes with the functions to look at.
"""

from __future__ import annotations

import contextlib
import cProfile
import io
import os
import pstats
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from bench.scenarios import IMPORT_SNIPPET, Context
from bench.server import ROOT


def _calls(ctx: Context) -> dict[str, tuple[Callable[[], Any], int]]:
    return {
        "get_annotations": (ctx.ours_get_annotations, 3),
        "put_annotations": (ctx.ours_put_annotations, 3),
        "get_self": (ctx.ours_get_self, 2000),
    }


def profile_calls(ctx: Context, scenario: str, top: int = 25) -> str:
    """The top functions by own time and by cumulative time over a few of our calls."""
    calls = _calls(ctx)
    if scenario == "import_cost":
        return import_times(top)
    if scenario not in calls:
        return f"(no profile for {scenario})"
    call, count = calls[scenario]
    profiler = cProfile.Profile()
    with ctx.put_payload() if scenario == "put_annotations" else contextlib.nullcontext():
        call()  # warm
        profiler.enable()
        for _ in range(count):
            call()
        profiler.disable()
    out = io.StringIO()
    out.write(f"--- {scenario}: {count} calls, by own time ---\n")
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    out.write(f"--- {scenario}: by cumulative time ---\n")
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def import_times(top: int = 25) -> str:
    """The slowest imports (cumulative microseconds) of our import snippet."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", IMPORT_SNIPPET],
        env=env,
        cwd="/",
        capture_output=True,
        text=True,
        check=True,
    )
    rows: list[tuple[int, int, str]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|", 2)
        rows.append((int(cumulative), int(own), name.rstrip()))
    rows.sort(reverse=True)
    lines = [f"--- import_cost: top {top} imports by cumulative time (us) ---"]
    lines += [f"{cum:>9} {own:>9}  {name}" for cum, own, name in rows[:top]]
    total_own = sum(own for _, own, _ in rows)
    lines.append(f"sum of own import times: {total_own / 1000:.1f} ms over {len(rows)} modules")
    return "\n".join(lines)
