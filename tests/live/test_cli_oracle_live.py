"""cvat-cli against the official cvat-cli 2.24.0 on the real CVAT: the same commands leave the
same server state (tasks, data, labels, annotations, projects) and write the same files.

The official CLI runs in its own process with only ``.oracle`` importable (installed there
beside the official SDK on first use). The deliberate differences are checked too: a local
directory as a resource and ``project create --dataset_file`` work here and fail there.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from cvat_sdk.api_client import ApiClient
from tests.cli.support import Run, run_cli
from tests.support import oracle

from .support import LiveServer, Trash, png, throwaway_user

LABELS = '[{"name": "cat", "attributes": []}, {"name": "dog", "attributes": []}]'


def _ensure_oracle_cli() -> str:
    """The official cvat-cli beside the official SDK in ``.oracle``: "" or why it failed."""
    problem = oracle.ensure_installed()
    if problem or (oracle.ORACLE_DIR / "cvat_cli").is_dir():
        return problem
    with tempfile.TemporaryDirectory() as scratch:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--target",
                scratch,
                f"cvat-cli=={oracle.VERSION}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            return f"pip install cvat-cli=={oracle.VERSION} failed:\n{done.stderr[-2000:]}"
        for item in Path(scratch).iterdir():
            if item.name.startswith("cvat_cli"):
                shutil.move(str(item), oracle.ORACLE_DIR / item.name)
    return ""


@pytest.fixture(scope="module")
def official() -> None:
    problem = _ensure_oracle_cli()
    if problem:
        pytest.fail(problem, pytrace=False)


class Both:
    """Runs one command line through both CLIs, each in its own directory."""

    def __init__(
        self, live: LiveServer, user: tuple[str, str], trash: Trash, api: ApiClient, tmp: Path
    ) -> None:
        self.live, self.trash, self.api = live, trash, api
        self.ours, self.theirs = tmp / "ours", tmp / "theirs"
        self.ours.mkdir()
        self.theirs.mkdir()
        parts = urlsplit(live.url)
        self.common = [
            "--auth",
            f"{user[0]}:{user[1]}",
            "--server-host",
            str(parts.hostname),
            "--server-port",
            str(parts.port or 80),
        ]

    def files(self, write: Any) -> None:
        """Make the same input files in both directories."""
        write(self.ours)
        write(self.theirs)

    def run_ours(self, *args: Any) -> Run:
        return run_cli(*self.common, *args, cwd=self.ours)

    def run_theirs(self, *args: Any) -> Run:
        command = [sys.executable, "-m", "cvat_cli", *self.common, *map(str, args)]
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=oracle.environment(),
            cwd=self.theirs,
            stdin=subprocess.DEVNULL,
            timeout=300,
            check=False,
        )
        return Run(command[3:], done.returncode, done.stdout, done.stderr)

    def created(self, run: Run, kind: str = "tasks") -> int:
        run.ok()
        return self.trash.add(kind, int(run.stdout.split()[-1]))

    def names(self) -> tuple[str, str]:
        tag = uuid.uuid4().hex[:8]
        return f"oracle-ours-{tag}", f"oracle-theirs-{tag}"


@pytest.fixture(scope="module")
def own_user(live: LiveServer) -> Iterator[tuple[str, str]]:
    with throwaway_user(live, "cli") as user:
        yield user


@pytest.fixture
def both(
    official: None,
    live: LiveServer,
    own_user: tuple[str, str],
    trash: Trash,
    client: ApiClient,
    tmp_path: Path,
) -> Both:
    return Both(live, own_user, trash, client, tmp_path)


def _images(folder: Path) -> None:
    for i in (1, 2, 10, 3):  # natural and lexicographical orders differ
        png(folder / f"img{i}.png", 20, 14, seed=i)
    (folder / "labels.json").write_text(LABELS)


def _state(api: ApiClient, task_id: int) -> dict[str, Any]:
    """What a task is on the server, without what differs by nature (ids, names, dates)."""
    task = api.tasks_api.retrieve(task_id)[0].to_dict()
    meta = api.tasks_api.retrieve_data_meta(task_id)[0].to_dict()
    labels = api.labels_api.list(task_id=task_id)[0].results
    annotations = api.tasks_api.retrieve_annotations(task_id)[0].to_dict()
    jobs = api.jobs_api.list(task_id=task_id)[0].results
    keep = (
        "size",
        "mode",
        "overlap",
        "segment_size",
        "image_quality",
        "bug_tracker",
        "data_chunk_size",
        "data_compressed_chunk_type",
        "data_original_chunk_type",
        "dimension",
        "status",
        "subset",
    )
    return {
        "task": {k: task.get(k) for k in keep},
        "meta": {
            k: meta.get(k)
            for k in (
                "chunk_size",
                "size",
                "image_quality",
                "start_frame",
                "stop_frame",
                "frame_filter",
                "deleted_frames",
            )
        },
        "frames": [(f["name"], f["width"], f["height"]) for f in meta["frames"]],
        "labels": sorted(label.name for label in labels),
        "shapes": sorted(
            (s["frame"], s["type"], tuple(s["points"])) for s in annotations["shapes"]
        ),
        "jobs": sorted((j.start_frame, j.stop_frame) for j in jobs),
    }


def test_task_create_with_options(both: Both) -> None:
    both.files(_images)
    options = [
        "--labels",
        "labels.json",
        "--bug_tracker",
        "https://bug-tracker.com/0001",
        "--image_quality",
        "75",
        "--segment_size",
        "2",
        "--overlap",
        "1",
        "--chunk_size",
        "3",
        "--sorting-method",
        "natural",
        "--frame_step",
        "1",
        "--start_frame",
        "1",
        "--use_zip_chunks",
        "local",
        "img1.png",
        "img2.png",
        "img10.png",
        "img3.png",
    ]
    ours, theirs = both.names()
    mine = both.created(both.run_ours("task", "create", ours, *options))
    official = both.created(both.run_theirs("task", "create", theirs, *options))
    assert _state(both.api, mine) == _state(both.api, official)


def test_annotations_frames_exports_and_backups(both: Both) -> None:
    def files(folder: Path) -> None:
        _images(folder)
        boxes = "".join(
            f'<image id="{i}" name="img{n}.png" width="20" height="14"><box label="dog" '
            f'occluded="0" source="manual" xtl="1" ytl="1" xbr="{5 + i}" ybr="9" z_order="0">'
            "</box></image>"
            for i, n in enumerate((1, 10, 2, 3))
        )
        (folder / "annotation.xml").write_text(
            f'<?xml version="1.0" encoding="utf-8"?><annotations><version>1.1</version>'
            f"{boxes}</annotations>"
        )

    both.files(files)
    ids = {}
    for who, name in zip(("ours", "theirs"), both.names(), strict=True):
        run = getattr(both, f"run_{who}")
        ids[who] = both.created(
            run(
                "task",
                "create",
                name,
                "--labels",
                "labels.json",
                "--annotation_path",
                "annotation.xml",
                "local",
                "img1.png",
                "img2.png",
                "img10.png",
                "img3.png",
            )
        )
        run("task", "frames", "--outdir", "images", ids[who], 0, 3).ok()
        run("task", "frames", "--outdir", "small", "--quality", "compressed", ids[who], 1).ok()
        run("task", "export-dataset", "--format", "COCO 1.0", ids[who], "coco.zip").ok()
        run("task", "import-dataset", "--format", "CVAT 1.1", ids[who], "annotation.xml").ok()
        run("task", "backup", ids[who], "backup.zip").ok()
        ids[f"{who}-restored"] = both.created(run("task", "create-from-backup", "backup.zip"))
    assert _state(both.api, ids["ours"]) == _state(both.api, ids["theirs"])
    assert _state(both.api, ids["ours-restored"]) == _state(both.api, ids["theirs-restored"])

    def outputs(folder: Path, task_id: int) -> dict[str, Any]:
        from PIL import Image

        def pixels(path: Path) -> Any:
            with Image.open(path) as image:
                return image.mode, image.size, image.tobytes()

        # the official CLI saves frames through Pillow (other bytes, the same pixels)
        frames = {
            p.name.replace(f"task_{task_id}_", "task_ID_"): pixels(p)
            for p in (folder / "images").iterdir()
        }
        small = [
            p.name.replace(f"task_{task_id}_", "task_ID_") for p in (folder / "small").iterdir()
        ]
        with zipfile.ZipFile(folder / "coco.zip") as archive:
            coco = json.loads(archive.read("annotations/instances_default.json"))
        boxes = sorted(tuple(a["bbox"]) for a in coco["annotations"])
        return {"frames": frames, "small": small, "coco": boxes}

    assert outputs(both.ours, ids["ours"]) == outputs(both.theirs, ids["theirs"])
    # ours are the uploaded files, byte for byte
    ours = both.ours / "images" / f"task_{ids['ours']}_frame_000000.png"
    assert ours.read_bytes() == (both.ours / "img1.png").read_bytes()


def test_projects_ls_and_delete(both: Both) -> None:
    both.files(_images)
    projects = {}
    for who, name in zip(("ours", "theirs"), both.names(), strict=True):
        run = getattr(both, f"run_{who}")
        projects[who] = both.created(
            run(
                "project",
                "create",
                name,
                "--labels",
                "labels.json",
                "--bug_tracker",
                "https://bug-tracker.com/1",
            ),
            "projects",
        )
    for who in ("ours", "theirs"):
        both.created(
            getattr(both, f"run_{who}")(
                "task",
                "create",
                f"in-project-{who}-{uuid.uuid4().hex[:6]}",
                "--project_id",
                projects[who],
                "local",
                "img1.png",
            )
        )

    def project_state(project_id: int) -> Any:
        project = both.api.projects_api.retrieve(project_id)[0]
        labels = both.api.labels_api.list(project_id=project_id)[0].results
        return (project.bug_tracker, sorted(label.name for label in labels), project.tasks.count)

    assert project_state(projects["ours"]) == project_state(projects["theirs"])
    listed_ours = both.run_ours("project", "ls").ok().stdout.split()
    listed_theirs = both.run_theirs("project", "ls").ok().stdout.split()
    assert {str(projects["ours"]), str(projects["theirs"])} <= set(listed_ours) & set(listed_theirs)
    json_ours = json.loads(both.run_ours("project", "ls", "--json").ok().stdout)
    json_theirs = json.loads(both.run_theirs("project", "ls", "--json").ok().stdout)
    mine = next(p for p in json_ours if p["id"] == projects["theirs"])
    theirs = next(p for p in json_theirs if p["id"] == projects["theirs"])
    assert mine == theirs  # the same object, as the server sends it
    both.run_ours("project", "delete", projects["theirs"]).ok()
    both.run_theirs("project", "delete", projects["ours"]).ok()
    listed = both.run_ours("project", "ls").ok().stdout.split()
    assert str(projects["ours"]) not in listed and str(projects["theirs"]) not in listed


def test_deliberate_differences(both: Both) -> None:
    """A local directory, and ``project create --dataset_file`` (both documented): the
    official CLI fails on them; this one does what the documentation says. ``delete`` with
    an id that does not exist: the official CLI ignores it, this one deletes nothing."""

    def files(folder: Path) -> None:
        (folder / "dataset_1" / "images").mkdir(parents=True)
        _images(folder / "dataset_1" / "images")
        (folder / "labels.json").write_text(LABELS)

    both.files(files)
    ours, theirs = both.names()
    args = ["--labels", "labels.json", "local", "dataset_1/images/"]
    task_id = both.created(both.run_ours("task", "create", ours, *args))
    assert both.api.tasks_api.retrieve(task_id)[0].size == 4
    failed = both.run_theirs("task", "create", theirs, *args)
    assert failed.returncode != 0
    leftover = both.api.tasks_api.list(name=theirs)[0].results
    for task in leftover:  # the official CLI leaves the task it made behind
        both.trash.add("tasks", task.id)
    both.run_ours(
        "task",
        "export-dataset",
        "--format",
        "COCO 1.0",
        "--with-images",
        "true",
        task_id,
        "coco.zip",
    ).ok()
    shutil.copy(both.ours / "coco.zip", both.theirs / "coco.zip")
    args = ["--dataset_file", "coco.zip", "--dataset_format", "COCO 1.0"]
    project_id = both.created(both.run_ours("project", "create", ours, *args), "projects")
    assert both.api.tasks_api.list(project_id=project_id)[0].count == 1
    assert both.run_theirs("project", "create", theirs, *args).returncode == 2  # unknown option
    missing = 987654321
    run = both.run_ours("task", "delete", task_id, missing).failed(1)
    assert f"task {missing} does not exist" in run.error_line
    assert both.api.tasks_api.retrieve(task_id)[0].id == task_id
    both.run_theirs("task", "delete", task_id, missing).ok()
    assert both.api.tasks_api.list(name=ours)[0].count == 0
