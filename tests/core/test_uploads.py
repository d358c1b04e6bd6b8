"""upload_task_data, upload_annotations, upload_dataset and upload_backup against the fake
server: what arrives, in which order, through which requests, with which progress."""

from __future__ import annotations

import email
import email.message
import io
import json
import os
import re
import resource
from pathlib import Path

import pytest

from cvat_sdk._runtime import settings
from cvat_sdk._runtime.exceptions import ApiValueError
from cvat_sdk.api_client import ApiClient, Configuration, models
from cvat_sdk.core.downloading import download_file
from cvat_sdk.core.exceptions import UploadError
from cvat_sdk.core.helpers import get_paginated_collection, wait_for_request
from cvat_sdk.core.progress import TqdmProgress
from cvat_sdk.core.uploading import (
    _BulkBody,
    _File,
    upload_annotations,
    upload_backup,
    upload_dataset,
    upload_task_data,
)
from cvat_sdk.testing import FakeCvatServer
from tests.support.loopback import LoopbackServer, Reply

from .support import RecordingProgress, create_task, write_random

KiB = 1024


@pytest.fixture
def small_bulk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files over 64 KiB go through TUS, in 256 KiB chunks: both paths with small files."""
    monkeypatch.setattr(settings, "BULK_FILE_MAX", 64 * KiB)
    monkeypatch.setattr(settings, "TUS_CHUNK_SIZE", 256 * KiB)


def contents(server: FakeCvatServer, task_id: int) -> dict[str, bytes]:
    return {name: path.read_bytes() for name, path in server.uploaded_files(task_id).items()}


def requests_to(server: FakeCvatServer, prefix: str) -> list[tuple[str, str]]:
    """(method, kind) of the requests under `prefix`: "start", "bulk", "finish", "tus"...,
    "one" for a request that is both the start and the finish (all the files in one)."""
    kinds = []
    for r in server.request_log:
        if not r.path.startswith(prefix) or r.method == "GET":
            continue
        h = r.headers
        kind = (
            "one"
            if "upload-start" in h and "upload-finish" in h
            else "start"
            if "upload-start" in h
            else "bulk"
            if "upload-multiple" in h
            else "finish"
            if "upload-finish" in h
            else "create"
            if "upload-length" in h
            else "chunk"
        )
        kinds.append((r.method, kind))
    return kinds


@pytest.mark.usefixtures("small_bulk")
def test_task_data_keeps_the_predefined_order(
    server: FakeCvatServer, client: ApiClient, tmp_path: Path
) -> None:
    """Small files go in bulk and large ones through TUS, side by side, yet the frames
    follow the order given."""
    sizes = {"c.png": 10, "a.png": 100 * KiB, "b.png": KiB, "10.png": 300 * KiB, "0.png": 0}
    files = [write_random(tmp_path / name, size) for name, size in sizes.items()]
    task_id = create_task(client)

    request = upload_task_data(
        client,
        task_id,
        files,
        data_params={"image_quality": 90, "sorting_method": "predefined", "chunk_size": 5},
    )

    assert isinstance(request, models.Request) and str(request.status) == "finished"
    received = contents(server, task_id)
    assert list(received) == list(sizes)
    assert received == {f.name: f.read_bytes() for f in files}
    task, _ = client.tasks_api.retrieve(task_id)
    assert (task.size, task.image_quality, task.data_chunk_size) == (5, 90, 5)
    sent = requests_to(server, f"/api/tasks/{task_id}/data")
    assert (sent[0], sent[-1]) == (("POST", "start"), ("POST", "finish"))
    assert sorted(sent[1:-1]) == [
        ("PATCH", "chunk"),  # a.png
        ("PATCH", "chunk"),  # 10.png, in two chunks
        ("PATCH", "chunk"),
        ("POST", "bulk"),  # c, b and the empty 0.png in one request
        ("POST", "create"),
        ("POST", "create"),
    ]


def test_task_data_with_a_model_and_natural_sorting(
    server: FakeCvatServer, client: ApiClient, tmp_path: Path
) -> None:
    files = [tmp_path / n for n in ("img10.png", "img2.png", "img1.png")]
    for file in files:
        file.write_bytes(file.name.encode())
    task_id = create_task(client)
    params = models.DataRequest(image_quality=55, sorting_method="natural")
    upload_task_data(client, task_id, files, data_params=params)
    assert list(server.uploaded_files(task_id)) == ["img1.png", "img2.png", "img10.png"]
    assert client.tasks_api.retrieve(task_id)[0].image_quality == 55


def test_task_data_default_sorting(
    server: FakeCvatServer, client: ApiClient, tmp_path: Path
) -> None:
    """No upload_file_order is sent unless the sorting is predefined (CVAT refuses it)."""
    files = [tmp_path / n for n in ("b.jpg", "a.jpg")]
    for file in files:
        file.write_bytes(b"x")
    task_id = create_task(client)
    upload_task_data(client, task_id, files)
    assert list(server.uploaded_files(task_id)) == ["a.jpg", "b.jpg"]
    assert client.tasks_api.retrieve(task_id)[0].image_quality == 70  # the default


@pytest.mark.usefixtures("small_bulk")
def test_progress_counts_every_byte_once(client: ApiClient, tmp_path: Path) -> None:
    files = [
        write_random(tmp_path / "small.bin", 5 * KiB),
        write_random(tmp_path / "big.bin", 600 * KiB),  # three TUS chunks
        write_random(tmp_path / "other.bin", 20 * KiB),
    ]
    progress = RecordingProgress()
    upload_task_data(client, create_task(client), files, progress=progress)
    progress.check(sum(f.stat().st_size for f in files))
    assert progress.events.count(("advance", 256 * KiB)) == 2  # TUS: per confirmed chunk


def test_wait_false_returns_the_finish_response(
    server: FakeCvatServer, client: ApiClient, tmp_path: Path
) -> None:
    image = tmp_path / "a.png"
    image.write_bytes(b"a")
    task_id = create_task(client)
    response = upload_task_data(client, task_id, [image], wait=False)
    assert response.status == 202
    rq_id = json.loads(response.data)["rq_id"]
    assert server.uploaded_files(task_id) == {}  # the server has not made the task yet
    assert str(wait_for_request(client, rq_id).status) == "finished"
    assert list(server.uploaded_files(task_id)) == ["a.png"]


def test_invalid_input_sends_nothing(
    server: FakeCvatServer, client: ApiClient, tmp_path: Path
) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    same = [tmp_path / "one" / "x.png", tmp_path / "two" / "x.png"]
    for file in same:
        file.write_bytes(b"x")
    task_id = create_task(client)
    server.clear_request_log()
    with pytest.raises(ApiValueError, match=r"two files are named 'x\.png'"):
        upload_task_data(client, task_id, same)
    with pytest.raises(ApiValueError, match="not a file"):
        upload_task_data(client, task_id, [tmp_path / "missing.png"])
    with pytest.raises(ApiValueError, match="not a file"):
        upload_task_data(client, task_id, [tmp_path / "one"])
    with pytest.raises(ApiValueError):
        upload_task_data(client, task_id, same[:1], data_params={"image_quality": 500})
    with pytest.raises(ApiValueError):
        upload_annotations(client, "projects", 1, same[0], format_name="x")  # type: ignore[arg-type]
    with pytest.raises(ApiValueError):
        upload_backup(client, "jobs", same[0])  # type: ignore[arg-type]
    assert server.request_log == []


def test_a_file_that_shrinks_while_uploading(client: ApiClient, tmp_path: Path) -> None:
    files = [write_random(tmp_path / f"{i}.png", 10 * KiB) for i in range(3)]

    class Shrinking(RecordingProgress):
        def start(self, total: int | None) -> None:
            super().start(total)
            os.truncate(files[1], 100)  # after the sizes were taken, before the bytes are read

    progress = Shrinking()
    with pytest.raises(UploadError, match="became shorter"):
        upload_task_data(client, create_task(client), files, progress=progress)
    assert progress.events[-1] == ("finish", None)


def test_a_thousand_files_in_one_request_use_one_descriptor(
    server: FakeCvatServer, client: ApiClient, tmp_path: Path
) -> None:
    """A bulk request of 1,000 files opens them one at a time: it works with a descriptor
    limit far below the number of files."""
    files = []
    for i in range(1000):
        path = tmp_path / f"{i:04}.png"
        path.write_bytes(i.to_bytes(2, "big"))
        files.append(path)
    task_id = create_task(client)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    in_use = len(os.listdir("/proc/self/fd"))
    resource.setrlimit(resource.RLIMIT_NOFILE, (in_use + 100, hard))
    try:
        upload_task_data(client, task_id, files)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert requests_to(server, f"/api/tasks/{task_id}/data") == [("POST", "one")]
    received = contents(server, task_id)
    assert len(received) == 1000 and received["0999.png"] == (999).to_bytes(2, "big")


@pytest.mark.usefixtures("small_bulk")
def test_tus_location_of_another_host_is_not_followed(tmp_path: Path) -> None:
    """Behind a proxy the server names itself by another address: the chunks still go to
    the configured host, and nothing (least of all credentials) to the other one."""
    with (
        LoopbackServer(lambda _: Reply(500)) as elsewhere,
        FakeCvatServer(polls_to_finish=1, public_url=elsewhere.url) as server,
        ApiClient(Configuration(host=server.url, username="admin", password="password")) as client,
    ):
        big = write_random(tmp_path / "big.bin", 700 * KiB)
        task_id = create_task(client)
        upload_task_data(client, task_id, [big])
        assert elsewhere.requests == []
        creation = next(r for r in server.request_log if "upload-length" in r.headers)
        assert creation.status == 201
        patches = [r for r in server.request_log if r.method == "PATCH"]
        assert [r.status for r in patches] == [204, 204, 204]
        assert server.uploaded_files(task_id)["big.bin"].read_bytes() == big.read_bytes()


def annotation_file(path: Path, **kinds: object) -> Path:
    path.write_text(json.dumps(kinds))
    return path


def test_annotations_into_a_task_and_a_job(
    server: FakeCvatServer, client: ApiClient, tmp_path: Path
) -> None:
    images = [tmp_path / "0.png", tmp_path / "1.png"]
    for image in images:
        image.write_bytes(b"img")
    task_id = create_task(client)
    upload_task_data(client, task_id, images)
    cat = get_paginated_collection(client.labels_api.list_endpoint, task_id=task_id)[0].id
    shape = {"type": "rectangle", "frame": 1, "label_id": cat, "points": [1, 2, 3, 4]}

    progress = RecordingProgress()
    document = annotation_file(tmp_path / "ann.json", shapes=[shape])
    request = upload_annotations(
        client, "tasks", task_id, document, format_name="CVAT 1.1", progress=progress
    )
    # CVAT 2.24 shows format null on import requests: the format goes in the finish's query
    assert str(request.status) == "finished" and request.operation.type == "import:annotations"
    assert (request.operation.format, request.operation.task_id) == (None, task_id)
    progress.check(document.stat().st_size)
    annotations, _ = client.tasks_api.retrieve_annotations(task_id)
    assert annotations is not None
    assert [(s.frame, s.label_id) for s in annotations.shapes] == [(1, cat)]
    assert requests_to(server, f"/api/tasks/{task_id}/annotations") == [
        ("POST", "start"),
        ("POST", "create"),
        ("PATCH", "chunk"),
        ("POST", "finish"),
    ]
    (finish,) = [
        r for r in server.request_log if "upload-finish" in r.headers and "annotations" in r.path
    ]
    # the file goes up under a name of its own, and the finish names it so
    assert re.fullmatch(r"format=CVAT\+1\.1&filename=ann-[0-9a-f]{8}\.json", finish.query)

    job_id = get_paginated_collection(client.jobs_api.list_endpoint, task_id=task_id)[0].id
    tags = [{"frame": 0, "label_id": cat}, {"frame": 1, "label_id": cat}]
    upload_annotations(
        client,
        "jobs",
        job_id,
        annotation_file(tmp_path / "t.json", tags=tags),
        format_name="COCO 1.0",  # CVAT refuses a format name it does not know
    )
    job_annotations, _ = client.jobs_api.retrieve_annotations(job_id)
    assert job_annotations is not None
    assert len(job_annotations.tags) == 2 and job_annotations.shapes == []


def test_dataset_into_a_project(server: FakeCvatServer, client: ApiClient, tmp_path: Path) -> None:
    project, _ = client.projects_api.create({"name": "zoo", "labels": [{"name": "cat"}]})
    dataset = write_random(tmp_path / "dataset.zip", 50 * KiB)
    request = upload_dataset(client, project.id, dataset, format_name="COCO 1.0")
    assert str(request.status) == "finished"
    assert (request.operation.type, request.operation.project_id) == ("import:dataset", project.id)
    (finish,) = [r for r in server.request_log if "upload-finish" in r.headers]
    assert "format=COCO+1.0" in finish.query
    assert server.count_requests("PATCH", f"/api/projects/{project.id}/dataset/") == 1


def test_backup_round_trip(server: FakeCvatServer, client: ApiClient, tmp_path: Path) -> None:
    images = [write_random(tmp_path / f"{i}.png", 3 * KiB) for i in range(3)]
    task_id = create_task(client, "original")
    upload_task_data(client, task_id, images)
    export, _ = client.tasks_api.create_backup_export(task_id)
    backup = download_file(
        client, wait_for_request(client, export.rq_id).result_url, tmp_path / "backup.zip"
    )

    new_id = upload_backup(client, "tasks", backup)
    assert isinstance(new_id, int) and new_id != task_id
    assert client.tasks_api.retrieve(new_id)[0].name == "original"
    assert contents(server, new_id) == contents(server, task_id)

    response = upload_backup(client, "tasks", backup, wait=False)
    assert response.status == 202 and json.loads(response.data)["rq_id"].startswith("import:")


def test_tqdm_progress(client: ApiClient, tmp_path: Path) -> None:
    out = io.StringIO()
    files = [write_random(tmp_path / f"{i}.png", 40 * KiB) for i in range(3)]
    upload_task_data(client, create_task(client), files, progress=TqdmProgress(file=out))
    assert "120k/120k" in out.getvalue()


class MyClient(ApiClient):
    """A subclass in a module of its own, as users write them."""


def test_a_client_subclass(server: FakeCvatServer, tmp_path: Path) -> None:
    image = tmp_path / "a.png"
    image.write_bytes(b"a")
    configuration = Configuration(host=server.url, username="admin", password="password")
    with MyClient(configuration) as client:
        task_id = create_task(client)
        upload_task_data(client, task_id, [image], data_params={"sorting_method": "natural"})
    assert list(server.uploaded_files(task_id)) == ["a.png"]


def test_the_bulk_body_whatever_the_piece_size(tmp_path: Path) -> None:
    """The same well-formed form however it is read, each file open only while its bytes are
    read, and progress per file."""
    files = [
        _File(write_random(tmp_path / name, size), name, size)
        for name, size in (("a.png", 70_000), ("empty.png", 0), ("b c.png", 3))
    ]
    fds = len(os.listdir("/proc/self/fd"))

    def read_all(body: _BulkBody, size: int) -> bytes:
        pieces: list[bytes] = []
        while piece := body.read(size):
            assert len(piece) <= size
            if len(pieces) % 997 == 0:
                assert len(os.listdir("/proc/self/fd")) <= fds + 1
            pieces.append(piece)
        assert body.read(0) == b"" and body.read(size) == b""
        return b"".join(pieces).replace(body.boundary.encode(), b"BOUNDARY")

    progress = RecordingProgress()
    first = _BulkBody(files, progress)
    raw = first.read()
    assert len(raw) == first.length  # the Content-Length sent
    whole = raw.replace(first.boundary.encode(), b"BOUNDARY")
    assert progress.events == [("advance", 70_000), ("advance", 3)]
    for size in (1, 7, 16384, 1 << 20):
        assert read_all(_BulkBody(files, RecordingProgress()), size) == whole
    into = _BulkBody(files, RecordingProgress())
    buffer, assembled = bytearray(5000), bytearray()
    while count := into.readinto(buffer):
        assembled += buffer[:count]
    assert bytes(assembled).replace(into.boundary.encode(), b"BOUNDARY") == whole

    head = b"Content-Type: multipart/form-data; boundary=BOUNDARY\r\n\r\n"
    payload = email.message_from_bytes(head + whole).get_payload()
    assert isinstance(payload, list)
    parts = [p for p in payload if isinstance(p, email.message.Message)]
    assert [p.get_filename() for p in parts] == ["a.png", "empty.png", "b c.png"]
    assert [p.get_param("name", header="content-disposition") for p in parts] == [
        "client_files[0]",
        "client_files[1]",
        "client_files[2]",
    ]
    assert [p.get_payload(decode=True) for p in parts] == [f.path.read_bytes() for f in files]
