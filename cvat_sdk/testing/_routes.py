"""The route table, and dispatch: match, authenticate, then run the handler under the store lock.

A trailing slash is optional on every path. Streaming routes read their own body and take the
lock themselves, so that a large upload does not hold up other requests.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import unquote

from . import _annotations as ann
from . import _auth, _issues, _media, _transfers, _views
from ._http import Call, HttpError, Reply
from ._transfers import export, import_annotations, import_backup, import_dataset, task_data
from ._uploads import tus_chunk, tus_options

if TYPE_CHECKING:
    from email.message import Message

    from ._http import BodyReader
    from ._store import Store

Handler = Callable[[Call], Reply]
JSON_BODY_LIMIT = 256 << 20

_PARAMETERS = {
    "id": r"\d+",
    "file_id": r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "rq_id": r"[^/]+",
}


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Handler
    public: bool = False  # served without authentication
    streaming: bool = False  # reads its own body and takes the lock itself
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        regex = re.sub(
            r"\{(\w+)\}",
            lambda m: f"(?P<{m[1]}>{_PARAMETERS[m[1]]})",
            self.template.rstrip("/"),
        )
        object.__setattr__(self, "pattern", re.compile(f"{regex}/?"))


def _on(handler: Callable[..., Reply], target: str, **options: bool) -> Handler:
    """`handler` for one kind of target: "project", "task" or "job"."""
    return partial(handler, target=target, **options)


def _download(target: str, subresource: str, fallback: Handler | None = None) -> Handler:
    """A GET that serves an export's result_url (action=download) and, for annotations, the
    annotations themselves otherwise."""

    def handler(call: Call) -> Reply:
        if target == "project" and subresource == "annotations" and not call.query.get("format"):
            # CVAT 2.24 serves no project annotations as data: this is only the v1 export
            call.store.get(call.store.projects, call.id, call.me)
            raise HttpError(400, "Format is not specified", as_is=True)
        if fallback is None or call.query.get("action") == "download":
            return _transfers.download(call, target, subresource)
        if call.query.get("format"):
            raise HttpError(400, "The fake CVAT server exports through POST .../export only.")
        return fallback(call)

    return handler


def _annotation_routes(target: str, path: str) -> tuple[Route, ...]:
    """GET, PUT, PATCH and DELETE of a task's or a job's annotations."""
    return (
        Route("GET", path, _download(target, "annotations", _on(ann.get_endpoint, target))),
        Route("PUT", path, _on(ann.put_endpoint, target)),
        Route("PATCH", path, _on(ann.patch_endpoint, target)),
        Route("DELETE", path, _on(ann.delete_endpoint, target)),
    )


_UPLOAD_COLLECTIONS = (
    "/api/tasks/{id}/data/",
    "/api/tasks/{id}/annotations/",
    "/api/jobs/{id}/annotations/",
    "/api/projects/{id}/dataset/",
    "/api/tasks/backup/",
    "/api/projects/backup/",
)

ROUTES: tuple[Route, ...] = (
    Route("POST", "/api/auth/login", _auth.login, public=True),
    Route("POST", "/api/auth/logout", _auth.logout, public=True),
    Route("GET", "/api/server/about", _views.about, public=True),
    Route("GET", "/api/server/annotation/formats", _views.annotation_formats),
    Route("GET", "/api/users/self", _views.users_self),
    Route("GET", "/api/users", _views.users_list),
    Route("GET", "/api/users/{id}", _views.users_retrieve),
    Route("GET", "/api/organizations", _views.organizations_list),
    Route("POST", "/api/organizations", _views.organizations_create),
    Route("GET", "/api/organizations/{id}", _views.organizations_retrieve),
    Route("PATCH", "/api/organizations/{id}", _views.organizations_update),
    Route("DELETE", "/api/organizations/{id}", _views.organizations_delete),
    Route("GET", "/api/projects", _views.projects_list),
    Route("POST", "/api/projects", _views.projects_create),
    Route("GET", "/api/projects/{id}", _views.projects_retrieve),
    Route("PATCH", "/api/projects/{id}", _views.projects_update),
    Route("DELETE", "/api/projects/{id}", _views.projects_delete),
    Route("GET", "/api/tasks", _views.tasks_list),
    Route("POST", "/api/tasks", _views.tasks_create),
    Route("GET", "/api/tasks/{id}", _views.tasks_retrieve),
    Route("PATCH", "/api/tasks/{id}", _views.tasks_update),
    Route("DELETE", "/api/tasks/{id}", _views.tasks_delete),
    Route("GET", "/api/tasks/{id}/data/meta", _views.tasks_data_meta),
    Route("GET", "/api/jobs", _views.jobs_list),
    Route("POST", "/api/jobs", _views.jobs_create),
    Route("GET", "/api/jobs/{id}", _views.jobs_retrieve),
    Route("PATCH", "/api/jobs/{id}", _views.jobs_update),
    Route("DELETE", "/api/jobs/{id}", _views.jobs_delete),
    Route("GET", "/api/labels", _views.labels_list),
    Route("GET", "/api/labels/{id}", _views.labels_retrieve),
    Route("PATCH", "/api/labels/{id}", _views.labels_update),
    Route("DELETE", "/api/labels/{id}", _views.labels_delete),
    Route("GET", "/api/requests", _views.requests_list),
    Route("GET", "/api/requests/{rq_id}", _views.requests_retrieve),
    # Annotations
    *_annotation_routes("task", "/api/tasks/{id}/annotations/"),
    *_annotation_routes("job", "/api/jobs/{id}/annotations/"),
    # Uploads: task data and imports, with their TUS discovery and chunk URLs
    Route("POST", "/api/tasks/{id}/data/", task_data, streaming=True),
    Route("POST", "/api/tasks/{id}/annotations/", _on(import_annotations, "task"), streaming=True),
    Route("POST", "/api/jobs/{id}/annotations/", _on(import_annotations, "job"), streaming=True),
    Route("POST", "/api/projects/{id}/dataset/", import_dataset, streaming=True),
    Route("POST", "/api/tasks/backup/", _on(import_backup, "task"), streaming=True),
    Route("POST", "/api/projects/backup/", _on(import_backup, "project"), streaming=True),
    *(Route("OPTIONS", path, tus_options) for path in _UPLOAD_COLLECTIONS),
    *(
        Route(method, path + "{file_id}", tus_chunk, streaming=True)
        for path in _UPLOAD_COLLECTIONS
        for method in ("HEAD", "PATCH")
    ),
    # Exports, and their results
    Route("POST", "/api/projects/{id}/dataset/export", _on(export, "project", dataset=True)),
    Route("POST", "/api/tasks/{id}/dataset/export", _on(export, "task", dataset=True)),
    Route("POST", "/api/jobs/{id}/dataset/export", _on(export, "job", dataset=True)),
    Route("POST", "/api/projects/{id}/backup/export", _on(export, "project", dataset=False)),
    Route("POST", "/api/tasks/{id}/backup/export", _on(export, "task", dataset=False)),
    Route("GET", "/api/projects/{id}/dataset/", _download("project", "dataset")),
    Route("GET", "/api/projects/{id}/annotations", _download("project", "annotations")),
    Route("GET", "/api/projects/{id}/backup", _download("project", "backup")),
    Route("GET", "/api/tasks/{id}/dataset", _download("task", "dataset")),
    Route("GET", "/api/tasks/{id}/backup", _download("task", "backup")),
    # Media: frames, chunks and previews
    Route("GET", "/api/tasks/{id}/data/", _media.data),
    Route("GET", "/api/jobs/{id}/data", _media.job_data),
    Route("GET", "/api/tasks/{id}/preview", _media.task_preview),
    Route("GET", "/api/jobs/{id}/preview", _media.job_preview),
    Route("GET", "/api/projects/{id}/preview", _media.project_preview),
    # Issues and their comments
    Route("GET", "/api/issues", _issues.issues_list),
    Route("POST", "/api/issues", _issues.issues_create),
    Route("GET", "/api/issues/{id}", _issues.issues_retrieve),
    Route("PATCH", "/api/issues/{id}", _issues.issues_update),
    Route("DELETE", "/api/issues/{id}", _issues.issues_delete),
    Route("GET", "/api/comments", _issues.comments_list),
    Route("POST", "/api/comments", _issues.comments_create),
    Route("GET", "/api/comments/{id}", _issues.comments_retrieve),
    Route("PATCH", "/api/comments/{id}", _issues.comments_update),
    Route("DELETE", "/api/comments/{id}", _issues.comments_delete),
    Route("GET", "/api/jobs/{id}/dataset", _download("job", "dataset")),
)


_NOT_FOUND_PAGE = (
    '\n<!doctype html>\n<html lang="en">\n<head>\n  <title>Not Found</title>\n</head>\n'
    "<body>\n  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n"
    "</body>\n</html>\n"
)


def dispatch(
    store: Store,
    method: str,
    path: str,
    *,
    query: dict[str, str],
    headers: Message,
    body: BodyReader,
    base_url: str,
    public: bool = False,
) -> tuple[Reply, Route | None]:
    """Answers one request; HttpError becomes its error reply."""
    route: Route | None = None
    try:
        route, params = _match(method, path)
        call = Call(method, path, query, headers, body, params, base_url, store, public=public)
        with store.lock:
            call.user = _auth.authenticate(store, headers, method, required=not route.public)
            if call.user is not None:
                call.org = _auth.organization(store, query, headers, call.user)
        if route.streaming:
            return route.handler(call), route
        call.raw = body.read_all(JSON_BODY_LIMIT)
        with store.lock:
            return route.handler(call), route
    except HttpError as e:
        return e.reply(), route


def _match(method: str, path: str) -> tuple[Route, dict[str, str]]:
    """The route for method and path; HEAD falls back to GET. 404 or 405 when there is none."""
    allowed = set()
    for wanted in (method, "GET") if method == "HEAD" else (method,):
        for route in ROUTES:
            found = route.pattern.fullmatch(path)
            if found and route.method == wanted:
                return route, {k: unquote(v) for k, v in found.groupdict().items()}
            if found:
                allowed.add(route.method)
    if not allowed:  # no such URL: Django's own page
        raise HttpError(404, "Not Found", text=_NOT_FOUND_PAGE)
    raise HttpError(405, f'Method "{method}" not allowed.', [("Allow", ", ".join(sorted(allowed)))])
