"""``run_all`` (the side-by-side runner of uploads and frame downloads) and ``DaemonExecutor``
(the datasets layer's thread pool)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from cvat_sdk.core._concurrency import DaemonExecutor, Stopped, run_all

ROOT = Path(__file__).resolve().parents[2]


def run_script(script: str) -> subprocess.CompletedProcess[str]:
    """``script`` in a Python process of its own, which must end within 20 s."""
    return subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )


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
    done = run_script(script)
    assert done.stdout.strip() == "interrupted", done.stderr
    assert done.returncode == 0


def test_the_executor_runs_jobs_on_at_most_its_daemon_threads() -> None:
    pool = DaemonExecutor(2, "test-pool")
    together = threading.Barrier(2)
    threads: set[threading.Thread] = set()

    def job(n: int) -> int:
        threads.add(threading.current_thread())
        if n < 2:
            together.wait(5)  # the first two run side by side
        if n == 3:
            raise ValueError("job 3 failed")
        return n * 10

    futures = [pool.submit(job, n) for n in range(6)]
    assert [f.result(5) for f in futures if f is not futures[3]] == [0, 10, 20, 40, 50]
    with pytest.raises(ValueError, match="job 3 failed"):
        futures[3].result(5)
    pool.shutdown()
    assert len(threads) == 2
    assert all(t.daemon and t.name.startswith("test-pool-") and not t.is_alive() for t in threads)
    with pytest.raises(RuntimeError, match="after shutdown"):
        pool.submit(job, 0)


def test_shutdown_cancels_what_has_not_started_and_waits_for_the_rest() -> None:
    pool = DaemonExecutor(1)
    release = threading.Event()
    running = threading.Event()

    def first() -> str:
        running.set()
        release.wait(5)
        return "done"

    started = pool.submit(first)
    queued = [pool.submit(lambda: "never") for _ in range(3)]
    assert running.wait(5)
    threading.Timer(0.2, release.set).start()
    pool.shutdown(wait=True, cancel_futures=True)
    assert started.done() and started.result() == "done"
    assert all(f.cancelled() for f in queued)


def test_the_process_ends_while_an_executor_job_still_runs() -> None:
    """A ``ThreadPoolExecutor`` would be joined at exit, forever here."""
    script = textwrap.dedent(
        """
        import threading
        from cvat_sdk.core._concurrency import DaemonExecutor
        pool = DaemonExecutor(2)
        pool.submit(threading.Event().wait)
        print("leaving")
        """
    )
    done = run_script(script)
    assert done.stdout.strip() == "leaving", done.stderr
    assert done.returncode == 0
