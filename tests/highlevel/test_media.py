"""Frames, chunks and previews against a loopback server that answers like CVAT's data
endpoints: bytes kept as sent, file names, concurrency, progress and failures."""

from __future__ import annotations

import io
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from cvat_sdk import Client, Config
from cvat_sdk.exceptions import ApiValueError, NotFoundException
from tests.support.loopback import LoopbackServer, Recorded, Reply

PNG = b"\x89PNG\r\n\x1a\n" + b"png-bytes" * 100
JPEG = b"\xff\xd8\xff\xe0" + b"jpeg-bytes" * 100
DELAY = 0.2


class MediaServer:
    """``/api/tasks/1`` and ``/api/jobs/1`` with frames (odd ones PNG, even ones JPEG), a
    chunk and a preview; counts concurrent frame requests."""

    def __init__(self) -> None:
        self.active = 0
        self.most_active = 0
        self.missing: set[int] = set()
        self.data_requests: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, request: Recorded) -> Reply:
        query = dict(request.query)
        if "type" in query:
            self.data_requests.append((request.path.split("/")[3], query["type"], query["number"]))
        if request.path in ("/api/tasks/1", "/api/jobs/1"):
            return Reply.json({"id": 1, "name": "media", "size": 8})
        if request.path == "/api/tasks/2":  # an image task whose originals come in chunks
            return Reply.json({"id": 2, "size": 20, "data_original_chunk_type": "imageset"})
        if request.path.startswith("/api/tasks/2/data/meta"):
            meta = {"chunk_size": 8, "size": 20, "start_frame": 0, "stop_frame": 19}
            return Reply.json({**meta, "frame_filter": "", "frames": [], "deleted_frames": []})
        if request.path.startswith("/api/tasks/2/data") and query.get("type") == "chunk":
            number = int(query["number"])
            assert query["quality"] == "original"
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                for frame in range(8 * number, min(8 * number + 8, 20)):
                    body, ext = (PNG, "png") if frame % 2 else (JPEG, "jpg")
                    archive.writestr(f"{frame - 8 * number:06d}.{ext}", body + str(frame).encode())
            return Reply(200, buffer.getvalue(), {"Content-Type": "application/zip"})
        if request.path.endswith("/preview"):
            return Reply(200, JPEG, {"Content-Type": "image/jpeg"})
        if request.path.rstrip("/").endswith("/data") and query.get("type") == "chunk":
            return Reply(200, b"PK\x03\x04chunk", {"Content-Type": "application/zip"})
        if request.path.rstrip("/").endswith("/data") and query.get("type") == "frame":
            number = int(query["number"])
            with self._lock:
                self.active += 1
                self.most_active = max(self.most_active, self.active)
            try:
                time.sleep(DELAY)
            finally:
                with self._lock:
                    self.active -= 1
            if number in self.missing:
                return Reply.json({"detail": "no such frame"}, 404)
            body, kind = (PNG, "image/png") if number % 2 else (JPEG, "image/jpeg")
            return Reply(200, body + str(number).encode(), {"Content-Type": kind})
        return Reply.json({"detail": "not found"}, 404)


@pytest.fixture
def media() -> MediaServer:
    return MediaServer()


@pytest.fixture
def client(media: MediaServer) -> Iterator[Client]:
    with LoopbackServer(media) as server:
        with Client(server.url, check_server_version=False, config=Config()) as client:
            yield client


class Counter:
    def __init__(self) -> None:
        self.total: int | None = None
        self.done = 0
        self.finished = False

    def start(self, total: int | None) -> None:
        self.total = total

    def advance(self, n: int) -> None:
        self.done += n

    def finish(self) -> None:
        self.finished = True


def test_download_frames_bytes_names_concurrency_and_progress(
    client: Client, media: MediaServer, tmp_path: Path
) -> None:
    task = client.tasks.retrieve(1)
    progress = Counter()
    started = time.monotonic()
    paths = task.download_frames(range(8), outdir=tmp_path / "out", pbar=progress)
    elapsed = time.monotonic() - started
    assert [p.name for p in paths] == [
        f"frame_{i:06d}{'.png' if i % 2 else '.jpg'}" for i in range(8)
    ]
    assert [p.read_bytes() for p in paths] == [
        (PNG if i % 2 else JPEG) + str(i).encode() for i in range(8)
    ]
    assert media.most_active == 4  # the default pool, fully used and never exceeded
    assert elapsed < 8 * DELAY * 0.6, elapsed  # two rounds of four, not eight in a row
    assert (progress.total, progress.done, progress.finished) == (8, 8, True)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in paths)


def test_download_frames_pattern_and_bounded_workers(
    client: Client, media: MediaServer, tmp_path: Path
) -> None:
    job = client.jobs.retrieve(1)
    paths = job.download_frames(
        [1, 3], outdir=tmp_path, filename_pattern="{frame_id}{frame_ext}", max_workers=1
    )
    assert [p.name for p in paths] == ["1.png", "3.png"] and media.most_active == 1
    with pytest.raises(ApiValueError, match="max_workers"):
        job.download_frames([1], outdir=tmp_path, max_workers=0)
    with pytest.raises(ApiValueError, match="quality"):
        job.download_frames([1], outdir=tmp_path, quality="best")  # type: ignore[arg-type]


def test_a_failed_frame_fails_the_call_and_leaves_no_partial_file(
    client: Client, media: MediaServer, tmp_path: Path
) -> None:
    media.missing = {2}
    with pytest.raises(NotFoundException):
        client.tasks.retrieve(1).download_frames(range(4), outdir=tmp_path)
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())
    assert "frame_000002.jpg" not in {p.name for p in tmp_path.iterdir()}


def test_frames_chunks_and_previews(client: Client, tmp_path: Path) -> None:
    task = client.tasks.retrieve(1)
    assert task.get_frame(3, quality="original").read() == PNG + b"3"
    assert client.jobs.retrieve(1).get_frame(2).read() == JPEG + b"2"
    out = tmp_path / "chunk.zip"
    with out.open("wb") as handle:
        task.download_chunk(0, handle)
    assert out.read_bytes() == b"PK\x03\x04chunk"
    assert task.get_preview().read() == JPEG


def test_an_extension_of_the_type_sent_keeps_the_bytes(client: Client, tmp_path: Path) -> None:
    """``image_extension`` names the files; when it is the type the server sends, nothing is
    re-encoded (only another type goes through Pillow)."""
    task = client.tasks.retrieve(1)
    (kept,) = task.download_frames([0], outdir=tmp_path, image_extension="jpg")
    assert kept.name == "frame_000000.jpg" and kept.read_bytes() == JPEG + b"0"


def test_original_frames_of_an_image_task_come_a_chunk_at_a_time(
    client: Client, media: MediaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """20 frames in chunks of 8: six frames of chunk 0 and two of chunk 2's four come in their
    chunks; frame 9, one of chunk 1's eight, is not worth its chunk and comes alone."""
    task = client.tasks.retrieve(2)
    progress = Counter()
    wanted = [5, 0, 1, 2, 3, 4, 9, 5, 18, 17]  # unordered, with a repeat
    paths = task.download_frames(wanted, outdir=tmp_path, pbar=progress)
    assert [p.name for p in paths] == [
        f"frame_{i:06d}{'.png' if i % 2 else '.jpg'}" for i in wanted
    ]
    assert [p.read_bytes() for p in paths] == [
        (PNG if i % 2 else JPEG) + str(i).encode() for i in wanted
    ]
    assert (progress.total, progress.done) == (10, 10)
    assert sorted(media.data_requests) == [
        ("2", "chunk", "0"),
        ("2", "chunk", "2"),
        ("2", "frame", "9"),
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({p.name for p in paths})
