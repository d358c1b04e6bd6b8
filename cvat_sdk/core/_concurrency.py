"""Run independent pieces of one operation side by side, and stop them all when one fails."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TypeVar

from cvat_sdk.core.progress import ProgressReporter

T = TypeVar("T")


class Stopped(Exception):
    """Raised by a job that gave up because another one failed."""


def run_all(jobs: Sequence[Callable[[threading.Event], T]], workers: int) -> list[T]:
    """Each job's result, in order; at most ``workers`` jobs run at a time.

    Every job gets the same stop event, set as soon as one job fails (or the caller is
    interrupted): running jobs should check it between steps and raise :class:`Stopped`; jobs
    not yet started never start. Once every running job has returned, the first real failure
    is raised (not a :class:`Stopped`).
    """
    stop = threading.Event()
    if workers <= 1 or len(jobs) <= 1:
        return [job(stop) for job in jobs]
    pool = ThreadPoolExecutor(max_workers=min(workers, len(jobs)), thread_name_prefix="cvat-sdk")
    futures = [pool.submit(job, stop) for job in jobs]
    try:
        wait(futures, return_when=FIRST_EXCEPTION)
    except BaseException:  # e.g. KeyboardInterrupt in the caller's thread
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    if any(f.done() and not f.cancelled() and f.exception() for f in futures):
        stop.set()
    pool.shutdown(wait=True, cancel_futures=True)
    errors = [f.exception() for f in futures if not f.cancelled() and f.exception()]
    for error in sorted(errors, key=lambda e: isinstance(e, Stopped)):
        raise error  # type: ignore[misc]
    return [future.result() for future in futures]


class LockedProgress:
    """A reporter that several threads may advance at once."""

    def __init__(self, inner: ProgressReporter) -> None:
        self._inner = inner
        self._lock = threading.Lock()

    def start(self, total: int | None) -> None:
        with self._lock:
            self._inner.start(total)

    def advance(self, n: int) -> None:
        with self._lock:
            self._inner.advance(n)

    def finish(self) -> None:
        with self._lock:
            self._inner.finish()
