"""The floor (what any client must at least do) and the timing helpers, with no cvat_sdk import.

This module is shared by the main bench process (as ``bench.floor``) and by the official-SDK
worker (as top-level ``floor``, since that process must not see this repository's
``cvat_sdk``), so both measure the floor with the very same code.
"""

from __future__ import annotations

import gc
import json
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import urllib3

ANNOTATIONS_PATH = "/api/jobs/1/annotations/"
SELF_PATH = "/api/users/self"


class Floor:
    """Raw keep-alive urllib3 requests plus ``json`` encoding and decoding: nothing more."""

    def __init__(self, url: str, authorization: str) -> None:
        self.url = url
        self.pool = urllib3.PoolManager()
        self.headers = {"Authorization": authorization}
        self.put_headers = {"Authorization": authorization, "Content-Type": "application/json"}

    def _get(self, path: str) -> Any:
        response = self.pool.request("GET", self.url + path, headers=self.headers)
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status}")
        return json.loads(response.data)

    def get_annotations(self) -> Any:
        return self._get(ANNOTATIONS_PATH)

    def get_self(self) -> Any:
        return self._get(SELF_PATH)

    def put_annotations(self, payload: Any) -> Any:
        body = json.dumps(payload).encode("utf-8")
        response = self.pool.request(
            "PUT", self.url + ANNOTATIONS_PATH, body=body, headers=self.put_headers
        )
        if response.status != 200:
            raise RuntimeError(f"PUT {ANNOTATIONS_PATH}: {response.status}")
        return json.loads(response.data)


def timed(call: Callable[[], Any]) -> float:
    """Milliseconds one call takes; garbage from earlier calls is collected first, and the
    result is freed only after the clock stops (freeing a big tree is not the call's cost)."""
    gc.collect()
    started = time.perf_counter()
    result = call()
    elapsed = time.perf_counter() - started
    del result
    return elapsed * 1000


def timed_loop(call: Callable[[], Any], count: int) -> float:
    """Microseconds per call over ``count`` back-to-back calls (small requests)."""
    gc.collect()
    started = time.perf_counter()
    for _ in range(count):
        call()
    return (time.perf_counter() - started) / count * 1e6


def interleave(measures: dict[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Run each measure once per round, rotating who goes first, so drift hits all alike."""
    names = list(measures)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(measures[name]())
    return samples


def median(values: list[float]) -> float:
    return statistics.median(values)


def retained_bytes(call: Callable[[], Any]) -> int:
    """Bytes still allocated (tracemalloc) while the call's result is alive."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = call()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del result
    return after - before
