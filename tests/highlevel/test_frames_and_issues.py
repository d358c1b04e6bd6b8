"""Frames, chunks, previews, issues and comments through the high-level proxies against the
fake CVAT (which answers these routes as CVAT 2.24 does: tests/live/test_fidelity.py), and
``Project.get_annotations``, which CVAT cannot serve."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from cvat_sdk import Client
from cvat_sdk.core.exceptions import CvatSdkException
from cvat_sdk.core.proxies.issues import Comment, Issue
from cvat_sdk.core.proxies.projects import ProjectAnnotationsUnavailable
from cvat_sdk.core.proxies.tasks import Task
from cvat_sdk.exceptions import ApiValueError, BadRequestException, NotFoundException
from cvat_sdk.testing import FakeCvatServer

JPEG_START = b"\xff\xd8\xff"


@pytest.fixture
def task(hl: Client, images: list[Path]) -> Task:
    """Three frames in chunks of two, and two jobs (frames 0-1 and 2)."""
    return hl.tasks.create_from_data(
        {"name": "media", "labels": [{"name": "car"}], "segment_size": 2},
        resources=images,
        data_params={"chunk_size": 2, "sorting_method": "predefined"},
    )


def test_task_frames_chunks_and_previews(task: Task, images: list[Path], tmp_path: Path) -> None:
    for number, image in enumerate(images):
        assert task.get_frame(number, quality="original").read() == image.read_bytes()
    assert task.get_frame(0).read() == images[0].read_bytes()  # the fake encodes nothing
    with pytest.raises(BadRequestException) as refused:
        task.get_frame(3)
    assert refused.value.body == (
        b"\"Invalid frame '3'. The frame number should be in the [0, 3] range\""
    )
    out = io.BytesIO()
    task.download_chunk(1, out, quality="original")
    with zipfile.ZipFile(out) as chunk:
        assert [m.filename for m in chunk.infolist()] == ["000000.png"]
        assert chunk.read("000000.png") == images[2].read_bytes()
    assert task.get_preview().read()[:3] == JPEG_START
    paths = task.download_frames(range(3), outdir=tmp_path / "frames")
    assert [p.name for p in paths] == [f"frame_{i:06d}.png" for i in range(3)]
    assert [p.read_bytes() for p in paths] == [i.read_bytes() for i in images]


def test_job_frames_chunks_and_previews(task: Task, images: list[Path], tmp_path: Path) -> None:
    first, second = sorted(task.get_jobs(), key=lambda j: j.start_frame)
    assert second.get_frame(2).read() == images[2].read_bytes()  # the default quality works
    assert first.get_frame(1, quality="original").read() == images[1].read_bytes()
    with pytest.raises(BadRequestException) as refused:
        second.get_frame(0)  # a task frame, not one of this job's
    assert refused.value.body == b'"Incorrect requested frame number: 0"'
    out = io.BytesIO()
    second.download_chunk(1, out)  # chunk numbers are the task's, limited to the job
    with zipfile.ZipFile(out) as chunk:
        assert chunk.read("000000.png") == images[2].read_bytes()
    with pytest.raises(BadRequestException) as outside:
        second.download_chunk(0, io.BytesIO())
    assert b"should be in the [1, 1] range" in outside.value.body
    relative = io.BytesIO()
    second.download_chunk(0, relative, job_relative=True)  # the job's own first chunk
    assert relative.getvalue() == out.getvalue()
    with pytest.raises(BadRequestException):
        second.download_chunk(1, io.BytesIO(), job_relative=True)
    assert first.get_preview().read()[:3] == JPEG_START
    paths = first.download_frames([1, 0], outdir=tmp_path)
    assert [p.read_bytes() for p in paths] == [images[1].read_bytes(), images[0].read_bytes()]


def test_previews_of_a_task_without_data_and_of_projects(hl: Client, images: list[Path]) -> None:
    project = hl.projects.create({"name": "p", "labels": [{"name": "car"}]})
    with pytest.raises(NotFoundException) as none_yet:
        project.get_preview()  # no task
    assert none_yet.value.body == b"Project image preview not found"
    empty = hl.tasks.create({"name": "empty", "project_id": project.id})
    with pytest.raises(NotFoundException):
        empty.get_preview()
    hl.tasks.create_from_data({"name": "t", "project_id": project.id}, resources=images)
    assert project.get_preview().read()[:3] == JPEG_START  # the newest task's


def test_issues_and_comments_crud(hl: Client, task: Task) -> None:
    first_job, second_job = sorted(task.get_jobs(), key=lambda j: j.start_frame)
    issue = hl.issues.create(
        {"job": first_job.id, "frame": 1, "position": [1, 2, 5, 6], "message": "first"}
    )
    assert isinstance(issue, Issue) and issue.position == [1.0, 2.0, 5.0, 6.0]
    assert (issue.job, issue.frame, issue.resolved, issue.comments.count) == (
        first_job.id,
        1,
        False,
        1,
    )
    other = hl.issues.create(
        {"job": second_job.id, "frame": 2, "position": [0, 0], "message": "elsewhere"}
    )
    assert [i.id for i in first_job.get_issues()] == [issue.id]
    assert first_job.fetch().issues.count == 1
    (opening,) = issue.get_comments()
    assert isinstance(opening, Comment) and opening.message == "first"

    comment = hl.comments.create({"issue": issue.id, "message": "second"})
    assert sorted(c.message for c in issue.get_comments()) == ["first", "second"]
    comment.update({"message": "edited"})
    assert comment.message == "edited" and hl.comments.retrieve(comment.id).message == "edited"
    me = hl.users.retrieve_current_user()
    issue.update({"resolved": True, "assignee": me.id})
    again = hl.issues.retrieve(issue.id)
    assert again.resolved is True and again.assignee.id == me.id
    assert again.comments.count == 2
    assert {i.id for i in hl.issues.list()} == {issue.id, other.id}

    comment.remove()
    assert [c.message for c in issue.get_comments()] == ["first"]
    issue.remove()  # its comments go with it
    with pytest.raises(NotFoundException):
        hl.comments.retrieve(opening.id)
    assert first_job.get_issues() == []
    hl.issues.remove_by_ids([other.id])
    assert hl.issues.list() == []


def test_issue_and_comment_refusals_as_cvat_words_them(hl: Client, task: Task) -> None:
    job = task.get_jobs()[0]
    with pytest.raises(BadRequestException) as no_job:
        hl.issues.create({"job": 999999, "frame": 0, "position": [1], "message": "m"})
    assert no_job.value.body == b'["Job matching query does not exist."]'
    with pytest.raises(BadRequestException) as empty:
        hl.issues.create({"job": job.id, "frame": 0, "position": [], "message": "m"})
    assert b'"position":["This list may not be empty."]' in empty.value.body
    issue = hl.issues.create({"job": job.id, "frame": 0, "position": [1], "message": "m"})
    with pytest.raises(ApiValueError, match="message"):  # the schema's minLength, checked here
        hl.comments.create({"issue": issue.id, "message": ""})
    with pytest.raises(BadRequestException) as no_issue:
        hl.comments.create({"issue": 999999, "message": "m"})
    assert no_issue.value.body == b'["Issue matching query does not exist."]'


def test_removing_a_task_removes_its_issues(hl: Client, task: Task) -> None:
    job = task.get_jobs()[0]
    issue = hl.issues.create({"job": job.id, "frame": 0, "position": [1], "message": "m"})
    task.remove()
    with pytest.raises(NotFoundException):
        hl.issues.retrieve(issue.id)


def test_project_annotations_are_a_typed_error_naming_the_way_out(
    hl: Client, server: FakeCvatServer, images: list[Path], tmp_path: Path
) -> None:
    """CVAT 2.24 answers GET /api/projects/{id}/annotations only as a dataset export: no
    request is sent, and the error says what to use instead, which works."""
    project = hl.projects.create({"name": "p", "labels": [{"name": "car"}]})
    task = hl.tasks.create_from_data({"name": "t", "project_id": project.id}, resources=images)
    label_id = task.get_labels()[0].id
    task.set_annotations(
        {"shapes": [{"type": "points", "frame": 0, "label_id": label_id, "points": [1, 1]}]}
    )
    before = len(server.request_log)
    with pytest.raises(ProjectAnnotationsUnavailable) as refused:
        project.get_annotations()
    assert len(server.request_log) == before
    error = refused.value
    assert isinstance(error, TypeError) and isinstance(error, CvatSdkException)
    assert "export_dataset(format_name, filename, include_images=False)" in str(error)
    assert "project.get_tasks()" in str(error)
    exported = project.export_dataset(
        "CVAT for images 1.1", tmp_path / "p.zip", include_images=False
    )
    assert zipfile.ZipFile(exported).namelist()
    per_task = [t.get_annotations() for t in project.get_tasks()]
    assert [len(a.shapes) for a in per_task] == [1]
