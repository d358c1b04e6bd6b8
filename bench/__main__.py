"""``python -m bench``: run the scenarios, print the table, write ``bench/results.json``.

Needs ``PYTHONPATH`` to reach this repository (``cvat_sdk`` with its generated client).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import oracle
from bench.scenarios import SCENARIOS, Context, Result, Settings
from bench.server import ROOT, ServerProcess

RESULTS = Path(__file__).resolve().parent / "results.json"
NOISY = 0.25


def _format(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if unit != "MiB" and value >= 100 else f"{value:.2f}"


def _metric(value: float | None, kind: str) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}x" if kind == "ratio" else f"{value:+.1f}"


def table(results: list[Result]) -> str:
    header = (
        "scenario",
        "unit",
        "floor",
        "ours",
        "ratio",
        "goal",
        "pass",
        "official",
        "off. ratio",
    )
    rows = [header]
    for r in results:
        goal = "-" if r.goal is None else ("<= " + _metric(r.goal, r.kind))
        verdict = {True: "PASS", False: "FAIL", None: "-"}[r.passed]
        rows.append(
            (
                r.scenario,
                r.unit,
                _format(r.floor, r.unit),
                _format(r.ours, r.unit),
                _metric(r.metric, r.kind),
                goal,
                verdict,
                _format(r.official, r.unit),
                _metric(r.official_metric, r.kind),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False
    )
    return done.stdout.strip()


def _commit() -> str:
    """HEAD, with ``+dirty`` when the measured code (cvat_sdk/, gen/) has local changes."""
    dirty = _git("status", "--porcelain", "--", "cvat_sdk", "gen")
    return _git("rev-parse", "--short", "HEAD") + ("+dirty" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (smoke run)")
    parser.add_argument(
        "--scenario", action="append", choices=list(SCENARIOS), help="run only these (repeatable)"
    )
    parser.add_argument(
        "--no-oracle", action="store_true", help="neither install nor run the official SDK"
    )
    parser.add_argument("--profile", action="store_true", help="profile our side afterwards")
    parser.add_argument("--strict", action="store_true", help="exit with 1 when a goal is missed")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON")
    parser.add_argument(
        "--real-server",
        metavar="URL",
        help="instead: task data uploads to this real CVAT (python -m bench.real_upload)",
    )
    args = parser.parse_args(argv)
    if args.real_server:
        from bench import real_upload

        forwarded = ["--real-server", args.real_server, "--output", str(args.output)]
        forwarded += ["--rounds", "1"] if args.quick else []
        forwarded += ["--no-official"] if args.no_oracle else []
        forwarded += ["--strict"] if args.strict else []
        return real_upload.main(forwarded)

    use_oracle = not args.no_oracle and oracle.ensure_installed()
    settings = Settings.quick(use_oracle) if args.quick else Settings(oracle=use_oracle)
    names = args.scenario or list(SCENARIOS)
    started = time.perf_counter()
    load = os.getloadavg()  # other work on the machine makes the numbers noisier
    results: list[Result] = []
    with ServerProcess() as server:
        ctx = Context(server.url, settings)
        for name in names:
            print(f"running {name} ...", file=sys.stderr, flush=True)
            results.append(SCENARIOS[name](ctx))
        print()
        print(table(results))
        print(
            "\nratio = ours / floor (import_cost: ms over a bare `python -c pass`); "
            "official ratio uses the floor measured in the official SDK's own process."
        )
        noisy = [f"{r.scenario} ({r.spread:.0%})" for r in results if r.spread > NOISY]
        if noisy:
            print(f"noisy floor (max-min over median > {NOISY:.0%}): {', '.join(noisy)}")
        print(f"load average before/after: {load[0]:.2f} / {os.getloadavg()[0]:.2f}")
        if args.profile:
            from bench.profiling import profile_calls

            for name in names:
                if name != "memory":
                    print()
                    print(profile_calls(ctx, name))
    elapsed = time.perf_counter() - started
    report: dict[str, Any] = {
        "settings": vars(settings),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "commit": _commit(),
        "payload_bytes": ctx.payload_bytes,
        "seconds": round(elapsed, 1),
        "load_average": [load[0], os.getloadavg()[0]],
        "results": [r.as_json() for r in results],
    }
    try:  # the real-server upload figures, written by bench.real_upload, stay
        kept = json.loads(args.output.read_text()).get("real_upload")
    except (OSError, ValueError, AttributeError):
        kept = None
    if kept is not None:
        report["real_upload"] = kept
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\n{len(results)} scenarios in {elapsed:.0f} s; results in {args.output}")
    missed = [r.scenario for r in results if r.passed is False]
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
