"""Uploads against a flaky server: connections dropped mid-chunk, 5xx answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from cvat_sdk._runtime import settings
from cvat_sdk._runtime.exceptions import ServiceException
from cvat_sdk.api_client import ApiClient
from cvat_sdk.core.uploading import upload_task_data
from cvat_sdk.testing import FakeCvatServer, LoggedRequest

from .support import MiB, RecordingProgress, create_task, same_bytes, write_random

CHUNK = MiB


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """1 MiB TUS chunks; files over 512 KiB go through TUS."""
    monkeypatch.setattr(settings, "TUS_CHUNK_SIZE", CHUNK)
    monkeypatch.setattr(settings, "BULK_FILE_MAX", 512 * 1024)


def patches(server: FakeCvatServer) -> list[LoggedRequest]:
    return [r for r in server.request_log if r.method == "PATCH"]


def test_two_drops_mid_chunk_resend_one_chunk_each(
    server: FakeCvatServer, client: ApiClient, tmp_path: Path
) -> None:
    """Chunks 2 and 4 of a 6 MiB file are cut 300 kB in; each is sent again whole, once, and
    nothing that the server confirmed is sent twice."""
    big = write_random(tmp_path / "big.bin", 6 * CHUNK)
    small = write_random(tmp_path / "small.png", 1000)
    task_id = create_task(client)
    data_path = f"/api/tasks/{task_id}/data/"

    class DropsAhead(RecordingProgress):
        """Arms a drop of the next chunk when 2 MiB, then 4 MiB are confirmed."""

        def advance(self, n: int) -> None:
            super().advance(n)
            if self.advanced - 1000 in (2 * CHUNK, 4 * CHUNK):  # 1000: the small file
                server.faults.drop_connection_after(300_000, path_prefix=data_path, method="PATCH")

    progress = DropsAhead()
    upload_task_data(client, task_id, [small, big], progress=progress)

    assert same_bytes(server.uploaded_files(task_id)["big.bin"], big)
    sent = patches(server)
    offsets = [int(r.headers["upload-offset"]) for r in sent]
    dropped = [r for r in sent if r.status is None]
    assert len(sent) == 6 + 2  # one PATCH per chunk, and one more per drop
    assert [int(r.headers["upload-offset"]) for r in dropped] == [2 * CHUNK, 4 * CHUNK]
    assert [r.body_length for r in dropped] == [300_000, 300_000]
    assert offsets == [0, CHUNK, 2 * CHUNK, 2 * CHUNK, 3 * CHUNK, 4 * CHUNK, 4 * CHUNK, 5 * CHUNK]
    confirmed = [int(r.headers["upload-offset"]) for r in sent if r.status == 204]
    assert confirmed == [i * CHUNK for i in range(6)]  # no confirmed chunk went twice
    resent = sum(r.body_length for r in sent) - big.stat().st_size
    assert resent == 600_000 <= 2 * CHUNK  # what reached the server twice: the cut pieces
    assert server.count_requests("HEAD", data_path) == 2  # the offset is asked once per drop
    progress.check(big.stat().st_size + 1000)  # a dropped chunk is not counted


def test_a_5xx_to_a_chunk_resumes_from_the_servers_offset(
    server: FakeCvatServer, client: ApiClient, tmp_path: Path
) -> None:
    big = write_random(tmp_path / "big.bin", 3 * CHUNK + 5)
    task_id = create_task(client)
    server.faults.fail_next(502, path_prefix=f"/api/tasks/{task_id}/data/", method="PATCH")
    upload_task_data(client, task_id, [big])
    assert [r.status for r in patches(server)] == [502, 204, 204, 204, 204]
    assert same_bytes(server.uploaded_files(task_id)["big.bin"], big)


def test_a_5xx_to_the_finish_is_retried(
    server: FakeCvatServer, client: ApiClient, tmp_path: Path
) -> None:
    files = [write_random(tmp_path / "big.bin", 2 * CHUNK), write_random(tmp_path / "a.png", 10)]
    task_id = create_task(client)
    data_path = f"/api/tasks/{task_id}/data/"
    server.faults.fail_next(
        503, path_prefix=data_path, method="POST", headers={"Upload-Finish": "true"}, times=2
    )
    request = upload_task_data(client, task_id, files)
    assert str(request.status) == "finished"
    finishes = [r.status for r in server.request_log if "upload-finish" in r.headers]
    assert finishes == [503, 503, 202]
    assert list(server.uploaded_files(task_id)) == ["a.png", "big.bin"]


def test_a_finish_that_keeps_failing_raises(
    server: FakeCvatServer, client: ApiClient, tmp_path: Path
) -> None:
    task_id = create_task(client)
    server.faults.fail_next(500, headers={"Upload-Finish": "true"}, times=None)
    with pytest.raises(ServiceException):
        upload_task_data(client, task_id, [write_random(tmp_path / "a.png", 10)])
    assert server.count_requests("POST", f"/api/tasks/{task_id}/data/") == 2 + 3  # start, bulk
