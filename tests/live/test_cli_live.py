"""Every example command of the documentation's CLI section ("3 - Command line interface"),
run as written against the real CVAT, with the host, credentials and files substituted.

Substitutions: the server is the live one (``--server-host``/``--server-port`` put in front);
``user-1``/``user-2`` are the live admin (password from ``PASS`` where the example asks for
one); images are small PNGs the test writes; ``video.avi`` on the share and the remote
``vtest.avi`` are zip archives of PNGs (no video encoder is needed), the remote one served
by a loopback HTTP server (the kit's CVAT runs without the SSRF proxy); ids and names are
the test's own (names unique). The two cloud-storage examples need a cloud storage the kit
cannot reach: they run against the fake server in ``tests/cli``. ``task auto-annotate``
runs in ``test_cli_auto_annotate_live.py``.
"""

from __future__ import annotations

import io
import json
import os
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from cvat_sdk.api_client import ApiClient, exceptions
from tests.cli.support import Run, cli_env, run_cli
from tests.support.loopback import LoopbackServer, Recorded, Reply

from .support import LiveServer, Trash, png

LABELS_JSON = '[\n    {"name": "cat", "attributes": []},\n    {"name": "dog", "attributes": []}\n]'


def _share_root() -> Path:
    """The live server's share directory (``CVAT_LIVE_SHARE``, else the kit's default)."""
    configured = os.environ.get("CVAT_LIVE_SHARE_DIR") or os.environ.get("CVAT_LIVE_SHARE")
    if configured:
        return Path(configured)
    state = os.environ.get("CVAT_SERVER_STATE") or str(Path.home() / ".cache/cvat-server-2.24")
    return Path(state) / "share"


@dataclass
class LiveCli:
    live: LiveServer
    trash: Trash
    api: ApiClient
    cwd: Path

    def common(self, auth: str | None = "admin:pw", *, host: bool = True) -> list[str]:
        parts = urlsplit(self.live.url)
        out: list[str] = []
        if host:
            out += ["--server-host", f"{parts.scheme}://{parts.hostname}"]
            out += ["--server-port", str(parts.port or 80)]
        if auth is not None:
            out += ["--auth", auth.replace(":pw", f":{self.live.password}")]
        return out

    def __call__(self, *args: Any, auth: str | None = "admin:pw", env: Any = None) -> Run:
        """The example's arguments, with ``--server-host/--server-port`` and ``--auth`` in
        front unless the example sets them itself (then pass ``auth=None``)."""
        run = run_cli(
            *self.common(auth), *args, env=env or cli_env(PASS=self.live.password), cwd=self.cwd
        )
        return run

    def created(self, run: Run, kind: str = "tasks") -> int:
        """The id the command printed (and it is deleted at the end)."""
        run.ok()
        lines = run.stdout.split()
        assert len(lines) == 1, run.stdout
        return self.trash.add(kind, int(lines[0]))

    def name(self, example: str) -> str:
        return f"{example} {self.trash.name()}"


@pytest.fixture
def cli(live: LiveServer, trash: Trash, tmp_path: Path, client: ApiClient) -> LiveCli:
    (tmp_path / "labels.json").write_text(LABELS_JSON)
    return LiveCli(live, trash, client, tmp_path)


def _images(folder: Path, names: list[str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [png(folder / n, 24, 16, seed=i) for i, n in enumerate(names)]


def _zip_of(n: int, tmp: Path) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for path in _images(
            tmp / f"zip-{uuid.uuid4().hex[:6]}", [f"f{i:03d}.png" for i in range(n)]
        ):
            archive.write(path, path.name)
    return out.getvalue()


def _annotation_xml(names: list[str]) -> str:
    boxes = "".join(
        f'<image id="{i}" name="{n}" width="24" height="16">'
        f'<box label="cat" occluded="0" source="manual" xtl="1" ytl="2" xbr="10" ybr="12" '
        f'z_order="0"></box></image>'
        for i, n in enumerate(names)
    )
    return f'<?xml version="1.0" encoding="utf-8"?><annotations><version>1.1</version>{boxes}</annotations>'


def _task(api: ApiClient, task_id: int) -> Any:
    return api.tasks_api.retrieve(task_id)[0]


def _labels(api: ApiClient, **where: int) -> list[str]:
    page, _ = api.labels_api.list(**where)
    return sorted(label.name for label in page.results)


def _shapes(api: ApiClient, task_id: int) -> int:
    return len(api.tasks_api.retrieve_annotations(task_id)[0].shapes)


@pytest.fixture
def remote_files(tmp_path: Path) -> Iterator[tuple[LoopbackServer, dict[str, bytes]]]:
    """A loopback HTTP server serving the files put into its dict, by path."""
    files: dict[str, bytes] = {}

    def handler(request: Recorded) -> Reply:
        body = files.get(request.path)
        if body is None:
            return Reply(404, b"not here")
        return Reply(200, body, {"Content-Type": "application/zip"})

    with LoopbackServer(handler) as server:
        yield server, files


@pytest.fixture
def share_dir() -> Iterator[tuple[str, Path]]:
    """A unique directory on the live server's share, as ``share/<name>`` (the documented
    ``//share/...`` path names ``share/...`` under the share root); removed at the end."""
    root = _share_root()
    if not root.is_dir():
        pytest.fail(
            f"the live server's share directory {root} does not exist: set CVAT_LIVE_SHARE "
            "to the share root of the server in CVAT_LIVE_URL",
            pytrace=False,
        )
    name = f"cli-{uuid.uuid4().hex[:8]}"
    folder = root / "share" / name
    folder.mkdir(parents=True)
    try:
        yield name, folder
    finally:
        for path in sorted(folder.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        folder.rmdir()


# --- Examples - tasks: Create -------------------------------------------------------------
def test_create_new_task_from_local_files(cli: LiveCli) -> None:
    _images(cli.cwd, ["file1.png", "file2.png"])
    name = cli.name("new task")
    task_id = cli.created(
        cli("task", "create", name, "--labels", "labels.json", "local", "file1.png", "file2.png")
    )
    task = _task(cli.api, task_id)
    assert (task.name, task.size) == (name, 2)
    assert _labels(cli.api, task_id=task_id) == ["cat", "dog"]


def test_create_task_as_user_on_a_server(cli: LiveCli) -> None:
    # cvat-cli --server-host example.com --auth user-1 task create "task 1" \
    #   --labels labels.json local image1.jpg   (the password comes from PASS)
    _images(cli.cwd, ["image1.png"])
    task_id = cli.created(
        cli(
            "--auth",
            cli.live.user,
            "task",
            "create",
            cli.name("task 1"),
            "--labels",
            "labels.json",
            "local",
            "image1.png",
            auth=None,
        )
    )
    assert _task(cli.api, task_id).size == 1


def test_create_and_list_in_an_organization(cli: LiveCli) -> None:
    slug = f"o{uuid.uuid4().hex[:10]}"
    org, _ = cli.api.organizations_api.create({"slug": slug, "name": cli.name("org")})
    cli.trash.add("organizations", org.id)
    _images(cli.cwd, ["file1.png"])
    task_id = cli.created(
        cli(
            "--org",
            slug,
            "task",
            "create",
            cli.name("task 1"),
            "--labels",
            "labels.json",
            "local",
            "file1.png",
        )
    )
    assert _task(cli.api, task_id).organization == org.id
    # cvat-cli --org myorg task ls
    assert cli("--org", slug, "task", "ls").ok().stdout.split() == [str(task_id)]


def test_create_task_in_a_project_from_a_remote_file(cli: LiveCli, remote_files: Any) -> None:
    server, files = remote_files
    files["/opencv/opencv/blob/master/samples/data/vtest.zip"] = _zip_of(3, cli.cwd)
    project_id = cli.trash.project(cli.api)
    url = f"{server.url}/opencv/opencv/blob/master/samples/data/vtest.zip?raw=true"
    run = cli(
        "--auth",
        f"{cli.live.user}:{cli.live.password}",
        "task",
        "create",
        cli.name("task 1"),
        "--project_id",
        project_id,
        "remote",
        url,
        auth=None,
    )
    task_id = cli.created(run)
    task = _task(cli.api, task_id)
    assert (task.project_id, task.size) == (project_id, 3)
    assert _labels(cli.api, task_id=task_id) == ["cat", "dog"]  # the project's


def test_create_sorted_randomly_from_the_share(cli: LiveCli, share_dir: Any) -> None:
    name, folder = share_dir
    (folder / "video.zip").write_bytes(_zip_of(12, cli.cwd))
    task_id = cli.created(
        cli(
            "task",
            "create",
            cli.name("task 1 sort random"),
            "--labels",
            '[{"name": "cat"},{"name": "dog"}]',
            "--chunk_size",
            "8",
            "--sorting-method",
            "random",
            "--frame_step",
            "10",
            "--copy_data",
            "--use_zip_chunks",
            "share",
            f"//share/{name}/video.zip",
        )
    )
    task = _task(cli.api, task_id)
    meta = cli.api.tasks_api.retrieve_data_meta(task_id)[0]
    assert task.size == 2  # frames 0 and 10 of 12
    assert meta.frame_filter == "step=10"
    assert meta.chunk_size == 8


def test_create_from_a_directory_with_annotations(cli: LiveCli) -> None:
    """The example the official cvat-cli 2.24.0 fails on: a directory as a local resource."""
    names = [f"img{i}.png" for i in range(4)]
    _images(cli.cwd / "dataset_1" / "images", names)
    (cli.cwd / "annotation.xml").write_text(_annotation_xml(names))
    task_id = cli.created(
        cli(
            "--auth",
            cli.live.user,
            "task",
            "create",
            cli.name("task from dataset_1"),
            "--labels",
            "labels.json",
            "--bug_tracker",
            "https://bug-tracker.com/0001",
            "--image_quality",
            "75",
            "--annotation_path",
            "annotation.xml",
            "--annotation_format",
            "CVAT 1.1",
            "local",
            "dataset_1/images/",
            auth=None,
        )
    )
    task = _task(cli.api, task_id)
    assert (task.size, task.bug_tracker, task.image_quality) == (
        4,
        "https://bug-tracker.com/0001",
        75,
    )
    assert _shapes(cli.api, task_id) == 4


def test_create_segmented_task_from_a_remote_file(cli: LiveCli, remote_files: Any) -> None:
    server, files = remote_files
    files["/vtest.zip"] = _zip_of(120, cli.cwd)
    task_id = cli.created(
        cli(
            "task",
            "create",
            cli.name("segmented task 1"),
            "--labels",
            "labels.json",
            "--overlap",
            "5",
            "--segment_size",
            "100",
            "--start_frame",
            "5",
            "--stop_frame",
            "705",
            "--use_cache",
            "remote",
            f"{server.url}/vtest.zip?raw=true",
        )
    )
    task = _task(cli.api, task_id)
    meta = cli.api.tasks_api.retrieve_data_meta(task_id)[0]
    assert (task.overlap, task.segment_size, task.size) == (5, 100, 115)  # frames 5..119
    assert (meta.start_frame, meta.stop_frame) == (5, 119)
    assert len(cli.api.jobs_api.list(task_id=task_id)[0].results) == 2
    assert [r.path for r in server.requests] == ["/vtest.zip"]


# --- Delete, List -----------------------------------------------------------------------------
def test_delete_tasks(cli: LiveCli) -> None:
    ids = [cli.trash.task(cli.api) for _ in range(3)]
    # cvat-cli --auth user-1:password task delete 100 101 102
    run = cli(
        "--auth", f"{cli.live.user}:{cli.live.password}", "task", "delete", *ids, auth=None
    ).ok()
    assert run.stdout == ""
    for task_id in ids:
        with pytest.raises(exceptions.NotFoundException):
            cli.api.tasks_api.retrieve(task_id)


def test_list_tasks(cli: LiveCli) -> None:
    ids = [cli.trash.task(cli.api) for _ in range(2)]
    listed = [int(x) for x in cli("task", "ls").ok().stdout.split()]
    assert set(ids) <= set(listed)
    # cvat-cli task ls --json > list_of_tasks.json
    run = cli("task", "ls", "--json").ok()
    (cli.cwd / "list_of_tasks.json").write_text(run.stdout)
    tasks = json.loads((cli.cwd / "list_of_tasks.json").read_text())
    assert set(ids) <= {t["id"] for t in tasks}  # others' tasks may come and go meanwhile
    mine = {t["id"]: t for t in tasks if t["id"] in ids}
    assert mine[ids[0]]["name"] == _task(cli.api, ids[0]).name
    assert "url" in mine[ids[0]]["labels"]  # as the server sends it


# --- Frames, export, import, backup -----------------------------------------------------------
def test_frames(cli: LiveCli) -> None:
    images = _images(cli.cwd / "src", [f"f{i:02d}.png" for i in range(23)])
    task_id = cli.created(
        cli("task", "create", cli.name("frames"), "--labels", "labels.json", "local", *images)
    )
    # cvat-cli task frames --outdir images --quality compressed 119 12 15 22
    cli("task", "frames", "--outdir", "images", "--quality", "compressed", task_id, 12, 15, 22).ok()
    saved = sorted(p.name for p in (cli.cwd / "images").iterdir())
    assert saved == [f"task_{task_id}_frame_{n:06d}.jpg" for n in (12, 15, 22)]
    assert all((cli.cwd / "images" / n).read_bytes()[:2] == b"\xff\xd8" for n in saved)
    cli("task", "frames", "--outdir", "orig", task_id, 3).ok()
    assert (cli.cwd / "orig" / f"task_{task_id}_frame_000003.png").read_bytes() == images[
        3
    ].read_bytes()


@pytest.fixture
def annotated_task(cli: LiveCli) -> tuple[int, list[str]]:
    names = [f"img{i}.png" for i in range(3)]
    images = _images(cli.cwd / "annotated", names)
    task_id = cli.created(
        cli("task", "create", cli.name("annotated"), "--labels", "labels.json", "local", *images)
    )
    (cli.cwd / "annotation.xml").write_text(_annotation_xml(names))
    # cvat-cli task import-dataset --format "CVAT 1.1" 105 annotation.xml
    cli("task", "import-dataset", "--format", "CVAT 1.1", task_id, "annotation.xml").ok()
    assert _shapes(cli.api, task_id) == 3
    return task_id, names


def test_export_dataset(cli: LiveCli, annotated_task: tuple[int, list[str]]) -> None:
    task_id, _ = annotated_task
    cli("task", "export-dataset", "--format", "CVAT for images 1.1", task_id, "output.zip").ok()
    with zipfile.ZipFile(cli.cwd / "output.zip") as archive:
        assert archive.read("annotations.xml").count(b"<box ") == 3
    cli("task", "export-dataset", "--format", "COCO 1.0", task_id, "output.zip").ok()
    with zipfile.ZipFile(cli.cwd / "output.zip") as archive:
        coco = json.loads(archive.read("annotations/instances_default.json"))
        assert len(coco["annotations"]) == 3
        assert not [n for n in archive.namelist() if n.startswith("images/")]


def test_backup_and_create_from_backup(cli: LiveCli, annotated_task: Any) -> None:
    task_id, _ = annotated_task
    # cvat-cli task backup 136 task_136.zip
    cli("task", "backup", task_id, f"task_{task_id}.zip").ok()
    (cli.cwd / "task_backup.zip").write_bytes((cli.cwd / f"task_{task_id}.zip").read_bytes())
    restored = cli.created(cli("task", "create-from-backup", "task_backup.zip"))
    assert restored != task_id
    assert _task(cli.api, restored).name == _task(cli.api, task_id).name
    assert _shapes(cli.api, restored) == 3


# --- Examples - projects --------------------------------------------------------------------
def test_projects(cli: LiveCli, annotated_task: Any) -> None:
    task_id, _ = annotated_task
    project_id = cli.created(
        cli("project", "create", cli.name("new project"), "--labels", "labels.json"), "projects"
    )
    assert _labels(cli.api, project_id=project_id) == ["cat", "dog"]
    # a COCO dataset with its images, from the annotated task
    cli(
        "task",
        "export-dataset",
        "--format",
        "COCO 1.0",
        "--with-images",
        "true",
        task_id,
        "coco.zip",
    ).ok()
    # cvat-cli project create "new project" --dataset_file coco.zip --dataset_format "COCO 1.0"
    # (the documented name, which the official cvat-cli 2.24.0 does not accept)
    from_dataset = cli.created(
        cli(
            "project",
            "create",
            cli.name("new project"),
            "--dataset_file",
            "coco.zip",
            "--dataset_format",
            "COCO 1.0",
        ),
        "projects",
    )
    tasks, _ = cli.api.tasks_api.list(project_id=from_dataset)
    assert tasks.count == 1
    assert _labels(cli.api, project_id=from_dataset) == ["cat", "dog"]  # COCO's categories
    assert _shapes(cli.api, tasks.results[0].id) == 3
    assert str(project_id) in cli("project", "ls").ok().stdout.split()
    run = cli("project", "ls", "--json").ok()
    (cli.cwd / "list_of_projects.json").write_text(run.stdout)
    names = {p["id"]: p["name"] for p in json.loads(run.stdout)}
    assert names[from_dataset] == cli.api.projects_api.retrieve(from_dataset)[0].name


def test_project_backup_export_import(cli: LiveCli, annotated_task: Any) -> None:
    task_id, _ = annotated_task
    cli("task", "export-dataset", "--format", "COCO 1.0", "--with-images", task_id, "coco.zip").ok()
    project_id = cli.created(
        cli(
            "project",
            "create",
            cli.name("p"),
            "--dataset_path",
            "coco.zip",
            "--dataset_format",
            "COCO 1.0",
        ),
        "projects",
    )
    cli("project", "export-dataset", "--format", "CVAT for images 1.1", project_id, "p.zip").ok()
    with zipfile.ZipFile(cli.cwd / "p.zip") as archive:
        assert archive.read("annotations.xml").count(b"<box ") == 3
    cli("project", "backup", project_id, "pb.zip").ok()
    restored = cli.created(cli("project", "create-from-backup", "pb.zip"), "projects")
    assert cli.api.tasks_api.list(project_id=restored)[0].count == 1
    target = cli.created(
        cli("project", "create", cli.name("target"), "--labels", "labels.json"),
        "projects",
    )
    cli("project", "import-dataset", "--format", "COCO 1.0", target, "coco.zip").ok()
    assert cli.api.tasks_api.list(project_id=target)[0].count == 1


def test_delete_projects(cli: LiveCli) -> None:
    ids = [cli.trash.project(cli.api) for _ in range(3)]
    # cvat-cli project delete 100 101 102
    cli("project", "delete", *ids).ok()
    for project_id in ids:
        with pytest.raises(exceptions.NotFoundException):
            cli.api.projects_api.retrieve(project_id)


# --- aliases and bad input on the real server -------------------------------------------------
def test_deprecated_alias(cli: LiveCli, annotated_task: Any) -> None:
    task_id, _ = annotated_task
    run = cli("dump", "--format", "COCO 1.0", task_id, "old.zip").ok()
    assert "use 'cvat-cli task export-dataset'" in run.stderr
    assert zipfile.is_zipfile(cli.cwd / "old.zip")


def _tasks_named(api: ApiClient, name: str) -> int:
    return int(api.tasks_api.list(name=name)[0].count)


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        (["--labels", "[{cat}]", "local", "file1.png"], 2, "is not valid JSON"),
        (["--labels", "labels.json", "local", "missing.png"], 2, "does not exist"),
        (
            [
                "--labels",
                "labels.json",
                "--annotation_path",
                "file1.png",
                "--annotation_format",
                "CVAT 7.7",
                "local",
                "file1.png",
            ],
            1,
            "cannot import the format 'CVAT 7.7'",
        ),
        (
            ["--project_id", "987654321", "local", "file1.png"],
            1,
            "project 987654321 does not exist",
        ),
        (
            ["--labels", "labels.json", "--annotation_path", "labels.json", "local", "file1.png"],
            1,
            "the task was removed",
        ),
    ],
)
def test_bad_input_leaves_nothing(cli: LiveCli, extra: list[str], code: int, message: str) -> None:
    _images(cli.cwd, ["file1.png"])
    name = cli.name("bad")
    run = cli("task", "create", name, *extra).failed(code)
    assert message in run.error_line
    assert _tasks_named(cli.api, name) == 0


def test_wrong_password_and_missing_task(cli: LiveCli) -> None:
    run = cli("task", "ls", auth="admin:not-the-password").failed(1)
    assert "Unable to log in with provided credentials" in run.error_line
    run = cli("task", "export-dataset", "987654321", "o.zip").failed(1)
    assert (
        run.error_line
        == "cvat-cli: error: task 987654321 does not exist (or is not visible to you)"
    )
    assert not (cli.cwd / "o.zip").exists()


def test_login_token_from_the_environment(cli: LiveCli) -> None:
    """On CVAT 2.24 ``CVAT_ACCESS_TOKEN`` takes the key ``POST /api/auth/login`` returns."""
    with cli.live.client() as api:
        answer, _ = api.auth_api.create_login(
            {"username": cli.live.user, "password": cli.live.password}
        )
    env = cli_env(CVAT_ACCESS_TOKEN=answer.key)
    run = run_cli(*cli.common(None), "project", "ls", env=env, cwd=cli.cwd).ok()
    assert all(x.isdigit() for x in run.stdout.split())


def test_share_files_that_are_not_there_create_nothing(cli: LiveCli, share_dir: Any) -> None:
    name, _ = share_dir
    task_name = cli.name("share")
    for path, message in (
        (f"//share/{name}/video.zip", "the server's share has no 'video.zip' in"),
        (f"//share/{name}-gone/video.zip", f"has no directory 'share/{name}-gone'"),
    ):
        run = cli("task", "create", task_name, "--labels", "labels.json", "share", path)
        assert message in run.failed(1).error_line
    assert _tasks_named(cli.api, task_name) == 0
