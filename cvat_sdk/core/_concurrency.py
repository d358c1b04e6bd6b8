"""Run independent pieces of one operation side by side, and stop them all when one fails."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

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


_Work = tuple["Future[Any]", Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class DaemonExecutor(Executor):
    """A ``ThreadPoolExecutor`` whose threads are daemons: the interpreter never waits for
    them at exit, which also rules out the hang :func:`run_all` explains (a Ctrl-C landing
    while the first thread starts). Threads start as work comes, up to ``max_workers``."""

    def __init__(self, max_workers: int, name: str = "cvat-sdk") -> None:
        self._max_workers = max(1, max_workers)
        self._name = name
        self._queue: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._busy = 0
        self._lock = threading.Lock()
        self._shut = False

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._shut:
                raise RuntimeError("cannot schedule new futures after shutdown")
            self._queue.put((future, fn, args, kwargs))
            self._busy += 1
            if self._busy > len(self._threads) and len(self._threads) < self._max_workers:
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        return future

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                self._queue.put(None)  # the next thread ends too
                return
            future, fn, args, kwargs = item
            del item
            try:
                if future.set_running_or_notify_cancel():
                    try:
                        result = fn(*args, **kwargs)
                    except BaseException as error:  # handed to whoever waits on the future
                        future.set_exception(error)
                    else:
                        future.set_result(result)
            finally:
                with self._lock:
                    self._busy -= 1
            del future, fn, args, kwargs

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._shut = True
            if cancel_futures:
                while True:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is not None:
                        item[0].cancel()
                        self._busy -= 1
            self._queue.put(None)
            threads = list(self._threads)
        if wait:
            for thread in threads:
                if thread is not threading.current_thread():
                    thread.join()


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
