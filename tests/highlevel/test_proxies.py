"""Repositories and entities against the fake CVAT: the documented flows, cleanup after
failures, lazy listing, and the number of requests each flow costs."""

from __future__ import annotations

import _thread
import threading
import zipfile
from pathlib import Path

import pytest

from cvat_sdk import Client, Config
from cvat_sdk.api_client import models
from cvat_sdk.core.exceptions import BackgroundRequestFailed
from cvat_sdk.core.proxies.annotations import AnnotationUpdateAction
from cvat_sdk.core.proxies.jobs import Job
from cvat_sdk.core.proxies.tasks import ResourceType, Task, TaskCreationError
from cvat_sdk.core.proxies.types import Location
from cvat_sdk.exceptions import ApiTypeError, ApiValueError, NotFoundException
from cvat_sdk.testing import FakeCvatServer

SPEC = {"name": "example task", "labels": [{"name": "car"}, {"name": "bike"}]}


class Recorder:
    """A progress reporter that keeps what it was told."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int | None]] = []

    def start(self, total: int | None) -> None:
        self.calls.append(("start", total))

    def advance(self, n: int) -> None:
        self.calls.append(("advance", n))

    def finish(self) -> None:
        self.calls.append(("finish", None))

    @property
    def advanced(self) -> int:
        return sum(n or 0 for kind, n in self.calls if kind == "advance")


def _requests(server: FakeCvatServer) -> list[str]:
    return [f"{r.method} {r.route or r.path}" for r in server.request_log]


def test_create_from_data_costs_one_create_the_upload_and_one_fetch(
    hl: Client, server: FakeCvatServer, images: list[Path]
) -> None:
    server.clear_request_log()
    progress = Recorder()
    task = hl.tasks.create_from_data(
        SPEC,
        resources=images,
        resource_type=ResourceType.LOCAL,
        data_params={"image_quality": 80, "sorting_method": "predefined"},
        pbar=progress,
    )
    assert isinstance(task, Task) and task.size == len(images)
    assert [p.name for p in images] == list(server.uploaded_files(task.id))
    sent = _requests(server)
    assert sent.count("POST /api/tasks") == 1
    assert sent.count("GET /api/tasks/{id}") == 1  # the task is read once, at the end
    assert not any("/api/labels" in s or "/api/jobs" in s for s in sent)
    assert progress.calls[0] == ("start", sum(p.stat().st_size for p in images))
    assert progress.advanced == sum(p.stat().st_size for p in images)
    assert progress.calls[-1] == ("finish", None)


def test_documented_example_as_written(
    hl: Client, server: FakeCvatServer, images: list[Path]
) -> None:
    task_spec = {
        "name": "example task",
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
    task = hl.tasks.create_from_data(
        spec=task_spec, resource_type=ResourceType.LOCAL, resources=[str(p) for p in images[:2]]
    )
    assert task.size == 2
    task.fetch()
    task2 = hl.tasks.retrieve(task.id)
    task2.update({"name": "my task"})
    assert task2.name == "my task" and task.name == "example task"  # local copies
    task.fetch()
    assert task.name == "my task"
    task2.remove()
    assert task2.name == "my task"  # the local copy stays
    with pytest.raises(NotFoundException):
        hl.tasks.retrieve(task.id)


def test_failed_processing_removes_the_task_and_says_so(
    hl: Client, server: FakeCvatServer, images: list[Path]
) -> None:
    server.faults.fail_background("cannot decode image1.png", operation="create:task")
    with pytest.raises(
        TaskCreationError, match=r"cannot decode image1\.png.*task was removed"
    ) as e:
        hl.tasks.create_from_data(SPEC, resources=images)
    assert isinstance(e.value.__cause__, BackgroundRequestFailed)
    assert e.value.removed and hl.tasks.list() == []


def test_refused_upload_removes_the_task(
    hl: Client, server: FakeCvatServer, images: list[Path]
) -> None:
    server.faults.fail_next(413, path_prefix="/api/tasks/1/data", method="POST", times=None)
    with pytest.raises(TaskCreationError, match=r"attaching data failed.*413") as e:
        hl.tasks.create_from_data(SPEC, resources=images)
    assert e.value.task_id == 1 and hl.tasks.list() == []


def test_a_failed_task_is_kept_when_asked(
    hl: Client, server: FakeCvatServer, images: list[Path]
) -> None:
    server.faults.fail_background("nope", operation="create:task")
    with pytest.raises(TaskCreationError, match="task was kept"):
        hl.tasks.create_from_data(SPEC, resources=images, keep_on_failure=True)
    assert [t.name for t in hl.tasks.list()] == ["example task"]


def test_bad_input_is_refused_before_anything_is_sent(
    hl: Client, server: FakeCvatServer, tmp_path: Path
) -> None:
    server.clear_request_log()
    with pytest.raises(ApiValueError, match="resources"):
        hl.tasks.create_from_data(SPEC, resources=[])
    with pytest.raises(ApiValueError, match="resource_type"):
        hl.tasks.create_from_data(SPEC, resources=["a.png"], resource_type="local")  # type: ignore[arg-type]
    with pytest.raises(ApiTypeError, match="labels"):
        hl.tasks.create({"name": "x", "labels": "car"})
    image = tmp_path / "a.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n")
    mapped = {"job_file_mapping": [["a.png"]], "sorting_method": "natural"}
    with pytest.raises(ApiValueError) as caught:
        hl.tasks.create_from_data(SPEC, resources=[image], data_params=mapped)
    assert caught.value.path_to_item == ("data_params", "sorting_method")
    mapped = {"job_file_mapping": [["a.png"]]}
    with pytest.raises(ApiValueError) as caught:
        hl.tasks.create_from_data(
            {**SPEC, "segment_size": 5}, resources=[image], data_params=mapped
        )
    assert caught.value.path_to_item == ("spec", "segment_size")
    spec = models.TaskWriteRequest(**SPEC, segment_size=5)
    with pytest.raises(ApiValueError, match="segment_size=5"):
        hl.tasks.create_from_data(spec, resources=[image], data_params=mapped)
    per_job = {"mode": "gt", "frame_selection_method": "random_per_job", "frames_per_job_count": 2}
    for size in (None, 1, 2):  # CVAT 2.24 fails the creation unless segment_size > 2
        sized = SPEC if size is None else {**SPEC, "segment_size": size}
        with pytest.raises(ApiValueError) as caught:
            hl.tasks.create_from_data(
                sized, resources=[image], data_params={"validation_params": per_job}
            )
        assert caught.value.path_to_item == (
            "data_params",
            "validation_params",
            "frames_per_job_count",
        )
    assert server.request_log == []
    sized = {**SPEC, "segment_size": 3}
    task = hl.tasks.create_from_data(
        sized, resources=[image], data_params={"validation_params": per_job}
    )
    task.remove()


def test_lazy_iteration_fetches_pages_as_needed(hl: Client, server: FakeCvatServer) -> None:
    server.seed_tasks(250)
    server.clear_request_log()
    tasks = hl.tasks.iter(page_size=100)
    first = [next(tasks) for _ in range(5)]
    assert all(isinstance(t, Task) for t in first)
    assert _requests(server) == ["GET /api/tasks"]
    assert len(hl.tasks.list(page_size=100)) == 250
    assert _requests(server).count("GET /api/tasks") == 4
    named = hl.tasks.list(search=first[0].name)
    assert first[0].id in [t.id for t in named]
    as_json = hl.tasks.list(return_json=True, page_size=100)
    assert isinstance(as_json[0], dict) and len(as_json) == 250


def test_listing_asks_for_large_pages_unless_told(hl: Client, server: FakeCvatServer) -> None:
    # CVAT spends about 0.1 s per list request: its default of 10 a page is slow for many
    server.seed_tasks(250)
    server.clear_request_log()
    assert len(hl.tasks.list()) == 250
    assert len(hl.tasks.list(return_json=True)) == 250
    assert _requests(server) == ["GET /api/tasks"] * 2
    server.clear_request_log()
    assert len(list(hl.tasks.iter())) == 250
    assert _requests(server) == ["GET /api/tasks"] * 3
    server.clear_request_log()
    assert len(hl.tasks.list(page_size=50)) == 250
    assert _requests(server) == ["GET /api/tasks"] * 5


def test_remove_by_ids(hl: Client) -> None:
    ids = [hl.tasks.create({"name": f"t{i}", "labels": [{"name": "a"}]}).id for i in range(3)]
    hl.tasks.remove_by_ids(ids[:2])
    assert [t.id for t in hl.tasks.list()] == ids[2:]


def test_fields_read_as_attributes(hl: Client) -> None:
    task = hl.tasks.create(SPEC)
    assert task.name == "example task" and isinstance(task.id, int)
    assert task.to_dict()["name"] == "example task"
    assert {"name", "labels", "fetch", "update"} <= set(dir(task))
    with pytest.raises(AttributeError, match="no_such_field"):
        _ = task.no_such_field  # type: ignore[attr-defined]
    assert repr(task) == f"<Task id={task.id}, name='example task'>"


def test_labels_jobs_and_job_update(hl: Client, server: FakeCvatServer, images: list[Path]) -> None:
    task = hl.tasks.create_from_data(SPEC, resources=images)
    assert sorted(label.name for label in task.get_labels()) == ["bike", "car"]
    (job,) = task.get_jobs()
    assert isinstance(job, Job) and job.task_id == task.id
    me = hl.users.retrieve_current_user()
    job.update({"stage": "validation", "assignee": me.id})
    assert str(job.stage) == "validation" and job.assignee.id == me.id
    assert str(hl.jobs.retrieve(job.id).stage) == "validation"
    assert [j.id for j in hl.jobs.list(task_id=task.id)] == [job.id]
    assert sorted(label.name for label in job.get_labels()) == ["bike", "car"]


def _shapes(label_id: int) -> dict[str, object]:
    return {
        "version": 0,
        "tags": [{"frame": 0, "label_id": label_id}],
        "shapes": [
            {"type": "rectangle", "frame": f, "label_id": label_id, "points": [1, 2, 3, 4]}
            for f in range(3)
        ],
        "tracks": [],
    }


@pytest.mark.parametrize("on", ["task", "job"])
def test_annotations_crud(hl: Client, images: list[Path], on: str) -> None:
    task = hl.tasks.create_from_data(SPEC, resources=images)
    target: Task | Job = task if on == "task" else task.get_jobs()[0]
    label_id = task.get_labels()[0].id
    target.set_annotations(_shapes(label_id))
    current = target.get_annotations()
    assert len(current.shapes) == 3 and len(current.tags) == 1
    first = current.shapes[0]
    target.update_annotations(
        {"shapes": [{**first.to_dict(), "points": [9, 9, 9, 9]}], "tags": [], "tracks": []}
    )
    assert target.get_annotations().shapes[0].points == [9, 9, 9, 9]
    target.update_annotations(
        {"shapes": [], "tags": [{"frame": 1, "label_id": label_id}], "tracks": []},
        action=AnnotationUpdateAction.CREATE,  # the official SDK's enum, or the plain string
    )
    assert len(target.get_annotations().tags) == 2
    target.remove_annotations(ids=[first.id])
    assert [s.id for s in target.get_annotations().shapes] == [s.id for s in current.shapes[1:]]
    target.remove_annotations()
    after = target.get_annotations()
    assert after.shapes == [] and after.tags == []
    with pytest.raises(ApiValueError, match="action"):
        target.update_annotations({}, action="replace")  # type: ignore[arg-type]


def test_export_twice_in_a_row_and_import(hl: Client, images: list[Path], tmp_path: Path) -> None:
    task = hl.tasks.create_from_data(SPEC, resources=images)
    task.set_annotations(_shapes(task.get_labels()[0].id))
    progress = Recorder()
    first = task.export_dataset("CVAT for images 1.1", tmp_path / "a.zip", include_images=False)
    second = task.export_dataset(
        "CVAT for images 1.1",
        tmp_path / "b.zip",
        include_images=False,
        pbar=progress,
        location=Location.LOCAL,
    )
    with pytest.raises(ApiValueError, match="location"):
        task.export_dataset("CVAT for images 1.1", tmp_path / "c.zip", location="disk")
    assert first is not None and second is not None
    assert zipfile.is_zipfile(first) and zipfile.is_zipfile(second)
    assert progress.advanced == second.stat().st_size
    task.remove_annotations()
    task.import_annotations("CVAT 1.1", first)
    assert len(task.get_annotations().shapes) == 3
    (job,) = task.get_jobs()
    assert job.export_dataset("COCO 1.0", tmp_path / "job.zip") == tmp_path / "job.zip"


def test_task_backup_round_trip(hl: Client, images: list[Path], tmp_path: Path) -> None:
    task = hl.tasks.create_from_data(SPEC, resources=images)
    progress = Recorder()
    path = task.download_backup(tmp_path / "backup.zip", pbar=progress)
    assert path == tmp_path / "backup.zip"
    assert progress.advanced == path.stat().st_size > 0
    restored = hl.tasks.create_from_backup(path)
    assert restored.id != task.id and restored.name == task.name
    assert restored.size == task.size


def test_project_lifecycle(hl: Client, images: list[Path], tmp_path: Path) -> None:
    project = hl.projects.create({"name": "p", "labels": [{"name": "car"}]})
    task = hl.tasks.create_from_data({"name": "in p", "project_id": project.id}, resources=images)
    assert [t.id for t in project.get_tasks()] == [task.id]
    assert [label.name for label in project.get_labels()] == ["car"]
    project.update({"name": "p2"})
    assert hl.projects.retrieve(project.id).name == "p2"
    exported = project.export_dataset("CVAT for images 1.1", tmp_path / "p.zip")
    assert exported is not None and zipfile.is_zipfile(exported)
    backup = project.download_backup(tmp_path / "pb.zip")
    restored = hl.projects.create_from_backup(backup)
    assert restored.name == "p2" and restored.id != project.id
    from_dataset = hl.projects.create_from_dataset(
        {"name": "from dataset", "labels": [{"name": "car"}]},
        dataset_path=exported,
        dataset_format="CVAT 1.1",
    )
    assert from_dataset.name == "from dataset"
    hl.projects.remove_by_ids([restored.id, from_dataset.id])
    project.remove()
    assert hl.projects.list() == []


def test_users_and_organizations(hl: Client) -> None:
    me = hl.users.retrieve_current_user()
    assert me.username == "admin" and hl.users.retrieve(me.id).username == "admin"
    assert [u.username for u in hl.users.list()] == ["admin"]
    org = hl.organizations.create({"slug": "org1", "name": "Org"})
    org.update({"name": "Org 2"})
    assert hl.organizations.retrieve(org.id).name == "Org 2"
    org.remove()
    assert hl.organizations.list() == []


def test_entity_fields_are_typed_for_type_checkers(tmp_path: Path) -> None:
    """Fields come from the generated ``I<Model>`` classes, so mypy knows them (and refuses
    names no model has), without a forwarding ``__getattr__`` it could see."""
    api = pytest.importorskip("mypy.api")
    script = tmp_path / "script.py"
    script.write_text(
        "from cvat_sdk import make_client\n"
        "with make_client('localhost', credentials=('u', 'p')) as client:\n"
        "    task = client.tasks.retrieve(1)\n"
        "    reveal_type(task.size)\n"
        "    reveal_type(client.jobs.retrieve(1).stage)\n"
        "    reveal_type(task.get_jobs()[0])\n"
        "    task.sizes\n"
    )
    out, _, status = api.run(["--strict", "--no-incremental", str(script)])
    assert 'Revealed type is "int"' in out
    assert "JobStage" in out
    assert 'Revealed type is "cvat_sdk.core.proxies.jobs.Job"' in out
    assert '"Task" has no attribute "sizes"' in out
    assert status == 1 and out.count("error:") == 1, out


def test_ctrl_c_during_creation_removes_the_task_and_stays_a_keyboard_interrupt(
    config: Config, images: list[Path]
) -> None:
    with FakeCvatServer(polls_to_finish=10_000) as server, Client(server.url, config=config) as hl:
        hl.login(("admin", "password"))
        threading.Timer(0.5, _thread.interrupt_main).start()
        with pytest.raises(KeyboardInterrupt):
            hl.tasks.create_from_data(SPEC, resources=images)
        assert hl.tasks.list() == []


def test_an_export_already_running_is_waited_for_not_an_error(
    hl: Client, server: FakeCvatServer, images: list[Path], tmp_path: Path
) -> None:
    """The server refuses (409) an export that is still queued or running, e.g. one a
    Ctrl-C left behind: the new export waits for it to end and starts again."""
    task = hl.tasks.create_from_data(SPEC, resources=images)
    tasks_api = hl.api_client.tasks_api
    running, _ = tasks_api.create_dataset_export("CVAT for images 1.1", task.id, save_images=True)
    server.clear_request_log()
    # the fake moves a request on when it is polled: another process waits for that one
    other = threading.Timer(0.3, hl.wait_for_completion, args=(running.rq_id,))
    other.start()
    path = task.export_dataset("CVAT for images 1.1", tmp_path / "a.zip")
    other.join()
    assert path is not None and zipfile.is_zipfile(path)
    statuses = [r.status for r in server.request_log if r.path.endswith("/dataset/export")]
    assert statuses[0] == 409 and statuses[-1] == 202
