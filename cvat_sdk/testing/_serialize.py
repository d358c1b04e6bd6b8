"""Records rendered as the CVAT 2.24 schema's *Read shapes (TaskRead, JobRead, ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._http import Call, Json
    from ._store import Comment, Issue, Job, Organization, Project, Task, User

VERSION = "2.24.0"
DEFAULT_CHUNK_SIZE = 36


def about() -> Json:
    return {
        "name": "Computer Vision Annotation Tool",
        "description": "An in-memory stand-in for a CVAT server, for tests (cvat_sdk.testing).",
        "version": VERSION,
    }


def basic_user(call: Call, user: User | None) -> Json | None:
    if user is None:
        return None
    return {
        "url": call.url(f"/api/users/{user.id}"),
        "id": user.id,
        "username": user.username,
        "first_name": "",
        "last_name": "",
    }


def user(call: Call, user: User) -> Json:
    return {
        **(basic_user(call, user) or {}),
        "email": f"{user.username}@example.com",
        "groups": ["admin"] if user.is_superuser else ["user"],
        "is_staff": user.is_superuser,
        "is_superuser": user.is_superuser,
        "is_active": True,
        "last_login": user.last_login,
        "date_joined": user.date_joined,
        "has_analytics_access": user.is_superuser,
    }


def organization(call: Call, org: Organization) -> Json:
    return {
        "id": org.id,
        "slug": org.slug,
        "name": org.name,
        "description": org.description,
        "created_date": org.created_date,
        "updated_date": org.updated_date,
        "contact": org.contact,
        "owner": basic_user(call, org.owner),
    }


def project(call: Call, project: Project) -> Json:
    tasks = call.store.project_tasks(project)
    return {
        "url": call.url(f"/api/projects/{project.id}"),
        "id": project.id,
        "name": project.name,
        "owner": basic_user(call, project.owner),
        "assignee": basic_user(call, project.assignee),
        "guide_id": None,
        "bug_tracker": project.bug_tracker,
        "task_subsets": sorted({t.subset for t in tasks if t.subset}),
        "created_date": project.created_date,
        "updated_date": project.updated_date,
        "status": _status([job for t in tasks for job in call.store.task_jobs(t)]),
        "dimension": "2d" if any(t.data for t in tasks) else None,
        "organization": _org_id(project.organization),
        "target_storage": project.target_storage,
        "source_storage": project.source_storage,
        "tasks": {
            "count": len(tasks),
            "url": call.url("/api/tasks", {"project_id": project.id}),
        },
        "labels": {"url": call.url("/api/labels", {"project_id": project.id})},
        "assignee_updated_date": None,
    }


def task(call: Call, task: Task) -> Json:
    jobs = call.store.task_jobs(task)
    body: Json = {
        "url": call.url(f"/api/tasks/{task.id}"),
        "id": task.id,
        "name": task.name,
        "project_id": task.project_id,
        "mode": "annotation" if task.data else "",
        "owner": basic_user(call, task.owner),
        "assignee": basic_user(call, task.assignee),
        "bug_tracker": task.bug_tracker,
        "created_date": task.created_date,
        "updated_date": task.updated_date,
        "overlap": task.overlap,
        "segment_size": task.segment_size,
        "status": _status(jobs),
        "guide_id": None,
        "dimension": "2d",
        "subset": task.subset,
        "organization": _org_id(task.organization),
        "target_storage": task.target_storage,
        "source_storage": task.source_storage,
        "jobs": {
            "count": len(jobs),
            "completed": sum(job.state == "completed" for job in jobs),
            "validation": sum(job.stage == "validation" for job in jobs),
            "url": call.url("/api/jobs", {"task_id": task.id}),
        },
        "labels": {"url": call.url("/api/labels", {"task_id": task.id})},
        "assignee_updated_date": None,
        "validation_mode": None,
    }
    if task.data:  # CVAT leaves the data fields out until data is attached
        body.update(
            data=task.data.id,
            size=len(task.data.files),
            image_quality=task.data.image_quality,
            data_chunk_size=task.data.chunk_size or DEFAULT_CHUNK_SIZE,
            data_compressed_chunk_type="imageset",
            data_original_chunk_type="imageset",
        )
    elif task.data_id is not None:  # a Data without media, as CVAT has after an upload began
        body.update(
            data=task.data_id,
            size=0,
            image_quality=task.data_quality,
            data_chunk_size=None,
            data_compressed_chunk_type="imageset",
            data_original_chunk_type="imageset",
        )
    return body


def job(call: Call, job: Job) -> Json:
    task = call.store.tasks[job.task_id]
    return {
        "url": call.url(f"/api/jobs/{job.id}"),
        "id": job.id,
        "task_id": task.id,
        "project_id": task.project_id,
        "assignee": basic_user(call, job.assignee),
        "guide_id": None,
        "dimension": "2d",
        "bug_tracker": task.bug_tracker or None,
        "status": _status([job]),
        "stage": job.stage,
        "state": job.state,
        "mode": "annotation",
        "frame_count": len(job.frames),
        "start_frame": job.start_frame,
        "stop_frame": job.stop_frame,
        "data_chunk_size": (task.data.chunk_size if task.data else None) or DEFAULT_CHUNK_SIZE,
        "data_compressed_chunk_type": "imageset",
        "data_original_chunk_type": "imageset",
        "created_date": job.created_date,
        "updated_date": job.updated_date,
        "issues": {
            "url": call.url("/api/issues", {"job_id": job.id}),
            "count": sum(i.job_id == job.id for i in call.store.issues.values()),
        },
        "labels": {"url": call.url("/api/labels", {"job_id": job.id})},
        "type": job.type,
        "organization": _org_id(task.organization),
        "target_storage": task.target_storage,
        "source_storage": task.source_storage,
        "assignee_updated_date": None,
    }


def issue(call: Call, issue: Issue) -> Json:
    return {
        "id": issue.id,
        "frame": issue.frame,
        "position": issue.position,
        "job": issue.job_id,
        "owner": basic_user(call, issue.owner),
        "assignee": basic_user(call, issue.assignee),
        "created_date": issue.created_date,
        "updated_date": issue.updated_date,
        "resolved": issue.resolved,
        "comments": {
            "count": sum(c.issue_id == issue.id for c in call.store.comments.values()),
            "url": call.url("/api/comments", {"issue_id": issue.id}),
        },
    }


def comment(call: Call, comment: Comment) -> Json:
    return {
        "id": comment.id,
        "issue": comment.issue_id,
        "owner": basic_user(call, comment.owner),
        "message": comment.message,
        "created_date": comment.created_date,
        "updated_date": comment.updated_date,
    }


def _status(jobs: list[Job]) -> str:
    """CVAT derives a task's (and a project's) status from the stages of its jobs."""
    if jobs and all(j.stage == "acceptance" and j.state == "completed" for j in jobs):
        return "completed"
    if any(j.stage == "validation" for j in jobs):
        return "validation"
    return "annotation"


def _org_id(org: Organization | None) -> int | None:
    return org.id if org else None
