"""Task data that fits one bulk request travels in one request, with the finish's fields.

CVAT takes a request carrying both Upload-Start and Upload-Finish as a whole upload. What such
a request may be sent again after, and what it must not: the server keeps nothing of a body
cut short, nor of a request it answered 429 or 503; after any other failure of a whole body
it may hold the files, and a second copy would be appended to them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

import pytest

from cvat_sdk._runtime import settings
from cvat_sdk._runtime.exceptions import ServiceException
from cvat_sdk.api_client import ApiClient, Configuration
from cvat_sdk.core.exceptions import UploadError
from cvat_sdk.core.uploading import upload_task_data
from cvat_sdk.testing import FakeCvatServer
from tests.support.loopback import LoopbackServer, Recorded, Reply
from tests.support.tcp_proxy import Exchange, Fault, RequestHead, TcpProxy

from .support import RecordingProgress, create_task, same_bytes, write_random

KiB = 1024


def _both(headers: dict[str, str]) -> bool:
    return headers.get("upload-start") == "true" and headers.get("upload-finish") == "true"


def is_whole_upload(head: RequestHead) -> bool:
    return _both(head.headers)


def whole_uploads(proxy: TcpProxy) -> list[Exchange]:
    return [e for e in proxy.exchanges("POST") if _both(e.headers)]


def received_as_sent(server: FakeCvatServer, task_id: int, files: list[Path]) -> bool:
    received = server.uploaded_files(task_id)
    return sorted(received) == sorted(f.name for f in files) and all(
        same_bytes(received[f.name], f) for f in files
    )


def test_small_files_and_the_finish_fields_go_in_one_request(
    server: FakeCvatServer, client: ApiClient, tmp_path: Path
) -> None:
    task_id = create_task(client)
    files = [write_random(tmp_path / f"{name}.png", 3 * KiB) for name in ("c", "a", "b")]
    progress = RecordingProgress()

    upload_task_data(
        client,
        task_id,
        files,
        data_params={"image_quality": 55, "chunk_size": 2, "sorting_method": "predefined"},
        progress=progress,
    )

    posts = [r for r in server.request_log if r.method == "POST" and "/data" in r.path]
    assert [(r.headers.get("upload-start"), r.headers.get("upload-finish")) for r in posts] == [
        ("true", "true")
    ]
    assert list(server.uploaded_files(task_id)) == ["c.png", "a.png", "b.png"]  # as given
    task, _ = client.tasks_api.retrieve(task_id)
    assert (task.image_quality, task.data_chunk_size) == (55, 2)
    progress.check(sum(f.stat().st_size for f in files))


def test_the_servers_requests_are_read_before_the_body_is_whole(tmp_path: Path) -> None:
    """So that after a failure the request this one started can be told from an older one."""
    answered: list[float] = []

    def handler(request: Recorded) -> Reply:
        if request.method == "GET":
            time.sleep(0.4)
            answered.append(time.monotonic())
            return Reply(404, b'{"detail": "Not found."}')
        return Reply.json({"rq_id": "create:task-1"}, 202)

    with (
        LoopbackServer(handler) as server,
        ApiClient(Configuration(host=server.url, username="u", password="p")) as client,
    ):
        upload_task_data(client, 1, [write_random(tmp_path / "a.png", 200 * KiB)], wait=False)
    (read,) = answered
    (get, post) = sorted(server.requests, key=lambda r: r.method)
    assert get.path == "/api/requests/create%3Atask-1"
    assert post.started_at < read - 0.2  # streamed meanwhile
    assert post.received_at >= read  # whole only after the read


@pytest.mark.parametrize("status", [503, 429])
def test_an_answer_that_says_not_taken_sends_it_again(
    server: FakeCvatServer, proxied: tuple[TcpProxy, ApiClient], tmp_path: Path, status: int
) -> None:
    proxy, client = proxied
    task_id = create_task(client)
    proxy.add(Fault(is_whole_upload, "reply", status=status))
    files = [write_random(tmp_path / "a.png", 40 * KiB), write_random(tmp_path / "b.png", 7)]
    progress = RecordingProgress()

    request = upload_task_data(client, task_id, files, progress=progress)

    assert str(request.status) == "finished"
    sent = whole_uploads(proxy)
    assert [(e.upstream_status, e.client_status) for e in sent] == [(None, status), (202, 202)]
    assert received_as_sent(server, task_id, files)
    progress.check(sum(f.stat().st_size for f in files))  # counted once


def test_a_body_cut_on_its_way_is_sent_again(
    server: FakeCvatServer, proxied: tuple[TcpProxy, ApiClient], tmp_path: Path
) -> None:
    proxy, client = proxied
    task_id = create_task(client)
    proxy.add(Fault(is_whole_upload, "cut", after=100 * KiB))
    files = [write_random(tmp_path / f"{i}.png", 60 * KiB) for i in range(4)]
    progress = RecordingProgress()

    upload_task_data(client, task_id, files, progress=progress)

    first, second = whole_uploads(proxy)
    assert first.forwarded == 100 * KiB < first.content_length
    assert second.forwarded == second.content_length and second.upstream_status == 202
    assert received_as_sent(server, task_id, files)  # nothing of the cut one kept
    progress.check(sum(f.stat().st_size for f in files))


@pytest.mark.parametrize("fault", ["replace_answer", "lose_answer"])
def test_a_request_the_server_took_is_not_sent_again(
    server: FakeCvatServer,
    proxied: tuple[TcpProxy, ApiClient],
    tmp_path: Path,
    fault: Literal["replace_answer", "lose_answer"],
) -> None:
    proxy, client = proxied
    task_id = create_task(client)
    proxy.add(Fault(is_whole_upload, fault, status=504))
    files = [write_random(tmp_path / "a.png", 10 * KiB)]

    request = upload_task_data(client, task_id, files)

    assert str(request.id) == f"create:task-{task_id}"
    assert [e.upstream_status for e in whole_uploads(proxy)] == [202]
    assert received_as_sent(server, task_id, files)


def test_a_whole_body_that_failed_otherwise_is_not_sent_again(
    server: FakeCvatServer,
    proxied: tuple[TcpProxy, ApiClient],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 500 once the server had the whole body: it may have written the files (and CVAT
    appends to a file of the same name), so the error says what may be left."""
    monkeypatch.setattr(settings, "ONE_REQUEST_SETTLE", 0.3)
    proxy, client = proxied
    task_id = create_task(client)
    proxy.add(Fault(is_whole_upload, "reply", status=500))

    with pytest.raises(UploadError) as raised:
        upload_task_data(client, task_id, [write_random(tmp_path / "a.png", 10 * KiB)])

    message = str(raised.value)
    assert "not sent again" in message and f"create:task-{task_id}" in message
    assert "upload area" in message
    assert isinstance(raised.value.__cause__, ServiceException)
    assert len(whole_uploads(proxy)) == 1


def test_uploads_beyond_one_request_keep_the_session(
    server: FakeCvatServer, client: ApiClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "ONE_REQUEST_MAX", 50 * KiB)
    task_id = create_task(client)
    files = [write_random(tmp_path / f"{i}.png", 30 * KiB) for i in range(2)]

    upload_task_data(client, task_id, files)

    posts = [r for r in server.request_log if r.method == "POST" and "/data" in r.path]
    kinds = [
        next(k for k in ("upload-start", "upload-multiple", "upload-finish") if k in r.headers)
        for r in posts
    ]
    assert kinds[0] == "upload-start" and kinds[-1] == "upload-finish"
    assert set(kinds[1:-1]) == {"upload-multiple"}
    assert received_as_sent(server, task_id, files)


def test_a_connection_lost_once_the_body_was_out_is_sent_again_after_the_wait(
    server: FakeCvatServer,
    proxied: tuple[TcpProxy, ApiClient],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The body went whole into the socket and the connection closed without an answer: no
    request appears within the wait, so the server took none of it, and it goes again."""
    monkeypatch.setattr(settings, "ONE_REQUEST_SETTLE", 0.3)
    proxy, client = proxied
    task_id = create_task(client)
    proxy.add(Fault(is_whole_upload, "swallow"))
    files = [write_random(tmp_path / "a.png", 10 * KiB)]

    started = time.monotonic()
    request = upload_task_data(client, task_id, files)

    assert time.monotonic() - started >= 0.3  # it waited for a request to appear
    assert str(request.status) == "finished"
    assert [e.upstream_status for e in whole_uploads(proxy)] == [None, 202]
    assert received_as_sent(server, task_id, files)
