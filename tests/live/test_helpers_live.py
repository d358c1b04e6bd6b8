"""The helpers of cvat_sdk.core on a real CVAT: every upload, import, export, download and
background-request path, with the server's own answers."""

from __future__ import annotations

import base64
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from cvat_sdk._runtime import settings
from cvat_sdk._runtime.exceptions import ApiValueError
from cvat_sdk.api_client import ApiClient, Configuration, models
from cvat_sdk.core.downloading import download_file
from cvat_sdk.core.exceptions import BackgroundRequestFailed
from cvat_sdk.core.helpers import (
    get_paginated_collection,
    iter_paginated_collection,
    wait_for_request,
)
from cvat_sdk.core.uploading import (
    upload_annotations,
    upload_backup,
    upload_dataset,
    upload_task_data,
)
from tests.core.support import RecordingProgress

from .support import LiveServer, MiB, Trash, png

BIG = (1800, 1700)  # a noise PNG of 1800 x 1700 is 9.2 MB


@pytest.fixture(autouse=True)
def tus_above_8_mib(monkeypatch: pytest.MonkeyPatch) -> None:
    """The big image goes through TUS: these tests prove that path on the real server (by
    default files up to ``BULK_FILE_MAX``, 32 MiB, go in bulk, which CVAT serves faster)."""
    monkeypatch.setattr(settings, "BULK_FILE_MAX", 8 * MiB)


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small images with names that sort differently by name and by number, and a big one."""
    folder = tmp_path_factory.mktemp("images")
    small = {
        f"{name}.png": png(folder / f"{name}.png", 40 + i, 30, seed=i)
        for i, name in enumerate(["10", "2", "b", "a"])
    }
    big = png(folder / "big.png", *BIG, noise=True)
    assert big.stat().st_size > 8 * MiB
    return {**small, "big.png": big}


def frame_names(client: ApiClient, task_id: int) -> list[str]:
    meta, _ = client.tasks_api.retrieve_data_meta(task_id)
    return [frame.name for frame in meta.frames]


def export(client: ApiClient, api: Any, *args: Any, dest: Path, **kwargs: Any) -> Path:
    """Start an export, wait for it, download its result."""
    started, _ = api(*args, **kwargs)
    request = wait_for_request(client, started.rq_id)
    assert request.status.value == "finished"
    return download_file(client, request.result_url, dest)


def labelled_shapes(client: ApiClient, task_id: int) -> list[dict[str, Any]]:
    labels = get_paginated_collection(client.labels_api.list_endpoint, task_id=task_id)
    by_name = {label.name: label.id for label in labels}
    return [
        {"type": "rectangle", "frame": 0, "label_id": by_name["cat"], "points": [1, 2, 20, 25]},
        {
            "type": "polygon",
            "frame": 1,
            "label_id": by_name["dog"],
            "points": [1, 1, 10, 1, 10, 10],
        },
    ]


def annotate(client: ApiClient, task_id: int) -> None:
    shapes = labelled_shapes(client, task_id)
    client.tasks_api.update_annotations(
        task_id, task_annotations_update_request={"shapes": shapes, "tags": [], "tracks": []}
    )


def summary(client: ApiClient, task_id: int) -> list[tuple[str, int, str]]:
    annotations, _ = client.tasks_api.retrieve_annotations(task_id)
    labels = {
        label.id: label.name
        for label in get_paginated_collection(client.labels_api.list_endpoint, task_id=task_id)
    }
    return sorted((str(s.type.value), s.frame, labels[s.label_id]) for s in annotations.shapes)


def test_bulk_tus_and_mixed_with_data_params(
    client: ApiClient, trash: Trash, images: dict[str, Path]
) -> None:
    """Small files in bulk, the big one through TUS, in the predefined order, with the given
    quality and chunk size; progress adds up to the bytes of the files."""
    order = ["b", "big", "10", "a", "2"]
    files = [images[f"{name}.png"] for name in order]
    task_id = trash.task(client)
    progress = RecordingProgress()
    request = upload_task_data(
        client,
        task_id,
        files,
        data_params={"image_quality": 55, "sorting_method": "predefined", "chunk_size": 2},
        progress=progress,
    )
    assert request.status.value == "finished"
    progress.check(sum(f.stat().st_size for f in files))
    task, _ = client.tasks_api.retrieve(task_id)
    assert task.size == len(files)
    assert task.image_quality == 55 and task.data_chunk_size == 2
    assert frame_names(client, task_id) == [f.name for f in files]


def test_small_files_go_in_one_request_with_every_data_param(
    client: ApiClient, via_proxy: ApiClient, proxy: Any, trash: Trash, images: dict[str, Path]
) -> None:
    """All bulk, under one request's limits: the files travel with the finish's fields,
    among them a list of lists (``job_file_mapping``) spelled as a form, and CVAT applies
    each of them (``upload_file_order``, a list: ``test_one_request_cut_on_its_way_...``)."""
    order = ["b", "10", "a", "2"]
    files = [images[f"{name}.png"] for name in order]
    task_id = trash.task(client)
    progress = RecordingProgress()
    params = {
        "image_quality": 55,
        "chunk_size": 3,
        "job_file_mapping": [["b.png", "10.png", "a.png"], ["2.png"]],
    }

    request = upload_task_data(via_proxy, task_id, files, data_params=params, progress=progress)

    assert request.status.value == "finished"
    (sent,) = proxy.exchanges("POST", f"/api/tasks/{task_id}/data")
    assert sent.headers.get("upload-start") == "true" == sent.headers.get("upload-finish")
    assert sent.upstream_status == 202
    progress.check(sum(f.stat().st_size for f in files))
    task, _ = client.tasks_api.retrieve(task_id)
    assert (task.size, task.image_quality, task.data_chunk_size) == (len(files), 55, 3)
    assert frame_names(client, task_id) == [f.name for f in files]
    jobs, _ = client.jobs_api.list(task_id=task_id, type="annotation", sort="id")
    assert [(j.start_frame, j.stop_frame) for j in jobs.results] == [(0, 2), (3, 3)]


def test_natural_sorting_only_bulk(
    client: ApiClient, trash: Trash, images: dict[str, Path]
) -> None:
    task_id = trash.task(client)
    small = [images[n] for n in ("10.png", "2.png", "a.png", "b.png")]
    upload_task_data(client, task_id, small, data_params={"sorting_method": "natural"})
    assert frame_names(client, task_id) == ["2.png", "10.png", "a.png", "b.png"]


def test_only_tus(client: ApiClient, trash: Trash, images: dict[str, Path]) -> None:
    task_id = trash.task(client)
    progress = RecordingProgress()
    upload_task_data(client, task_id, [images["big.png"]], progress=progress)
    progress.check(images["big.png"].stat().st_size)
    assert frame_names(client, task_id) == ["big.png"]


def test_session_login_with_csrf_and_origin(
    live: LiveServer, trash: Trash, images: dict[str, Path]
) -> None:
    """The README's and the quickstart's session login: changes need the CSRF token, TUS
    needs Origin."""
    with ApiClient(Configuration(host=live.url)) as client:
        client.auth_api.create_login(
            models.LoginSerializerExRequest(username=live.user, password=live.password)
        )
        client.set_default_header("X-CSRFToken", client.cookies["csrftoken"].value)
        client.set_default_header("Origin", client.build_origin_header())
        task_id = trash.task(client)
        upload_task_data(client, task_id, [images["a.png"], images["big.png"]])
        assert frame_names(client, task_id) == ["a.png", "big.png"]
        client.auth_api.create_logout()


def test_session_keys_in_configuration(
    live: LiveServer, trash: Trash, images: dict[str, Path]
) -> None:
    """sessionAuth + csrfAuth keys: the CSRF token goes as cookie and header."""
    with ApiClient(Configuration(host=live.url)) as login:
        login.auth_api.create_login(
            models.LoginSerializerExRequest(username=live.user, password=live.password)
        )
        keys = {
            "sessionAuth": login.cookies["sessionid"].value,
            "csrfAuth": login.cookies["csrftoken"].value,
        }
    with ApiClient(Configuration(host=live.url, api_key=keys)) as client:
        task_id = trash.task(client)
        upload_task_data(client, task_id, [images["big.png"], images["b.png"]])
        assert client.tasks_api.retrieve(task_id)[0].size == 2


def test_token_auth(live: LiveServer, trash: Trash, images: dict[str, Path]) -> None:
    with ApiClient(Configuration(host=live.url)) as login:
        auth, _ = login.auth_api.create_login(
            models.LoginSerializerExRequest(username=live.user, password=live.password)
        )
    configuration = Configuration(host=live.url, api_key={"tokenAuth": f"Token {auth.key}"})
    with ApiClient(configuration) as client:
        assert client.users_api.retrieve_self()[0].username == live.user
        task_id = trash.task(client)
        upload_task_data(client, task_id, [images["big.png"], images["2.png"]])
        assert client.tasks_api.retrieve(task_id)[0].size == 2


@pytest.mark.parametrize(
    ("format_name", "import_format", "annotations_file"),
    [
        ("CVAT for images 1.1", "CVAT 1.1", "annotations.xml"),
        ("COCO 1.0", "COCO 1.0", "annotations/instances_default.json"),
    ],
)
def test_annotations_export_and_import(
    client: ApiClient,
    trash: Trash,
    images: dict[str, Path],
    tmp_path: Path,
    format_name: str,
    import_format: str,
    annotations_file: str,
) -> None:
    """Export in a format, import the file (under the format's import name) into another
    task and into a job: the same shapes come back."""
    files = [images["a.png"], images["b.png"]]
    source = trash.task(client)
    upload_task_data(client, source, files)
    annotate(client, source)
    archive = export(
        client,
        client.tasks_api.create_dataset_export,
        format_name,
        source,
        save_images=False,
        dest=tmp_path / "annotations.zip",
    )
    with zipfile.ZipFile(archive) as opened:
        assert annotations_file in opened.namelist()

    target = trash.task(client)
    upload_task_data(client, target, files)
    progress = RecordingProgress()
    request = upload_annotations(
        client, "tasks", target, archive, format_name=import_format, progress=progress
    )
    assert request.status.value == "finished"
    progress.check(archive.stat().st_size)
    assert summary(client, target) == summary(client, source)
    assert len(summary(client, target)) == 2

    # into a job too
    job = get_paginated_collection(client.jobs_api.list_endpoint, task_id=target)[0]
    client.tasks_api.destroy_annotations(target)
    upload_annotations(client, "jobs", job.id, archive, format_name=import_format)
    assert summary(client, target) == summary(client, source)


def test_unknown_import_format_is_refused_before_uploading(
    client: ApiClient, trash: Trash, tmp_path: Path
) -> None:
    """The server would refuse it only after the upload (and keep the file it got)."""
    task_id = trash.task(client)
    annotations = tmp_path / "annotations.xml"
    annotations.write_text("<annotations/>")
    with pytest.raises(ApiValueError, match="that is an export format") as refused:
        upload_annotations(client, "tasks", task_id, annotations, format_name="CVAT for images 1.1")
    assert refused.value.path_to_item == ("format_name",)
    assert "'CVAT 1.1'" in str(refused.value)


def test_failed_import_carries_the_server_message(
    client: ApiClient, trash: Trash, images: dict[str, Path], tmp_path: Path
) -> None:
    task_id = trash.task(client)
    upload_task_data(client, task_id, [images["a.png"]])
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("annotations/instances_default.json", "{ not json")
    with pytest.raises(BackgroundRequestFailed) as failure:
        upload_annotations(client, "tasks", task_id, broken, format_name="COCO 1.0")
    assert failure.value.message  # the server's own words
    assert failure.value.message in str(failure.value)
    assert failure.value.request.status.value == "failed"


def test_project_dataset_export_and_import(
    client: ApiClient, trash: Trash, images: dict[str, Path], tmp_path: Path
) -> None:
    project = trash.project(client)
    task_id = trash.task(client, project_id=project)
    upload_task_data(client, task_id, [images["a.png"], images["b.png"]])
    annotate(client, task_id)
    for format_name, import_format in (("CVAT for images 1.1", "CVAT 1.1"), ("COCO 1.0",) * 2):
        archive = export(
            client,
            client.projects_api.create_dataset_export,
            format_name,
            project,
            save_images=True,
            dest=tmp_path / f"{format_name}.zip",
        )
        target = trash.project(client)
        progress = RecordingProgress()
        upload_dataset(client, target, archive, format_name=import_format, progress=progress)
        progress.check(archive.stat().st_size)
        tasks = get_paginated_collection(client.tasks_api.list_endpoint, project_id=target)
        assert len(tasks) == 1
        trash.add("tasks", tasks[0].id)
        assert tasks[0].size == 2
        assert summary(client, tasks[0].id) == summary(client, task_id)


def test_task_and_project_backups(
    client: ApiClient, trash: Trash, images: dict[str, Path], tmp_path: Path
) -> None:
    task_id = trash.task(client)
    upload_task_data(client, task_id, [images["a.png"], images["big.png"]])
    annotate(client, task_id)
    backup = export(
        client, client.tasks_api.create_backup_export, task_id, dest=tmp_path / "task.zip"
    )
    progress = RecordingProgress()
    restored = trash.add("tasks", upload_backup(client, "tasks", backup, progress=progress))
    progress.check(backup.stat().st_size)
    assert restored != task_id
    original, _ = client.tasks_api.retrieve(task_id)
    copy, _ = client.tasks_api.retrieve(restored)
    assert (copy.name, copy.size) == (original.name, original.size)
    assert frame_names(client, restored) == frame_names(client, task_id)
    assert summary(client, restored) == summary(client, task_id)
    # the same file again: CVAT gives each backup upload a name of its own
    again = trash.add("tasks", upload_backup(client, "tasks", backup))
    assert again not in (restored, task_id)

    project = trash.project(client)
    upload_task_data(client, trash.task(client, project_id=project), [images["b.png"]])
    backup = export(
        client, client.projects_api.create_backup_export, project, dest=tmp_path / "project.zip"
    )
    restored_project = trash.add("projects", upload_backup(client, "projects", backup))
    copy_project, _ = client.projects_api.retrieve(restored_project)
    assert copy_project.name == client.projects_api.retrieve(project)[0].name
    copied_tasks = get_paginated_collection(
        client.tasks_api.list_endpoint, project_id=restored_project
    )
    assert [t.size for t in copied_tasks] == [1]
    trash.add("tasks", copied_tasks[0].id)


def test_download_progress_and_result_url_once(
    client: ApiClient, trash: Trash, images: dict[str, Path], tmp_path: Path
) -> None:
    task_id = trash.task(client)
    upload_task_data(client, task_id, [images["a.png"], images["b.png"]])
    started, _ = client.tasks_api.create_dataset_export(
        "CVAT for images 1.1", task_id, save_images=True
    )
    request = wait_for_request(client, started.rq_id)
    progress = RecordingProgress()
    archive = download_file(client, request.result_url, tmp_path / "d.zip", progress=progress)
    progress.check(archive.stat().st_size)
    with zipfile.ZipFile(archive) as opened:
        assert sorted(n for n in opened.namelist() if n.startswith("images/")) == [
            "images/a.png",
            "images/b.png",
        ]


def test_pagination_over_several_pages(client: ApiClient, trash: Trash) -> None:
    prefix = trash.name("page")
    made = [trash.task(client, name=f"{prefix}-{i}") for i in range(5)]
    pages = []
    listed = []
    for task in iter_paginated_collection(
        client.tasks_api.list_endpoint, search=prefix, page_size=2
    ):
        listed.append(task.id)
        pages.append(len(listed))
    assert sorted(listed) == sorted(made)
    as_json = get_paginated_collection(
        client.tasks_api.list_endpoint,
        return_json=True,
        search=prefix,
        page_size=2,
        sort="id",
    )
    assert [t["id"] for t in as_json] == sorted(made)
    assert json.dumps(as_json)  # plain data


def test_request_polling_is_quick_for_small_work(
    client: ApiClient, trash: Trash, images: dict[str, Path]
) -> None:
    """wait_for_request returns the finished request with its result fields."""
    task_id = trash.task(client)
    response = upload_task_data(client, task_id, [images["a.png"]], wait=False)
    rq_id = json.loads(response.data)["rq_id"]
    request = wait_for_request(client, rq_id, timeout=120)
    assert request.status.value == "finished"
    assert request.operation.target == "task" and request.operation.task_id == task_id


def test_big_file_is_over_the_bulk_limit(images: dict[str, Path]) -> None:
    assert images["big.png"].stat().st_size > 8 * MiB


def test_import_after_an_interrupted_one_of_the_same_file(
    client: ApiClient, trash: Trash, images: dict[str, Path], tmp_path: Path
) -> None:
    """An import whose finish never came leaves its file on the server, and CVAT answers 409
    to another upload of that name; each import goes up under a name of its own."""
    task_id = trash.task(client)
    upload_task_data(client, task_id, [images["a.png"]])
    annotate(client, task_id)
    archive = export(
        client,
        client.tasks_api.create_dataset_export,
        "COCO 1.0",
        task_id,
        save_images=False,
        dest=tmp_path / "annotations.zip",
    )
    # an earlier import of a file of that name, cut off before its Upload-Finish
    url = f"{client.configuration.host}/api/tasks/{task_id}/annotations/"
    headers = client.get_common_headers()
    client.update_params_for_auth(headers, [], method="POST")
    tus = {"Tus-Resumable": "1.0.0", "Origin": client.build_origin_header()}
    name = base64.b64encode(archive.name.encode()).decode()
    created = client.request(
        "POST",
        url,
        headers={
            **headers,
            **tus,
            "Upload-Length": str(archive.stat().st_size),
            "Upload-Metadata": f"filename {name}",
        },
    )
    client.request(
        "PATCH",
        created.headers["Location"],
        headers={
            **headers,
            **tus,
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        },
        body=archive.read_bytes(),
    )
    again = client.request(
        "POST",
        url,
        headers={**headers, **tus, "Upload-Length": "1", "Upload-Metadata": f"filename {name}"},
        _check_status=False,
    )
    assert again.status == 409  # what a helper sending the file's own name would meet

    client.tasks_api.destroy_annotations(task_id)
    upload_annotations(client, "tasks", task_id, archive, format_name="COCO 1.0")
    assert len(summary(client, task_id)) == 1
