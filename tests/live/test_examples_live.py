"""The README's example and examples/quickstart.py, on the real CVAT as a user runs them."""

from __future__ import annotations

import re
import subprocess
import sys

from cvat_sdk.api_client import ApiClient, Configuration, models
from tests.support.oracle import ROOT

from .support import LiveServer, Trash


def test_quickstart_against_the_real_server(live: LiveServer) -> None:
    """`python examples/quickstart.py --host ...`: the task flow end to end, and the task it
    made is gone afterwards."""
    done = subprocess.run(
        [
            sys.executable,
            "examples/quickstart.py",
            "--host",
            live.url,
            "--user",
            live.user,
            "--password",
            live.password,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "attached 4 images" in done.stdout and "job " in done.stdout
    assert "annotations.xml" in done.stdout  # what the real CVAT exports for CVAT for images
    created = re.search(r"created task (\d+)", done.stdout)
    assert created and f"deleted task {created.group(1)}" in done.stdout
    with live.client() as client:
        found, _ = client.tasks_api.list(filter=f'{{"==": [{{"var": "id"}}, {created.group(1)}]}}')
        assert found.count == 0
    assert live.password not in done.stdout + done.stderr


def test_readme_example(live: LiveServer, trash: Trash) -> None:
    """The README's first example, as written (host and credentials substituted)."""
    configuration = Configuration(host=live.url, username=live.user, password=live.password)
    with ApiClient(configuration) as api_client:
        task, _ = api_client.tasks_api.create(
            models.TaskWriteRequest(name=trash.name("example"), labels=[{"name": "car"}])
        )
        trash.add("tasks", task.id)
        page, response = api_client.tasks_api.list(page_size=10)
    assert response.status == 200
    assert task.id in [t.id for t in page.results]
    assert [label.name for label in api_client.labels_api.list(task_id=task.id)[0].results] == [
        "car"
    ]
