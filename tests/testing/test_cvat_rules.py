"""The fake follows CVAT 2.24's rules for upload areas, file names and ended requests, as
seen on a real server (tests/live/test_fidelity.py compares both; docs/fake-server-fidelity.md
lists the rules). These run without the real server."""

from __future__ import annotations

import base64
from datetime import datetime
from urllib.parse import urlsplit

from cvat_sdk.testing import FakeCvatServer

from .support import Api

TUS = {"Tus-Resumable": "1.0.0"}
CHUNK = {**TUS, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}


def create(api: Api, path: str, name: str, size: int, **headers: str) -> tuple[int, str]:
    metadata = "filename " + base64.b64encode(name.encode()).decode()
    answer = api.call(
        "POST",
        path,
        headers={**TUS, "Upload-Length": str(size), "Upload-Metadata": metadata, **headers},
    )
    return answer.status, answer.headers.get("Location", "")


def patch(api: Api, location: str, data: bytes) -> tuple[int, str | None]:
    answer = api.call("PATCH", urlsplit(location).path, headers=CHUNK, body=data)
    return answer.status, answer.headers.get("Upload-Filename")


def bulk(api: Api, path: str, **files: bytes) -> int:
    fields = {f"client_files[{i}]": item for i, item in enumerate(files.items())}
    return api.call(
        "POST",
        path,
        headers={"Upload-Multiple": "true"},
        fields={"image_quality": "70", **fields},
    ).status


def frames(api: Api, task_id: int) -> list[str]:
    return [f["name"] for f in api.ok("GET", f"/api/tasks/{task_id}/data/meta")["frames"]]


def test_task_data_names_are_recorded_once_and_kept(api: Api) -> None:
    task = api.create_task()["id"]
    path = f"/api/tasks/{task}/data/"
    origin = {"Origin": "http://client.test"}
    assert api.call("POST", path, headers={"Upload-Start": "true"}).status == 202
    assert api.ok("GET", f"/api/tasks/{task}")["size"] == 0  # CVAT made the Data
    assert bulk(api, path, **{"a.png": b"a"}) == 200
    assert api.call("POST", path, headers={"Upload-Start": "true"}).status == 202  # keeps a.png
    assert bulk(api, path, **{"a.png": b"again"}) == 500  # a recorded name
    assert create(api, path, "a.png", 3, **origin)[0] == 500  # an existing one, through TUS
    first, second = create(api, path, "e.png", 1, **origin), create(api, path, "e.png", 1, **origin)
    assert (first[0], second[0]) == (201, 201)  # unfinished uploads hold no name
    assert patch(api, first[1], b"1") == (204, "e.png")
    assert patch(api, second[1], b"2") == (204, "e_1.png")
    nested = create(api, path, "dogs/x.png", 1, **origin)[1]
    assert patch(api, nested, b"x")[0] == 500  # CVAT makes no subdirectories
    assert api.call("HEAD", urlsplit(nested).path).headers["Upload-Offset"] == "1"
    refused = api.call("POST", path, headers={"Upload-Finish": "true"}, json={})
    assert (refused.status, refused.json()) == (400, {"image_quality": ["This field is required."]})
    rq_id = api.ok("POST", path, headers={"Upload-Finish": "true"}, json={"image_quality": 70})[
        "rq_id"
    ]
    failed = api.wait(rq_id)
    assert failed["status"] == "failed"
    assert failed["message"].endswith("/raw/dogs/x.png'\n")  # recorded, never arrived


def test_a_creation_after_a_refused_finish_uses_what_was_sent(
    server: FakeCvatServer, api: Api
) -> None:
    task = api.create_task()["id"]
    path = f"/api/tasks/{task}/data/"
    assert bulk(api, path, **{"b.png": b"b", "c.png": b"c"}) == 200
    assert api.call("POST", path, headers={"Upload-Finish": "true"}, json={}).status == 400
    assert bulk(api, path, **{"b.png": b"b"}) == 500  # a retry of the whole upload
    rq_id = api.ok("POST", path, headers={"Upload-Finish": "true"}, json={"image_quality": 9})[
        "rq_id"
    ]
    assert api.wait(rq_id)["status"] == "finished"
    assert frames(api, task) == ["b.png", "c.png"]
    assert api.ok("GET", f"/api/tasks/{task}")["image_quality"] == 9


def test_share_files_fail_in_the_background_and_are_remembered(api: Api) -> None:
    task = api.create_task()["id"]
    path = f"/api/tasks/{task}/data/"
    fields = {"image_quality": "70", "client_files[0]": ("z.png", b"z"), "server_files[0]": "b.png"}
    rq_id = api.ok("POST", path, fields=fields)["rq_id"]
    failed = api.wait(rq_id)
    assert failed["message"] == (
        "FileNotFoundError: [Errno 2] No such file or directory: '/home/django/share/b.png'\n"
    )
    again = api.ok("POST", path, headers={"Upload-Finish": "true"}, json={"image_quality": 70})
    assert api.wait(again["rq_id"])["message"] == failed["message"]  # saved in the Data
    empty = api.create_task()["id"]
    nothing = api.ok(
        "POST",
        f"/api/tasks/{empty}/data/",
        headers={"Upload-Finish": "true"},
        json={"image_quality": 1},
    )
    assert api.wait(nothing["rq_id"])["message"] == "ValueError: No media data found\n"


def test_tus_locations(server: FakeCvatServer, api: Api) -> None:
    task = api.create_task()["id"]
    path = f"/api/tasks/{task}/data/"
    status, location = create(api, path, "a.png", 1, Origin="http://client.test:1")
    assert status == 201 and location.startswith(f"http://client.test:1{path}")
    no_slash = create(api, path.rstrip("/"), "b.png", 1, Origin="http://o")[1]
    assert urlsplit(no_slash).path.startswith(f"/api/tasks/{task}/")  # urljoin drops "data"
    assert "/data" not in no_slash
    proxied = create(api, path + "?x=1", "c.png", 1, **{"X-Forwarded-Host": "proxy:81"})[1]
    assert proxied.startswith(f"http://proxy:81{path}")
    assert create(api, path, "d.png", 1)[0] == 500  # neither Origin nor a proxy
    server.public_url = "https://cvat.example"
    assert create(api, path, "e.png", 1)[1].startswith(f"https://cvat.example{path}")


def test_requests_expire_as_in_cvat(api: Api) -> None:
    task = api.create_task()["id"]
    created = api.upload_images(task, {"a.png": b"a"})
    job = api.ok("GET", "/api/jobs", {"task_id": task})["results"][0]["id"]
    export = api.ok("POST", f"/api/jobs/{job}/dataset/export", {"format": "COCO 1.0"})["rq_id"]
    exported = api.wait(export)

    def hours(request: dict[str, str]) -> float:
        ended = datetime.fromisoformat(request["finished_date"].replace("Z", "+00:00"))
        expiry = datetime.fromisoformat(request["expiry_date"].replace("Z", "+00:00"))
        return (expiry - ended).total_seconds() / 3600

    assert (round(hours(created) * 3600), hours(exported)) == (500, 24)
    assert exported["operation"]["task_id"] == task  # a job's request names its task
    assert exported["result_url"].split("?")[0].endswith(f"/api/jobs/{job}/annotations")
    formats = api.ok("GET", "/api/server/annotation/formats")
    assert "CVAT 1.1" in {f["name"] for f in formats["importers"]}
    assert "CVAT 1.1" not in {f["name"] for f in formats["exporters"]}
