"""Fault injection and the request log of the fake server."""

from __future__ import annotations

import time

import pytest
import urllib3

from cvat_sdk.testing import FakeCvatServer

from .support import Api


def test_fail_next_answers_the_status_once(server: FakeCvatServer, api: Api) -> None:
    server.faults.fail_next(503, path_prefix="/api/tasks", method="POST", retry_after=2)
    assert api.call("GET", "/api/tasks").status == 200  # another method
    failed = api.call("POST", "/api/tasks", json={"name": "t", "labels": [{"name": "a"}]})
    assert (failed.status, failed.headers["Retry-After"]) == (503, "2")
    assert api.ok("GET", "/api/tasks")["count"] == 0  # the failed request did nothing
    assert (
        api.call("POST", "/api/tasks", json={"name": "t", "labels": [{"name": "a"}]}).status == 201
    )


def test_failures_work_with_urllib3_retries(server: FakeCvatServer, api: Api) -> None:
    server.faults.fail_next(502, path_prefix="/api/server/about", times=2)
    retry = urllib3.Retry(total=3, status_forcelist=[502], backoff_factor=0)
    response = api.http.request("GET", api.url("/api/server/about"), retries=retry)
    assert response.status == 200
    assert server.count_requests("GET", "/api/server/about") == 3


def test_delay_trips_a_read_timeout(server: FakeCvatServer, api: Api) -> None:
    server.faults.delay(0.5, path_prefix="/api/users/self", times=1)
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        api.http.request("GET", api.url("/api/users/self"), headers=api.headers, timeout=0.1)
    started = time.monotonic()
    assert api.call("GET", "/api/users/self").status == 200
    assert time.monotonic() - started < 0.4  # `times` ran out


def test_dropped_connection_and_recovery(server: FakeCvatServer, api: Api) -> None:
    server.faults.drop_connection_after(0, path_prefix="/api/users/self")
    with pytest.raises(urllib3.exceptions.ProtocolError):
        api.call("GET", "/api/users/self")
    assert api.call("GET", "/api/users/self").status == 200
    dropped, ok = server.request_log[-2:]
    assert (dropped.status, ok.status) == (None, 200)


def test_a_bulk_upload_cut_short_leaves_nothing_behind(server: FakeCvatServer, api: Api) -> None:
    task = api.create_task()
    path = f"/api/tasks/{task['id']}/data/"
    fields = {
        "image_quality": "70",
        "client_files[0]": ("a.png", b"A" * 300_000),
        "client_files[1]": ("b.png", b"B"),
    }
    api.ok("POST", path, headers={"Upload-Start": "true"})
    server.faults.drop_connection_after(200_000, path_prefix=path)
    with pytest.raises(urllib3.exceptions.ProtocolError):
        api.call("POST", path, headers={"Upload-Multiple": "true"}, fields=fields)
    api.ok("POST", path, headers={"Upload-Multiple": "true"}, fields=fields)
    rq_id = api.ok("POST", path, headers={"Upload-Finish": "true"}, json={"image_quality": 70})[
        "rq_id"
    ]
    assert api.wait(rq_id)["status"] == "finished"
    files = server.uploaded_files(task["id"])
    assert files["a.png"].read_bytes() == b"A" * 300_000 and files["b.png"].read_bytes() == b"B"


def test_background_requests_can_be_made_to_fail(server: FakeCvatServer, api: Api) -> None:
    server.faults.fail_background("disk full", operation="create:task")
    task = api.create_task()
    request = api.upload_images(task["id"], {"a.png": b"a"})
    assert (request["status"], request["message"]) == ("failed", "disk full")
    assert api.ok("GET", f"/api/tasks/{task['id']}")["size"] == 0  # a Data without media


def test_requests_progress_through_polls() -> None:
    with FakeCvatServer(polls_to_finish=3) as server:
        slow = Api(server)
        task = slow.create_task()
        path = f"/api/tasks/{task['id']}/data/"
        rq_id = slow.ok(
            "POST", path, fields={"image_quality": "70", "client_files[0]": ("a.png", b"a")}
        )["rq_id"]
        states = [slow.ok("GET", f"/api/requests/{rq_id}")["status"] for _ in range(4)]
        assert states == ["queued", "started", "finished", "finished"]
        listed = slow.ok("GET", "/api/requests", {"status": "finished"})["results"]
        assert [r["id"] for r in listed] == [rq_id]


def test_request_log_keeps_secrets_out(server: FakeCvatServer, api: Api) -> None:
    api.ok("GET", "/api/users/self", headers={"Cookie": "sessionid=x", "X-Trace": "1"})
    entry = server.request_log[-1]
    assert entry.headers["authorization"] == entry.headers["cookie"] == "<redacted>"
    assert (entry.headers["x-trace"], entry.route, entry.status) == ("1", "/api/users/self", 200)
    body = b'{"name": "p"}'
    api.ok("POST", "/api/projects", body=body, headers={"Content-Type": "application/json"})
    assert server.request_log[-1].body_length == len(body)
    server.clear_request_log()
    assert server.request_log == []
