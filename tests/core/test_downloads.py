"""download_file: streamed to disk, all or nothing, credentials only for the configured host."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from cvat_sdk._runtime.exceptions import (
    ApiConnectionError,
    ApiResponseError,
    ApiValueError,
    NotFoundException,
)
from cvat_sdk.api_client import ApiClient, Configuration
from cvat_sdk.core.downloading import download_file
from cvat_sdk.core.helpers import wait_for_request
from cvat_sdk.core.uploading import upload_task_data
from cvat_sdk.testing import FakeCvatServer
from tests.support.loopback import LoopbackServer, Recorded, Reply

from .support import MiB, RecordingProgress, create_task, write_random

#: What a body shorter than its Content-Length raises: the runtime reports it as an unusable
#: answer (with the bytes received); a broken connection otherwise.
CUT_SHORT = (ApiResponseError, ApiConnectionError)


def exported_task(client: ApiClient, tmp_path: Path) -> tuple[int, str, dict[str, bytes]]:
    """A task with two images (3 MiB in all), exported with its media: (id, result_url,
    the images by name)."""
    images = [write_random(tmp_path / "0.png", 2 * MiB), write_random(tmp_path / "1.png", MiB)]
    task_id = create_task(client)
    upload_task_data(client, task_id, images)
    export, _ = client.tasks_api.create_dataset_export("COCO 1.0", task_id, save_images=True)
    result_url = wait_for_request(client, export.rq_id).result_url
    return task_id, str(result_url), {p.name: p.read_bytes() for p in images}


def export_again(client: ApiClient, task_id: int) -> None:
    """CVAT serves an export's result once (the download deletes the request): a second
    download needs a new export, which has the same result_url."""
    export, _ = client.tasks_api.create_dataset_export("COCO 1.0", task_id, save_images=True)
    wait_for_request(client, export.rq_id)


def test_an_export_streamed_to_disk(
    server: FakeCvatServer, client: ApiClient, tmp_path: Path
) -> None:
    task_id, result_url, images = exported_task(client, tmp_path)
    progress = RecordingProgress()
    target = download_file(client, result_url, tmp_path / "out" / "dataset.zip", progress=progress)
    assert target == tmp_path / "out" / "dataset.zip"
    with zipfile.ZipFile(target) as archive:
        assert {n: archive.read(f"data/{n}") for n in images} == images
    progress.check(target.stat().st_size)
    assert len(progress.events) > 3  # in pieces, as the bytes came
    assert sorted(p.name for p in target.parent.iterdir()) == ["dataset.zip"]

    # a path works as well as a URL
    path_only = result_url[len(server.url) :]
    export_again(client, task_id)
    again = download_file(client, path_only, tmp_path / "again.zip")
    with zipfile.ZipFile(again) as archive:  # a new export: the same files
        assert {n: archive.read(f"data/{n}") for n in images} == images


def test_a_download_cut_short_leaves_no_file(
    server: FakeCvatServer, client: ApiClient, tmp_path: Path
) -> None:
    task_id, result_url, _ = exported_task(client, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    kept = out / "kept.zip"
    kept.write_bytes(b"an earlier download")
    server.faults.drop_response_after(
        1_500_000, path_prefix=f"/api/tasks/{task_id}/dataset", method="GET"
    )
    progress = RecordingProgress()
    with pytest.raises(CUT_SHORT):
        download_file(client, result_url, out / "new.zip", progress=progress)
    export_again(client, task_id)  # even a download cut short used the request up
    with pytest.raises(CUT_SHORT):
        server.faults.drop_response_after(10, path_prefix=f"/api/tasks/{task_id}/dataset")
        download_file(client, result_url, kept)
    assert sorted(p.name for p in out.iterdir()) == ["kept.zip"]  # no partial file
    assert kept.read_bytes() == b"an earlier download"  # not replaced by a broken one
    assert progress.events[-1] == ("finish", None) and 0 < progress.advanced < 3 * MiB

    with pytest.raises(NotFoundException):  # an error answer: nothing written either
        download_file(client, "/api/tasks/999/dataset?action=download", out / "missing.zip")
    assert sorted(p.name for p in out.iterdir()) == ["kept.zip"]


def test_no_credentials_for_another_host(client: ApiClient, tmp_path: Path) -> None:
    with LoopbackServer(lambda _: Reply(200, b"secret-eater")) as elsewhere:
        with pytest.raises(ApiValueError, match="not the configured server"):
            download_file(client, elsewhere.url + "/api/tasks/1/dataset", tmp_path / "x.zip")
        with pytest.raises(ApiValueError):
            download_file(client, "//" + elsewhere.url.split("//")[1] + "/x", tmp_path / "x.zip")
        assert elsewhere.requests == []
    assert not (tmp_path / "x.zip").exists()


def test_a_redirect_to_another_host_carries_no_credentials(tmp_path: Path) -> None:
    """urllib3 follows the redirect, without Authorization, Cookie or X-CSRFToken."""
    with LoopbackServer(lambda _: Reply(200, b"the bytes")) as storage:

        def redirect(_: Recorded) -> Reply:
            return Reply(302, headers={"Location": storage.url + "/blob"})

        with (
            LoopbackServer(redirect) as cvat,
            ApiClient(Configuration(host=cvat.url, username="u", password="p")) as client,
        ):
            client.set_default_header("X-CSRFToken", "token")
            client.cookies.load("sessionid=abc")
            target = download_file(client, "/api/tasks/1/dataset", tmp_path / "x.zip")
        assert target.read_bytes() == b"the bytes"
        (asked,) = cvat.requests
        assert {"Authorization", "Cookie", "X-CSRFToken"} <= set(asked.headers)
        (followed,) = storage.requests
        assert {"Authorization", "Cookie", "X-CSRFToken"}.isdisjoint(followed.headers)


def test_a_url_of_the_same_host_goes_to_the_configured_scheme(tmp_path: Path) -> None:
    """A server behind a TLS-terminating proxy gives http:// URLs of its own host; the
    client keeps to its configured URL (scheme and path prefix included)."""
    with LoopbackServer(lambda r: Reply(200, r.path.encode())) as server:
        host = server.url.replace("127.0.0.1", "localhost") + "/cvat"
        with ApiClient(Configuration(host=host, username="u", password="p")) as client:
            given = host.replace("/cvat", "") + "/api/file?x=1"  # without the prefix
            target = download_file(client, given.replace("localhost", "LOCALHOST"), tmp_path / "f")
            assert target.read_bytes() == b"/cvat/api/file"
            with_prefix = download_file(client, host + "/api/file", tmp_path / "g")
            assert with_prefix.read_bytes() == b"/cvat/api/file"
        assert [dict(r.query) for r in server.requests] == [{"x": "1"}, {}]


def test_missing_directories_are_made(tmp_path: Path) -> None:
    with (
        LoopbackServer(lambda _: Reply(200, b"x" * 10)) as server,
        ApiClient(Configuration(host=server.url)) as client,
    ):
        download_file(client, "/f", tmp_path / "a" / "b" / "f.bin")
    assert [p.name for p in (tmp_path / "a" / "b").iterdir()] == ["f.bin"]
