"""The fake CVAT server: lifecycle, authentication, records, listing, organizations, annotations."""

from __future__ import annotations

import socket
import threading

import pytest
import urllib3

from cvat_sdk.testing import FakeCvatServer

from .support import Api, shape


def test_serves_on_loopback_and_cleans_up_on_stop() -> None:
    threads_before = set(threading.enumerate())
    server = FakeCvatServer()
    with server:
        assert server.url.startswith("http://127.0.0.1:")
        port = int(server.url.rsplit(":", 1)[1])
        task = Api(server).create_task()
        Api(server).upload_images(task["id"], {"a.png": b"a"})
        (media,) = server.uploaded_files(task["id"]).values()
        assert media.exists()
    assert not media.exists()
    assert set(threading.enumerate()) <= threads_before  # kept-alive connections too
    with socket.socket() as probe:  # the port is free again
        probe.bind(("127.0.0.1", port))
    with pytest.raises(RuntimeError):
        _ = server.url


def test_about_is_public_and_reports_2_24(server: FakeCvatServer) -> None:
    response = urllib3.request("GET", server.url + "/api/server/about")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/vnd.cvat+json"
    assert response.json()["version"] == "2.24.0"


def test_unauthenticated_requests_get_401(server: FakeCvatServer) -> None:
    anonymous = Api(server, headers={})
    for path in ("/api/users/self", "/api/tasks", "/api/requests"):
        assert anonymous.call("GET", path).status == 401
    wrong = Api(server, headers=urllib3.make_headers(basic_auth="admin:nope"))
    assert wrong.call("GET", "/api/users/self").status == 401
    bad_token = Api(server, headers={"Authorization": "Token nope"})
    assert bad_token.call("GET", "/api/users/self").json() == {"detail": "Invalid token."}


def test_configured_users_and_token_login() -> None:
    with FakeCvatServer(users={"alice": "a", "admin": "b"}) as server:
        login = Api(server, headers={}).call(
            "POST", "/api/auth/login", json={"username": "alice", "password": "a"}
        )
        assert login.status == 200
        token = login.json()["key"]
        alice = Api(server, headers={"Authorization": f"Token {token}"})
        me = alice.ok("GET", "/api/users/self")
        assert (me["username"], me["is_superuser"]) == ("alice", False)
        assert (
            Api(server, headers={})
            .call("POST", "/api/auth/login", json={"username": "alice", "password": "b"})
            .status
            == 400
        )
        alice.ok("POST", "/api/auth/logout")
        assert alice.call("GET", "/api/users/self").status == 401
        issued = Api(server, headers={"Authorization": f"Token {server.issue_token('admin')}"})
        assert issued.ok("GET", "/api/users/self")["is_superuser"] is True


def test_session_auth_requires_csrf_header_for_unsafe_methods(server: FakeCvatServer) -> None:
    login = Api(server, headers={}).call(
        "POST", "/api/auth/login", json={"username": "admin", "password": "password"}
    )
    cookies = dict(c.split(";")[0].split("=", 1) for c in login.headers.getlist("Set-Cookie"))
    assert set(cookies) == {"sessionid", "csrftoken"}
    session = Api(server, headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())})

    assert session.call("GET", "/api/users/self").status == 200
    missing = session.call("POST", "/api/projects", json={"name": "p"})
    assert (missing.status, missing.json()["detail"]) == (403, "CSRF Failed: CSRF token missing.")
    wrong = session.call("POST", "/api/projects", json={"name": "p"}, headers={"X-CSRFToken": "x"})
    assert wrong.status == 403
    right = {"X-CSRFToken": cookies["csrftoken"]}
    assert session.call("POST", "/api/projects", json={"name": "p"}, headers=right).status == 201
    assert session.call("DELETE", "/api/projects/1", headers=right).status == 204


def test_users_see_only_their_own_records() -> None:
    with FakeCvatServer(users={"admin": "a", "bob": "b", "eve": "e"}) as server:
        bob = Api(server, headers=urllib3.make_headers(basic_auth="bob:b"))
        eve = Api(server, headers=urllib3.make_headers(basic_auth="eve:e"))
        admin = Api(server, headers=urllib3.make_headers(basic_auth="admin:a"))
        task = bob.create_task("bob's")
        assert eve.call("GET", f"/api/tasks/{task['id']}").status == 403
        assert eve.ok("GET", "/api/tasks")["count"] == 0
        assert admin.ok("GET", f"/api/tasks/{task['id']}")["owner"]["username"] == "bob"
        assert eve.call("GET", "/api/tasks/999").status == 404


def test_project_task_job_life_cycle(api: Api) -> None:
    project = api.ok("POST", "/api/projects", json={"name": "zoo", "labels": [{"name": "cat"}]})
    assert project["tasks"]["count"] == 0 and project["labels"]["url"].endswith(
        f"/api/labels?project_id={project['id']}"
    )
    task = api.create_task("in zoo", project_id=project["id"], segment_size=2, subset="train")
    assert "size" not in task and task["project_id"] == project["id"]  # no data yet, as CVAT

    api.upload_images(task["id"], {f"{i}.png": bytes([i]) for i in range(5)})
    task = api.ok("GET", f"/api/tasks/{task['id']}")
    assert (task["size"], task["segment_size"], task["jobs"]["count"]) == (5, 2, 3)
    jobs = api.ok("GET", "/api/jobs", {"task_id": task["id"], "sort": "id"})["results"]
    assert [(j["start_frame"], j["stop_frame"]) for j in jobs] == [(0, 1), (2, 3), (4, 4)]

    job = api.ok("PATCH", f"/api/jobs/{jobs[0]['id']}", json={"stage": "validation", "assignee": 1})
    assert (job["stage"], job["assignee"]["username"]) == ("validation", "admin")
    assert api.ok("GET", f"/api/projects/{project['id']}")["task_subsets"] == ["train"]
    renamed = api.ok("PATCH", f"/api/tasks/{task['id']}", json={"name": "renamed"})
    assert renamed["name"] == "renamed"

    assert api.call("DELETE", f"/api/projects/{project['id']}").status == 204
    assert api.call("GET", f"/api/tasks/{task['id']}").status == 404
    assert api.ok("GET", "/api/jobs")["count"] == 0


def test_validation_errors_look_like_drf(api: Api) -> None:
    response = api.call("POST", "/api/tasks", json={"labels": []})
    assert (response.status, response.json()) == (400, {"name": ["This field is required."]})
    no_labels = api.call("POST", "/api/tasks", json={"name": "t"})
    assert no_labels.status == 400
    twice = {"name": "t", "labels": [{"name": "a"}, {"name": "a"}]}
    assert api.call("POST", "/api/tasks", json=twice).status == 400
    assert api.ok("GET", "/api/tasks")["count"] == api.ok("GET", "/api/labels")["count"] == 0
    bad_json = api.call(
        "POST", "/api/projects", body=b"{", headers={"Content-Type": "application/json"}
    )
    assert bad_json.status == 400


def test_ground_truth_jobs_can_be_created_and_deleted(api: Api) -> None:
    task = api.create_task()
    api.upload_images(task["id"], {f"{i}.png": b"x" for i in range(10)})
    gt = api.ok(
        "POST",
        "/api/jobs",
        json={
            "type": "ground_truth",
            "task_id": task["id"],
            "frame_selection_method": "manual",
            "frames": [1, 5],
        },
    )
    assert (gt["type"], gt["frame_count"], gt["start_frame"], gt["stop_frame"]) == (
        "ground_truth",
        2,
        1,
        5,
    )
    annotation_job = api.ok("GET", "/api/jobs", {"type": "annotation"})["results"][0]
    assert api.call("DELETE", f"/api/jobs/{annotation_job['id']}").status == 400
    assert api.call("DELETE", f"/api/jobs/{gt['id']}").status == 204


def test_pagination_over_250_tasks(api: Api) -> None:
    for i in range(250):
        api.create_task(f"task {i:03}")
    first = api.ok("GET", "/api/tasks", {"page_size": 100})
    assert first["count"] == 250 and first["previous"] is None
    assert first["next"] == api.url("/api/tasks", {"page": 2, "page_size": 100})
    seen, url = [], api.url("/api/tasks", {"page_size": 100})
    while url:
        page = api.http.request("GET", url, headers=api.headers).json()
        seen += [t["id"] for t in page["results"]]
        url = page["next"]
    assert seen == list(range(250, 0, -1))  # newest first, as CVAT sorts by -id
    last = api.ok("GET", "/api/tasks", {"page": 3, "page_size": 100})
    assert len(last["results"]) == 50 and last["next"] is None
    assert last["previous"] == api.url("/api/tasks", {"page": 2, "page_size": 100})
    assert api.ok("GET", "/api/tasks", {"page": 2, "page_size": 100})["previous"] == api.url(
        "/api/tasks", {"page_size": 100}
    )
    assert len(api.ok("GET", "/api/tasks")["results"]) == 10  # DRF's default page size
    assert api.call("GET", "/api/tasks", {"page": 4, "page_size": 100}).status == 404


def test_filters_search_and_sort(api: Api) -> None:
    project = api.ok("POST", "/api/projects", json={"name": "p", "labels": [{"name": "x"}]})
    api.create_task("alpha", project_id=project["id"])
    api.create_task("beta")
    api.create_task("Alphabet")
    names = lambda **q: [t["name"] for t in api.ok("GET", "/api/tasks", q)["results"]]  # noqa: E731
    assert names(name="beta") == ["beta"]
    assert names(project_id=project["id"]) == ["alpha"]
    assert names(search="alpha", sort="name") == ["Alphabet", "alpha"]
    assert names(sort="-name") == ["beta", "alpha", "Alphabet"]
    assert names(owner="admin", sort="id") == ["alpha", "beta", "Alphabet"]
    assert names(owner="nobody") == []


def test_labels_with_attributes_and_label_endpoints(api: Api) -> None:
    task = api.create_task()
    labels = api.ok("GET", "/api/labels", {"task_id": task["id"], "sort": "id"})["results"]
    assert [lb["name"] for lb in labels] == ["cat", "dog"]
    cat = labels[0]
    (attribute,) = cat["attributes"]
    assert attribute["values"] == ["black", "white"] and attribute["default_value"] == "black"
    assert cat["task_id"] == task["id"] and cat["color"].startswith("#")

    api.ok(
        "PATCH",
        f"/api/tasks/{task['id']}",
        json={"labels": [{"name": "bird"}, {"id": labels[1]["id"], "deleted": True}]},
    )
    names = {lb["name"] for lb in api.ok("GET", "/api/labels", {"task_id": task["id"]})["results"]}
    assert names == {"cat", "bird"}
    api.ok("PATCH", f"/api/labels/{cat['id']}", json={"name": "kitten"})
    api.ok("PATCH", f"/api/labels/{cat['id']}", json={"color": "#123456"})
    kitten = api.ok("GET", f"/api/labels/{cat['id']}")
    assert (kitten["name"], kitten["color"]) == ("kitten", "#123456")
    assert api.call("PATCH", f"/api/labels/{cat['id']}", json={"name": "bird"}).status == 400
    bad = {"labels": [{"name": "new"}, {"name": "x", "attributes": [{"name": "a"}]}]}
    assert api.call("PATCH", f"/api/tasks/{task['id']}", json=bad).status == 400
    assert api.ok("GET", "/api/labels", {"task_id": task["id"], "name": "new"})["count"] == 0
    assert api.call("DELETE", f"/api/labels/{cat['id']}").status == 204
    assert api.call("GET", f"/api/labels/{cat['id']}").status == 404

    project = api.ok("POST", "/api/projects", json={"name": "p", "labels": [{"name": "car"}]})
    in_project = api.create_task("t", project_id=project["id"])
    by_task = api.ok("GET", "/api/labels", {"task_id": in_project["id"]})["results"]
    assert [lb["project_id"] for lb in by_task] == [project["id"]]


def test_organizations_scope_what_is_created_and_listed(api: Api) -> None:
    org = api.ok("POST", "/api/organizations", json={"slug": "acme", "name": "ACME"})
    assert api.call("POST", "/api/organizations", json={"slug": "acme"}).status == 400
    in_org = api.ok("POST", "/api/projects", {"org": "acme"}, json={"name": "org project"})
    assert in_org["organization"] == org["id"]
    by_header = api.create_task("org task", headers={"X-Organization": "acme"})
    assert by_header["organization"] == org["id"]
    personal = api.ok("POST", "/api/projects", json={"name": "mine"})
    assert personal["organization"] is None

    def names(path: str, **scope: str) -> list[str]:
        return sorted(r["name"] for r in api.ok("GET", path, scope)["results"])

    assert names("/api/projects") == ["mine"]
    assert names("/api/projects", org="acme") == ["org project"]
    assert names("/api/projects", org_id=str(org["id"])) == ["org project"]
    assert names("/api/tasks") == []
    assert names("/api/tasks", org="acme") == ["org task"]
    assert api.ok("GET", "/api/tasks", headers={"X-Organization": "acme"})["count"] == 1
    assert api.call("GET", "/api/tasks", {"org": "nope"}).status == 404
    cross = api.call("POST", "/api/tasks", json={"name": "x", "project_id": in_org["id"]})
    assert cross.status == 400  # a task and its project live in the same organization


def test_job_and_task_annotations(api: Api) -> None:
    task = api.create_task(segment_size=2)
    api.upload_images(task["id"], {f"{i}.png": b"x" for i in range(4)})
    cat, dog = (
        lb["id"]
        for lb in api.ok("GET", "/api/labels", {"task_id": task["id"], "sort": "id"})["results"]
    )
    job1, job2 = api.ok("GET", "/api/jobs", {"task_id": task["id"], "sort": "id"})["results"]
    path1 = f"/api/jobs/{job1['id']}/annotations/"

    put = api.ok(
        "PUT", path1, json={"shapes": [shape(cat)], "tags": [{"frame": 1, "label_id": dog}]}
    )
    shape_id = put["shapes"][0]["id"]
    assert put["shapes"][0]["occluded"] is False and put["shapes"][0]["source"] == "manual"

    created = api.ok("PATCH", path1, {"action": "create"}, json={"shapes": [shape(dog, frame=1)]})
    new_id = created["shapes"][0]["id"]
    assert new_id != shape_id
    api.ok(
        "PATCH", path1, {"action": "update"}, json={"shapes": [shape(cat, id=shape_id, z_order=3)]}
    )
    api.ok(
        "PATCH",
        path1,
        {"action": "delete"},
        json={"tags": [{"id": put["tags"][0]["id"], "frame": 1, "label_id": dog}]},
    )
    data = api.ok("GET", path1)
    assert {s["id"]: s["z_order"] for s in data["shapes"]} == {shape_id: 3, new_id: 0}
    assert data["tags"] == [] and data["version"] == 0

    out_of_job = api.call(
        "PATCH", path1, {"action": "create"}, json={"shapes": [shape(cat, frame=3)]}
    )
    assert out_of_job.status == 400
    unknown_label = api.call("PUT", path1, json={"shapes": [shape(cat), shape(9999)]})
    assert unknown_label.status == 400
    assert api.ok("GET", path1) == data  # a rejected write changes nothing

    task_path = f"/api/tasks/{task['id']}/annotations"
    api.ok("PATCH", task_path, {"action": "create"}, json={"shapes": [shape(dog, frame=3)]})
    assert len(api.ok("GET", f"/api/jobs/{job2['id']}/annotations")["shapes"]) == 1
    assert len(api.ok("GET", task_path)["shapes"]) == 3
    track = {
        "frame": 0,
        "label_id": cat,
        "shapes": [{"frame": 0, "type": "rectangle", "points": [0, 0, 1, 1]}],
    }
    replaced = api.ok("PUT", task_path, json={"tracks": [track]})
    assert replaced["shapes"] == [] and replaced["tracks"][0]["shapes"][0]["id"] is not None
    assert api.call("DELETE", task_path).status == 204
    assert api.ok("GET", path1)["tracks"] == []


def test_unknown_routes_and_methods(api: Api) -> None:
    missing = api.call("GET", "/api/nothing-here")  # Django's page, as CVAT
    assert (missing.status, missing.headers["Content-Type"]) == (404, "text/html; charset=utf-8")
    assert b"<title>Not Found</title>" in missing.data
    no_task = api.call("GET", "/api/tasks/999")
    assert (no_task.status, no_task.json()) == (404, {"detail": "No Task matches the given query."})
    wrong = api.call("PUT", "/api/tasks")
    assert wrong.status == 405 and set(wrong.headers["Allow"].split(", ")) == {"GET", "POST"}
    assert wrong.json() == {"detail": 'Method "PUT" not allowed.'}


def test_keep_alive_reuses_one_connection(api: Api) -> None:
    pool = urllib3.HTTPConnectionPool("127.0.0.1", int(api.server.url.rsplit(":", 1)[1]), maxsize=1)
    for _ in range(5):
        response = pool.request("GET", "/api/server/about")
        assert response.status == 200 and response.headers["Content-Length"]
    assert pool.num_connections == 1
