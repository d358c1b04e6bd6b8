"""``cvat-cli task auto-annotate`` on the real CVAT: a function from a file and from a module,
with ``-p`` parameters, ``--clear-existing``, ``--allow-unmatched-labels``, and bad input."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cvat_sdk.api_client import ApiClient
from cvat_sdk.core.helpers import get_paginated_collection
from cvat_sdk.core.uploading import upload_task_data
from tests.cli.support import ROOT, cli_env, run_cli

from .support import LiveServer, Trash, png

FUNCTION = textwrap.dedent(
    '''
    import cvat_sdk.auto_annotation as cvataa

    class Boxes:
        """One box per frame, of the given size, labelled "cat" (and "zebra", which the
        task may not have)."""

        def __init__(self, size: int = 4, zebra: bool = False) -> None:
            self.size = size
            labels = [cvataa.label_spec("cat", 0)]
            if zebra:
                labels.append(cvataa.label_spec("zebra", 1))
            self.spec = cvataa.DetectionFunctionSpec(labels=labels)

        def detect(self, context, image):
            shapes = [cvataa.rectangle(0, [0, 0, self.size, self.size])]
            if len(self.spec.labels) > 1:
                shapes.append(cvataa.rectangle(1, [1, 1, 2, 2]))
            return shapes

    def create(size: int = 4, zebra: bool = False):
        return Boxes(size, zebra)
    '''
)


@pytest.fixture
def task_id(client: ApiClient, trash: Trash, tmp_path: Path) -> int:
    created = trash.task(client)
    frames = [png(tmp_path / f"f{i}.png", 24, 16, seed=i) for i in range(3)]
    upload_task_data(client, created, frames)
    return created


@pytest.fixture
def function_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "functions"
    folder.mkdir()
    (folder / "boxes_function.py").write_text(FUNCTION)
    return folder


def common(live: LiveServer) -> list[str]:
    return ["--server-host", live.url, "--auth", f"{live.user}:{live.password}"]


def boxes(client: ApiClient, task_id: int) -> list[tuple[int, str, list[float]]]:
    labels = {
        label.id: label.name
        for label in get_paginated_collection(client.labels_api.list_endpoint, task_id=task_id)
    }
    annotations, _ = client.tasks_api.retrieve_annotations(task_id)
    return sorted((s.frame, labels[s.label_id], list(s.points)) for s in annotations.shapes)


def test_function_file_with_parameters(
    live: LiveServer, client: ApiClient, task_id: int, function_dir: Path
) -> None:
    file = function_dir / "boxes_function.py"
    run_cli(
        *common(live),
        "task",
        "auto-annotate",
        task_id,
        "--function-file",
        file,
        "-p",
        "size=int:7",
    ).ok()
    assert boxes(client, task_id) == [(f, "cat", [0.0, 0.0, 7.0, 7.0]) for f in range(3)]

    # a second run appends; --clear-existing replaces
    run_cli(*common(live), "task", "auto-annotate", task_id, "--function-file", file).ok()
    assert len(boxes(client, task_id)) == 6
    run_cli(
        *common(live),
        "task",
        "auto-annotate",
        task_id,
        "--function-file",
        file,
        "--clear-existing",
        "-p",
        "size=int:3",
    ).ok()
    assert boxes(client, task_id) == [(f, "cat", [0.0, 0.0, 3.0, 3.0]) for f in range(3)]


def test_function_module_and_unmatched_labels(
    live: LiveServer, client: ApiClient, task_id: int, function_dir: Path
) -> None:
    env = cli_env(PYTHONPATH=f"{ROOT}:{function_dir}")
    args = [
        *common(live),
        "task",
        "auto-annotate",
        task_id,
        "--function-module",
        "boxes_function",
        "-p",
        "zebra=bool:true",
    ]
    refused = run_cli(*args, env=env).failed(1)
    assert "zebra" in refused.error_line
    assert boxes(client, task_id) == []  # nothing was sent
    run_cli(*args, "--allow-unmatched-labels", env=env).ok()
    assert boxes(client, task_id) == [(f, "cat", [0.0, 0.0, 4.0, 4.0]) for f in range(3)]


def test_bad_input(live: LiveServer, client: ApiClient, task_id: int, function_dir: Path) -> None:
    file = str(function_dir / "boxes_function.py")
    cases = {
        ("--function-file", file, "-p", "size=integer:7"): 2,
        ("--function-file", file, "-p", "size"): 2,
        ("--function-file", str(function_dir / "missing.py")): 2,
        ("--function-file", file, "--conf-threshold", "1.5"): 2,
        ("--function-module", "no_such_module_here"): 1,
    }
    for extra, code in cases.items():
        run = run_cli(*common(live), "task", "auto-annotate", task_id, *extra).failed(code)
        assert len(run.error_line) < 400, run.stderr
    assert run_cli(*common(live), "task", "auto-annotate", task_id).failed(2)
    missing = run_cli(
        *common(live), "task", "auto-annotate", 10**9, "--function-file", file
    ).failed(1)
    assert "1000000000" in missing.error_line
    assert boxes(client, task_id) == []
