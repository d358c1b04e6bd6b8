"""A small urllib3 client for the fake server's tests, and data helpers."""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import urllib3

from cvat_sdk.testing import FakeCvatServer

SCHEMA_PATH = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "cvat-schemas" / "cvat-2.24.0.yml"
)
ADMIN = ("admin", "password")
LABELS = [
    {
        "name": "cat",
        "attributes": [
            {
                "name": "color",
                "mutable": False,
                "input_type": "select",
                "values": ["black", "white"],
            }
        ],
    },
    {"name": "dog", "type": "rectangle"},
]


class Api:
    """urllib3 against the fake server, with the caller's credentials on every request."""

    def __init__(self, server: FakeCvatServer, headers: dict[str, str] | None = None) -> None:
        self.server = server
        self.http = urllib3.PoolManager(retries=False, timeout=10)
        self.headers = (
            headers if headers is not None else urllib3.make_headers(basic_auth=":".join(ADMIN))
        )

    def url(self, path: str, query: dict[str, Any] | None = None) -> str:
        return self.server.url + path + (f"?{urlencode(query)}" if query else "")

    def call(
        self,
        method: str,
        path: str,
        query: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> urllib3.BaseHTTPResponse:
        return self.http.request(
            method, self.url(path, query), headers={**self.headers, **(headers or {})}, **kwargs
        )

    def ok(self, method: str, path: str, query: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """The JSON of a 2xx answer (None when empty); anything else fails the test."""
        response = self.call(method, path, query, **kwargs)
        assert 200 <= response.status < 300, (response.status, response.data[:500])
        return response.json() if response.data else None

    def create_task(
        self, name: str = "task", *, headers: dict[str, str] | None = None, **fields: Any
    ) -> dict[str, Any]:
        body = {"name": name, **fields}
        if "project_id" not in fields:
            body.setdefault("labels", LABELS)
        return dict(self.ok("POST", "/api/tasks", json=body, headers=headers))

    def upload_images(self, task_id: int, files: dict[str, bytes], **params: Any) -> dict[str, Any]:
        """Attaches files with the bulk protocol and waits for the task to be created."""
        path = f"/api/tasks/{task_id}/data/"
        self.ok("POST", path, headers={"Upload-Start": "true"})
        fields: dict[str, Any] = {
            f"client_files[{i}]": (name, data) for i, (name, data) in enumerate(files.items())
        }
        fields["image_quality"] = "70"  # CVAT validates every bulk request as a DataRequest
        self.ok("POST", path, headers={"Upload-Multiple": "true"}, fields=fields)
        body = {"image_quality": 70, **params}
        rq_id = self.ok("POST", path, headers={"Upload-Finish": "true"}, json=body)["rq_id"]
        return self.wait(rq_id)

    def wait(self, rq_id: str, polls: int = 10) -> dict[str, Any]:
        for _ in range(polls):
            request = dict(self.ok("GET", f"/api/requests/{rq_id}"))
            if request["status"] in ("finished", "failed"):
                return request
            time.sleep(0.01)
        raise AssertionError(f"request {rq_id} did not finish")


def zip_members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def shape(label_id: int, frame: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "type": "rectangle",
        "frame": frame,
        "label_id": label_id,
        "points": [1, 2, 3, 4],
        **extra,
    }


def dumps(data: Any) -> bytes:
    return json.dumps(data).encode()
