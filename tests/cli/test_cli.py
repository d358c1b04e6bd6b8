"""cvat-cli against the fake CVAT, run as a subprocess: output, exit codes, help, aliases,
share/remote/cloud requests, and bad input that must leave nothing behind."""

from __future__ import annotations

import json
import os
import pty
import signal
import ssl
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from cvat_sdk.cli import LEGACY_ALIASES, build_parser
from cvat_sdk.testing import FakeCvatServer
from tests.support.loopback import LoopbackServer, Recorded, Reply

from .conftest import FakeCli
from .support import ROOT, cli_env, run_cli

LABELS = '[{"name": "cat"}, {"name": "dog"}]'


def _create(cli: FakeCli, images: list[Path], *extra: str, name: str = "t") -> int:
    run = cli("task", "create", name, "--labels", LABELS, *extra, "local", *images).ok()
    return int(run.stdout)


# --- help, version, usage -----------------------------------------------------------------
def _all_command_lines() -> list[list[str]]:
    """Every command line that has a --help: the top, the groups, their actions, aliases."""
    lines: list[list[str]] = [[]]
    parser = build_parser()
    top = next(a for a in parser._actions if a.dest == "==SUPPRESS==" and a.choices)
    for name, sub in top.choices.items():  # type: ignore[union-attr]
        lines.append([name])
        for action in sub._actions:
            if action.choices and action.dest == "==SUPPRESS==":
                lines += [[name, child] for child in action.choices]
    return lines


COMMAND_LINES = _all_command_lines()


def test_every_documented_command_is_there() -> None:
    wanted = {
        ("task", a)
        for a in [
            "ls",
            "create",
            "delete",
            "frames",
            "export-dataset",
            "import-dataset",
            "backup",
            "create-from-backup",
            "auto-annotate",
        ]
    } | {
        ("project", a)
        for a in [
            "ls",
            "create",
            "delete",
            "backup",
            "create-from-backup",
            "export-dataset",
            "import-dataset",
        ]
    }
    wanted |= {
        (alias,)
        for alias in (["ls", "create", "delete", "frames", "dump", "upload", "export", "import"])
    }
    assert wanted <= {tuple(line) for line in COMMAND_LINES}


@pytest.mark.parametrize("line", COMMAND_LINES, ids=lambda line: " ".join(line) or "top")
def test_help(line: list[str]) -> None:
    run = run_cli(*line, "--help").ok()
    assert run.stdout.startswith("usage: cvat-cli")
    assert run.stderr == ""
    if line and line[0] in LEGACY_ALIASES:
        assert f"task {LEGACY_ALIASES[line[0]]}" in run.stdout  # names the replacement


def test_version() -> None:
    assert run_cli("--version").ok().stdout.strip() == "2.24.0"


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["task"],
        ["task", "nosuch"],
        ["task", "delete"],
        ["task", "delete", "one"],
        ["task", "create", "x", "nowhere", "a.png"],
        ["task", "create", "x", "local", "a.png", "--sorting-method", "sideways"],
        ["--server-port", "99999", "task", "ls"],
        ["task", "frames", "1", "2", "--quality", "best"],
        ["task", "export-dataset", "1", "out.zip", "--with-images=perhaps"],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    run = run_cli(*args).failed(2)
    assert "usage: cvat-cli" in run.stderr
    assert run.stdout == ""


def test_auto_annotate_needs_one_function_source(cli: FakeCli, tmp_path: Path) -> None:
    """Checked before the server is asked (the live suite runs the command for real)."""
    assert "one of the arguments" in cli("task", "auto-annotate", "1").failed(2).stderr
    both = cli("task", "auto-annotate", "1", "--function-module", "m", "--function-file", "f")
    assert "not allowed with" in both.failed(2).stderr
    help_text = run_cli("task", "auto-annotate", "--help").ok().stdout
    for option in (
        "--function-parameter",
        "--clear-existing",
        "--allow-unmatched-labels",
        "--conf-threshold",
        "--conv-mask-to-poly",
    ):
        assert option in help_text


# --- list, create, delete -----------------------------------------------------------------
def test_ls_prints_ids_and_json(cli: FakeCli, images: list[Path]) -> None:
    ids = [_create(cli, images, name=f"task {i}") for i in range(3)]
    run = cli("task", "ls").ok()
    assert [int(line) for line in run.stdout.split()] == ids[::-1]  # newest first, as CVAT
    listed = json.loads(cli("task", "ls", "--json").ok().stdout)
    assert [t["id"] for t in listed] == ids[::-1]
    assert [t["name"] for t in listed] == ["task 2", "task 1", "task 0"]
    server_side = cli.api.tasks_api.retrieve(ids[0])[0].to_dict()
    assert listed[-1]["labels"] == json.loads(json.dumps(server_side["labels"], default=str))


def test_ls_follows_pages(cli: FakeCli) -> None:
    ids = cli.server.seed_tasks(250)
    assert sorted(int(x) for x in cli("task", "ls").ok().stdout.split()) == ids
    assert len(json.loads(cli("task", "ls", "--json").ok().stdout)) == 250


def test_create_local_files_and_directory(
    cli: FakeCli, images: list[Path], labels_file: Path
) -> None:
    run = cli("task", "create", "new task", "--labels", labels_file, "local", images[0].parent).ok()
    task_id = int(run.stdout)  # stdout holds only the id
    uploaded = cli.server.uploaded_files(task_id)
    assert list(uploaded) == [p.name for p in images]
    assert all(uploaded[p.name].read_bytes() == p.read_bytes() for p in images)
    task, _ = cli.api.tasks_api.retrieve(task_id)
    assert task.name == "new task"
    assert task.size == 3
    labels, _ = cli.api.labels_api.list(task_id=task_id)
    assert sorted(label.name for label in labels.results) == ["cat", "dog"]


def test_create_sends_the_options(cli: FakeCli, images: list[Path]) -> None:
    task_id = _create(
        cli,
        images,
        "--bug_tracker",
        "https://bug-tracker.com/0001",
        "--segment_size",
        "2",
        "--overlap",
        "1",
        "--image_quality",
        "75",
        "--chunk_size",
        "8",
        "--sorting-method",
        "predefined",
    )
    task, _ = cli.api.tasks_api.retrieve(task_id)
    assert task.bug_tracker == "https://bug-tracker.com/0001"
    assert task.segment_size == 2
    assert task.overlap == 1
    assert task.image_quality == 75
    assert task.data_chunk_size == 8


def test_create_in_a_project_takes_its_labels(cli: FakeCli, images: list[Path]) -> None:
    project_id = int(cli("project", "create", "p", "--labels", LABELS).ok().stdout)
    task_id = int(
        cli("task", "create", "t", "--project_id", project_id, "local", *images).ok().stdout
    )
    assert cli.api.tasks_api.retrieve(task_id)[0].project_id == project_id


def test_create_removes_the_task_when_the_annotations_fail(
    cli: FakeCli, images: list[Path], tmp_path: Path
) -> None:
    """The fake's annotation files name its label ids, which another task does not have:
    the import fails after the data is attached, and the new task is deleted again."""
    source = _create(cli, images)
    cli.api.tasks_api.update_annotations(
        source,
        task_annotations_update_request={
            "version": 0,
            "tags": [],
            "tracks": [],
            "shapes": [
                {
                    "type": "rectangle",
                    "frame": 1,
                    "label_id": cli.api.labels_api.list(task_id=source)[0].results[0].id,
                    "points": [1, 2, 3, 4],
                }
            ],
        },
    )
    cli("task", "export-dataset", source, tmp_path / "a.zip").ok()
    run = cli(
        "task",
        "create",
        "with annotations",
        "--labels",
        LABELS,
        "--annotation_path",
        tmp_path / "a.zip",
        "local",
        *images,
    ).failed(1)
    assert "importing annotations failed" in run.error_line
    assert "Label" in run.error_line  # the server's message
    assert run.error_line.endswith("the task was removed")
    assert run.stdout == ""
    assert cli.task_ids() == [source]


def test_delete(cli: FakeCli, images: list[Path]) -> None:
    ids = [_create(cli, images) for _ in range(3)]
    cli("task", "delete", ids[0], ids[2]).ok()
    assert cli.task_ids() == [ids[1]]


def test_delete_with_a_wrong_id_deletes_nothing(cli: FakeCli, images: list[Path]) -> None:
    task_id = _create(cli, images)
    run = cli("task", "delete", task_id, 9999).failed(1)
    assert "task 9999 does not exist" in run.error_line
    assert cli.task_ids() == [task_id]


# --- frames, datasets, backups ------------------------------------------------------------
def test_frames_out_of_range(cli: FakeCli, images: list[Path], tmp_path: Path) -> None:
    task_id = _create(cli, images)
    run = cli("task", "frames", "--outdir", tmp_path / "out", task_id, 1, 7).failed(1)
    assert "frames 0-2; no frame 7" in run.error_line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("flag", "included"),
    [
        ([], False),
        (["--with-images"], True),
        (["--with-images", "true"], True),
        (["--with-images=false"], False),
        (["--with-images", "no"], False),
    ],
)
def test_export_with_images_forms(
    cli: FakeCli, images: list[Path], tmp_path: Path, flag: list[str], included: bool
) -> None:
    task_id = _create(cli, images)
    out = tmp_path / "output.zip"
    cli("task", "export-dataset", *flag, task_id, out).ok()
    names = zipfile.ZipFile(out).namelist()
    assert any(n.endswith(images[0].name) for n in names) is included


def test_dataset_and_backup_round_trip(cli: FakeCli, images: list[Path], tmp_path: Path) -> None:
    task_id = _create(cli, images)
    cli("task", "export-dataset", "--format", "COCO 1.0", task_id, tmp_path / "coco.zip").ok()
    cli("task", "import-dataset", "--format", "COCO 1.0", task_id, tmp_path / "coco.zip").ok()
    cli("task", "backup", task_id, tmp_path / "b.zip").ok()
    restored = int(cli("task", "create-from-backup", tmp_path / "b.zip").ok().stdout)
    assert restored != task_id
    assert cli.task_ids() == [task_id, restored]
    assert list(cli.server.uploaded_files(restored)) == [p.name for p in images]


def test_projects(cli: FakeCli, images: list[Path], tmp_path: Path, labels_file: Path) -> None:
    project_id = int(cli("project", "create", "new project", "--labels", labels_file).ok().stdout)
    assert [int(x) for x in cli("project", "ls").ok().stdout.split()] == [project_id]
    assert json.loads(cli("project", "ls", "--json").ok().stdout)[0]["name"] == "new project"
    cli("task", "create", "t", "--project_id", project_id, "local", *images).ok()
    cli("project", "export-dataset", "--with-images", "true", project_id, tmp_path / "d.zip").ok()
    for option in ("--dataset_file", "--dataset_path"):
        new = int(
            cli(
                "project",
                "create",
                f"from {option}",
                option,
                tmp_path / "d.zip",
                "--dataset_format",
                "CVAT 1.1",
            )
            .ok()
            .stdout
        )
        assert new in cli.project_ids()
    cli("project", "backup", project_id, tmp_path / "pb.zip").ok()
    restored = int(cli("project", "create-from-backup", tmp_path / "pb.zip").ok().stdout)
    target = int(cli("project", "create", "target", "--labels", LABELS).ok().stdout)
    cli("project", "import-dataset", target, tmp_path / "d.zip").ok()
    before = cli.project_ids()
    cli("project", "delete", restored, target).ok()
    assert cli.project_ids() == [p for p in before if p not in (restored, target)]


# --- aliases ------------------------------------------------------------------------------
def test_deprecated_aliases(cli: FakeCli, images: list[Path], tmp_path: Path) -> None:
    run = cli("create", "old", "--labels", LABELS, "local", *images).ok()
    task_id = int(run.stdout)
    assert "deprecated" in run.stderr and "task create" in run.stderr
    assert cli("ls").ok().stdout.split() == [str(task_id)]
    assert "no frame 9" in cli("frames", "--outdir", tmp_path / "f", task_id, 9).failed(1).stderr
    cli("dump", "--format", "CVAT for images 1.1", task_id, tmp_path / "a.zip").ok()
    cli("upload", "--format", "CVAT 1.1", task_id, tmp_path / "a.zip").ok()
    cli("export", task_id, tmp_path / "b.zip").ok()
    run = cli("import", tmp_path / "b.zip").ok()
    assert "use 'cvat-cli task create-from-backup'" in run.stderr
    restored = int(run.stdout)
    cli("delete", task_id, restored).ok()
    assert cli.task_ids() == []


# --- share, remote and cloud storage: sent, refused by the fake, cleaned up ----------------
@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["share", "//share/dataset_1/video.avi"], "server_files"),
        (
            [
                "remote",
                "https://github.com/opencv/opencv/blob/master/samples/data/vtest.avi?raw=true",
            ],
            "remote_files",
        ),
        (
            [
                "--use_cache",
                "--cloud_storage_id",
                "1",
                "--filename_pattern",
                "test_images/*.jpeg",
                "share",
                "manifest.jsonl",
            ],
            "server_files",
        ),
    ],
)
def test_share_remote_and_cloud_requests(cli: FakeCli, args: list[str], field: str) -> None:
    """The fake takes only uploaded files: its refusal shows what the CLI sent (the field it
    names), and the task made for the data is deleted again."""
    run = cli("task", "create", "t", "--labels", LABELS, *args).failed(1)
    resource = args[-1].split("?")[0].rsplit("/", 1)[-1]
    assert any(word in run.error_line for word in (field, "cloud_storage_id", resource))
    assert "the task was removed" in run.error_line
    assert cli.task_ids() == []
    posts = [r for r in cli.server.request_log if r.method == "POST" and r.path.endswith("/data/")]
    assert len(posts) == 1


def test_remote_needs_urls(cli: FakeCli) -> None:
    run = cli("task", "create", "t", "--labels", LABELS, "remote", "vtest.avi").failed(2)
    assert "'vtest.avi' is not an http(s) or ftp URL" in run.error_line
    assert cli.server.request_log == []


# --- bad input: reported, nothing created -------------------------------------------------
@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--labels", "[{name: cat}]", "local", "{img}"], 2, "is not valid JSON"),
        (
            ["--labels", "labels-missing.json", "local", "{img}"],
            2,
            "neither JSON text nor an existing file",
        ),
        (["--labels", '{"name": "cat"}', "local", "{img}"], 2, "must hold a JSON list"),
        (
            ["--labels", LABELS, "local", "missing.png"],
            2,
            "local file 'missing.png' does not exist",
        ),
        (
            ["--labels", LABELS, "--annotation_path", "nope.xml", "local", "{img}"],
            2,
            "annotation file 'nope.xml' does not exist",
        ),
        (
            [
                "--labels",
                LABELS,
                "--annotation_path",
                "{img}",
                "--annotation_format",
                "CVAT 9.9",
                "local",
                "{img}",
            ],
            1,
            "cannot import the format 'CVAT 9.9'",
        ),
        (
            ["--labels", LABELS, "--project_id", "4242", "local", "{img}"],
            1,
            "project 4242 does not exist",
        ),
        (["--labels", LABELS, "--image_quality", "101", "local", "{img}"], 2, "--image_quality"),
    ],
)
def test_bad_task_input_creates_nothing(
    cli: FakeCli, images: list[Path], args: list[str], code: int, message: str
) -> None:
    args = [str(images[0]) if a == "{img}" else a for a in args]
    run = cli("task", "create", "t", *args).failed(code)
    assert message in run.error_line
    assert run.error_line.startswith("cvat-cli")
    assert cli.task_ids() == []
    assert cli.server.count_requests("POST", "/api/tasks") == 0


def test_unknown_formats(cli: FakeCli, images: list[Path], tmp_path: Path) -> None:
    task_id = _create(cli, images)
    out = tmp_path / "o.zip"
    run = cli("task", "export-dataset", "--format", "CVAT 1.1 images", task_id, out).failed(1)
    assert "cannot export the format 'CVAT 1.1 images'" in run.error_line
    assert not out.exists()
    out.write_bytes(b"x")
    run = cli("task", "import-dataset", "--format", "CVAT for images 1.1", task_id, out).failed(1)
    assert "(it is an export format)" in run.error_line
    assert cli.server.count_requests("POST", f"/api/tasks/{task_id}/annotations") == 0


def test_project_from_a_bad_dataset_creates_nothing(cli: FakeCli, tmp_path: Path) -> None:
    run = cli("project", "create", "p", "--dataset_file", tmp_path / "coco.zip").failed(2)
    assert "dataset file" in run.error_line and "does not exist" in run.error_line
    (tmp_path / "coco.zip").write_bytes(b"not a zip")
    run = cli(
        "project",
        "create",
        "p",
        "--dataset_file",
        tmp_path / "coco.zip",
        "--dataset_format",
        "COCO 9",
    ).failed(1)
    assert "cannot import the format 'COCO 9'" in run.error_line
    cli.server.faults.fail_next(500, path_prefix="/api/projects/1/dataset")
    run = cli(
        "project",
        "create",
        "p",
        "--dataset_file",
        tmp_path / "coco.zip",
        "--dataset_format",
        "COCO 1.0",
    ).failed(1)
    assert run.error_line.startswith("cvat-cli: error: creating project 'p': ")
    assert cli.project_ids() == []


@pytest.mark.parametrize(
    "args",
    [
        ["task", "frames", "77", "0"],
        ["task", "export-dataset", "77", "o.zip"],
        ["task", "import-dataset", "77", "{file}"],
        ["task", "backup", "77", "o.zip"],
        ["project", "backup", "77", "o.zip"],
        ["project", "export-dataset", "77", "o.zip"],
        ["project", "import-dataset", "77", "{file}"],
        ["project", "delete", "77"],
    ],
)
def test_objects_that_do_not_exist(cli: FakeCli, tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "in.zip").write_bytes(b"x")
    args = [str(tmp_path / "in.zip") if a == "{file}" else a for a in args]
    run = cli(*args).failed(1)
    assert f"{args[0]} 77 does not exist" in run.error_line
    assert not (tmp_path / "o.zip").exists()


def test_missing_input_files(cli: FakeCli, images: list[Path]) -> None:
    task_id = _create(cli, images)
    cli.server.clear_request_log()
    for args in (
        ["task", "import-dataset", task_id, "gone.zip"],
        ["task", "create-from-backup", "gone.zip"],
        ["project", "create-from-backup", "gone.zip"],
        ["project", "import-dataset", "1", "gone.zip"],
    ):
        run = cli(*args).failed(2)
        assert "'gone.zip' does not exist" in run.error_line
    assert cli.server.request_log == []  # refused before connecting


# --- authentication -------------------------------------------------------------------------
def test_wrong_password(server: FakeCvatServer) -> None:
    run = run_cli("--auth", "admin:wrong", "--server-host", server.url, "task", "ls").failed(1)
    assert run.error_line.startswith(f"cvat-cli: error: cannot log in to {server.url} as admin")
    assert run.stdout == ""


def test_password_from_pass_and_no_prompt_without_terminal(server: FakeCvatServer) -> None:
    common = ["--auth", "admin", "--server-host", server.url, "task", "ls"]
    run_cli(*common, env=cli_env(PASS="password")).ok()
    run = run_cli(*common).failed(1)
    assert "no password for admin" in run.error_line


def test_token_from_the_environment(server: FakeCvatServer) -> None:
    token = server.issue_token("admin")
    env = cli_env(CVAT_ACCESS_TOKEN=token)
    run_cli("--server-host", server.url, "task", "ls", env=env).ok()
    run = run_cli("--server-host", server.url, "task", "ls", env=cli_env(CVAT_ACCESS_TOKEN="x"))
    assert "does not accept the token in CVAT_ACCESS_TOKEN" in run.failed(1).error_line


def test_host_and_port_combine(server: FakeCvatServer) -> None:
    port = server.url.rsplit(":", 1)[1]
    for host in ("127.0.0.1", "http://127.0.0.1"):
        run_cli(
            "--auth", "admin:password", "--server-host", host, "--server-port", port, "task", "ls"
        ).ok()
    run = run_cli("--auth", "a:b", "--server-host", "127.0.0.1", "--server-port", "1", "task", "ls")
    assert "no CVAT server answers at 127.0.0.1:1" in run.failed(1).error_line


def test_organization(cli: FakeCli, images: list[Path]) -> None:
    cli.api.organizations_api.create({"slug": "myorg", "name": "My org"})
    in_org = int(
        cli("--org", "myorg", "task", "create", "t", "--labels", LABELS, "local", *images)
        .ok()
        .stdout
    )
    personal = _create(cli, images)
    assert cli.api.tasks_api.retrieve(in_org)[0].organization is not None
    assert cli("--org", "myorg", "task", "ls").ok().stdout.split() == [str(in_org)]
    assert cli("--org", "", "task", "ls").ok().stdout.split() == [str(personal)]


# --- errors, --debug, Ctrl-C, progress ------------------------------------------------------
def test_debug_shows_the_traceback(cli: FakeCli) -> None:
    run = cli("--debug", "task", "frames", 5, 0)
    assert run.returncode == 1
    assert "Traceback" in run.stderr
    assert run.error_line == "cvat-cli: error: task 5 does not exist (or is not visible to you)"


def test_server_failure_is_one_line(cli: FakeCli, images: list[Path]) -> None:
    task_id = _create(cli, images)
    cli.server.faults.fail_next(500, path_prefix=f"/api/tasks/{task_id}/backup")
    run = cli("task", "backup", task_id, cli.cwd / "b.zip")
    assert run.returncode == 1, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert run.error_line.startswith(f"cvat-cli: error: backing up task {task_id}: ")
    assert "500" in run.error_line


def test_ctrl_c_exits_130_and_removes_the_half_made_task(tmp_path: Path) -> None:
    with FakeCvatServer(polls_to_finish=10_000) as server:
        image = tmp_path / "a.png"
        image.write_bytes((ROOT / "tests" / "live" / "support.py").read_bytes())
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cvat_sdk.cli",
                "--auth",
                "admin:password",
                "--server-host",
                server.url,
                "task",
                "create",
                "t",
                "--labels",
                LABELS,
                "local",
                str(image),
            ],
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while not server.count_requests("GET", "/api/requests/"):
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
        assert process.returncode == 130
        assert "Traceback" not in err
        assert err.strip().splitlines()[-1] == "cvat-cli: interrupted"
        assert out == ""
        assert server.count_requests("DELETE", "/api/tasks/") == 1


def test_progress_only_on_a_terminal(cli: FakeCli, images: list[Path], tmp_path: Path) -> None:
    task_id = _create(cli, images)
    plain = cli("task", "backup", task_id, tmp_path / "plain.zip").ok()
    assert plain.stderr == ""
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "cvat_sdk.cli",
                *cli.common,
                "task",
                "backup",
                str(task_id),
                str(tmp_path / "tty.zip"),
            ],
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=follower,
            stdin=subprocess.DEVNULL,
            timeout=60,
            check=False,
        )
        os.close(follower)
        follower = -1
        shown = b""
        while True:
            try:
                block = os.read(leader, 4096)
            except OSError:
                break
            if not block:
                break
            shown += block
    finally:
        if follower != -1:
            os.close(follower)
        os.close(leader)
    assert done.returncode == 0
    assert done.stdout == b""
    assert b"downloading [" in shown and b"100%" in shown


def test_the_session_is_not_logged_out(server: FakeCvatServer) -> None:
    """CVAT's logout deletes the user's API token: a CLI run must not cut off the user's
    other clients that authenticate with it."""
    token = server.issue_token("admin")
    run_cli("--auth", "admin:password", "--server-host", server.url, "task", "ls").ok()
    assert server.count_requests("POST", "/api/auth/logout") == 0
    env = cli_env(CVAT_ACCESS_TOKEN=token)
    run_cli("--server-host", server.url, "task", "ls", env=env).ok()


def test_insecure_skips_the_certificate_check(tmp_path: Path) -> None:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)

    def answer(request: Recorded) -> Reply:
        if request.path == "/api/server/about":
            return Reply.json({"name": "CVAT", "version": "2.24.0", "description": ""})
        return Reply.json({"detail": "Not found."}, 404)

    with LoopbackServer(answer, ssl_context=context) as tls:
        port = tls.url.rsplit(":", 1)[1]
        common = ["--auth", "admin:password", "--server-host", "127.0.0.1", "--server-port", port]
        run = run_cli(*common, "task", "ls").failed(1)
        assert "CERTIFICATE_VERIFY_FAILED" in run.error_line
        assert tls.requests == []  # nothing was sent, not even in clear text
        # verification off: the server is reached (and, not being CVAT, refuses the login)
        run = run_cli("--insecure", *common, "task", "ls").failed(1)
        assert "cannot log in to https://127.0.0.1:" in run.error_line
        assert "404" in run.error_line
        assert "Warning" not in run.stderr
        assert [r.path for r in tls.requests][-1] == "/api/auth/login"
