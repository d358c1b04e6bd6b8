"""``Project.get_annotations`` on the real CVAT 2.24: the server has no request that answers a
project's annotations as data, the official SDK fails there with a bare ``TypeError``, ours
raises a typed error naming the ways out, and those ways work."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import urllib3

from cvat_sdk import Client, Config
from cvat_sdk.core.proxies.projects import ProjectAnnotationsUnavailable

from .support import LiveServer, png, throwaway_user

OFFICIAL_SCRIPT = """
import json, sys
from cvat_sdk import make_client
host, port, user, password, project_id = sys.argv[1:6]
with make_client(host, port=int(port), credentials=(user, password)) as client:
    project = client.projects.retrieve(int(project_id))
    try:
        project.get_annotations()
        print(json.dumps({"raised": None}))
    except Exception as error:
        print(json.dumps({"raised": type(error).__name__, "message": str(error)}))
"""


@pytest.fixture
def user(live: LiveServer) -> Iterator[tuple[str, str]]:
    with throwaway_user(live, "pa") as made:  # removed with its projects and tasks
        yield made


def test_project_annotations_error_names_what_works(
    live: LiveServer, user: tuple[str, str], tmp_path: Path
) -> None:
    client = Client(live.url, config=Config(status_check_period=0.5))
    client.login(user)
    try:
        project = client.projects.create({"name": "pa-project", "labels": [{"name": "car"}]})
        files = [str(png(tmp_path / f"{c}.png", 16, 12, seed=i)) for i, c in enumerate("ab")]
        task = client.tasks.create_from_data(
            {"name": "pa-task", "project_id": project.id}, resources=files
        )
        label_id = task.get_labels()[0].id
        box = {"type": "rectangle", "frame": 1, "label_id": label_id, "points": [1, 1, 5, 5]}
        task.set_annotations({"shapes": [box]})

        # the premise: the route of that name is only the deprecated export, and wants a format
        raw = urllib3.PoolManager().request(
            "GET",
            f"{live.url}/api/projects/{project.id}/annotations",
            headers=urllib3.make_headers(basic_auth=":".join(user)),
        )
        assert (raw.status, raw.data) == (400, b'"Format is not specified"')

        with pytest.raises(ProjectAnnotationsUnavailable) as refused:
            project.get_annotations()
        assert isinstance(refused.value, TypeError)
        assert "include_images=False" in str(refused.value)

        exported = project.export_dataset(
            "CVAT for images 1.1", tmp_path / "p.zip", include_images=False
        )
        with zipfile.ZipFile(exported) as archive:
            assert b'<box label="car"' in archive.read("annotations.xml")
        per_task = [t.get_annotations() for t in project.get_tasks()]
        assert [[s.frame for s in a.shapes] for a in per_task] == [[1]]

        official = official_get_annotations(live, user, project.id)
        assert official["raised"] == "TypeError"  # retrieve_annotations() misses an argument
        assert "retrieve_annotations()" in str(official["message"])
    finally:
        client.logout()  # the throwaway user's session only
        client.close()


def official_get_annotations(
    live: LiveServer, user: tuple[str, str], project_id: int
) -> dict[str, str | None]:
    from tests.support import oracle

    problem = oracle.ensure_installed()
    assert not problem, problem
    address = urlsplit(live.url)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            OFFICIAL_SCRIPT,
            address.hostname or "",
            str(address.port or 80),
            *user,
            str(project_id),
        ],
        env=oracle.environment(),
        cwd=oracle.ORACLE_DIR,  # `-c` puts the working directory first: not this repository
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]
