"""Bulk files split over several ``Upload-Multiple`` requests, on the real CVAT.

Past ``settings.BULK_SPLIT_ABOVE`` bytes the bulk files go in two requests at least, so that
one streams while the server parses the other. The server must put the frames back in the
order given (``sorting_method="predefined"``), whichever request carried them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cvat_sdk._runtime import settings
from cvat_sdk.api_client import ApiClient
from cvat_sdk.core.uploading import upload_task_data
from tests.core.support import RecordingProgress
from tests.support.tcp_proxy import TcpProxy

from .support import MiB, Trash, png
from .test_upload_faults_live import frames_are


def test_bulk_files_past_the_split_size_go_in_two_requests_and_keep_their_order(
    client: ApiClient,
    via_proxy: ApiClient,
    proxy: TcpProxy,
    trash: Trash,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # noise PNGs of about 1.3 MB each (they do not compress), named so that any sorting
    # but the predefined one would reorder them
    order = ["f", "3", "a", "20", "c", "1"]
    files = [
        png(tmp_path / f"{name}.png", 720, 600, seed=i, noise=True) for i, name in enumerate(order)
    ]
    total = sum(f.stat().st_size for f in files)
    assert total > 6 * MiB
    monkeypatch.setattr(settings, "BULK_SPLIT_ABOVE", 4 * MiB)
    monkeypatch.setattr(settings, "ONE_REQUEST_MAX", 0)  # a session, not one request
    task_id = trash.task(client)
    progress = RecordingProgress()

    done = upload_task_data(
        via_proxy, task_id, files, data_params={"sorting_method": "predefined"}, progress=progress
    )

    assert done.status == "finished"
    bulk = [e for e in proxy.exchanges("POST") if e.headers.get("upload-multiple") == "true"]
    assert [e.upstream_status for e in bulk] == [200, 200]
    # each request carried about half the bytes, and together every byte once
    assert all(total / 3 < e.forwarded < total * 2 / 3 for e in bulk)
    assert sum(e.forwarded for e in bulk) > total
    progress.check(total)
    meta, _ = client.tasks_api.retrieve_data_meta(task_id)
    assert [str(f.name) for f in meta.frames or []] == [f.name for f in files]
    frames_are(client, task_id, files)
