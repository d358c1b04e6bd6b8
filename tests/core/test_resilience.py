"""Uploads against a flaky server: connections dropped mid-chunk, 5xx answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pytest

from cvat_sdk._runtime import settings
from cvat_sdk._runtime.exceptions import ServiceException
from cvat_sdk.api_client import ApiClient
from cvat_sdk.core.exceptions import UploadError
from cvat_sdk.core.uploading import upload_annotations, upload_task_data
from cvat_sdk.testing import FakeCvatServer, LoggedRequest
from tests.support.tcp_proxy import Fault, RequestHead, TcpProxy

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
    server: FakeCvatServer, client: ApiClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "ONE_REQUEST_MAX", 0)  # a finish of its own, without files
    task_id = create_task(client)
    server.faults.fail_next(500, headers={"Upload-Finish": "true"}, times=None)
    with pytest.raises(ServiceException):
        upload_task_data(client, task_id, [write_random(tmp_path / "a.png", 10)])
    assert server.count_requests("POST", f"/api/tasks/{task_id}/data/") == 2 + 3  # start, bulk


# --- a finish the server acted on, whose answer the client did not get ---------------------


def is_finish(head: RequestHead) -> bool:
    return head.headers.get("upload-finish") == "true"


def finishes_seen(server: FakeCvatServer) -> list[int | None]:
    return [r.status for r in server.request_log if "upload-finish" in r.headers]


@pytest.mark.parametrize("fault", ["replace_answer", "lose_answer"])
def test_a_finish_the_server_took_is_not_sent_again(
    server: FakeCvatServer,
    proxied: tuple[TcpProxy, ApiClient],
    tmp_path: Path,
    fault: Literal["replace_answer", "lose_answer"],
) -> None:
    """The task's creation started but the client saw a 502 (or a closed connection): the
    helper finds create:task-<id> among the server's requests and waits for it."""
    proxy, client = proxied
    task_id = create_task(client)
    proxy.add(Fault(is_finish, fault, status=502))
    files = [write_random(tmp_path / "big.bin", 2 * CHUNK), write_random(tmp_path / "a.png", 10)]

    request = upload_task_data(client, task_id, files)

    assert str(request.status) == "finished"
    assert str(request.id) == f"create:task-{task_id}"
    assert finishes_seen(server) == [202]  # one finish reached the server
    checks = [r for r in server.request_log if r.path == f"/api/requests/create%3Atask-{task_id}"]
    assert [r.status for r in checks][:2] == [404, 200]  # before the finish, after its loss
    assert list(server.uploaded_files(task_id)) == ["a.png", "big.bin"]


def test_wait_false_gives_the_lost_answers_rq_id(
    server: FakeCvatServer, proxied: tuple[TcpProxy, ApiClient], tmp_path: Path
) -> None:
    proxy, client = proxied
    task_id = create_task(client)
    proxy.add(Fault(is_finish, "replace_answer", status=504))
    response = upload_task_data(client, task_id, [write_random(tmp_path / "a.png", 10)], wait=False)
    assert response.status == 202
    assert json.loads(response.data) == {"rq_id": f"create:task-{task_id}"}
    assert finishes_seen(server) == [202]


def test_an_import_the_server_took_is_not_sent_again(
    server: FakeCvatServer, proxied: tuple[TcpProxy, ApiClient], tmp_path: Path
) -> None:
    proxy, client = proxied
    task_id = create_task(client)
    upload_task_data(client, task_id, [write_random(tmp_path / "a.png", 10)])
    annotations = tmp_path / "annotations.xml"
    annotations.write_text('<?xml version="1.0"?><annotations><version>1.1</version></annotations>')
    proxy.add(Fault(is_finish, "replace_answer", status=502))

    request = upload_annotations(client, "tasks", task_id, annotations, format_name="CVAT 1.1")

    assert str(request.id) == f"import:task-{task_id}-annotations"
    imports = [r.status for r in server.request_log if "upload-finish" in r.headers]
    assert imports == [202, 202]  # the task's data, then the one import


def test_a_finish_is_not_sent_again_when_the_servers_requests_cannot_be_read(
    server: FakeCvatServer, client: ApiClient, tmp_path: Path
) -> None:
    """Without the list of requests from before the finish, a lost answer cannot be told
    from a refused request: the helper stops rather than risk doing the work twice."""
    task_id = create_task(client)
    server.faults.fail_next(403, path_prefix="/api/requests/", method="GET", times=None)
    server.faults.fail_next(502, headers={"Upload-Finish": "true"})
    with pytest.raises(UploadError, match="not safe") as raised:
        upload_task_data(client, task_id, [write_random(tmp_path / "a.png", 10)])
    assert isinstance(raised.value.__cause__, ServiceException)
    assert finishes_seen(server) == [502]


def test_a_second_finish_refused_because_the_first_started_the_request(
    server: FakeCvatServer, proxied: tuple[TcpProxy, ApiClient], tmp_path: Path
) -> None:
    """A gateway gives up (504) while the server is still at the first finish; the request
    shows up only after the second finish was sent, which is refused (the file went with the
    first import): the helper takes the request the first one started."""
    proxy, client = proxied
    task_id = create_task(client)
    upload_task_data(client, task_id, [write_random(tmp_path / "a.png", 10)])
    annotations = tmp_path / "annotations.xml"
    annotations.write_text('<?xml version="1.0"?><annotations><version>1.1</version></annotations>')
    rq_id = f"import:task-{task_id}-annotations"
    late = {"armed": True}

    def first_check_misses(head: RequestHead) -> bool:
        """The check after the 504 answers 404: the server has not queued the import yet."""
        checks = head.method == "GET" and head.path.endswith(rq_id.replace(":", "%3A"))
        if checks and late["armed"] and len(finishes_seen(server)) == 2:
            late["armed"] = False
            return True
        return False

    proxy.add(Fault(is_finish, "replace_answer", status=504))
    proxy.add(Fault(first_check_misses, "reply", status=404))
    request = upload_annotations(client, "tasks", task_id, annotations, format_name="CVAT 1.1")

    assert str(request.id) == rq_id
    statuses = [r.status for r in server.request_log if "upload-finish" in r.headers]
    assert statuses[1:] == [202, 400]
