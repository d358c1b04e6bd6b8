"""Uploads to the real CVAT through a loopback proxy that breaks them where the test says.

The proxy (``tests/support/tcp_proxy.py``) cuts TUS chunks part way, loses the answer to the
last chunk, answers Upload-Finish itself with a 5xx, or lets the server act on the finish and
replaces its answer with a 502. The tasks must come out whole (the frames byte for byte), and
no more must be sent again than the chunk that was in flight.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import pytest

from cvat_sdk._runtime import settings
from cvat_sdk.api_client import ApiClient, exceptions
from cvat_sdk.core.downloading import download_file
from cvat_sdk.core.helpers import get_paginated_collection, wait_for_request
from cvat_sdk.core.progress import NullProgress
from cvat_sdk.core.uploading import (
    _BulkBody,
    _resources,
    _Transport,
    _whole_upload_headers,
    upload_annotations,
    upload_backup,
    upload_dataset,
    upload_task_data,
)
from tests.support.tcp_proxy import Exchange, Fault, RequestHead, TcpProxy

from .support import MiB, Trash, png

CHUNK = MiB


@pytest.fixture(autouse=True)
def tus_above_8_mib(monkeypatch: pytest.MonkeyPatch) -> None:
    """The big image goes through TUS (by default, files up to 32 MiB go in bulk)."""
    monkeypatch.setattr(settings, "BULK_FILE_MAX", 8 * MiB)


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "TUS_CHUNK_SIZE", CHUNK)


def patch_at(offset: int) -> Callable[[RequestHead], bool]:
    return lambda h: h.method == "PATCH" and h.headers.get("upload-offset") == str(offset)


def is_finish(head: RequestHead) -> bool:
    return head.method == "POST" and head.headers.get("upload-finish") == "true"


def finishes(proxy: TcpProxy) -> list[Exchange]:
    return [e for e in proxy.exchanges("POST") if e.headers.get("upload-finish") == "true"]


def frames_are(client: ApiClient, task_id: int, files: list[Path]) -> None:
    """Every frame's original, as the server gives it back, is the uploaded file."""
    meta, _ = client.tasks_api.retrieve_data_meta(task_id)
    by_name = {f.name: f for f in files}
    assert sorted(str(f.name) for f in meta.frames or []) == sorted(by_name)
    for number, frame in enumerate(meta.frames or []):
        _, response = client.tasks_api.retrieve_data(
            task_id, type="frame", number=number, quality="original", _parse_response=False
        )
        assert response.data == by_name[str(frame.name)].read_bytes(), frame.name


def create_requests(client: ApiClient, task_id: int) -> list[str]:
    found = get_paginated_collection(
        client.requests_api.list_endpoint, action="create", task_id=task_id
    )
    return [str(r.id) for r in found]


@pytest.fixture
def images(tmp_path: Path) -> tuple[Path, Path]:
    """A noise PNG over 8 MiB (it goes through TUS) and a small one (in a bulk request)."""
    big = png(tmp_path / "big.png", 1800, 1800, noise=True)
    small = png(tmp_path / "small.png", 40, 30, seed=3)
    assert big.stat().st_size > 9 * MiB
    return big, small


@pytest.mark.usefixtures("small_chunks")
def test_chunks_cut_part_way_resume_from_the_servers_offset(
    client: ApiClient,
    via_proxy: ApiClient,
    proxy: TcpProxy,
    trash: Trash,
    images: tuple[Path, Path],
) -> None:
    """Four of ten chunks are cut (300 kB and 700 kB in, after the head, before anything
    reached the server): each is sent again whole, once, from the offset HEAD reads."""
    big, small = images
    size = big.stat().st_size
    cuts = {2 * CHUNK: 300_000, 5 * CHUNK: 700_000, 7 * CHUNK: 0, 9 * CHUNK: None}
    for offset, after in cuts.items():
        proxy.add(Fault(patch_at(offset), "cut", after=after))
    task_id = trash.task(client)

    done = upload_task_data(via_proxy, task_id, [big, small])

    assert done.status == "finished"
    frames_are(client, task_id, [big, small])
    patches = proxy.exchanges("PATCH")
    cut = [e for e in patches if e.fault == "cut"]
    assert [int(e.headers["upload-offset"]) for e in cut] == list(cuts)
    assert [e.forwarded for e in cut] == [300_000, 700_000, 0, 0]
    assert all(e.upstream_status is None and e.client_status is None for e in cut)
    # every other chunk went once and was confirmed: the file's bytes, each sent once more
    # only if its chunk was the one cut
    whole = [e for e in patches if e.fault is None]
    assert all(e.upstream_status == 204 for e in whole)
    assert sum(e.forwarded for e in whole) == size
    assert sum(e.forwarded for e in patches) == size + 1_000_000
    offsets = [int(e.headers["upload-offset"]) for e in patches]
    assert sorted(set(offsets)) == list(range(0, size, CHUNK))
    assert len(patches) == len(range(0, size, CHUNK)) + len(cuts)
    heads = proxy.exchanges("HEAD")
    assert len(heads) == len(cuts)
    assert all(e.upstream_status == 200 for e in heads)


@pytest.mark.usefixtures("small_chunks")
def test_a_lost_answer_to_the_last_chunk_completes_the_upload(
    client: ApiClient,
    via_proxy: ApiClient,
    proxy: TcpProxy,
    trash: Trash,
    images: tuple[Path, Path],
) -> None:
    """The server gets the last chunk whole but its answer never arrives: HEAD says 404 (CVAT
    forgets a finished upload), which the helper takes as done, and nothing is sent again."""
    big, small = images
    size = big.stat().st_size
    last = (size - 1) // CHUNK * CHUNK
    proxy.add(Fault(patch_at(last), "lose_answer"))
    task_id = trash.task(client)

    done = upload_task_data(via_proxy, task_id, [big, small])

    assert done.status == "finished"
    frames_are(client, task_id, [big, small])
    patches = proxy.exchanges("PATCH")
    assert sum(e.forwarded for e in patches) == size  # the last chunk was not sent again
    lost = [e for e in patches if e.fault == "lose_answer"]
    assert [(e.upstream_status, e.client_status) for e in lost] == [(204, None)]
    assert [e.upstream_status for e in proxy.exchanges("HEAD")] == [404]


def small_images(tmp_path: Path) -> list[Path]:
    return [png(tmp_path / f"im{i}.png", 40, 30, seed=i) for i in range(3)]


def is_start(head: RequestHead) -> bool:
    return head.method == "POST" and head.headers.get("upload-start") == "true"


def test_a_refused_upload_start_leaves_nothing_of_the_files_on_their_way(
    client: ApiClient,
    via_proxy: ApiClient,
    proxy: TcpProxy,
    trash: Trash,
    images: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    """The files stream with Upload-Start, their last bytes held back until it is answered.
    Refused, it cuts the bulk body on its way, no TUS upload is created, and the server keeps
    nothing (it never clears an upload area): the next upload makes exactly its own frames."""
    big, _small = images
    streaming = png(tmp_path / "streaming.png", 600, 600, noise=True)  # about 1 MB, in bulk
    proxy.add(Fault(is_start, "reply", status=403, delay=0.5))
    task_id = trash.task(client)

    with pytest.raises(exceptions.ForbiddenException):
        upload_task_data(via_proxy, task_id, [big, streaming])

    (bulk,) = [e for e in proxy.exchanges("POST") if e.headers.get("upload-multiple")]
    deadline = time.monotonic() + 5
    while not bulk.client_left and time.monotonic() < deadline:
        time.sleep(0.01)  # the proxy sees the hang-up as it reads on
    assert bulk.client_left and bulk.upstream_status is None
    assert 0 < bulk.forwarded < bulk.content_length
    assert not [e for e in proxy.exchanges("POST") if e.headers.get("upload-length")]
    second = small_images(tmp_path)
    upload_task_data(client, task_id, second)
    frames_are(client, task_id, second)


@pytest.fixture(params=["one request", "session"])
def finish_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Small files go with the finish in one request; as a session, the finish carries only
    the fields (Upload-Start, a bulk request, Upload-Finish)."""
    if request.param == "session":
        monkeypatch.setattr(settings, "ONE_REQUEST_MAX", 0)
    return str(request.param)


def test_a_5xx_to_the_finish_from_a_proxy_is_retried(
    client: ApiClient,
    via_proxy: ApiClient,
    proxy: TcpProxy,
    trash: Trash,
    tmp_path: Path,
    finish_kind: str,
) -> None:
    """A 503 that the server never saw: the finish (with the files, or without) is sent
    again, and the task is created once, with every frame."""
    files = small_images(tmp_path)
    proxy.add(Fault(is_finish, "reply", status=503))
    task_id = trash.task(client)

    done = upload_task_data(via_proxy, task_id, files)

    assert done.status == "finished"
    sent = finishes(proxy)
    assert [(e.upstream_status, e.client_status) for e in sent] == [(None, 503), (202, 202)]
    task, _ = client.tasks_api.retrieve(task_id)
    assert task.size == len(files)
    assert create_requests(client, task_id) == [f"create:task-{task_id}"]
    frames_are(client, task_id, files)


@pytest.mark.parametrize("fault", ["replace_answer", "lose_answer"])
def test_a_finish_the_server_acted_on_is_not_sent_again(
    client: ApiClient,
    via_proxy: ApiClient,
    proxy: TcpProxy,
    trash: Trash,
    tmp_path: Path,
    fault: str,
    finish_kind: str,
) -> None:
    """The server starts the task's creation, but the client sees a 502 (or a closed
    connection): the helper finds ``create:task-<id>`` among the server's requests and waits
    for it, instead of a second finish (which CVAT refuses: see the end)."""
    files = small_images(tmp_path)
    proxy.add(Fault(is_finish, fault, status=502))  # type: ignore[arg-type]
    task_id = trash.task(client)

    done = upload_task_data(via_proxy, task_id, files)

    assert done.status == "finished"
    assert str(done.id) == f"create:task-{task_id}"
    sent = finishes(proxy)
    assert [e.upstream_status for e in sent] == [202]  # one finish, which the server took
    assert sent[0].client_status == (502 if fault == "replace_answer" else None)
    task, _ = client.tasks_api.retrieve(task_id)
    assert task.size == len(files)
    assert create_requests(client, task_id) == [f"create:task-{task_id}"]
    frames_are(client, task_id, files)
    # why not simply send the finish again: CVAT 2.24 refuses a second one
    transport = _Transport(client)
    with pytest.raises(exceptions.BadRequestException) as refused:
        transport.send(
            "POST",
            f"{transport.host}/api/tasks/{task_id}/data/",
            headers={"Upload-Finish": "true", "Content-Type": "application/json"},
            body=json.dumps({"image_quality": 70}).encode(),
        )
    assert b"Adding more data is not supported" in (refused.value.body or b"")
    sessions = [e for e in proxy.exchanges("POST") if e.headers.get("upload-multiple")]
    assert len(sessions) == (1 if finish_kind == "session" else 0)


def test_one_request_cut_on_its_way_is_sent_again(
    client: ApiClient, via_proxy: ApiClient, proxy: TcpProxy, trash: Trash, tmp_path: Path
) -> None:
    """The files and the finish's fields in one request, cut 1 MB in: CVAT keeps nothing of
    it, so it is sent again whole, and the task has each frame once, byte for byte, in the
    order given (``upload_file_order`` went as a list in the form)."""
    files = [png(tmp_path / f"{n}.png", 600, 600, seed=i, noise=True) for i, n in enumerate("cab")]
    proxy.add(Fault(is_finish, "cut", after=MiB))
    task_id = trash.task(client)

    done = upload_task_data(via_proxy, task_id, files, data_params={"sorting_method": "predefined"})

    assert done.status == "finished"
    first, second = finishes(proxy)
    assert first.headers.get("upload-start") == "true" == second.headers.get("upload-start")
    assert first.forwarded == MiB < first.content_length and first.upstream_status is None
    assert second.forwarded == second.content_length and second.upstream_status == 202
    assert len(proxy.exchanges("POST", f"/api/tasks/{task_id}/data")) == 2  # nothing else
    task, _ = client.tasks_api.retrieve(task_id)
    assert task.size == len(files)
    assert create_requests(client, task_id) == [f"create:task-{task_id}"]
    frames_are(client, task_id, files)
    meta, _ = client.tasks_api.retrieve_data_meta(task_id)
    assert [str(f.name) for f in meta.frames or []] == ["c.png", "a.png", "b.png"]


ANNOTATIONS = """<?xml version="1.0" encoding="utf-8"?>
<annotations><version>1.1</version>
<image id="0" name="im0.png" width="40" height="30">
<box label="cat" occluded="0" source="manual" xtl="1" ytl="2" xbr="10" ybr="12" z_order="0">
</box>
</image>
</annotations>
"""


@pytest.mark.parametrize("kind", ["tasks", "jobs"])
def test_an_annotation_import_the_server_acted_on_is_not_sent_again(
    client: ApiClient,
    via_proxy: ApiClient,
    proxy: TcpProxy,
    trash: Trash,
    tmp_path: Path,
    kind: Literal["tasks", "jobs"],
) -> None:
    """As for task data: the import started, the client saw a 502; the helper waits for
    ``import:<task|job>-<id>-annotations`` (a second finish gets 400 or 409 from CVAT)."""
    files = small_images(tmp_path)
    task_id = trash.task(client)
    upload_task_data(client, task_id, files)
    target_id = task_id
    if kind == "jobs":
        jobs = get_paginated_collection(client.jobs_api.list_endpoint, task_id=task_id)
        assert len(jobs) == 1
        target_id = int(jobs[0].id)
    annotations = tmp_path / "annotations.xml"
    annotations.write_text(ANNOTATIONS)
    proxy.add(Fault(is_finish, "replace_answer", status=502))

    done = upload_annotations(via_proxy, kind, target_id, annotations, format_name="CVAT 1.1")

    assert done.status == "finished"
    assert str(done.id) == f"import:{kind[:-1]}-{target_id}-annotations"
    sent = finishes(proxy)
    assert [(e.upstream_status, e.client_status) for e in sent] == [(202, 502)]
    found, _ = client.tasks_api.retrieve_annotations(task_id)
    assert found is not None
    assert [(s.type, s.frame, list(s.points)) for s in found.shapes] == [
        ("rectangle", 0, [1.0, 2.0, 10.0, 12.0])
    ]
    # the file went with the import: the same finish again (the file named as the server
    # named it) is refused
    transport = _Transport(client)
    assert "filename=annotations-" in sent[0].target  # CVAT renames an uploaded import file
    with pytest.raises(exceptions.BadRequestException) as refused:
        transport.send("POST", transport.host + sent[0].target, headers={"Upload-Finish": "true"})
    assert b"No such file were uploaded" in (refused.value.body or b"")


def test_a_backup_restore_the_server_acted_on_is_not_sent_again(
    client: ApiClient, via_proxy: ApiClient, proxy: TcpProxy, trash: Trash, tmp_path: Path
) -> None:
    """A restore's rq_id holds a fresh uuid, so the helper looks for a restore request that
    was not there before the finish. Sending the finish again would start a second restore,
    which CVAT 2.24 fails (the file went with the first): the caller would see a failure."""
    files = small_images(tmp_path)
    source_id = trash.task(client)
    upload_task_data(client, source_id, files)
    exported, _ = client.tasks_api.create_backup_export(source_id)
    finished = wait_for_request(client, str(exported.rq_id))
    backup = download_file(client, str(finished.result_url), tmp_path / "backup.zip")
    name = client.tasks_api.retrieve(source_id)[0].name  # unique: a restore keeps it
    proxy.add(Fault(is_finish, "replace_answer", status=502))

    restored_id = upload_backup(via_proxy, "tasks", backup)

    trash.add("tasks", restored_id)
    same_name = {t.id for t in get_paginated_collection(client.tasks_api.list_endpoint, name=name)}
    for made in same_name - {source_id}:
        trash.add("tasks", made)
    assert same_name == {source_id, restored_id}
    sent = finishes(proxy)
    assert [(e.upstream_status, e.client_status) for e in sent] == [(202, 502)]
    restored, _ = client.tasks_api.retrieve(restored_id)
    assert restored.size == len(files)


def test_a_dataset_import_the_server_acted_on_is_not_sent_again(
    client: ApiClient, via_proxy: ApiClient, proxy: TcpProxy, trash: Trash, tmp_path: Path
) -> None:
    """``import:project-<id>-dataset``: the project gets the dataset's task once."""
    files = small_images(tmp_path)
    source = trash.project(client)
    upload_task_data(client, trash.task(client, project_id=source), files)
    exported, _ = client.projects_api.create_dataset_export(
        format="CVAT for images 1.1", id=source, save_images=True
    )
    finished = wait_for_request(client, str(exported.rq_id))
    dataset = download_file(client, str(finished.result_url), tmp_path / "dataset.zip")
    project_id = trash.project(client)
    proxy.add(Fault(is_finish, "replace_answer", status=502))

    done = upload_dataset(via_proxy, project_id, dataset, format_name="CVAT 1.1")

    assert done.status == "finished"
    assert str(done.id) == f"import:project-{project_id}-dataset"
    sent = finishes(proxy)
    assert [(e.upstream_status, e.client_status) for e in sent] == [(202, 502)]
    tasks = get_paginated_collection(client.tasks_api.list_endpoint, project_id=project_id)
    for task in tasks:
        trash.add("tasks", task.id)
    assert [t.size for t in tasks] == [len(files)]


def test_a_second_copy_of_one_request_is_refused_before_it_writes(
    client: ApiClient, trash: Trash, tmp_path: Path
) -> None:
    """What a resend after a lost connection relies on: a copy of a request the server took
    whole is refused, and nothing of it is appended to the files (CVAT appends to a file of
    the same name). Refused with a 400 ("Adding more data is not supported") once the task
    has its data, with a 500 while it is being made (the file names are registered)."""
    files = small_images(tmp_path)
    task_id = trash.task(client)
    first = upload_task_data(client, task_id, files, wait=False)
    transport = _Transport(client)
    with _BulkBody(_resources(files), NullProgress(), {"image_quality": "70"}) as body:
        with pytest.raises(exceptions.ApiException) as refused:
            transport.send(
                "POST",
                f"{transport.host}/api/tasks/{task_id}/data/",
                headers=_whole_upload_headers(body),
                body=body,
            )
    assert refused.value.status in (400, 500)
    done = wait_for_request(client, json.loads(first.data)["rq_id"])
    assert done.status == "finished"
    frames_are(client, task_id, files)  # each frame once, not doubled
