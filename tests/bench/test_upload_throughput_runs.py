"""``bench.upload_throughput`` still runs against the fake server as it is now: the fake
follows the real CVAT (TUS creation needs ``Origin``), and a bench nobody ran broke on it
once. Only that it runs and reports both servers is checked; speed is the bench's job."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_loopback_upload_bench_runs_to_its_report() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "bench.upload_throughput", "--size-mib", "4", "--repeat", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line.split()[0] for line in done.stdout.splitlines() if line.strip()]
    assert "FakeCvatServer" in rows and "discard" in rows, done.stdout
