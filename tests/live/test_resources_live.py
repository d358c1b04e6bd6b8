"""Where a task's files come from, on a real CVAT 2.24: local files, the server's share, or
URLs, one source at a time.

``upload_task_data`` refuses local ``resources`` together with another source before sending
(the server takes the combination and then goes wrong: shown here with the low-level API);
with ``resources=[]`` the other sources work through it.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cvat_sdk._runtime.exceptions import ApiValueError
from cvat_sdk.api_client import ApiClient, models
from cvat_sdk.core.exceptions import BackgroundRequestFailed
from cvat_sdk.core.helpers import wait_for_request
from cvat_sdk.core.uploading import upload_task_data
from tests.support.loopback import LoopbackServer, Recorded, Reply

from .support import Trash, png

#: The server's share directory, as this machine sees it (scripts/test.sh sets it).
SHARE_ENV = "CVAT_LIVE_SHARE_DIR"
SHARE_DEFAULT = "/root/.cache/cvat-server-2.24/share"


def frame_names(client: ApiClient, task_id: int) -> list[str]:
    meta, _ = client.tasks_api.retrieve_data_meta(task_id)
    return [frame.name for frame in meta.frames]


@pytest.fixture
def local(tmp_path: Path) -> Path:
    return png(tmp_path / "local.png", 12, 10, seed=1)


@pytest.fixture
def shared() -> Iterator[tuple[str, list[str]]]:
    """A directory of its own in the server's share, with two images; removed at the end.
    Gives the directory's name (relative to the share) and the images' names."""
    root = Path(os.environ.get(SHARE_ENV) or SHARE_DEFAULT)
    if not root.is_dir():
        pytest.fail(f"the server's share directory {root} does not exist (set {SHARE_ENV})")
    name = f"live-resources-{uuid.uuid4().hex[:8]}"
    folder = root / name
    folder.mkdir()
    try:
        images = [png(folder / f"s{i}.png", 14, 9, seed=10 + i).name for i in (1, 2)]
        yield name, images
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[LoopbackServer]:
    """A web server on 127.0.0.1 that serves /r1.png and /r2.png (real PNGs); 404 else."""
    images = {
        f"/r{i}.png": png(tmp_path / f"r{i}.png", 9, 14, seed=20 + i).read_bytes() for i in (1, 2)
    }

    def serve(request: Recorded) -> Reply:
        body = images.get(request.path)
        if body is None:
            return Reply(404, b"not here")
        return Reply(200, body if request.method == "GET" else b"", {"Content-Type": "image/png"})

    with LoopbackServer(serve) as server:
        yield server


def test_server_files_from_the_share_with_no_resources(
    client: ApiClient, trash: Trash, shared: tuple[str, list[str]]
) -> None:
    folder, images = shared
    task_id = trash.task(client)
    request = upload_task_data(
        client, task_id, [], data_params={"server_files": [f"{folder}/{n}" for n in images]}
    )
    assert str(request.status) == "finished"
    assert frame_names(client, task_id) == [f"{folder}/{n}" for n in images]


def test_remote_files_from_a_web_server_with_no_resources(
    client: ApiClient, trash: Trash, remote: LoopbackServer
) -> None:
    task_id = trash.task(client)
    urls = [f"{remote.url}/r1.png", f"{remote.url}/r2.png"]
    request = upload_task_data(client, task_id, [], data_params={"remote_files": urls})
    assert str(request.status) == "finished"
    assert frame_names(client, task_id) == ["r1.png", "r2.png"]
    assert {r.path for r in remote.requests if r.method == "GET"} == {"/r1.png", "/r2.png"}


def test_local_files_with_another_source_are_refused_and_the_task_stays_empty(
    client: ApiClient, trash: Trash, local: Path, shared: tuple[str, list[str]]
) -> None:
    folder, images = shared
    task_id = trash.task(client)
    for params in (
        {"server_files": [f"{folder}/{images[0]}"]},
        {"remote_files": ["http://127.0.0.1:9/r1.png"]},
    ):
        with pytest.raises(ApiValueError, match=r"^resources: local files cannot be combined"):
            upload_task_data(client, task_id, [local], data_params=params)
    task, _ = client.tasks_api.retrieve(task_id)
    assert task.jobs.count == 0 and "size" not in task  # no data was attached


def _both(client: ApiClient, task_id: int, local: Path, **source: list[str]) -> str:
    """Local files and another source in one low-level request; the background request."""
    with local.open("rb") as handle:
        started, _ = client.tasks_api.create_data(
            task_id,
            data_request=models.DataRequest(image_quality=70, client_files=[handle], **source),
            _content_type="multipart/form-data",
        )
    return str(started.rq_id)


def test_why_the_combination_is_refused(
    client: ApiClient,
    trash: Trash,
    local: Path,
    shared: tuple[str, list[str]],
    remote: LoopbackServer,
) -> None:
    """The server accepts both sources (202), then: with server_files its task creation
    fails, looking for the local file in the share; with remote_files the local file is
    quietly left out of the task."""
    folder, images = shared
    with_share = trash.task(client)
    rq_id = _both(client, with_share, local, server_files=[f"{folder}/{images[0]}"])
    with pytest.raises(BackgroundRequestFailed, match=r"local\.png"):
        wait_for_request(client, rq_id)

    with_urls = trash.task(client)
    wait_for_request(client, _both(client, with_urls, local, remote_files=[f"{remote.url}/r1.png"]))
    assert frame_names(client, with_urls) == ["r1.png"]
