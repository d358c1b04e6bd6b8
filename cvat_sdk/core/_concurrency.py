"""Run independent pieces of one operation side by side, and stop them all when one fails."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

from cvat_sdk.core.progress import ProgressReporter

T = TypeVar("T")


class Stopped(Exception):
    """Raised by a job that gave up because another one failed."""


def run_all(jobs: Sequence[Callable[[threading.Event], T]], workers: int) -> list[T]:
    """Each job's result, in order; at most ``workers`` jobs run at a time.

    Every job gets the same stop event, set as soon as one job fails (or the caller is
    interrupted): running jobs should check it between steps and raise :class:`Stopped`. The
    first ``workers`` jobs always start (side by side); later ones never start once it is
    set. Once every running job has returned, the first real failure is raised (not a
    :class:`Stopped`).

    The workers are daemon threads of our own rather than a ``ThreadPoolExecutor``: a Ctrl-C
    that lands while an executor starts a thread can leave that thread unknown to the
    executor's exit hook, and the interpreter then waits for it forever at exit (seen on the
    CLI: "interrupted" printed, the process never ended).
    """
    stop = threading.Event()
    if workers <= 1 or len(jobs) <= 1:
        return [job(stop) for job in jobs]
    results: list[T | None] = [None] * len(jobs)
    errors: list[BaseException | None] = [None] * len(jobs)
    count = min(workers, len(jobs))
    later = iter(range(count, len(jobs)))
    taking = threading.Lock()

    def run(index: int) -> None:
        try:
            results[index] = jobs[index](stop)
        except BaseException as error:  # handed to the caller below
            errors[index] = error
            stop.set()

    def work(first: int) -> None:
        run(first)  # each thread's first job starts whatever happened meanwhile
        while not stop.is_set():
            with taking:
                index = next(later, None)
            if index is None:
                return
            run(index)

    threads = [
        threading.Thread(target=work, args=(n,), name=f"cvat-sdk-{n}", daemon=True)
        for n in range(count)
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    except BaseException:  # e.g. KeyboardInterrupt in the caller's thread
        stop.set()
        for thread in threads:
            if thread.ident is not None:
                thread.join()
        raise
    found = [error for error in errors if error is not None]
    for error in sorted(found, key=lambda e: isinstance(e, Stopped)):
        raise error
    return results  # type: ignore[return-value]


class Gate:
    """Opens once, or fails: where jobs wait for an earlier request's answer.

    ``wait`` gives up with :class:`Stopped` when the gate fails or the operation stops.
    """

    def __init__(self) -> None:
        self._decided = threading.Event()
        self._failed = False

    def open(self) -> None:
        self._decided.set()

    def fail(self) -> None:
        self._failed = True
        self._decided.set()

    def wait(self, stop: threading.Event | None = None) -> None:
        while not self._decided.wait(0.05):
            if stop is not None and stop.is_set():
                raise Stopped("the operation stopped before the request waited for was answered")
        if self._failed:
            raise Stopped("the request waited for failed")


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
