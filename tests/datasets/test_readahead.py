"""Reading ahead: frames read in order are decoded ahead in background threads, a jump
queues nothing more, failures reach the caller, it pickles; annotate_task on the fake CVAT
starts on the first frames while a later chunk downloads, and a chunk that fails part-way
says how far it got."""

from __future__ import annotations

import pickle
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import cvat_sdk.auto_annotation as cvataa
from cvat_sdk import Client, Config
from cvat_sdk.datasets import TaskDataset
from cvat_sdk.datasets._readahead import READ_AHEAD_FRAMES, ReadAhead
from cvat_sdk.exceptions import ApiException
from cvat_sdk.testing import FakeCvatServer


class Loader:
    """Frame ``n``'s value, recording which thread produced it."""

    def __init__(self, n: int, log: list[tuple[int, str]], fail: bool = False) -> None:
        self.n, self.log, self.fail = n, log, fail

    def __call__(self) -> int:
        self.log.append((self.n, threading.current_thread().name))
        if self.fail:
            raise OSError(f"frame {self.n} is broken")
        return self.n * 10


def _loaders(count: int, fail_at: int | None = None) -> tuple[list[Loader], list[Any]]:
    log: list[tuple[int, str]] = []
    return [Loader(n, log, n == fail_at) for n in range(count)], log


def test_in_order_reads_are_decoded_ahead() -> None:
    loaders, log = _loaders(12)
    ahead = ReadAhead(loaders)
    assert [ahead.get(n) for n in range(12)] == [n * 10 for n in range(12)]
    ahead.close()
    by_thread = {n: name for n, name in log}
    assert sorted(by_thread) == list(range(12)) and len(log) == 12  # each frame once
    assert by_thread[0] == by_thread[1] == threading.current_thread().name
    assert all(by_thread[n].startswith("cvat-read-ahead") for n in range(2, 12))


def test_a_jump_queues_nothing_and_random_reads_decode_in_the_caller() -> None:
    loaders, log = _loaders(40)
    ahead = ReadAhead(loaders)
    order = [7, 3, 30, 12, 0, 25]
    assert [ahead.get(n) for n in order] == [n * 10 for n in order]
    assert [n for n, _ in log] == order
    assert {name for _, name in log} == {threading.current_thread().name}
    ahead.get(26)  # in order after 25: the next frames are queued
    ahead.close()
    queued = {n for n, name in log if name.startswith("cvat-read-ahead")}
    assert queued <= set(range(27, 27 + READ_AHEAD_FRAMES))


def test_a_failure_reaches_the_caller_at_its_frame() -> None:
    loaders, _ = _loaders(10, fail_at=5)
    ahead = ReadAhead(loaders)
    assert [ahead.get(n) for n in range(5)] == [0, 10, 20, 30, 40]
    with pytest.raises(OSError, match="frame 5 is broken"):
        ahead.get(5)
    assert ahead.get(6) == 60
    ahead.close()


def test_pickles_without_its_threads() -> None:
    loaders, _ = _loaders(8)
    ahead = ReadAhead(loaders)
    ahead.get(0), ahead.get(1)
    copy = pickle.loads(pickle.dumps(ahead))
    assert [copy.get(n) for n in range(8)] == [n * 10 for n in range(8)]
    ahead.close()
    copy.close()


# --- annotate_task: frames while chunks download ---------------------------------------


@pytest.fixture
def server() -> Iterator[FakeCvatServer]:
    with FakeCvatServer() as running:
        yield running


@pytest.fixture
def hl(server: FakeCvatServer, tmp_path: Path) -> Iterator[Client]:
    client = Client(server.url, config=Config(cache_dir=tmp_path / "cache"))
    client.login(("admin", "password"))
    with client:
        yield client


def _task(hl: Client, tmp_path: Path, count: int) -> int:
    files = []
    for i in range(count):
        files.append(tmp_path / f"f{i}.png")
        Image.fromarray(np.full((8, 10 + i, 3), i, dtype=np.uint8)).save(files[-1])
    task = hl.tasks.create_from_data(
        {"name": "aa", "labels": [{"name": "car"}]}, files, data_params={"chunk_size": 2}
    )
    return int(task.id)


class Widths:
    spec = cvataa.DetectionFunctionSpec(labels=[cvataa.label_spec("car", 0)])

    def __init__(self) -> None:
        self.widths: list[int] = []

    def detect(self, context: Any, image: Any) -> list[Any]:
        self.widths.append(image.size[0])
        return [cvataa.rectangle(0, [0, 0, 1, 1])]


def test_annotate_task_streams_frames_and_reports_a_failing_chunk(
    server: FakeCvatServer, hl: Client, tmp_path: Path
) -> None:
    task_id = _task(hl, tmp_path, 6)  # chunks 0, 1, 2 of 2 frames
    function = Widths()
    cvataa.annotate_task(hl, task_id, function)  # a fresh cache: all downloaded meanwhile
    assert function.widths == [10, 11, 12, 13, 14, 15]
    assert len(hl.tasks.retrieve(task_id).get_annotations().shapes) == 6

    # the meta and two chunks cached: only chunk 2 is fetched, and it fails
    TaskDataset(hl, task_id)  # the meta of the task as annotated
    next((tmp_path / "cache").rglob(f"tasks/{task_id}/chunks/2.zip")).unlink()
    server.faults.fail_next(500, path_prefix=f"/api/tasks/{task_id}/data", method="GET", times=1)
    function = Widths()
    with pytest.raises(ApiException) as caught:
        cvataa.annotate_task(hl, task_id, function, clear_existing=True)
    assert function.widths == [10, 11, 12, 13]  # the frames of chunks 0 and 1 were annotated
    note = "stopped after 4 of 6 frames; the results of the first 0 frames were sent"
    assert any(note in n for n in getattr(caught.value, "__notes__", []))
    assert len(hl.tasks.retrieve(task_id).get_annotations().shapes) == 6  # nothing replaced

    # the dataset of a streamed construction still reads every frame
    dataset = TaskDataset(hl, task_id, load_annotations=False, _stream_media=True)
    try:
        for position, sample in enumerate(dataset.samples):
            dataset._wait_for_media(position)
            assert sample.media.load_image().size[0] == 10 + position
    finally:
        dataset._close_media()
