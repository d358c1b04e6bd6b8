"""``run_all``: the side-by-side runner of uploads and frame downloads."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from cvat_sdk.core._concurrency import Stopped, run_all

ROOT = Path(__file__).resolve().parents[2]


def test_results_in_order_and_the_real_failure_first() -> None:
    started: list[int] = []
    gate = threading.Barrier(3)

    def job(n: int, stop: threading.Event) -> int:
        started.append(n)
        gate.wait(5)  # the first three run side by side
        if n == 1:
            raise ValueError("refused")
        if stop.wait(5):
            raise Stopped("gave up")
        return n

    assert run_all([lambda s, n=n: n * 10 for n in range(5)], 3) == [0, 10, 20, 30, 40]
    with pytest.raises(ValueError, match="refused"):
        run_all([lambda s, n=n: job(n, s) for n in range(6)], 3)
    assert sorted(started) == [0, 1, 2]  # the later jobs never started


def test_workers_are_daemon_threads() -> None:
    """An interpreter never waits for them at exit (an executor's threads it does)."""
    seen: list[bool] = []
    run_all([lambda s: seen.append(threading.current_thread().daemon)] * 2, 2)
    assert seen == [True, True]


def test_ctrl_c_while_jobs_run_ends_the_process() -> None:
    """SIGINT in the middle: the jobs see the stop, the caller gets KeyboardInterrupt, and
    the process exits at once."""
    script = textwrap.dedent(
        """
        import os, signal, threading, sys
        from cvat_sdk.core._concurrency import Stopped, run_all
        running = threading.Barrier(2)
        def job(stop):
            running.wait(5)
            if stop.wait(30):
                raise Stopped("stopped")
        threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        try:
            run_all([job] * 2, 2)
        except KeyboardInterrupt:
            print("interrupted")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert done.stdout.strip() == "interrupted", done.stderr
    assert done.returncode == 0
