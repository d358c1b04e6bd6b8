"""One upload_task_data call with 2,000 small files and a 300 MB one: bulk and TUS together,
byte for byte, streamed (never a file in memory)."""

from __future__ import annotations

import os
import random
import tracemalloc
from pathlib import Path

from cvat_sdk._runtime import settings
from cvat_sdk.api_client import ApiClient
from cvat_sdk.core.uploading import upload_task_data
from cvat_sdk.testing import FakeCvatServer

from .support import MiB, RecordingProgress, create_task, same_bytes, write_random

BIG = 300_000_000


def test_2000_small_files_and_a_300_mb_one(
    server: FakeCvatServer, client: ApiClient, tmp_path: Path
) -> None:
    sizes = random.Random(7).choices(range(1, 24 * 1024), k=2000)
    small = []
    for index, size in enumerate(sizes):
        path = tmp_path / f"frame_{1999 - index:04}.jpg"  # given in reverse lexicographic order
        path.write_bytes(os.urandom(size))
        small.append(path)
    big = write_random(tmp_path / "video_0000.mp4", BIG)
    files = [*small[:1000], big, *small[1000:]]  # the big one in the middle
    task_id = create_task(client)
    progress = RecordingProgress()

    tracemalloc.start()
    try:
        upload_task_data(
            client,
            task_id,
            files,
            data_params={"image_quality": 80, "sorting_method": "predefined"},
            progress=progress,
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    received = server.uploaded_files(task_id)
    assert list(received) == [f.name for f in files]  # the predefined order, kept
    assert all(received[f.name].read_bytes() == f.read_bytes() for f in small)
    assert same_bytes(received[big.name], big)
    progress.check(BIG + sum(sizes))

    data_path = f"/api/tasks/{task_id}/data/"
    bulk = [r for r in server.request_log if "upload-multiple" in r.headers]
    assert len(bulk) == 2  # BULK_REQUEST_MAX_FILES = 1000 files per request
    chunks = -(-BIG // settings.TUS_CHUNK_SIZE)
    assert server.count_requests("PATCH", data_path) == chunks
    # client and server (one process) together: ~5 MiB, not the 300 MB file
    assert peak < 16 * MiB, peak
