"""What these tests added to the fake server: seed_tasks, public_url, header-matched faults
and responses cut short."""

from __future__ import annotations

import pytest
import urllib3

from cvat_sdk.testing import FakeCvatServer

AUTH = urllib3.make_headers(basic_auth="admin:password")


def test_seed_tasks(server: FakeCvatServer) -> None:
    ids = server.seed_tasks(3, name="t{i}", subset="train", bug_tracker="b")
    page = urllib3.request("GET", f"{server.url}/api/tasks?sort=id", headers=AUTH).json()
    assert [(t["id"], t["name"], t["subset"]) for t in page["results"]] == [
        (ids[0], "t0", "train"),
        (ids[1], "t1", "train"),
        (ids[2], "t2", "train"),
    ]
    assert server.seed_tasks(2) == [ids[-1] + 1, ids[-1] + 2]  # ids go on from there
    with pytest.raises(TypeError, match="colour"):
        server.seed_tasks(1, colour="red")
    with pytest.raises(KeyError):
        server.seed_tasks(1, owner="nobody")


def test_faults_can_pick_requests_by_header(server: FakeCvatServer) -> None:
    server.faults.fail_next(503, path_prefix="/api/users/self", headers={"X-Pick": "me"})
    url = f"{server.url}/api/users/self"
    assert urllib3.request("GET", url, headers=AUTH).status == 200
    assert urllib3.request("GET", url, headers={**AUTH, "X-Pick": "other"}).status == 200
    assert urllib3.request("GET", url, headers={**AUTH, "x-pick": "me"}).status == 503
    assert urllib3.request("GET", url, headers={**AUTH, "X-Pick": "me"}).status == 200  # once


def test_a_response_cut_short(server: FakeCvatServer) -> None:
    server.faults.drop_response_after(10, path_prefix="/api/server/about")
    response = urllib3.request(
        "GET", f"{server.url}/api/server/about", preload_content=False, retries=False
    )
    assert response.status == 200 and int(response.headers["Content-Length"]) > 10
    with pytest.raises(urllib3.exceptions.ProtocolError):
        response.read()
    assert server.request_log[-1].status == 200
    assert urllib3.request("GET", f"{server.url}/api/server/about").status == 200  # once


def test_public_url() -> None:
    with FakeCvatServer(public_url="http://proxy.invalid:8080/") as server:
        server.seed_tasks(1)
        task = urllib3.request("GET", f"{server.url}/api/tasks", headers=AUTH).json()
        assert task["results"][0]["url"] == "http://proxy.invalid:8080/api/tasks/1"
        server.public_url = None  # back to the Host header
        task = urllib3.request("GET", f"{server.url}/api/tasks/1", headers=AUTH).json()
        assert task["url"] == f"{server.url}/api/tasks/1"
