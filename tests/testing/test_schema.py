"""Every route of the fake server answers as the CVAT 2.24.0 OpenAPI schema says (openapi-core).

One scenario calls every route in the route table with urllib3; each answer is then validated
against the schema's response for that path, method and status. Objects may not carry fields the
schema does not list. The few places where real CVAT answers differently from its own schema are
listed in SCHEMA_GAPS, each checked for what CVAT really sends.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import urllib3
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_schema_validator import OAS30Validator
from werkzeug.datastructures import Headers, ImmutableMultiDict

from cvat_sdk.testing import FakeCvatServer
from cvat_sdk.testing._routes import ROUTES

from .support import LABELS, SCHEMA_PATH, Api, dumps, shape

JSON_TYPE = "application/vnd.cvat+json"

# Routes of CVAT's upload protocol that the schema leaves out (TUS chunks and discovery).
NOT_IN_SCHEMA = {(r.method, r.template) for r in ROUTES if r.method in ("HEAD", "OPTIONS")} | {
    (r.method, r.template) for r in ROUTES if r.template.endswith("{file_id}")
}
# (method, route, status) -> what CVAT 2.24 really answers where its schema says otherwise.
SCHEMA_GAPS = {
    # PUT replaces annotations and answers them with 200; the schema only has 201/202 (imports).
    ("PUT", "/api/tasks/{id}/annotations/", 200): "LabeledData",
    ("PUT", "/api/jobs/{id}/annotations/", 200): "LabeledData",
    # Upload-Start answers 202 with no body; the schema promises an RqId (or DataResponse).
    ("POST", "/api/tasks/{id}/data/", 202): "empty or RqId",
    ("POST", "/api/tasks/{id}/annotations/", 202): "empty or RqId",
    ("POST", "/api/jobs/{id}/annotations/", 202): "empty or RqId",
    ("POST", "/api/projects/{id}/dataset/", 202): "empty or RqId",
    ("POST", "/api/tasks/backup/", 202): "empty or RqId",
    ("POST", "/api/projects/backup/", 202): "empty or RqId",
    # Upload-Multiple answers 200 and TUS creation 201, both with no body: not in the schema.
    ("POST", "/api/tasks/{id}/data/", 200): "empty",
    ("POST", "/api/tasks/{id}/data/", 201): "empty",
    ("POST", "/api/projects/{id}/dataset/", 201): "empty",
}
# Export results: zip files, where the schema says application/vnd.cvat+json (a binary string).
RESULT_DOWNLOADS = {
    "/api/tasks/{id}/annotations/",
    "/api/jobs/{id}/annotations/",
    "/api/projects/{id}/annotations",
    "/api/projects/{id}/dataset/",
    "/api/tasks/{id}/dataset",
    "/api/jobs/{id}/dataset",
    "/api/tasks/{id}/backup",
    "/api/projects/{id}/backup",
    "/api/tasks/{id}/data/",  # a media chunk (a zip of frames), not an export's result
    "/api/jobs/{id}/data",
}
# Frames and previews: images, where the schema names no media type.
MEDIA = {
    "/api/tasks/{id}/data/",
    "/api/jobs/{id}/data",
    "/api/tasks/{id}/preview",
    "/api/jobs/{id}/preview",
    "/api/projects/{id}/preview",
}


@dataclass
class SeenRequest:
    """A request as openapi-core reads it (its Request protocol)."""

    host_url: str
    path: str
    method: str
    parameters: RequestParameters = field(default_factory=RequestParameters)
    content_type: str = "application/json"
    body: bytes | None = None


@dataclass
class SeenResponse:
    """A response as openapi-core reads it (its Response protocol)."""

    status_code: int
    content_type: str
    headers: Headers
    data: bytes


class Recorder:
    """Wraps a PoolManager and keeps every exchange, in order."""

    def __init__(self) -> None:
        self.http = urllib3.PoolManager(retries=False, timeout=10)
        self.seen: list[tuple[str, str, urllib3.BaseHTTPResponse]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> urllib3.BaseHTTPResponse:
        response = self.http.request(method, url, **kwargs)
        self.seen.append((method, url, response))
        return response


@cache
def schema() -> dict[str, Any]:
    with SCHEMA_PATH.open() as file:
        spec = yaml.load(file, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return dict(nullable_composites(spec))


@cache
def openapi() -> OpenAPI:
    config = Config(
        extra_media_type_deserializers={JSON_TYPE: json.loads},
        additional_properties_default_policy="forbid",
    )
    return OpenAPI.from_dict(schema(), config=config)


def nullable_composites(node: Any) -> Any:
    """drf-spectacular writes a nullable reference as {allOf: [ref], nullable: true}. CVAT sends
    null there, but OAS 3.0.3 ties `nullable` to `type`, so openapi-schema-validator rejects null
    (python-openapi/openapi-schema-validator#220). Say the same as anyOf: [ref, null]."""
    if isinstance(node, list):
        return [nullable_composites(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: nullable_composites(value) for key, value in node.items()}
    if node.get("nullable") and {"allOf", "oneOf", "anyOf"} & node.keys():
        rest = {key: value for key, value in node.items() if key != "nullable"}
        return {"anyOf": [rest, {"type": "object", "nullable": True, "enum": [None]}]}
    return node


def component(name: str) -> OAS30Validator:
    return OAS30Validator(
        {"$ref": f"#/components/schemas/{name}", "components": schema()["components"]}
    )


def test_every_route_answers_per_the_schema() -> None:
    if not SCHEMA_PATH.exists():
        pytest.skip(f"{SCHEMA_PATH} is missing")
    with FakeCvatServer(polls_to_finish=2) as server:
        api = Api(server)
        recorder = Recorder()
        api.http = recorder  # type: ignore[assignment]
        exercise_every_route(api)
        log = server.request_log
    assert len(log) == len(recorder.seen)

    covered = {(entry.method, entry.route) for entry in log}
    assert {(r.method, r.template) for r in ROUTES} - covered == set()
    checked = 0
    for entry, (method, url, response) in zip(log, recorder.seen, strict=True):
        assert (entry.method, entry.path) == (method, urlsplit(url).path)
        if (method, entry.route) in NOT_IN_SCHEMA:
            continue
        assert entry.route is not None
        check(method, url, entry.route, response)
        checked += 1
    assert checked > 100


def check(method: str, url: str, route: str, response: urllib3.BaseHTTPResponse) -> None:
    context = f"{method} {url} -> {response.status} {response.data[:300]!r}"
    gap = SCHEMA_GAPS.get((method, route, response.status))
    if response.headers.get("Content-Type") == "application/zip":
        assert (method, route, response.status) in {("GET", r, 200) for r in RESULT_DOWNLOADS}
        assert response.data[:2] == b"PK", context
    elif response.headers.get("Content-Type", "").startswith("image/"):
        assert (method, route, response.status) in {("GET", r, 200) for r in MEDIA}, context
        assert response.data, context
    elif gap is None:
        parts = urlsplit(url)
        query = ImmutableMultiDict(parse_qsl(parts.query))
        request = SeenRequest(
            f"{parts.scheme}://{parts.netloc}",
            parts.path,
            method.lower(),
            RequestParameters(query=query),
        )
        content_type = response.headers.get("Content-Type", "")
        seen = SeenResponse(
            response.status, content_type, Headers(dict(response.headers)), response.data
        )
        try:
            openapi().validate_response(request, seen)
        except Exception as e:
            raise AssertionError(f"{context}: {e!r}: {getattr(e, '__cause__', '')}") from e
        assert not response.data or content_type == JSON_TYPE, context
    elif gap == "LabeledData":
        component("LabeledData").validate(response.json())
    elif gap == "empty or RqId" and response.data:
        component("RqId").validate(response.json())
    else:
        assert response.data == b"", context


def exercise_every_route(api: Api) -> None:
    """Calls every route at least once, with the paths spelled as in the schema."""
    api.ok("GET", "/api/server/about")
    api.ok("GET", "/api/server/annotation/formats")
    token = api.ok("POST", "/api/auth/login", json={"username": "admin", "password": "password"})[
        "key"
    ]
    api.ok("GET", "/api/users/self")
    api.ok("GET", "/api/users", {"page_size": 1})
    api.ok("GET", "/api/users/1")

    org = api.ok("POST", "/api/organizations", json={"slug": "acme", "name": "ACME"})
    api.ok("GET", "/api/organizations")
    api.ok("GET", f"/api/organizations/{org['id']}")
    api.ok("PATCH", f"/api/organizations/{org['id']}", json={"description": "d"})

    project = api.ok("POST", "/api/projects", json={"name": "p", "labels": LABELS})
    api.ok("GET", "/api/projects", {"page_size": 1})
    api.ok("GET", f"/api/projects/{project['id']}")
    api.ok("PATCH", f"/api/projects/{project['id']}", json={"name": "p2", "assignee_id": 1})
    in_project = api.create_task("in project", project_id=project["id"])

    task = api.create_task(segment_size=2)
    api.create_task("second")
    api.ok("GET", "/api/tasks", {"page_size": 1, "page": 2})
    api.ok("GET", f"/api/tasks/{task['id']}")
    api.ok(
        "PATCH",
        f"/api/tasks/{task['id']}",
        json={"labels": [{"name": "extra", "sublabels": [{"name": "s"}]}]},
    )
    data = {"a.png": b"a" * 10, "b.png": b"b", "c.png": b"c", "d.png": b"d"}
    upload(
        api,
        f"/api/tasks/{task['id']}/data/",
        "a.png",
        data.pop("a.png"),
        finish={"image_quality": 70},
        multiple=data,
    )
    api.upload_images(in_project["id"], {"x.png": b"x"})
    api.ok("GET", f"/api/tasks/{task['id']}/data/meta")
    chunk = {"type": "chunk", "number": 0, "quality": "original"}
    assert api.call("GET", f"/api/tasks/{task['id']}/data/", chunk).status == 200
    api.ok("GET", "/api/requests", {"action": "create"})

    jobs = api.ok("GET", "/api/jobs", {"task_id": task["id"], "sort": "id"})["results"]
    api.ok("GET", f"/api/jobs/{jobs[0]['id']}")
    api.ok(
        "PATCH", f"/api/jobs/{jobs[0]['id']}", json={"state": "completed", "stage": "acceptance"}
    )
    gt = api.ok(
        "POST",
        "/api/jobs",
        json={"type": "ground_truth", "task_id": task["id"], "frame_count": 2, "random_seed": 1},
    )
    api.ok("DELETE", f"/api/jobs/{gt['id']}")

    labels = api.ok("GET", "/api/labels", {"task_id": task["id"]})["results"]
    cat = next(lb for lb in labels if lb["name"] == "cat")
    api.ok("GET", f"/api/labels/{cat['id']}")
    api.ok("PATCH", f"/api/labels/{cat['id']}", json={"color": "#000000"})

    frame = {"type": "frame", "number": 0, "quality": "original"}
    for path, params in (
        (f"/api/tasks/{task['id']}/data/", frame),
        (f"/api/jobs/{jobs[0]['id']}/data", frame),
        (f"/api/jobs/{jobs[0]['id']}/data", {"type": "chunk", "index": 0}),
        (f"/api/tasks/{task['id']}/preview", None),
        (f"/api/jobs/{jobs[0]['id']}/preview", None),
        (f"/api/projects/{project['id']}/preview", None),
    ):
        assert api.call("GET", path, params).status == 200, path
    issue = api.ok(
        "POST",
        "/api/issues",
        json={"frame": 0, "position": [1, 2, 3, 4], "job": jobs[0]["id"], "message": "m"},
    )
    api.ok("GET", "/api/issues", {"job_id": jobs[0]["id"]})
    api.ok("GET", f"/api/issues/{issue['id']}")
    api.ok("PATCH", f"/api/issues/{issue['id']}", json={"resolved": True, "assignee": 1})
    comment = api.ok("POST", "/api/comments", json={"issue": issue["id"], "message": "c"})
    api.ok("GET", "/api/comments", {"issue_id": issue["id"]})
    api.ok("GET", f"/api/comments/{comment['id']}")
    api.ok("PATCH", f"/api/comments/{comment['id']}", json={"message": "edited"})
    api.ok("DELETE", f"/api/comments/{comment['id']}")
    api.ok("DELETE", f"/api/issues/{issue['id']}")
    api.ok("DELETE", f"/api/labels/{next(lb['id'] for lb in labels if lb['name'] == 'extra')}")

    track = {
        "frame": 0,
        "label_id": cat["id"],
        "shapes": [{"frame": 0, "type": "points", "points": [1, 1]}],
    }
    for path in (
        f"/api/tasks/{task['id']}/annotations/",
        f"/api/jobs/{jobs[0]['id']}/annotations/",
    ):
        api.ok("PUT", path, json={"shapes": [shape(cat["id"])], "tracks": [track]})
        created = api.ok(
            "PATCH",
            path,
            {"action": "create"},
            json={"tags": [{"frame": 1, "label_id": cat["id"]}]},
        )
        api.ok("PATCH", path, {"action": "update"}, json=created)
        api.ok("GET", path)
        api.ok("DELETE", path)

    document = dumps({"shapes": [shape(cat["id"])]})
    imports = {
        f"/api/tasks/{task['id']}/annotations/": "annotations.json",
        f"/api/jobs/{jobs[0]['id']}/annotations/": "annotations.json",
        f"/api/projects/{project['id']}/dataset/": "dataset.zip",
    }
    for path, name in imports.items():
        upload(api, path, name, document, query={"format": "CVAT 1.1"})

    for path, query in (
        (f"/api/tasks/{task['id']}/dataset/export", {"format": "COCO 1.0", "save_images": "true"}),
        (f"/api/tasks/{task['id']}/dataset/export", {"format": "COCO 1.0"}),
        (
            f"/api/jobs/{jobs[0]['id']}/dataset/export",
            {"format": "COCO 1.0", "save_images": "true"},
        ),
        (f"/api/jobs/{jobs[0]['id']}/dataset/export", {"format": "COCO 1.0"}),
        (
            f"/api/projects/{project['id']}/dataset/export",
            {"format": "COCO 1.0", "save_images": "true"},
        ),
        (f"/api/projects/{project['id']}/dataset/export", {"format": "COCO 1.0"}),
        (f"/api/projects/{project['id']}/backup/export", {}),
        (f"/api/tasks/{task['id']}/backup/export", {}),
    ):
        result = api.wait(api.ok("POST", path, query)["rq_id"])
        archive = api.http.request("GET", result["result_url"], headers=api.headers)
        assert archive.status == 200
        if path.endswith("backup/export"):
            target = "tasks" if path.startswith("/api/tasks") else "projects"
            upload(api, f"/api/{target}/backup/", "backup.zip", archive.data)

    api.ok("DELETE", f"/api/tasks/{task['id']}")
    api.ok("DELETE", f"/api/projects/{project['id']}")
    api.ok("DELETE", f"/api/organizations/{org['id']}")
    api.ok("POST", "/api/auth/logout", headers={"Authorization": f"Token {token}"})


def upload(
    api: Api,
    collection: str,
    name: str,
    data: bytes,
    *,
    query: dict[str, str] | None = None,
    finish: dict[str, Any] | None = None,
    multiple: dict[str, bytes] | None = None,
) -> dict[str, Any]:
    """The whole upload protocol: start, TUS (discovery, creation, HEAD, PATCH), bulk, finish."""
    api.ok("POST", collection, query, headers={"Upload-Start": "true"})
    preflight = {"Origin": api.server.url, "Access-Control-Request-Method": "POST"}
    api.ok("OPTIONS", collection, headers=preflight)  # a plain OPTIONS is a 500, as in CVAT
    metadata = "filename " + base64.b64encode(name.encode()).decode()
    tus = {"Tus-Resumable": "1.0.0"}
    created = api.call(
        "POST",
        collection,
        query,
        headers={
            **tus,
            "Upload-Length": str(len(data)),
            "Upload-Metadata": metadata,
            "Origin": api.server.url,  # CVAT builds the Location from it
        },
    )
    assert created.status == 201
    location = created.headers["Location"]
    assert api.http.request("HEAD", location, headers={**api.headers, **tus}).status == 200
    chunk = {
        **api.headers,
        **tus,
        "Upload-Offset": "0",
        "Content-Type": "application/offset+octet-stream",
    }
    patched = api.http.request("PATCH", location, body=data, headers=chunk)
    assert patched.status == 204
    if multiple:
        fields: dict[str, Any] = {
            f"client_files[{i}]": item for i, item in enumerate(multiple.items())
        }
        fields["image_quality"] = "70"
        api.ok("POST", collection, headers={"Upload-Multiple": "true"}, fields=fields)
    query = {**(query or {}), "filename": patched.headers["Upload-Filename"]}
    rq_id = api.ok("POST", collection, query, headers={"Upload-Finish": "true"}, json=finish or {})[
        "rq_id"
    ]
    result = api.wait(rq_id)
    assert result["status"] == "finished", result
    assert re.fullmatch(r"(create|import):[a-z]+-[-\w]+", rq_id)
    return result
