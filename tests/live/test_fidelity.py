"""Fidelity of the fake server: each scenario runs on the real CVAT 2.24 and on a
FakeCvatServer, and what a client can observe must be the same on both.

A scenario is a function of one `Side` (a server) that returns its observations: statuses,
the shape of error bodies (the keys of a dict, or "str", "list", "text"), headers as patterns
(ids and uuids replaced by placeholders), rq_id shapes, final request statuses, frame names.
The comparison is exact, so a fake that became lenient again (accepting what CVAT refuses)
or stricter (refusing what CVAT takes) fails here. What differs on purpose (messages the fake
words itself, formats it does not parse) is left out of the observations and listed in
docs/fake-server-fidelity.md.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import urllib3

from cvat_sdk._runtime import settings
from cvat_sdk.api_client import ApiClient, Configuration
from cvat_sdk.core.downloading import download_file
from cvat_sdk.core.helpers import wait_for_request
from cvat_sdk.core.uploading import upload_annotations, upload_backup, upload_task_data
from cvat_sdk.testing import FakeCvatServer

from .support import LiveServer, Trash, png

Obs = dict[str, Any]
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ORIGIN = "http://origin.test:9"
RAW_TRACEBACK = "Traceback (most recent call last)"
CVAT_XML = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<annotations><version>1.1</version>'
    b'<image id="0" name="a.png" width="8" height="8">'
    b'<box label="cat" occluded="0" xtl="1" ytl="1" xbr="4" ybr="4" z_order="0"></box>'
    b"</image></annotations>"
)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # names lower-cased
    data: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.data)

    @property
    def body(self) -> str | list[str] | None:
        """The shape of the body: a dict's sorted keys, "str" or "list" for a bare JSON value,
        "text" for a body that is not JSON, None when empty."""
        if not self.data:
            return None
        try:
            value = json.loads(self.data)
        except ValueError:
            return "text"
        if isinstance(value, dict):
            return sorted(value)
        return type(value).__name__


@dataclass
class Side:
    """One server, spoken to with urllib3 as a plain client would."""

    name: str
    url: str
    user: str
    password: str
    made: Callable[[str, int], None]  # remembers an object for deletion
    unique: Callable[[str], str]
    http: urllib3.PoolManager = field(default_factory=lambda: urllib3.PoolManager(retries=False))
    ids: dict[tuple[str, int], str] = field(default_factory=dict)  # (kind, id) -> placeholder
    last: dict[str, Any] = field(default_factory=dict)  # the last request waited for

    def call(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Answer:
        auth = urllib3.make_headers(basic_auth=f"{self.user}:{self.password}")
        url = path if path.startswith("http") else self.url + path
        response = self.http.request(
            method, url, headers={**auth, **(headers or {})}, redirect=False, **kwargs
        )
        headers_ = {k.lower(): v for k, v in response.headers.items()}
        return Answer(response.status, headers_, response.data)

    def client(self) -> ApiClient:
        return ApiClient(Configuration(host=self.url, username=self.user, password=self.password))

    def task(self, placeholder: str = "<task>", **fields: Any) -> int:
        body = {"name": self.unique("task"), "labels": [{"name": "cat"}, {"name": "dog"}]}
        body.update(fields)
        answer = self.call("POST", "/api/tasks", json=body)
        assert answer.status == 201, answer.data
        task_id = int(answer.json["id"])
        self.made("tasks", task_id)
        self.ids["task", task_id] = placeholder
        return task_id

    def norm(self, text: str | None) -> str | None:
        """`text` with the parts that differ between servers made placeholders: uuids, this
        side's object ids and its own base URL."""
        if text is None:
            return None
        text = UUID.sub("<uuid>", text.replace(self.url, "<server>"))

        def known(found: re.Match[str]) -> str:
            return found[1] + found[2] + self.ids.get((found[1], int(found[3])), found[3])

        return re.sub(r"(task|project|job)(s/|-|_id=)(\d+)", known, text)

    def wait(self, rq_id: str, timeout: float = 120) -> tuple[set[str], dict[str, Any]]:
        """Polls a request to its end: (the statuses seen, the last answer)."""
        seen: set[str] = set()
        deadline = time.monotonic() + timeout
        traceback_until: float | None = None
        while time.monotonic() < deadline:
            answer = self.call("GET", f"/api/requests/{rq_id}")
            assert answer.status == 200, (rq_id, answer.status, answer.data)
            request = answer.json
            seen.add(request["status"])
            # CVAT 2.24 may answer "finished" a moment before it stores the finished and
            # expiry dates (met once in CI): such an answer is read again. Likewise "failed"
            # with the raw traceback, before its worker stores the formatted message (met
            # once in CI; the SDK's failure_message reads it again too), for 5 s at most.
            settled = request["status"] == "failed" or request.get("finished_date")
            if request["status"] == "failed" and RAW_TRACEBACK in str(request.get("message")):
                traceback_until = traceback_until or time.monotonic() + 5
                settled = time.monotonic() >= traceback_until
            if request["status"] in ("finished", "failed") and settled:
                self.last = request
                return seen, request
            time.sleep(0.2)
        raise AssertionError(f"{self.name}: {rq_id} did not end")

    def frames(self, task_id: int) -> list[str] | int:
        answer = self.call("GET", f"/api/tasks/{task_id}/data/meta")
        if answer.status != 200:
            return answer.status
        return [f["name"] for f in answer.json["frames"]]

    # The upload protocol, one request at a time.

    def start(self, path: str) -> int:
        return self.call("POST", path, headers={"Upload-Start": "true"}).status

    def bulk(self, path: str, files: dict[str, bytes], quality: str | None = "70") -> Answer:
        fields: dict[str, Any] = {
            f"client_files[{i}]": (name, data, "image/png")
            for i, (name, data) in enumerate(files.items())
        }
        if quality is not None:
            fields["image_quality"] = quality
        return self.call("POST", path, headers={"Upload-Multiple": "true"}, fields=fields)

    def tus_create(self, path: str, name: str, size: int, *, origin: str | None = ORIGIN) -> Answer:
        metadata = "filename " + base64.b64encode(name.encode()).decode()
        headers = {
            "Tus-Resumable": "1.0.0",
            "Upload-Length": str(size),
            "Upload-Metadata": metadata,
        }
        if origin is not None:
            headers["Origin"] = origin
        return self.call("POST", path, headers=headers)

    def chunk(self, location: str, data: bytes, offset: int = 0) -> Answer:
        """PATCH at the Location's path, on this server (the Location names the Origin)."""
        headers = {
            "Tus-Resumable": "1.0.0",
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
        }
        return self.call("PATCH", urlsplit(location).path, headers=headers, body=data)

    def tus(self, path: str, name: str, data: bytes) -> tuple[int, int, str | None]:
        """A whole TUS upload: (creation status, last chunk status, Upload-Filename)."""
        created = self.tus_create(path, name, len(data))
        if created.status != 201:
            return created.status, 0, None
        done = self.chunk(created.headers["location"], data)
        return created.status, done.status, done.headers.get("upload-filename")

    def finish(self, path: str, **kwargs: Any) -> Answer:
        return self.call("POST", path, headers={"Upload-Finish": "true"}, **kwargs)


def ended(side: Side, answer: Answer) -> Obs:
    """A finish's answer and, if it started a request, how that request ended."""
    obs: Obs = {"finish": answer.status, "finish_body": answer.body}
    if answer.status == 202 and answer.data:
        rq_id = answer.json["rq_id"]
        seen, request = side.wait(rq_id)
        obs.update(
            rq_id=side.norm(rq_id),
            statuses_ok=seen <= {"queued", "started", "finished", "failed"},
            status=request["status"],
            operation=operation(request["operation"], side),
            result_id=isinstance(request.get("result_id"), int),
            kept_for=kept_for(request),
        )
    return obs


def kept_for(request: dict[str, Any]) -> float | None:
    """How long the server keeps an ended request (expiry_date - finished_date), in hours."""
    if not request.get("expiry_date") or not request.get("finished_date"):
        return None
    expiry, finished = (
        datetime.fromisoformat(request[k].replace("Z", "+00:00"))
        for k in ("expiry_date", "finished_date")
    )
    return round((expiry - finished).total_seconds() / 3600, 2)


def operation(request_operation: dict[str, Any], side: Side) -> dict[str, Any]:
    return {
        k: side.ids.get((k[: -len("_id")], v), v) if isinstance(v, int) else v
        for k, v in request_operation.items()
    }


# Scenarios: each returns what a client sees.


def bulk_needs_image_quality(side: Side, images: dict[str, bytes]) -> Obs:
    task = side.task()
    path = f"/api/tasks/{task}/data/"
    without = side.bulk(path, {"a.png": images["a.png"]}, quality=None)
    out_of_range = side.bulk(path, {"a.png": images["a.png"]}, quality="101")
    return {
        "start": side.start(path),
        "without": (without.status, without.json if without.status == 400 else None),
        "out_of_range": (out_of_range.status, out_of_range.body),
        "with": side.bulk(path, {"a.png": images["a.png"]}).status,
    }


def tus_location_and_lifecycle(side: Side, images: dict[str, bytes]) -> Obs:
    task = side.task()
    path = f"/api/tasks/{task}/data/"
    data = images["a.png"]
    no_origin = side.tus_create(path, "n.png", len(data), origin=None)
    created = side.tus_create(path, "c.png", len(data))
    location = created.headers.get("location", "")
    head = side.call("HEAD", urlsplit(location).path)
    offset_0 = {"Upload-Offset": "0"}
    untyped = side.call("PATCH", urlsplit(location).path, headers=offset_0, body=data[:10])
    empty = side.call("PATCH", urlsplit(location).path, headers=offset_0)  # not parsed
    stale = side.chunk(location, data[:5], offset=3)
    done = side.chunk(location, data)
    head_after = side.call("HEAD", urlsplit(location).path)
    patch_after = side.chunk(location, data)
    no_type = side.call("PATCH", urlsplit(location).path, headers={"Upload-Offset": "0"})
    return {
        "no_origin": (no_origin.status, no_origin.body),
        "created": created.status,
        "location": side.norm(location),
        "upload_filename": created.headers.get("upload-filename"),
        "tus_max_size": created.headers.get("tus-max-size"),
        "head": (head.status, head.headers.get("upload-offset"), head.headers.get("upload-length")),
        "stale": (stale.status, stale.body),
        "done": (done.status, done.headers.get("upload-offset") == str(len(data))),
        "done_name": done.headers.get("upload-filename"),
        "head_after": head_after.status,
        "patch_after": patch_after.status,
        "untyped": (untyped.status, untyped.json if untyped.status == 415 else None),
        "untyped_after": (no_type.status, no_type.body),
        "empty_chunk": (empty.status, empty.headers.get("upload-offset")),
        "unsafe": side.tus_create(path, "../x.png", 3).body,
        "empty": side.tus_create(path, "e.png", 0).status,
        "too_big": side.tus_create(path, "f.png", 26843545601).status,
        "options": side.call("OPTIONS", path).status,
        # behind a proxy that names the host, the Location is built from the request instead
        "forwarded": side.norm(
            side.call(
                "POST",
                path + "?x=1",
                headers={**tus_headers("g.png", 3), "X-Forwarded-Host": "localhost"},
            ).headers.get("location")
        ),
        # joined as a URL: without the final slash, the id replaces the last segment
        "no_slash": side.norm(
            side.call(
                "POST", path.rstrip("/"), headers={**tus_headers("h.png", 3), "Origin": ORIGIN}
            ).headers.get("location")
        ),
    }


def tus_headers(name: str, size: int) -> dict[str, str]:
    metadata = "filename " + base64.b64encode(name.encode()).decode()
    return {"Tus-Resumable": "1.0.0", "Upload-Length": str(size), "Upload-Metadata": metadata}


def upload_start_clears_nothing(side: Side, images: dict[str, bytes]) -> Obs:
    task = side.task()
    path = f"/api/tasks/{task}/data/"
    side.start(path)
    first = side.bulk(path, {"a.png": images["a.png"]}).status
    again = side.start(path)
    second = side.bulk(path, {"b.png": images["b.png"]}).status
    tus = side.tus(path, "c.png", images["c.png"])
    obs = ended(side, side.finish(path, json={"image_quality": 70}))
    return {"bulk": (first, again, second), "tus": tus, **obs, "frames": side.frames(task)}


def data_names_are_registered_once(side: Side, images: dict[str, bytes]) -> Obs:
    task = side.task()
    path = f"/api/tasks/{task}/data/"
    side.start(path)
    obs: Obs = {
        "bulk": side.bulk(path, {"a.png": images["a.png"]}).status,
        "bulk_again": side.bulk(path, {"a.png": images["a.png"]}).status,
        "tus_same_name": side.tus(path, "a.png", images["a.png"]),
        "tus": side.tus(path, "c.png", images["c.png"]),
        "bulk_after_tus": side.bulk(path, {"c.png": images["c.png"]}).status,
        "nested_bulk": side.bulk(path, {"dir/d.png": images["b.png"]}).status,  # -> d.png
    }
    # two uploads of one name at once: both are created; the second is renamed when done
    one = side.tus_create(path, "e.png", len(images["a.png"]))
    two = side.tus_create(path, "e.png", len(images["a.png"]))
    names = [side.chunk(c.headers["location"], images["a.png"]) for c in (one, two)]
    obs["concurrent"] = [(a.status, a.headers.get("upload-filename")) for a in names]
    obs.update(ended(side, side.finish(path, json={"image_quality": 70})))
    obs["frames"] = side.frames(task)
    return obs


POOL = {"mode": "gt_pool", "frame_selection_method": "random_uniform", "frame_count": 1}
PER_JOB = {"mode": "gt", "frame_selection_method": "random_per_job", "frames_per_job_count": 1}


def data_request_checks(side: Side, images: dict[str, bytes]) -> Obs:
    """DataRequest fields that CVAT checks at the finish, and those that fail the creation."""
    cases = {
        "order_without_predefined": {"upload_file_order": ["b.png", "a.png"]},
        "predefined_order": {
            "sorting_method": "predefined",
            "upload_file_order": ["b.png", "a.png"],
        },
        "predefined_mismatch": {
            "sorting_method": "predefined",
            "upload_file_order": ["b.png", "c.png"],
        },
        "bad_sorting": {"sorting_method": "weird"},
        "negative_chunk_size": {"chunk_size": -1},
        "quality_not_a_number": {"image_quality": "x"},
        "mapping_unknown_file": {"job_file_mapping": [["a.png"], ["c.png"]]},
        "mapping": {"job_file_mapping": [["b.png"], ["a.png"]]},
        "natural": {"sorting_method": "natural"},
        "mapping_empty": {"job_file_mapping": []},
        "mapping_empty_job": {"job_file_mapping": [["a.png", "b.png"], []]},
        "mapping_natural": {"job_file_mapping": [["a.png", "b.png"]], "sorting_method": "natural"},
        "mapping_start_frame": {"job_file_mapping": [["a.png", "b.png"]], "start_frame": 1},
        "mapping_stop_frame": {"job_file_mapping": [["a.png", "b.png"]], "stop_frame": 1},
        "mapping_frame_step": {"job_file_mapping": [["a.png", "b.png"]], "frame_filter": "step=2"},
        "pool_without_per_job_count": {"validation_params": POOL},
        "pool_lexicographical": {"validation_params": {**POOL, "frames_per_job_count": 1}},
        "pool_per_job_method": {
            "validation_params": {**POOL, "frame_selection_method": "random_per_job"},
            "sorting_method": "random",
        },
        "gt_per_job_without_segment_size": {"validation_params": PER_JOB},
        "gt_per_job_segment_size_1": {"validation_params": PER_JOB, "task": {"segment_size": 1}},
        "gt_per_job_segment_size_2": {"validation_params": PER_JOB, "task": {"segment_size": 2}},
        "gt_without_method": {"validation_params": {"mode": "gt", "frame_count": 1}},
        "gt_frames_not_manual": {"validation_params": {**POOL, "mode": "gt", "frames": ["a.png"]}},
        "gt_manual_repeated": {
            "validation_params": {
                "mode": "gt",
                "frame_selection_method": "manual",
                "frames": ["a.png", "a.png"],
            }
        },
        "mapping_filename_pattern": {
            "job_file_mapping": [["a.png", "b.png"]],
            "filename_pattern": "*.png",
        },
        "mapping_server_files_exclude": {
            "job_file_mapping": [["a.png", "b.png"]],
            "server_files_exclude": ["c.png"],
        },
        "mapping_segment_size": {
            "job_file_mapping": [["a.png", "b.png"]],
            "task": {"segment_size": 1},
        },
    }
    obs: Obs = {}
    for name, case in cases.items():
        extra = dict(case)
        task = side.task(**extra.pop("task", {}))
        path = f"/api/tasks/{task}/data/"
        side.bulk(path, {"a.png": images["a.png"], "b.png": images["b.png"]})
        answer = side.finish(path, json={"image_quality": 70, **extra})
        seen = ended(side, answer)
        message = side.last.get("message", "") if answer.status == 202 else ""
        conflict = re.search(
            r"job_file_mapping cannot be used with (\w+)|(gt_pool)|(greater than segment size)",
            message,
        )
        obs[name] = (
            answer.status,
            answer.body if answer.status != 202 else None,
            seen.get("status"),
            "Can't find file 'c.png' in the input files" in message,
            conflict and next(group for group in conflict.groups() if group),
            side.frames(task),
        )
    return obs


def task_without_data(side: Side, images: dict[str, bytes]) -> Obs:
    """What a task that was never sent data answers."""
    task = side.task()
    obs: Obs = {"meta": side.call("GET", f"/api/tasks/{task}/data/meta").status}
    annotations = side.call("GET", f"/api/tasks/{task}/annotations")
    obs["annotations"] = (annotations.status, annotations.body)
    for kind in ("dataset/export?format=COCO+1.0", "backup/export"):
        answer = side.call("POST", f"/api/tasks/{task}/{kind}")
        seen = ended(side, answer)
        obs[kind] = (answer.status, seen.get("status"), side.last.get("message"))
    ground_truth = {"type": "ground_truth", "task_id": task, "frame_count": 1}
    job = side.call("POST", "/api/jobs", json=ground_truth)
    obs["ground_truth_job"] = (job.status, job.body)
    side.start(f"/api/tasks/{task}/data/")  # makes the Data: now the task has size 0
    obs["size"] = side.call("GET", f"/api/tasks/{task}").json.get("size")
    meta = side.call("GET", f"/api/tasks/{task}/data/meta")
    obs["meta_after"] = (meta.status, meta.json["size"], meta.json["frames"])
    obs["annotations_after"] = side.call("GET", f"/api/tasks/{task}/annotations").json
    return obs


def data_finished_twice(side: Side, images: dict[str, bytes]) -> Obs:
    """A second finish while the creation is queued is taken under the same rq_id (CVAT then
    makes the frames twice, the fake once: frames are not compared); once the task has its
    media, more data is refused. Which of the two the real server shows depends on timing."""
    task = side.task()
    path = f"/api/tasks/{task}/data/"
    side.bulk(path, {"a.png": images["a.png"]})
    first = side.finish(path, json={"image_quality": 70})
    second = side.finish(path, json={"image_quality": 70})
    # taken (202, the same rq_id) while the creation waits, refused (400) once it is done
    repeat = (second.status, second.json)
    obs: Obs = {
        "second": repeat in [(202, first.json), (400, "Adding more data is not supported")],
        "first": ended(side, first),
    }
    late = side.finish(path, json={"image_quality": 70})
    obs["after"] = (late.status, late.json)
    return obs


def nested_tus_name(side: Side, images: dict[str, bytes]) -> Obs:
    """CVAT moves a finished upload to its name in the upload directory, which has no
    subdirectories: the last chunk of "dogs/x.png" fails, and so does the task creation."""
    task = side.task()
    path = f"/api/tasks/{task}/data/"
    data = images["a.png"]
    created = side.tus_create(path, "dogs/x.png", len(data))
    last = side.chunk(created.headers["location"], data)
    head = side.call("HEAD", urlsplit(created.headers["location"]).path)
    obs: Obs = {
        "created": (created.status, created.headers.get("upload-filename")),
        "last_chunk": last.status,
        "head": (head.status, head.headers.get("upload-offset") == str(len(data))),
    }
    obs.update(ended(side, side.finish(path, json={"image_quality": 70})))
    message = side.last.get("message", "")
    obs["message"] = (
        message.startswith("FileNotFoundError: [Errno 2] No such file or directory: '"),
        message.endswith("/raw/dogs/x.png'\n"),
    )
    return obs


def data_retry_after_a_refused_finish(side: Side, images: dict[str, bytes]) -> Obs:
    task = side.task()
    path = f"/api/tasks/{task}/data/"
    side.start(path)
    obs: Obs = {
        "tus": side.tus(path, "t.png", images["a.png"]),
        "bulk": side.bulk(path, {"b.png": images["b.png"]}).status,
    }
    refused = side.finish(path, json={})
    obs["refused"] = (refused.status, refused.json)
    side.start(path)
    obs["retry_tus"] = side.tus_create(path, "t.png", len(images["a.png"])).status
    obs["retry_bulk"] = side.bulk(path, {"b.png": images["b.png"]}).status
    obs.update(ended(side, side.finish(path, json={"image_quality": 70})))
    obs["frames"] = side.frames(task)
    return obs


def local_files_with_server_files(side: Side, images: dict[str, bytes]) -> Obs:
    task = side.task()
    fields = {
        "image_quality": "70",
        "client_files[0]": ("a.png", images["a.png"], "image/png"),
        "server_files[0]": "missing-on-the-share.png",
    }
    path = f"/api/tasks/{task}/data/"
    answer = side.call(
        "POST", path, headers={"Upload-Start": "true", "Upload-Finish": "true"}, fields=fields
    )
    obs = ended(side, answer)
    request = side.call("GET", f"/api/requests/create:task-{task}").json
    message = request["message"]
    obs["message"] = (
        message.startswith("FileNotFoundError: [Errno 2] No such file or directory: '"),
        message.endswith("/a.png'\n"),  # the share is searched for every name, first in order
    )
    obs["size"] = side.call("GET", f"/api/tasks/{task}").json.get("size")
    # no media at all: a failed request too
    empty = side.task("<empty>")
    nothing = side.finish(f"/api/tasks/{empty}/data/", json={"image_quality": 70})
    obs["empty"] = ended(side, nothing)
    last = side.call("GET", f"/api/requests/create:task-{empty}").json
    obs["empty_message"] = last["message"]
    return obs


def annotation_import_names(side: Side, images: dict[str, bytes]) -> Obs:
    task = side.task()
    data = side.call(
        "POST",
        f"/api/tasks/{task}/data/",
        headers={"Upload-Start": "true", "Upload-Finish": "true"},
        fields={"image_quality": "70", "client_files[0]": ("a.png", images["a.png"], "image/png")},
    )
    created = ended(side, data)
    path = f"/api/tasks/{task}/annotations/"
    query = "?format=CVAT+1.1&filename=ann.xml"
    side.start(path + query)
    obs: Obs = {"data": created["status"], "tus": side.tus(path, "ann.xml", CVAT_XML)}
    again = side.tus_create(path, "ann.xml", len(CVAT_XML))
    obs["same_name"] = (again.status, again.json if again.status == 409 else None)
    for fmt in ("NOPE", "CVAT+for+images+1.1"):  # an export name is not an import format
        refused = side.finish(f"{path}?format={fmt}&filename=ann.xml")
        obs[f"finish_{fmt}"] = (refused.status, refused.body)
    side.start(path + query)
    obs["retry"] = side.tus_create(path, "ann.xml", len(CVAT_XML)).status
    missing = side.finish(f"{path}?format=CVAT+1.1&filename=other.xml")
    obs["missing"] = (missing.status, missing.json if missing.status == 400 else None)
    in_form = side.call(
        "POST", path + "?format=CVAT+1.1", fields={"annotation_file": ("x.xml", CVAT_XML)}
    )
    obs["in_form"] = (in_form.status, in_form.body)
    obs["import"] = ended(side, side.finish(path + query))
    obs["after_import"] = side.tus(path, "ann.xml", CVAT_XML)
    return obs


def project_and_job_transfers(side: Side, images: dict[str, bytes]) -> Obs:
    """A project's dataset import (in the finish's form, or uploaded before), a project
    backup without a file, a job's annotation import and exports."""
    answer = side.call("POST", "/api/projects", json={"name": side.unique("project")})
    project = int(answer.json["id"])
    side.made("projects", project)
    side.ids["project", project] = "<project>"
    path = f"/api/projects/{project}/dataset/"
    in_form = side.call(
        "POST", path + "?format=COCO+1.0", fields={"dataset_file": ("d.zip", b"not a dataset")}
    )
    obs: Obs = {"in_form": (in_form.status, side.norm(in_form.json.get("rq_id")))}
    side.wait(in_form.json["rq_id"])  # how it ends is not compared: the fake reads no formats
    side.start(path + "?format=COCO+1.0&filename=d.zip")
    obs["tus"] = side.tus(path, "d.zip", b"not a dataset")
    # an import of the project ended, so the name is free again (the file is dropped)
    obs["tus_again"] = side.tus_create(path, "d.zip", 5).status
    for name, query in (("bad_format", "NOPE"), ("dropped", "COCO+1.0")):
        refused = side.finish(f"{path}?format={query}&filename=d.zip")
        obs[name] = (refused.status, refused.json)
    nothing = side.call("POST", "/api/projects/backup/")
    obs["backup_without_file"] = (nothing.status, nothing.json)
    named = side.finish("/api/tasks/backup/?filename=nope.zip")
    obs["backup_unknown_name"] = (named.status, named.json)

    task = side.task()
    data = side.call(
        "POST",
        f"/api/tasks/{task}/data/",
        fields={"image_quality": "70", "client_files[0]": ("a.png", images["a.png"], "image/png")},
    )
    side.wait(data.json["rq_id"])
    job = int(side.call("GET", f"/api/jobs?task_id={task}").json["results"][0]["id"])
    side.ids["job", job] = "<job>"
    jobs = f"/api/jobs/{job}/annotations/"
    obs["job_tus"] = side.tus(jobs, "j.xml", CVAT_XML)
    obs["job_import"] = ended(side, side.finish(jobs + "?format=CVAT+1.1&filename=j.xml"))
    used = side.finish(jobs + "?format=CVAT+1.1&filename=j.xml")
    obs["job_file_used"] = (used.status, used.json)
    urls = {}
    for target, target_id, query in (
        ("jobs", job, "format=COCO+1.0"),
        ("jobs", job, "format=COCO+1.0&save_images=true"),
        ("tasks", task, "format=COCO+1.0"),
        ("projects", project, "format=COCO+1.0&save_images=true"),
        ("projects", project, "format=COCO+1.0"),
    ):
        export = side.call("POST", f"/api/{target}/{target_id}/dataset/export?{query}")
        _, request = side.wait(export.json["rq_id"])
        urls[query + " " + target] = (
            request["status"],
            side.norm(request["result_url"]),
            operation(request["operation"], side),
        )
    obs["result_urls"] = urls
    return obs


def export_downloaded_once(side: Side, images: dict[str, bytes]) -> Obs:
    task = side.task()
    data = side.call(
        "POST",
        f"/api/tasks/{task}/data/",
        fields={"image_quality": "70", "client_files[0]": ("a.png", images["a.png"], "image/png")},
    )
    obs: Obs = {"data": ended(side, data)["status"]}
    export = f"/api/tasks/{task}/dataset/export?format=CVAT+for+images+1.1&save_images=true"
    first = side.call("POST", export)
    again = side.call("POST", export)
    rq_id = first.json["rq_id"]
    obs["rq_id"] = side.norm(rq_id)
    # CVAT refuses a repeat while the export is queued or running (409), and takes it when
    # its queue deferred the export (202, the same rq_id): which one depends on timing
    obs["again"] = (again.status, again.json) in [
        (409, "Export request is being processed"),
        (202, first.json),
    ]
    _seen, request = side.wait(rq_id)
    obs["status"] = request["status"]
    obs["operation"] = operation(request["operation"], side)
    obs["kept_for"] = kept_for(request)
    url = request["result_url"]
    obs["result_url"] = side.norm(url)
    download = side.call("GET", url)
    disposition = download.headers.get("content-disposition", "")
    obs["download"] = (download.status, download.headers.get("content-type"))
    stamp = r"\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}"
    pattern = rf'attachment; filename="task_.*_dataset_{stamp}_cvat for images 1\.1\.zip"'
    obs["disposition"] = bool(re.fullmatch(pattern, disposition))
    second = side.call("GET", url)
    obs["second"] = (second.status, second.body, second.data[:26])
    obs["request_after"] = side.call("GET", f"/api/requests/{rq_id}").status
    unknown = side.call("POST", f"/api/tasks/{task}/dataset/export?format=NOPE")
    obs["unknown_format"] = (unknown.status, unknown.json)
    return obs


def backup_round_trip(side: Side, images: dict[str, bytes]) -> Obs:
    task = side.task()
    data = side.call(
        "POST",
        f"/api/tasks/{task}/data/",
        fields={
            "image_quality": "70",
            "client_files[0]": ("a.png", images["a.png"], "image/png"),
            "client_files[1]": ("b.png", images["b.png"], "image/png"),
        },
    )
    obs: Obs = {"data": ended(side, data)["status"]}
    exported = side.call("POST", f"/api/tasks/{task}/backup/export")
    obs["rq_id"] = side.norm(exported.json["rq_id"])
    _, request = side.wait(exported.json["rq_id"])
    obs["result_url"] = side.norm(request["result_url"])
    archive = side.call("GET", request["result_url"])
    obs["download"] = archive.status
    obs["second"] = side.call("GET", request["result_url"]).status

    path = "/api/tasks/backup/"
    side.start(path + "?filename=my.zip")
    created = side.tus_create(path, "my.zip", len(archive.data))
    name = created.headers.get("upload-filename", "")
    obs["upload_filename"] = bool(
        re.fullmatch(rf"cvat-backup-my\.zip-by-{side.user}[a-z0-9_]{{8}}\.zip", name)
    )
    obs["location"] = side.norm(created.headers.get("location"))
    obs["chunk"] = side.chunk(created.headers["location"], archive.data).status
    obs["same_name"] = side.tus_create(path, "my.zip", 10).status  # backups never collide
    wrong = side.finish(path + "?filename=my.zip")
    obs["sent_name"] = (wrong.status, wrong.json if wrong.status == 400 else None)
    obs["restore"] = ended(side, side.finish(f"{path}?filename={name}"))
    restored = side.last.get("result_id")
    if isinstance(restored, int):
        side.made("tasks", restored)
        obs["restored_frames"] = side.frames(restored)
    obs["used_up"] = side.finish(f"{path}?filename={name}").status
    return obs


def helper_flows(side: Side, images: dict[str, bytes], tmp_path: Path) -> Obs:
    """The SDK's helpers, end to end: data in bulk and through TUS, an annotation import,
    a backup export downloaded and restored."""
    folder = tmp_path / side.name
    folder.mkdir()
    paths = []
    for name, content in images.items():
        (folder / name).write_bytes(content)
        paths.append(folder / name)
    obs: Obs = {}
    with side.client() as client:
        task = side.task()
        request = upload_task_data(client, task, paths)
        obs["data"] = (str(request.status), side.norm(request.id))
        obs["frames"] = side.frames(task)
        (folder / "ann.xml").write_bytes(CVAT_XML)
        imported = upload_annotations(
            client, "tasks", task, folder / "ann.xml", format_name="CVAT 1.1"
        )
        obs["import"] = (str(imported.status), side.norm(imported.id))
        export, _ = client.tasks_api.create_backup_export(task)
        done = wait_for_request(client, export.rq_id)
        target = download_file(client, str(done.result_url), folder / "backup.zip")
        restored = upload_backup(client, "tasks", target)
        side.made("tasks", restored)
        obs["restored_frames"] = side.frames(restored)
    return obs


def other_answers(side: Side, images: dict[str, bytes]) -> Obs:
    """Errors outside the uploads: missing objects and URLs, field checks."""

    def seen(answer: Answer) -> tuple[int, Any]:
        return answer.status, answer.json if answer.body not in (None, "text") else answer.body

    task = side.task()
    unknown = side.call("GET", "/api/nothing-here")
    return {
        "unknown_url": (unknown.status, unknown.headers.get("content-type")),
        "missing_task": seen(side.call("GET", "/api/tasks/999999999")),
        "missing_project": seen(side.call("GET", "/api/projects/999999999")),
        "missing_task_data": seen(
            side.call("POST", "/api/tasks/999999999/data/", headers={"Upload-Start": "true"})
        ),
        "blank_name": seen(side.call("PATCH", f"/api/tasks/{task}", json={"name": ""})),
        "no_labels": seen(side.call("POST", "/api/tasks", json={"name": side.unique("x")})),
        "annotation_action": seen(side.call("PATCH", f"/api/tasks/{task}/annotations", json={})),
    }


def _task_with_frames(side: Side, images: dict[str, bytes], **fields: Any) -> int:
    """A task of a.png, b.png, c.png in chunks of 2 (``fields``: segment_size...)."""
    body = {"name": side.unique("task"), "labels": [{"name": "cat"}], **fields}
    answer = side.call("POST", "/api/tasks", json=body)
    task = int(answer.json["id"])
    side.made("tasks", task)
    side.ids["task", task] = "<task>"
    form: dict[str, Any] = {"image_quality": "70", "chunk_size": "2"}
    for i, name in enumerate(("a.png", "b.png", "c.png")):
        form[f"client_files[{i}]"] = (name, images[name], "image/png")
    assert ended(side, side.call("POST", f"/api/tasks/{task}/data/", fields=form))["status"] == (
        "finished"
    )
    return task


def _media(answer: Answer) -> tuple[Any, ...]:
    """Status, media type and body of a media answer: for an image its first bytes, for a zip
    its members, for JSON the value (CVAT's messages are compared as they are)."""
    kind = answer.headers.get("content-type", "")
    if kind == "application/zip":
        import io
        import zipfile

        with zipfile.ZipFile(io.BytesIO(answer.data)) as archive:
            members: Any = archive.namelist()
        return answer.status, kind, members, "x-checksum" in answer.headers
    if kind.startswith("image/"):
        return answer.status, kind, answer.data[:3]
    if kind.startswith("text/html"):
        return answer.status, kind, answer.data[:60]
    return answer.status, kind, answer.json if answer.data else None


def media_answers(side: Side, images: dict[str, bytes]) -> Obs:
    """Frames (originals), chunks, previews and context images of a task and its jobs, with
    CVAT's checks of the query; compressed frames are only counted (CVAT re-encodes them as
    JPEG, the fake serves the upload)."""
    task = _task_with_frames(side, images, segment_size=2)
    jobs = side.call("GET", f"/api/jobs?task_id={task}&sort=id").json["results"]
    second = int(jobs[1]["id"])
    side.ids["job", second] = "<job>"
    obs: Obs = {"jobs": [(j["start_frame"], j["stop_frame"]) for j in jobs]}
    task_queries = [
        "",
        "type=bogus",
        "type=frame",
        "type=frame&number=0&quality=bad",
        "type=frame&number=x",
        "type=frame&number=1&quality=original",
        "type=frame&number=3",
        "type=frame&number=-1",
        "type=chunk&number=1&quality=original",
        "type=chunk&number=2",
        "type=chunk",
        "type=chunk&number=0&quality=bad",
        "type=context_image&number=0",
        "type=context_image&number=5",
        "type=context_image",
        "type=preview",
        "type=preview&quality=bad",
    ]
    for query in task_queries:
        obs[f"task {query}"] = _media(side.call("GET", f"/api/tasks/{task}/data?{query}"))
    job_queries = [
        "",
        "type=frame",
        "type=frame&number=0",
        "type=frame&number=2&quality=original",
        "type=frame&number=2&quality=bad",
        "type=chunk",
        "type=chunk&number=1&index=0",
        "type=chunk&index=0&quality=original",
        "type=chunk&index=1",
        "type=chunk&number=0",
        "type=chunk&number=1&quality=original",
        "type=context_image&number=0",
        "type=preview",
    ]
    for query in job_queries:
        obs[f"job {query}"] = _media(side.call("GET", f"/api/jobs/{second}/data?{query}"))
    compressed = side.call("GET", f"/api/tasks/{task}/data?type=frame&number=0")
    obs["compressed"] = compressed.status
    obs["original_as_uploaded"] = (
        side.call("GET", f"/api/tasks/{task}/data?type=frame&number=2&quality=original").data
        == images["c.png"]
    )
    for kind, ident in (("tasks", task), ("jobs", second), ("tasks", 999999999)):
        obs[f"{kind} preview"] = _media(side.call("GET", f"/api/{kind}/{ident}/preview"))
    return obs


def previews_without_data(side: Side, images: dict[str, bytes]) -> Obs:
    """Previews of a project with no task, with a task without data, with a task whose data
    was only begun, and frames of those tasks."""
    answer = side.call("POST", "/api/projects", json={"name": side.unique("project")})
    project = int(answer.json["id"])
    side.made("projects", project)
    obs: Obs = {"no_task": _media(side.call("GET", f"/api/projects/{project}/preview"))}
    body = {"name": side.unique("task"), "project_id": project}
    task = int(side.call("POST", "/api/tasks", json=body).json["id"])
    side.made("tasks", task)
    obs["task_no_data"] = _media(side.call("GET", f"/api/tasks/{task}/preview"))
    obs["project_no_data"] = _media(side.call("GET", f"/api/projects/{project}/preview"))
    obs["frame_no_data"] = _media(side.call("GET", f"/api/tasks/{task}/data?type=frame&number=0"))
    side.start(f"/api/tasks/{task}/data/")  # a Data of size 0
    obs["task_begun"] = _media(side.call("GET", f"/api/tasks/{task}/preview"))
    obs["project_begun"] = _media(side.call("GET", f"/api/projects/{project}/preview"))
    obs["frame_begun"] = _media(side.call("GET", f"/api/tasks/{task}/data?type=frame&number=0"))
    annotations = side.call("GET", f"/api/projects/{project}/annotations")
    obs["project_annotations"] = (annotations.status, annotations.json)
    return obs


def issues_and_comments(side: Side, images: dict[str, bytes]) -> Obs:
    """Issues and comments: creation checks (in CVAT's order: the parent first), reads,
    filters, updates of what may change, and what removal takes along."""
    task = _task_with_frames(side, images, segment_size=2)
    jobs = [
        int(j["id"]) for j in side.call("GET", f"/api/jobs?task_id={task}&sort=id").json["results"]
    ]
    for index, job in enumerate(jobs):
        side.ids["job", job] = f"<job{index}>"
    issues_made: dict[str, int] = {}
    comments_made: dict[str, int] = {}

    def seen(answer: Answer) -> Any:
        """The answer with ids, dates, URLs and users made placeholders."""
        if not answer.data:
            return answer.status, None
        if not answer.headers.get("content-type", "").startswith("application/vnd.cvat+json"):
            return answer.status, answer.headers.get("content-type")
        return answer.status, shape(answer.json)

    def shape(value: Any) -> Any:
        if isinstance(value, list):
            return [shape(v) for v in value]
        if not isinstance(value, dict):
            return value
        out = {}
        for key_, item in value.items():
            if key_.endswith("_date"):
                out[key_] = bool(item)
            elif key_ in ("owner", "assignee") and isinstance(item, dict):
                out[key_] = "<me>" if item["username"] == side.user else item["username"]
            elif key_ == "url":
                out[key_] = side.norm(re.sub(r"issue_id=\d+", "issue_id=<issue>", item))
            elif key_ == "id":
                out[key_] = "<id>"
            elif key_ == "job":
                out[key_] = side.ids.get(("job", item), item)
            elif key_ == "issue":
                out[key_] = next((k for k, v in issues_made.items() if v == item), item)
            else:
                out[key_] = shape(item)
        return out

    def issue(name: str, body: dict[str, Any]) -> Any:
        answer = side.call("POST", "/api/issues", json=body)
        if answer.status == 201:
            issues_made[name] = int(answer.json["id"])
        return seen(answer)

    def comment(name: str, body: dict[str, Any]) -> Any:
        answer = side.call("POST", "/api/comments", json=body)
        if answer.status == 201:
            comments_made[name] = int(answer.json["id"])
        return seen(answer)

    first, second = jobs
    obs: Obs = {
        "empty": issue("-", {}),
        "bad_job": seen(
            side.call("POST", "/api/issues", json={"job": "j", "frame": 0, "position": [1]})
        ),
        "missing_job": issue(
            "-", {"frame": 0, "position": [1, 2], "job": 999999999, "message": "m"}
        ),
        "empty_position": issue("-", {"frame": 0, "position": [], "job": first, "message": "m"}),
        "bad_position": issue("-", {"frame": 0, "position": ["a"], "job": first, "message": "m"}),
        "negative_frame": issue("-", {"frame": -1, "position": [1], "job": first, "message": "m"}),
        "no_message": issue("-", {"frame": 0, "position": [1], "job": first}),
        "outside_the_job": issue(
            "outside", {"frame": 5, "position": [1, 2], "job": first, "message": "m"}
        ),
        "created": issue(
            "a", {"frame": 1, "position": [1, 2, 3, 4], "job": first, "message": "first"}
        ),
        "second": issue("b", {"frame": 2, "position": [1.5, 2], "job": second, "message": "b"}),
    }
    a, b = issues_made["a"], issues_made["b"]
    obs["retrieve"] = seen(side.call("GET", f"/api/issues/{a}"))
    for name, query in (
        ("by_job", f"job_id={first}"),
        ("by_task", f"task_id={task}&sort=id"),
        ("by_frame", f"task_id={task}&frame_id=2"),
        ("resolved", f"task_id={task}&resolved=true"),
    ):
        obs[name] = seen(side.call("GET", f"/api/issues?{query}"))
    obs["job_count"] = side.call("GET", f"/api/jobs/{first}").json["issues"]["count"]
    me = side.call("GET", "/api/users/self").json["id"]
    for name, body in (
        ("patch", {"resolved": True, "frame": 0, "message": "ignored", "position": [9, 9]}),
        ("patch_bad_resolved", {"resolved": "maybe"}),
        ("patch_assignee", {"assignee": me}),
        ("patch_bad_assignee", {"assignee": 999999999}),
        ("patch_empty_position", {"position": []}),
    ):
        obs[name] = seen(side.call("PATCH", f"/api/issues/{a}", json=body))
    obs["issue_put"] = seen(side.call("PUT", f"/api/issues/{a}", json={}))
    obs["comments_of_a"] = seen(side.call("GET", f"/api/comments?issue_id={a}"))
    obs["comment_empty"] = comment("-", {})
    obs["comment_missing_issue"] = comment("-", {"issue": 999999999, "message": "m"})
    obs["comment_null_issue"] = comment("-", {"issue": None, "message": "m"})
    obs["comment_blank"] = comment("-", {"issue": a, "message": ""})
    obs["comment_no_message"] = comment("quiet", {"issue": a})
    obs["comment"] = comment("c", {"issue": a, "message": "second"})
    c = comments_made["c"]
    obs["comment_patch"] = seen(
        side.call("PATCH", f"/api/comments/{c}", json={"message": "edited", "issue": b})
    )
    obs["comment_patch_blank"] = seen(
        side.call("PATCH", f"/api/comments/{c}", json={"message": ""})
    )
    obs["comments_by_job"] = seen(side.call("GET", f"/api/comments?job_id={first}&sort=id"))
    obs["comments_by_frame"] = seen(side.call("GET", f"/api/comments?job_id={second}&frame_id=2"))
    obs["issue_comments_route"] = seen(side.call("GET", f"/api/issues/{a}/comments"))
    obs["issue_after"] = seen(side.call("GET", f"/api/issues/{a}"))
    obs["comment_delete"] = seen(side.call("DELETE", f"/api/comments/{c}"))
    obs["comment_gone"] = seen(side.call("GET", f"/api/comments/{c}"))
    obs["issue_delete"] = seen(side.call("DELETE", f"/api/issues/{a}"))
    obs["issue_gone"] = seen(side.call("GET", f"/api/issues/{a}"))
    obs["its_comment_gone"] = seen(side.call("GET", f"/api/comments/{comments_made['quiet']}"))
    side.call("DELETE", f"/api/tasks/{task}")
    obs["issue_of_removed_task"] = seen(side.call("GET", f"/api/issues/{b}"))
    return obs


def job_updates(side: Side, images: dict[str, bytes]) -> Obs:
    """PATCH of a job: stage, state and assignee, refused values, and what the task and
    its job list show afterwards."""
    task = _task_with_frames(side, images, segment_size=2)
    jobs = side.call("GET", f"/api/jobs?task_id={task}&sort=id").json["results"]
    job = int(jobs[0]["id"])
    me = side.call("GET", "/api/users/self").json["id"]

    def patch(body: dict[str, Any]) -> tuple[Any, ...]:
        answer = side.call("PATCH", f"/api/jobs/{job}", json=body)
        if answer.status != 200:
            if answer.body == "text":  # Django's error page
                return answer.status, answer.headers.get("content-type")
            return answer.status, answer.json
        got = answer.json
        assignee = got["assignee"]["id"] == me if got["assignee"] else None
        return answer.status, got["stage"], got["state"], assignee, got["status"]

    obs: Obs = {
        "stage": patch({"stage": "validation"}),
        "state": patch({"state": "in progress"}),
        "assignee": patch({"assignee": me}),
        "unassigned": patch({"assignee": None}),
        "accepted": patch({"stage": "acceptance", "state": "completed"}),
        "bad_stage": patch({"stage": "review"}),
        "bad_state": patch({"state": "done"}),
        "bad_assignee": patch({"assignee": 999999999}),
    }
    found = side.call("GET", f"/api/tasks/{task}").json
    obs["task"] = (found["status"], found["jobs"]["completed"], found["jobs"]["validation"])
    listed = side.call("GET", f"/api/jobs?task_id={task}&stage=acceptance").json
    obs["listed"] = listed["count"]
    return obs


SCENARIOS = [
    bulk_needs_image_quality,
    tus_location_and_lifecycle,
    upload_start_clears_nothing,
    data_names_are_registered_once,
    data_request_checks,
    task_without_data,
    data_finished_twice,
    nested_tus_name,
    data_retry_after_a_refused_finish,
    local_files_with_server_files,
    annotation_import_names,
    project_and_job_transfers,
    export_downloaded_once,
    backup_round_trip,
    other_answers,
    media_answers,
    previews_without_data,
    issues_and_comments,
    job_updates,
]


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("images")
    return {  # sizes that differ, so that a BULK_FILE_MAX can fall between them
        f"{letter}.png": png(folder / f"{letter}.png", 8 * size, 8 * size, seed=size).read_bytes()
        for size, letter in enumerate("abc", start=1)
    }


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeCvatServer]:
    with FakeCvatServer(polls_to_finish=2) as server:
        yield server


def sides(live: LiveServer, trash: Trash, fake: FakeCvatServer) -> tuple[Side, Side]:
    real = Side("real", live.url, live.user, live.password, trash.add, trash.name)
    made: list[tuple[str, int]] = []
    imitation = Side(
        "fake",
        fake.url,
        "admin",
        "password",
        lambda kind, object_id: made.append((kind, object_id)),
        trash.name,
    )
    return real, imitation


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_the_fake_answers_as_cvat(
    scenario: Callable[[Side, dict[str, bytes]], Obs],
    live: LiveServer,
    trash: Trash,
    fake: FakeCvatServer,
    images: dict[str, bytes],
) -> None:
    real, imitation = sides(live, trash, fake)
    assert scenario(imitation, images) == scenario(real, images)


def test_the_helpers_work_alike(
    live: LiveServer,
    trash: Trash,
    fake: FakeCvatServer,
    images: dict[str, bytes],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Files above BULK_FILE_MAX go through TUS: with a limit between the images' sizes,
    one upload uses both ways."""
    sizes = sorted(len(data) for data in images.values())
    monkeypatch.setattr(settings, "BULK_FILE_MAX", sizes[0])
    real, imitation = sides(live, trash, fake)
    assert helper_flows(imitation, images, tmp_path) == helper_flows(real, images, tmp_path)
