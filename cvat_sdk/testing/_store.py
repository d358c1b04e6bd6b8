"""The fake server's in-memory state: plain records behind one lock."""

from __future__ import annotations

import itertools
import secrets
import shutil
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

from ._http import HttpError

if TYPE_CHECKING:
    from collections.abc import Collection, Iterator, Mapping
    from pathlib import Path

    from ._background import BackgroundRequest
    from ._faults import Faults
    from ._uploads import TusUpload, UploadArea

T = TypeVar("T")


def now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass(eq=False)
class User:
    id: int
    username: str
    password: str
    is_superuser: bool
    date_joined: str = field(default_factory=now)
    last_login: str | None = None


@dataclass(eq=False)
class Organization:
    id: int
    slug: str
    name: str
    owner: User
    description: str = ""
    contact: dict[str, Any] = field(default_factory=dict)
    created_date: str = field(default_factory=now)
    updated_date: str = field(default_factory=now)


@dataclass(eq=False)
class Label:
    id: int
    name: str
    color: str
    type: str
    attributes: list[dict[str, Any]]
    sublabels: list[dict[str, Any]]
    svg: str = ""
    project_id: int | None = None
    task_id: int | None = None


@dataclass(eq=False)
class Project:
    id: int
    name: str
    owner: User
    organization: Organization | None
    assignee: User | None = None
    bug_tracker: str = ""
    source_storage: dict[str, Any] | None = None
    target_storage: dict[str, Any] | None = None
    created_date: str = field(default_factory=now)
    updated_date: str = field(default_factory=now)


@dataclass(eq=False)
class TaskData:
    id: int
    image_quality: int
    chunk_size: int | None
    files: list[str]  # file names in frame order
    media_dir: Path


@dataclass(eq=False)
class Task:
    id: int
    name: str
    owner: User
    organization: Organization | None
    project_id: int | None = None
    assignee: User | None = None
    bug_tracker: str = ""
    subset: str = ""
    overlap: int | None = None
    segment_size: int = 0
    source_storage: dict[str, Any] | None = None
    target_storage: dict[str, Any] | None = None
    data: TaskData | None = None
    # CVAT makes a task's Data (size 0) on the first request to its data endpoint; these
    # are its id and image_quality until media are attached.
    data_id: int | None = None
    data_quality: int = 50
    created_date: str = field(default_factory=now)
    updated_date: str = field(default_factory=now)


@dataclass(eq=False)
class Job:
    id: int
    task_id: int
    start_frame: int
    stop_frame: int
    frames: list[int]
    type: str = "annotation"
    stage: str = "annotation"
    state: str = "new"
    assignee: User | None = None
    annotations: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {"tags": [], "shapes": [], "tracks": []}
    )
    created_date: str = field(default_factory=now)
    updated_date: str = field(default_factory=now)


@dataclass(eq=False)
class Issue:
    id: int
    job_id: int
    frame: int
    position: list[float]
    owner: User
    assignee: User | None = None
    resolved: bool = False
    created_date: str = field(default_factory=now)
    updated_date: str = field(default_factory=now)


@dataclass(eq=False)
class Comment:
    id: int
    issue_id: int
    owner: User
    message: str
    created_date: str = field(default_factory=now)
    updated_date: str = field(default_factory=now)


class Store:
    """All state of one fake server. Callers hold `lock` while reading or changing it."""

    def __init__(
        self,
        root: Path,
        users: Mapping[str, str],
        superusers: Collection[str],
        polls_to_finish: int,
        faults: Faults,
    ) -> None:
        self.lock = threading.RLock()
        self.root = root
        self.polls_to_finish = polls_to_finish
        self.faults = faults
        self._counters: dict[str, Iterator[int]] = {}
        self.users = {
            user.id: user
            for user in (
                User(self.next_id("user"), name, password, name in superusers)
                for name, password in users.items()
            )
        }
        self.tokens: dict[str, User] = {}
        self.sessions: dict[str, User] = {}  # sessionid -> user
        self.organizations: dict[int, Organization] = {}
        self.projects: dict[int, Project] = {}
        self.tasks: dict[int, Task] = {}
        self.jobs: dict[int, Job] = {}
        self.labels: dict[int, Label] = {}
        self.issues: dict[int, Issue] = {}
        self.comments: dict[int, Comment] = {}
        self.requests: dict[str, BackgroundRequest] = {}
        self.tus_uploads: dict[str, TusUpload] = {}
        self.upload_areas: dict[str, UploadArea] = {}
        self._model_names = {
            id(self.organizations): "Organization",
            id(self.projects): "Project",
            id(self.tasks): "Task",
            id(self.jobs): "Job",
            id(self.labels): "Label",
            id(self.issues): "Issue",
            id(self.comments): "Comment",
        }

    def next_id(self, kind: str) -> int:
        return next(self._counters.setdefault(kind, itertools.count(1)))

    def dir(self, *parts: str) -> Path:
        path = self.root.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def token_for(self, user: User) -> str:
        """The user's API token: one per user, made when first asked for, as in DRF."""
        token = next((k for k, u in self.tokens.items() if u is user), None)
        if token is None:
            token = secrets.token_hex(20)
            self.tokens[token] = user
        return token

    def user_named(self, username: str) -> User | None:
        return next((u for u in self.users.values() if u.username == username), None)

    # Lookups that answer like CVAT: 404 for what does not exist, 403 for what is not yours.

    def get(self, table: dict[int, T], ident: int, user: User) -> T:
        record = table.get(ident)
        if record is None:  # DRF's get_object_or_404, which names the model
            raise HttpError(
                404, f"No {self._model_names.get(id(table), 'object')} matches the given query."
            )
        if not self.can_access(user, record):
            raise HttpError(403, "You do not have permission to perform this action.")
        return record

    def can_access(self, user: User, record: object) -> bool:
        if user.is_superuser:
            return True
        if isinstance(record, Organization):
            return record.owner is user
        if isinstance(record, Job):
            return record.assignee is user or self.can_access(user, self.tasks[record.task_id])
        if isinstance(record, Issue):
            return record.owner is user or self.can_access(user, self.jobs[record.job_id])
        if isinstance(record, Comment):
            return self.can_access(user, self.issues[record.issue_id])
        if isinstance(record, Label):
            parent = self.projects.get(record.project_id or 0) or self.tasks.get(
                record.task_id or 0
            )
            return self.can_access(user, parent)
        if isinstance(record, (Project, Task)):
            org = record.organization
            return user in (record.owner, record.assignee) or (
                org is not None and org.owner is user
            )
        return True

    # Relations.

    def task_labels(self, task: Task) -> list[Label]:
        """A task in a project uses the project's labels, as in CVAT."""
        if task.project_id is not None:
            return self.project_labels(task.project_id)
        return [lb for lb in self.labels.values() if lb.task_id == task.id]

    def project_labels(self, project_id: int) -> list[Label]:
        return [lb for lb in self.labels.values() if lb.project_id == project_id]

    def task_jobs(self, task: Task) -> list[Job]:
        return [job for job in self.jobs.values() if job.task_id == task.id]

    def project_tasks(self, project: Project) -> list[Task]:
        return [task for task in self.tasks.values() if task.project_id == project.id]

    # Removal, with what CVAT removes along.

    def delete_job(self, job: Job) -> None:
        for issue in [i for i in self.issues.values() if i.job_id == job.id]:
            self.delete_issue(issue)
        del self.jobs[job.id]

    def delete_issue(self, issue: Issue) -> None:
        for comment in [c for c in self.comments.values() if c.issue_id == issue.id]:
            del self.comments[comment.id]
        del self.issues[issue.id]

    def delete_task(self, task: Task) -> None:
        for job in self.task_jobs(task):
            self.delete_job(job)
        for label in [lb for lb in self.labels.values() if lb.task_id == task.id]:
            del self.labels[label.id]
        if task.data is not None:
            shutil.rmtree(task.data.media_dir, ignore_errors=True)
        del self.tasks[task.id]

    def delete_project(self, project: Project) -> None:
        for task in self.project_tasks(project):
            self.delete_task(task)
        for label in self.project_labels(project.id):
            del self.labels[label.id]
        del self.projects[project.id]

    def delete_organization(self, org: Organization) -> None:
        for project in [p for p in self.projects.values() if p.organization is org]:
            self.delete_project(project)
        for task in [t for t in self.tasks.values() if t.organization is org]:
            self.delete_task(task)
        del self.organizations[org.id]
