"""Decoding the next frames in background threads while the caller works on this one.

Decoding dominates reading a cached dataset, and Pillow lets other threads run while it
decodes, so frames read in order (a plain loop, a ``DataLoader`` without workers or shuffle,
``annotate_task``) come up to about ``READ_AHEAD_THREADS`` times as fast. Only a run of
reads in order starts it; a jump cancels what was queued, so random access costs nothing
extra. Not used inside ``DataLoader`` worker processes, which decode side by side already.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

from cvat_sdk.core._concurrency import DaemonExecutor

__all__ = ["READ_AHEAD_FRAMES", "READ_AHEAD_THREADS", "ReadAhead"]

#: Frames decoded ahead of the one asked for (each kept decoded until it is asked for).
READ_AHEAD_FRAMES = 4
#: Threads decoding them.
READ_AHEAD_THREADS = max(1, min(2, (os.cpu_count() or 1)))


def _in_data_loader_worker() -> bool:
    data = sys.modules.get("torch.utils.data")  # not imported: not in a DataLoader worker
    return data is not None and data.get_worker_info() is not None


class ReadAhead:
    """``get(i)`` is ``loaders[i]()``, with the next frames decoded ahead when reads go in
    order. Safe to pickle (the threads are not) and to use after ``fork``."""

    def __init__(self, loaders: Sequence[Callable[[], Any]]) -> None:
        self._loaders = loaders
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._pool: DaemonExecutor | None = None
        self._pid = os.getpid()
        self._queued: dict[int, Future[Any]] = {}
        self._last = -2
        self._enabled: bool | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"_loaders": self._loaders}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._loaders = state["_loaders"]
        self._reset()

    def get(self, index: int) -> Any:
        if self._pid != os.getpid():
            self._reset()  # a forked child: the parent's threads are not here
        with self._lock:
            future = self._queued.pop(index, None)
            in_order = index == self._last + 1
            self._last = index
            if not in_order:
                self._drop()
            elif READ_AHEAD_FRAMES > 0 and self._allowed():
                self._queue_after(index)
        if future is not None:
            return future.result()
        return self._loaders[index]()

    def _allowed(self) -> bool:
        if self._enabled is None:
            self._enabled = READ_AHEAD_THREADS > 0 and not _in_data_loader_worker()
        return self._enabled

    def _queue_after(self, index: int) -> None:
        if self._pool is None:
            self._pool = DaemonExecutor(READ_AHEAD_THREADS, "cvat-read-ahead")
        for ahead in range(index + 1, min(index + 1 + READ_AHEAD_FRAMES, len(self._loaders))):
            if ahead not in self._queued:
                self._queued[ahead] = self._pool.submit(self._loaders[ahead])

    def _drop(self) -> None:
        for future in self._queued.values():
            future.cancel()
        self._queued.clear()

    def close(self) -> None:
        """Stop the threads (they also end with the process; this only frees them sooner)."""
        with self._lock:
            self._drop()
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
