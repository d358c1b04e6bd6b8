"""The high-level layer on the real CVAT: the documented example as written, lifecycles,
media byte for byte, exports twice in a row, backups, annotations, jobs, issues, and the
requests each flow costs (counted by a loopback proxy in front of the server)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from cvat_sdk import Client, Config, make_client, models
from cvat_sdk.core.proxies.tasks import ResourceType, Task, TaskCreationError
from cvat_sdk.exceptions import ApiValueError, BadRequestException, NotFoundException
from tests.support.tcp_proxy import TcpProxy

from .support import LiveServer, MiB, Trash, png, throwaway_user

FORMATS = ("CVAT for images 1.1", "COCO 1.0")
#: The import format of each export format (CVAT names them differently).
IMPORT = {"CVAT for images 1.1": "CVAT 1.1", "COCO 1.0": "COCO 1.0"}


@pytest.fixture
def hl(live: LiveServer) -> Iterator[Client]:
    with make_client(
        live.url, credentials=(live.user, live.password), config=Config(status_check_period=0.5)
    ) as client:
        yield client


def _jpeg(path: Path, shade: int) -> Path:
    from PIL import Image

    Image.new("RGB", (40, 30), (shade, 255 - shade, 90)).save(path, format="JPEG")
    return path


def _address(live: LiveServer) -> str:
    return urlsplit(live.url).netloc


def test_documented_example_as_written(
    live: LiveServer, trash: Trash, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The documentation's example, with the host, credentials and task id substituted."""
    monkeypatch.chdir(tmp_path)
    _jpeg(tmp_path / "image1.jpg", 10)
    png(tmp_path / "image2.png", 40, 30, seed=3)
    other = trash.task(live.client())
    host, user, password = _address(live), live.user, live.password

    from cvat_sdk import make_client, models  # noqa: F401  (as the example imports them)
    from cvat_sdk.core.proxies.tasks import ResourceType, Task  # noqa: F401

    with make_client(host=host, credentials=(user, password)) as client:
        task_spec = {
            "name": trash.name("example task"),
            "labels": [
                {
                    "name": "car",
                    "color": "#ff00ff",
                    "attributes": [
                        {
                            "name": "a",
                            "mutable": True,
                            "input_type": "number",
                            "default_value": "5",
                            "values": ["4", "5", "6"],
                        }
                    ],
                }
            ],
        }
        task = client.tasks.create_from_data(
            spec=task_spec,
            resource_type=ResourceType.LOCAL,
            resources=["image1.jpg", "image2.png"],
        )
        trash.add("tasks", task.id)
        assert task.size == 2
        task.fetch()
        task2 = client.tasks.retrieve(other)
        task2.update({"name": "my task"})
        task2.remove()
    with live.client() as api_client, pytest.raises(NotFoundException):
        api_client.tasks_api.retrieve(other)


def test_create_from_data_predefined_order_big_and_small_and_original_frames(
    hl: Client, trash: Trash, tmp_path: Path
) -> None:
    files = [
        png(tmp_path / "c.png", 30, 20, seed=1),
        png(
            tmp_path / "big.png", 1800, 1700, noise=True
        ),  # 9.2 MB: in bulk by default (BULK_FILE_MAX = 32 MiB)
        png(tmp_path / "a.png", 30, 20, seed=2),
        _jpeg(tmp_path / "b.jpg", 40),
    ]
    assert files[1].stat().st_size > 8 * MiB
    task = hl.tasks.create_from_data(
        {"name": trash.name(), "labels": [{"name": "car"}]},
        resources=files,
        data_params={"image_quality": 70, "sorting_method": "predefined"},
    )
    trash.add("tasks", task.id)
    assert task.size == 4
    assert [f.name for f in task.get_frames_info()] == [p.name for p in files]
    out = tmp_path / "frames"
    paths = task.download_frames(range(4), outdir=out, quality="original")
    assert [p.name for p in paths] == [
        "frame_000000.png",
        "frame_000001.png",
        "frame_000002.png",
        "frame_000003.jpg",
    ]
    assert [p.read_bytes() for p in paths] == [f.read_bytes() for f in files]
    assert task.get_frame(3, quality="original").read() == files[3].read_bytes()
    assert task.get_frame(0).read()[:3] == b"\xff\xd8\xff"  # compressed frames are JPEG
    (job,) = task.get_jobs()
    assert job.get_frame(0).read()[:3] == b"\xff\xd8\xff"  # the default quality works
    assert job.get_frame(2, quality="original").read() == files[2].read_bytes()
    chunk = io.BytesIO()
    task.download_chunk(0, chunk, quality="original")
    assert zipfile.is_zipfile(chunk)
    assert task.get_preview().read()[:3] == b"\xff\xd8\xff"


def test_failed_processing_removes_the_half_made_task(
    hl: Client, trash: Trash, tmp_path: Path
) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not media")
    name = trash.name()
    with pytest.raises(TaskCreationError, match="task was removed") as caught:
        hl.tasks.create_from_data({"name": name, "labels": [{"name": "a"}]}, resources=[bogus])
    trash.add("tasks", caught.value.task_id)  # in case it was not removed
    with pytest.raises(NotFoundException):
        hl.tasks.retrieve(caught.value.task_id)
    assert hl.tasks.list(name=name) == []


def test_request_counts_of_create_and_export(
    live: LiveServer, trash: Trash, tmp_path: Path
) -> None:
    files = [png(tmp_path / f"{i}.png", 20, 20, seed=i) for i in range(3)]
    upstream = urlsplit(live.url)
    with TcpProxy((upstream.hostname or "127.0.0.1", upstream.port or 80)) as proxy:
        with make_client(
            proxy.url,
            credentials=(live.user, live.password),
            config=Config(status_check_period=0.5),
        ) as client:
            task = client.tasks.create_from_data(
                {"name": trash.name(), "labels": [{"name": "car"}]}, resources=files
            )
            trash.add("tasks", task.id)
            created = [(e.method, e.path) for e in proxy.log]
            task.export_dataset("CVAT for images 1.1", tmp_path / "x.zip", include_images=False)
            exported = [(e.method, e.path) for e in proxy.log][len(created) :]
    assert not proxy.errors
    task_path = f"/api/tasks/{task.id}"
    assert created.count(("GET", task_path)) == 1  # read once, at the end
    assert created.count(("POST", "/api/tasks")) == 1
    # the files and the finish's fields in one request (Upload-Start with Upload-Finish)
    assert created.count(("POST", f"{task_path}/data/")) == 1
    assert not any("/labels" in p or "/jobs" in p for _, p in created)
    polls = [p for m, p in exported if p.startswith("/api/requests/")]
    assert exported[0] == ("POST", f"{task_path}/dataset/export")
    assert exported[-1] == ("GET", f"{task_path}/dataset/download") or exported[-1][1].startswith(
        task_path
    )
    assert len(exported) == 1 + len(polls) + 1


@pytest.fixture
def task_with_data(hl: Client, trash: Trash, tmp_path: Path) -> Task:
    files = [png(tmp_path / f"f{i}.png", 24, 18, seed=i) for i in range(3)]
    task = hl.tasks.create_from_data(
        {
            "name": trash.name(),
            "labels": [{"name": "car"}, {"name": "bike"}],
            "segment_size": 2,
        },
        resources=files,
    )
    trash.add("tasks", task.id)
    return task


def _annotations(label_id: int) -> dict[str, object]:
    return {
        "version": 0,
        "tags": [{"frame": 0, "label_id": label_id}],
        "shapes": [
            {"type": "rectangle", "frame": 0, "label_id": label_id, "points": [1, 2, 10, 12]},
            {"type": "rectangle", "frame": 1, "label_id": label_id, "points": [3, 4, 11, 13]},
        ],
        "tracks": [],
    }


def test_task_annotations_crud_and_exports_twice_in_a_row(
    hl: Client, task_with_data: Task, tmp_path: Path
) -> None:
    task = task_with_data
    labels = task.get_labels()
    task.set_annotations(_annotations(labels[0].id))
    current = task.get_annotations()
    assert len(current.shapes) == 2 and len(current.tags) == 1
    shape = current.shapes[0]
    task.update_annotations(
        {"shapes": [{**shape.to_dict(), "points": [5, 5, 9, 9]}], "tags": [], "tracks": []}
    )
    assert [s.points for s in task.get_annotations().shapes if s.id == shape.id] == [[5, 5, 9, 9]]
    task.remove_annotations(ids=[shape.id])
    assert [s.id for s in task.get_annotations().shapes] == [current.shapes[1].id]
    for fmt in FORMATS:
        first = task.export_dataset(fmt, tmp_path / "1.zip", include_images=False)
        second = task.export_dataset(fmt, tmp_path / "2.zip", include_images=False)
        assert first is not None and second is not None
        assert zipfile.is_zipfile(first) and zipfile.is_zipfile(second)
        task.remove_annotations()
        task.import_annotations(IMPORT[fmt], second)
        assert len(task.get_annotations().shapes) == 1, fmt
    with_images = task.export_dataset(FORMATS[0], tmp_path / "img.zip")
    assert with_images is not None
    assert any(n.endswith(".png") for n in zipfile.ZipFile(with_images).namelist())


def test_create_from_data_with_annotations_and_a_failed_import(
    hl: Client, trash: Trash, task_with_data: Task, tmp_path: Path
) -> None:
    """``annotation_path`` imports after the data (default format "CVAT 1.1", the name the
    server imports under); a file the server cannot import removes the new task."""
    task_with_data.set_annotations(_annotations(task_with_data.get_labels()[0].id))
    exported = task_with_data.export_dataset(FORMATS[0], tmp_path / "a.zip", include_images=False)
    assert exported is not None
    files = [png(tmp_path / f"f{i}.png", 24, 18, seed=i) for i in range(3)]  # the same frames
    spec = {"name": trash.name(), "labels": [{"name": "car"}, {"name": "bike"}]}
    task = hl.tasks.create_from_data(spec, resources=files, annotation_path=exported)
    trash.add("tasks", task.id)
    assert len(task.get_annotations().shapes) == 2
    broken = tmp_path / "broken.xml"
    broken.write_text("<annotations><image id='0' name='nowhere.png'")  # cut short
    with pytest.raises(TaskCreationError, match="importing annotations failed") as caught:
        hl.tasks.create_from_data(
            {**spec, "name": trash.name()}, resources=files, annotation_path=broken
        )
    trash.add("tasks", caught.value.task_id)
    with pytest.raises(NotFoundException):
        hl.tasks.retrieve(caught.value.task_id)


def test_job_annotations_update_and_issues(
    hl: Client, task_with_data: Task, tmp_path: Path
) -> None:
    jobs = task_with_data.get_jobs()
    assert len(jobs) == 2  # segment_size 2 over 3 frames
    job = min(jobs, key=lambda j: j.start_frame)  # frames 0 and 1
    label_id = job.get_labels()[0].id
    job.set_annotations(_annotations(label_id))
    assert len(job.get_annotations().shapes) == 2
    job.update_annotations(
        {"shapes": [], "tags": [{"frame": 1, "label_id": label_id}], "tracks": []},
        action="create",
    )
    assert len(job.get_annotations().tags) == 2
    for index, fmt in enumerate(FORMATS):
        for name in ("a.zip", "b.zip"):
            path = tmp_path / f"{index}{name}"
            assert job.export_dataset(fmt, path, include_images=False) == path
    job.remove_annotations()
    job.import_annotations(IMPORT[FORMATS[0]], tmp_path / "0b.zip")
    assert len(job.get_annotations().shapes) == 2
    me = hl.users.retrieve_current_user()
    job.update({"stage": "validation", "state": "in progress", "assignee": me.id})
    again = hl.jobs.retrieve(job.id)
    assert (str(again.stage), str(again.state), again.assignee.id) == (
        "validation",
        "in progress",
        me.id,
    )
    issue = hl.issues.create(
        {"job": job.id, "frame": 0, "position": [1.0, 1.0, 5.0, 5.0], "message": "first"}
    )
    assert [i.id for i in job.get_issues()] == [issue.id]
    comment = hl.comments.create({"issue": issue.id, "message": "second"})
    assert sorted(c.message for c in issue.get_comments()) == ["first", "second"]
    comment.update({"message": "edited"})
    assert hl.comments.retrieve(comment.id).message == "edited"
    issue.update({"resolved": True})
    assert hl.issues.retrieve(issue.id).resolved is True
    comment.remove()
    issue.remove()
    assert job.get_issues() == []


def test_export_while_the_same_export_runs(
    hl: Client, task_with_data: Task, tmp_path: Path
) -> None:
    """An identical export left running (CVAT answers 409 to a new one until it ends) is
    waited for; then the new one is made and downloaded."""
    tasks_api = hl.api_client.tasks_api
    tasks_api.create_dataset_export(FORMATS[1], task_with_data.id, save_images=True)
    path = task_with_data.export_dataset(FORMATS[1], tmp_path / "coco.zip")
    assert path is not None and zipfile.is_zipfile(path)


def test_frame_removal_and_meta(task_with_data: Task) -> None:
    task_with_data.remove_frames_by_ids([1])
    meta = task_with_data.get_meta()
    assert meta.deleted_frames == [1] and meta.size == 3
    task_with_data.remove_frames_by_ids([])
    assert task_with_data.get_meta().deleted_frames == []


def test_job_chunks_by_task_number_and_by_job_index(
    hl: Client, trash: Trash, tmp_path: Path
) -> None:
    """The second job holds frame 2, which is the task's chunk 2 and the job's chunk 0. A
    client of a schema without ``index`` (2.17.0) refuses ``job_relative`` before sending."""
    files = [png(tmp_path / f"c{i}.png", 24, 18, seed=i) for i in range(3)]
    task = hl.tasks.create_from_data(
        {"name": trash.name(), "labels": [{"name": "car"}], "segment_size": 2},
        resources=files,
        data_params={"chunk_size": 1},
    )
    trash.add("tasks", task.id)
    second = max(task.get_jobs(), key=lambda j: j.start_frame)
    by_number = io.BytesIO()
    second.download_chunk(2, by_number, quality="original")
    with zipfile.ZipFile(by_number) as chunk:
        assert [chunk.read(m) for m in chunk.namelist()] == [files[2].read_bytes()]
    if "index" not in second.api.retrieve_data_endpoint.params:
        with pytest.raises(ApiValueError, match="job-relative"):
            second.download_chunk(0, io.BytesIO(), job_relative=True)
        return
    by_index = io.BytesIO()
    second.download_chunk(0, by_index, quality="original", job_relative=True)
    with zipfile.ZipFile(by_index) as chunk:
        assert [chunk.read(m) for m in chunk.namelist()] == [files[2].read_bytes()]
    with pytest.raises(BadRequestException):
        second.download_chunk(1, io.BytesIO(), job_relative=True)


def test_backup_round_trips(hl: Client, trash: Trash, task_with_data: Task, tmp_path: Path) -> None:
    backup = task_with_data.download_backup(tmp_path / "task.zip")
    restored = hl.tasks.create_from_backup(backup)
    trash.add("tasks", restored.id)
    assert (restored.name, restored.size) == (task_with_data.name, task_with_data.size)
    assert [f.name for f in restored.get_frames_info()] == [
        f.name for f in task_with_data.get_frames_info()
    ]
    project = hl.projects.create({"name": trash.name("p"), "labels": [{"name": "car"}]})
    trash.add("projects", project.id)
    backup = project.download_backup(tmp_path / "project.zip")
    again = hl.projects.create_from_backup(backup)
    trash.add("projects", again.id)
    assert again.name == project.name and again.id != project.id


def test_project_lifecycle_with_a_task_and_dataset_round_trip(
    hl: Client, trash: Trash, tmp_path: Path
) -> None:
    project = hl.projects.create({"name": trash.name("p"), "labels": [{"name": "car"}]})
    trash.add("projects", project.id)
    files = [png(tmp_path / f"p{i}.png", 20, 16, seed=i) for i in range(2)]
    task = hl.tasks.create_from_data(
        {"name": trash.name("t"), "project_id": project.id}, resources=files
    )
    trash.add("tasks", task.id)
    assert task.project_id == project.id
    assert [t.id for t in project.get_tasks()] == [task.id]
    assert [label.name for label in project.get_labels()] == ["car"]
    task.set_annotations(_annotations(project.get_labels()[0].id) | {"tags": []})
    for fmt in FORMATS:
        for name in ("1.zip", "2.zip"):
            assert project.export_dataset(fmt, tmp_path / name) is not None
    imported = hl.projects.create_from_dataset(
        {"name": trash.name("from dataset"), "labels": [{"name": "car"}]},
        dataset_path=tmp_path / "2.zip",
        dataset_format=IMPORT[FORMATS[1]],
    )
    trash.add("projects", imported.id)
    (new_task,) = imported.get_tasks()
    trash.add("tasks", new_task.id)
    assert new_task.size == 2
    assert project.get_preview().read()[:3] == b"\xff\xd8\xff"
    project.update({"name": project.name + "-renamed"})
    assert hl.projects.retrieve(project.id).name.endswith("-renamed")


def test_task_in_an_organization(hl: Client, trash: Trash, tmp_path: Path) -> None:
    slug = trash.name()[-12:].replace("-", "")
    org = hl.organizations.create({"slug": slug, "name": trash.name("org")})
    trash.add("organizations", org.id)
    with hl.organization_context(slug):
        task = hl.tasks.create_from_data(
            {"name": trash.name(), "labels": [{"name": "car"}]},
            resources=[png(tmp_path / "o.png", 10, 10)],
        )
        trash.add("tasks", task.id)
        assert [t.id for t in hl.tasks.list()] == [task.id]
    assert task.organization == org.id
    hl.organization_slug = ""
    assert task.id not in [t.id for t in hl.tasks.list(name=task.name)]
    hl.organization_slug = None
    assert task.id in [t.id for t in hl.tasks.list(name=task.name)]


def test_lazy_iteration_and_server_version(hl: Client, trash: Trash) -> None:
    ids = {trash.task(hl.api_client) for _ in range(3)}
    seen = {t.id for t in hl.tasks.iter(page_size=2, search=trash.name()[:30])}
    assert ids <= seen
    assert hl.get_server_version() >= "2.24.0"
    assert isinstance(hl.users.retrieve_current_user().username, str)
    assert isinstance(models.TaskWriteRequest(name="x"), models.TaskWriteRequest)


def test_resource_type_share(hl: Client, trash: Trash) -> None:
    """Files on the server's share; the share of ../shared/cvat-server holds none we know, so
    the server's refusal of a missing file must surface as a creation error, task removed."""
    with pytest.raises(TaskCreationError, match="task was removed") as caught:
        hl.tasks.create_from_data(
            {"name": trash.name(), "labels": [{"name": "a"}]},
            resources=["no-such-file.png"],
            resource_type=ResourceType.SHARE,
        )
    trash.add("tasks", caught.value.task_id)


def test_client_schema_is_the_one_expected() -> None:
    """Under the skew runs below, proves the suite ran on the client of the other schema."""
    import os

    from cvat_sdk.api_client import SCHEMA_VERSION

    assert os.environ.get(SKEW_ENV, SCHEMA_VERSION) == SCHEMA_VERSION


SKEW_ENV = "CVAT_HIGHLEVEL_SKEW_SCHEMA"
#: The live high-level suite: this file and the high-level live tests kept apart from it.
HIGHLEVEL_SUITE = (
    "tests/live/test_highlevel_live.py",
    "tests/live/test_project_annotations_live.py",
    "tests/live/test_access_token_live.py",
)
SKEW_SCHEMAS = {"2.17.0": "cvat-2.17.0.yml", "2.72.0": "cvat-2.72.0.json"}


@pytest.mark.skipif(bool(__import__("os").environ.get(SKEW_ENV)), reason="inside a skew run")
@pytest.mark.parametrize("version", sorted(SKEW_SCHEMAS))
def test_whole_suite_with_a_client_of_another_schema(
    live: LiveServer, version: str, tmp_path: Path
) -> None:
    """Version skew in both directions: the live high-level suite, on this 2.24 server, through
    a client generated from the 2.17.0 and the 2.72.0 schemas. None needs an exception: the
    high-level layer uses only operations and fields the three versions share."""
    import os
    import shutil
    import subprocess
    import sys

    from tests.contract._schema import SCHEMA_DIR
    from tests.contract._tools import finish, start_generation

    repo = Path(__file__).resolve().parents[2]
    site = tmp_path / "site"
    finish(start_generation(SCHEMA_DIR / SKEW_SCHEMAS[version], site), f"generating {version}")
    (site / "tests").mkdir()
    shutil.copy(repo / "tests" / "__init__.py", site / "tests")
    for folder in ("live", "support", "contract", "highlevel"):
        shutil.copytree(repo / "tests" / folder, site / "tests" / folder)
    shutil.copy(repo / "pyproject.toml", site)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env[SKEW_ENV] = version
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-W",
            "ignore",
            *HIGHLEVEL_SUITE,
        ],
        cwd=site,  # the site's cvat_sdk comes first on sys.path
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr
    assert done.returncode == 0, done.stdout[-6000:]
    assert " passed" in summary and "failed" not in summary, summary


@pytest.fixture
def own_user(live: LiveServer) -> Iterator[tuple[str, str]]:
    with throwaway_user(live, "hl") as user:
        yield user


def _run_flow(env: dict[str, str], live: LiveServer, user: tuple[str, str], work: Path) -> dict:
    import json
    import subprocess
    import sys

    flow = Path(__file__).resolve().parents[1] / "highlevel" / "_flow.py"
    work.mkdir()
    address = urlsplit(live.url)
    host, port = address.hostname or "", str(address.port or 80)
    done = subprocess.run(
        [sys.executable, str(flow), host, port, *user, str(work), f"eqv-{work.name}"],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_same_flow_same_server_state_as_the_official_sdk(
    live: LiveServer, own_user: tuple[str, str], tmp_path: Path
) -> None:
    """The documented flow of ``tests/highlevel/_flow.py`` (a project, a task from data in
    predefined order, annotations, a job update with stage, state and assignee, frames,
    a preview and a chunk, issues and comments made, edited and removed, an export, a backup
    restored, frames downloaded) through both SDKs on this server: the same server state,
    and the same files."""

    from tests.support import oracle

    problem = oracle.ensure_installed()
    assert not problem, problem
    ours_env = oracle.python_environment(Path(__file__).resolve().parents[2])  # this cvat_sdk
    ours = _run_flow(ours_env, live, own_user, tmp_path / "ours")
    official = _run_flow(oracle.environment(), live, own_user, tmp_path / "official")
    assert "cleanup_errors" not in ours and "cleanup_errors" not in official
    assert ours == official
    assert ours["task"]["frames"] == ["c.png", "a.png", "b.png"]
    assert ours["task"]["jobs"] == ["validation"] and len(ours["task"]["shapes"]) == 3
    assert ours["job"] == ["validation", "in progress", True]
    assert ours["issues"] == [[1, [1.0, 2.0, 5.0, 6.0], True, ["edited", "first"]]]
    media = ours["media"]
    assert media["task_frame_is_upload"] and media["job_frame_is_upload"]
    assert media["preview"][0] == "ffd8ff" and media["chunk"] == [
        "000000.png",
        "000001.png",
        "000002.png",
    ]
