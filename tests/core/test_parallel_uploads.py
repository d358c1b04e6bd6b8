"""The files of one upload travel side by side (CVAT spends a fixed time on each request),
and a failure stops the others."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest

from cvat_sdk._runtime import settings
from cvat_sdk._runtime.exceptions import ForbiddenException
from cvat_sdk.api_client import ApiClient, Configuration
from cvat_sdk.core.uploading import _bulk_groups, _File, upload_task_data
from cvat_sdk.testing import FakeCvatServer
from tests.support.loopback import LoopbackServer, Recorded, Reply

from .support import RecordingProgress, create_task, write_random

KiB = 1024


def _start_or_finish(headers: dict[str, str]) -> Reply | None:
    """The answers to Upload-Start and Upload-Finish, for the servers below."""
    if "upload-start" in headers:
        return Reply(202)
    if "upload-finish" in headers:
        return Reply.json({"rq_id": "create:task-1"}, 202)
    return None


class TusServer:
    """Answers the upload protocol; PATCHes of ``together`` files must meet in flight."""

    def __init__(self, together: int, fail: str | None = None, fail_once: int = 0) -> None:
        self.barrier = threading.Barrier(together, timeout=5)
        self.fail = fail
        #: the refusal waits until this many files have sent a chunk (up to 5 s)
        self.fail_once = fail_once
        self.patched: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, request: Recorded) -> Reply:
        headers = {k.lower(): v for k, v in request.headers.items()}
        if (edge := _start_or_finish(headers)) is not None:
            return edge
        if "upload-length" in headers:
            name = headers["upload-metadata"].split(",")[0].split(" ")[1]
            location = f"/api/tasks/1/data/{name.rstrip('=')}"
            return Reply(201, headers={"Location": location, "Tus-Resumable": "1.0.0"})
        if request.method == "PATCH":
            with self.lock:
                self.patched.append(request.path)
            if self.fail and request.path.endswith(self.fail):
                deadline = time.monotonic() + 5
                while len(set(self.patched)) < self.fail_once and time.monotonic() < deadline:
                    time.sleep(0.01)
                return Reply(403, b'{"detail": "no"}')
            try:
                self.barrier.wait()  # fails after 5 s if the others never come
            except threading.BrokenBarrierError:
                return Reply(500, b"sequential")
            end = int(headers["upload-offset"]) + len(request.body)
            return Reply(204, headers={"Upload-Offset": str(end), "Tus-Resumable": "1.0.0"})
        return Reply(404)


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    monkeypatch.setattr(settings, "BULK_FILE_MAX", 1 * KiB)
    monkeypatch.setattr(settings, "UPLOAD_WORKERS", 3)
    return [write_random(tmp_path / f"{n}.png", 10 * KiB) for n in range(3)]


def test_tus_files_are_sent_side_by_side(files: list[Path]) -> None:
    handler = TusServer(together=3)
    with (
        LoopbackServer(handler) as server,
        ApiClient(Configuration(host=server.url, username="u", password="p")) as client,
    ):
        progress = RecordingProgress()
        upload_task_data(client, 1, files, wait=False, progress=progress)
    assert len(handler.patched) == 3
    progress.check(sum(f.stat().st_size for f in files))


def test_one_failure_stops_the_others_with_its_own_error(
    files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused file ends the upload: the other files stop at their next chunk, the error is
    the refusal, and no Upload-Finish is sent."""
    monkeypatch.setattr(settings, "TUS_CHUNK_SIZE", 1 * KiB)  # ten chunks a file
    # base64 of "1.png", refused once every file is on its way (the others have begun)
    handler = TusServer(together=1, fail="MS5wbmc", fail_once=3)
    with (
        LoopbackServer(lambda r: _slowly(handler, r)) as server,
        ApiClient(Configuration(host=server.url, username="u", password="p")) as client,
    ):
        with pytest.raises(ForbiddenException):
            upload_task_data(client, 1, files, wait=False)
        assert not [r for r in server.requests if "Upload-Finish" in r.headers]
    for other in ("MC5wbmc", "Mi5wbmc"):
        sent = sum(1 for path in handler.patched if path.endswith(other))
        assert 1 <= sent < 10, (other, sent)


def _slowly(handler: TusServer, request: Recorded) -> Reply:
    reply = handler(request)
    if request.method == "PATCH" and reply.status == 204:
        reply.delay = 0.1
    return reply


class BulkServer:
    """Answers bulk uploads; the first bulk request is answered only once the next one has
    arrived whole, as CVAT's single process works on one while the next one streams in."""

    def __init__(self) -> None:
        self.bulk = 0
        self.next_arrived = threading.Event()
        self.lock = threading.Lock()

    def __call__(self, request: Recorded) -> Reply:
        headers = {k.lower(): v for k, v in request.headers.items()}
        if (edge := _start_or_finish(headers)) is not None:
            return edge
        if "upload-multiple" in headers:
            with self.lock:
                self.bulk += 1
                first = self.bulk == 1
            if not first:
                self.next_arrived.set()
                return Reply(200)
            return Reply(200) if self.next_arrived.wait(5) else Reply(500, b"not pipelined")
        return Reply(404)


def test_one_bulk_body_streams_at_a_time_while_the_server_works_on_the_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several bodies at once compete for CVAT's one process; none at all while it works
    leaves the wire idle. Each file's progress is reported as its last byte is read, so the
    files of a request (told apart by their sizes) must be reported together."""
    monkeypatch.setattr(settings, "UPLOAD_WORKERS", 3)
    monkeypatch.setattr(settings, "BULK_REQUEST_MAX_FILES", 20)
    files = [
        write_random(tmp_path / f"{group}_{n:02}.jpg", 400 * KiB + group)
        for group in range(3)
        for n in range(20)
    ]
    handler = BulkServer()
    with (
        LoopbackServer(handler) as server,
        ApiClient(Configuration(host=server.url, username="u", password="p")) as client,
    ):
        progress = RecordingProgress()
        upload_task_data(
            client, 1, files, data_params={"image_quality": 70}, wait=False, progress=progress
        )
    assert handler.bulk == 3
    progress.check(sum(f.stat().st_size for f in files))
    sizes = [n for kind, n in progress.events if kind == "advance" and n is not None]
    runs = [size for i, size in enumerate(sizes) if i == 0 or sizes[i - 1] != size]
    assert sorted(runs) == sorted(set(sizes)), runs  # one run of advances per request


def test_bulk_files_past_the_split_size_go_in_two_requests() -> None:
    """One request leaves the wire idle while the server works on it; two overlap."""

    def files(size: int) -> list[_File]:
        return [_File(Path(f"{n}.jpg"), f"{n}.jpg", size) for n in range(10)]

    split = settings.BULK_SPLIT_ABOVE
    assert [len(g) for g in _bulk_groups(files(split // 10 + 1))] == [5, 5]
    assert [len(g) for g in _bulk_groups(files(split // 10))] == [10]


def _sized(sizes: list[int]) -> list[_File]:
    return [_File(Path(f"{n}.jpg"), f"{n}.jpg", size) for n, size in enumerate(sizes)]


def test_bulk_groups_are_about_equal() -> None:
    """Ten files of about 9 MB whose first five are a few bytes over half of all: two groups
    of five (filling each group up to half of the bytes made 4 + 5 + 1, a third request the
    server spends its fixed time on)."""
    size = 9_000_000
    sizes = [size + 3] + [size] * 9
    assert [len(g) for g in _bulk_groups(_sized(sizes))] == [5, 5]
    # 200 files of 1 MB: two requests of 100, not 104 + 96 (each of at most 100 MiB)
    assert [len(g) for g in _bulk_groups(_sized([1_000_000] * 200))] == [100, 100]


@pytest.mark.parametrize("seed", range(20))
def test_bulk_groups_keep_the_order_and_the_limits(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "BULK_REQUEST_MAX", 1000)
    monkeypatch.setattr(settings, "BULK_SPLIT_ABOVE", 300)
    monkeypatch.setattr(settings, "BULK_REQUEST_MAX_FILES", 7)
    rng = random.Random(seed)
    sizes = [rng.choice([0, 1, 10, 100, 400, 999, 1000]) for _ in range(rng.randint(1, 40))]
    files = _sized(sizes)
    groups = _bulk_groups(files)
    assert [f for g in groups for f in g] == files
    assert all(g for g in groups)
    assert all(len(g) <= 7 for g in groups)
    assert all(sum(f.size for f in g) <= 1000 for g in groups)
    total = sum(sizes)
    if total > 300:
        assert len(groups) >= 2 or len(files) == 1
    fewest = max(-(-total // 1000), -(-len(files) // 7))
    assert len(groups) <= 2 * fewest + 1  # balanced, not one request per file


def test_files_stream_with_upload_start_yet_arrive_whole_after_its_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CVAT takes a while over Upload-Start; the bulk body is on its way meanwhile, but its
    last bytes wait for the answer, and a TUS creation (a request of a few bytes) waits
    whole: the server sees every other request of the upload after the start."""
    monkeypatch.setattr(settings, "BULK_FILE_MAX", 64 * KiB)
    files = [
        write_random(tmp_path / "small.png", 40 * KiB),
        write_random(tmp_path / "large.png", 100 * KiB),
    ]
    answered: list[float] = []

    def handler(request: Recorded) -> Reply:
        headers = {k.lower(): v for k, v in request.headers.items()}
        if "upload-start" in headers:
            time.sleep(0.4)
            answered.append(time.monotonic())
            return Reply(202)
        if "upload-multiple" in headers:
            return Reply(200)
        return TusServer(together=1)(request)

    with (
        LoopbackServer(handler) as server,
        ApiClient(Configuration(host=server.url, username="u", password="p")) as client,
    ):
        upload_task_data(client, 1, files, data_params={"image_quality": 70}, wait=False)
    (start_answered,) = answered
    by_kind = {
        kind: [r for r in server.requests if kind in {k.lower() for k in r.headers}]
        for kind in ("upload-multiple", "upload-length", "upload-finish")
    }
    (bulk,) = by_kind["upload-multiple"]
    (creation,) = by_kind["upload-length"]
    assert bulk.started_at < start_answered - 0.2  # streamed while the start was answered
    assert bulk.received_at >= start_answered  # whole only after that
    assert len(bulk.body) == int(bulk.headers["Content-Length"])
    assert creation.started_at >= start_answered
    assert by_kind["upload-finish"][0].started_at > bulk.received_at


def test_a_refused_upload_start_cuts_the_bodies_on_their_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bulk body already streaming is cut before its end, so the server takes nothing of
    it (the next upload to the task has only its own files), and the error is the refusal."""
    monkeypatch.setattr(settings, "ONE_REQUEST_MAX", 0)  # a start of its own
    with (
        FakeCvatServer() as server,
        ApiClient(Configuration(host=server.url, username="admin", password="password")) as client,
    ):
        task_id = create_task(client)
        start = {"Upload-Start": "true"}
        path = f"/api/tasks/{task_id}/data"
        server.faults.delay(0.4, path_prefix=path, headers=start, times=1)
        server.faults.fail_next(403, path_prefix=path, headers=start)
        first = write_random(tmp_path / "first.png", 200 * KiB)
        with pytest.raises(ForbiddenException):
            upload_task_data(client, task_id, [first], wait=False)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # the server logs the cut request as it sees it
            cut = [r for r in server.request_log if "upload-multiple" in r.headers]
            if cut:
                break
            time.sleep(0.01)
        assert [r.status for r in cut] == [None]  # hung up on, never answered
        assert 0 < cut[0].body_length < int(cut[0].headers["content-length"])
        second = write_random(tmp_path / "second.png", KiB)
        upload_task_data(client, task_id, [second])
        assert list(server.uploaded_files(task_id)) == ["second.png"]
