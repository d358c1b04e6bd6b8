"""Uploads to the fake server: task data (TUS, bulk, single request), imports and backups."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import resource
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import urllib3

from cvat_sdk.testing import FakeCvatServer

from .support import Api, dumps, shape, zip_members

TUS = {"Tus-Resumable": "1.0.0"}
CHUNK = {**TUS, "Content-Type": "application/offset+octet-stream"}


def tus_create(
    api: Api, collection: str, name: str, size: int, query: dict[str, str] | None = None
) -> str:
    metadata = f"filename {base64.b64encode(name.encode()).decode()},filetype {base64.b64encode(b'image/png').decode()}"
    response = api.call(
        "POST",
        collection,
        query,
        headers={
            **TUS,
            "Upload-Length": str(size),
            "Upload-Metadata": metadata,
            "Origin": api.server.url,
        },
    )
    assert response.status == 201, response.data
    assert response.headers["Tus-Resumable"] == "1.0.0"
    return response.headers["Location"]


def tus_patch(api: Api, location: str, offset: int, data: bytes) -> urllib3.BaseHTTPResponse:
    return api.http.request(
        "PATCH", location, body=data, headers={**api.headers, **CHUNK, "Upload-Offset": str(offset)}
    )


def tus_offset(api: Api, location: str) -> int:
    response = api.http.request("HEAD", location, headers={**api.headers, **TUS})
    assert response.status == 200
    return int(response.headers["Upload-Offset"])


def tus_upload(
    api: Api, collection: str, name: str, data: bytes, query: dict[str, str] | None = None
) -> str:
    location = tus_create(api, collection, name, len(data), query)
    response = tus_patch(api, location, 0, data)
    assert response.status == 204 and response.headers["Upload-Offset"] == str(len(data))
    return response.headers["Upload-Filename"]


def test_tus_upload_resumes_after_a_dropped_connection(server: FakeCvatServer, api: Api) -> None:
    task = api.create_task()
    collection = f"/api/tasks/{task['id']}/data/"
    big, small = os.urandom(1_500_000), b"small file"
    assert api.call("POST", collection, headers={"Upload-Start": "true"}).status == 202

    location = tus_create(api, collection, "b_big.png", len(big))
    assert location.startswith(f"{server.url}{collection}")
    chunks = [
        (offset, big[offset : offset + 512 * 1024]) for offset in range(0, len(big), 512 * 1024)
    ]
    assert tus_patch(api, location, *chunks[0]).status == 204

    server.faults.drop_connection_after(
        100_000, path_prefix=urlsplit(location).path, method="PATCH"
    )
    with pytest.raises(urllib3.exceptions.ProtocolError):
        tus_patch(api, location, *chunks[1])
    assert tus_offset(api, location) == chunks[1][0]  # the cut-short chunk was discarded
    assert tus_patch(api, location, chunks[0][0], chunks[0][1]).status == 409  # stale offset
    for offset, data in chunks[1:]:
        response = tus_patch(api, location, offset, data)
        assert response.status == 204 and response.headers["Upload-Offset"] == str(
            offset + len(data)
        )
    assert (
        api.http.request("HEAD", location, headers=api.headers).status == 404
    )  # done: gone, as CVAT

    assert tus_upload(api, collection, "a_small.png", small) == "a_small.png"
    finish = api.call(
        "POST",
        collection,
        headers={"Upload-Finish": "true"},
        json={
            "image_quality": 80,
            "sorting_method": "predefined",
            "upload_file_order": ["b_big.png", "a_small.png"],
        },
    )
    assert finish.status == 202
    assert api.wait(finish.json()["rq_id"])["status"] == "finished"

    files = server.uploaded_files(task["id"])
    assert list(files) == ["b_big.png", "a_small.png"]
    assert files["b_big.png"].read_bytes() == big and files["a_small.png"].read_bytes() == small
    patches = [
        r for r in server.request_log if (r.method, r.path) == ("PATCH", urlsplit(location).path)
    ]
    assert len(patches) == len(chunks) + 2  # the dropped chunk and the stale one were sent again
    assert [r.status for r in patches].count(None) == 1
    assert api.ok("GET", f"/api/tasks/{task['id']}")["image_quality"] == 80


def test_tus_rejects_what_the_protocol_forbids(api: Api) -> None:
    task = api.create_task()
    collection = f"/api/tasks/{task['id']}/data/"
    location = tus_create(api, collection, "a.png", 10)
    origin = {"Origin": api.server.url}
    again = {**TUS, **origin, "Upload-Length": "3", "Upload-Metadata": "filename YS5wbmc="}
    assert api.call("POST", collection, headers=again).status == 201  # a.png is not there yet
    wrong_type = api.http.request(
        "PATCH", location, body=b"x", headers={**api.headers, "Upload-Offset": "0"}
    )
    assert wrong_type.status == 415
    assert wrong_type.json() == {"detail": 'Unsupported media type "" in request.'}
    assert tus_patch(api, location, 0, b"x" * 11).status == 413
    stale = tus_patch(api, location, 5, b"x")
    assert (stale.status, stale.data) == (409, b"")
    assert tus_patch(api, location, 0, b"x" * 10).status == 204
    # CVAT 2.24: a task data file name that exists fails its import-request lookup, a 500
    assert api.call("POST", collection, headers=again).status == 500
    unsafe = api.call(
        "POST",
        collection,
        headers={**TUS, **origin, "Upload-Length": "1", "Upload-Metadata": "filename Li4vZXRj"},
    )
    assert (unsafe.status, unsafe.json()) == (400, "File name ../etc is not allowed")
    no_origin = {**TUS, "Upload-Length": "1", "Upload-Metadata": "filename Yi5wbmc="}
    assert api.call("POST", collection, headers=no_origin).status == 500
    empty = {**again, "Upload-Length": "0", "Upload-Metadata": "filename Yy5wbmc="}
    assert api.call("POST", collection, headers=empty).status == 500
    gone = collection + "00000000-0000-0000-0000-000000000000"
    assert api.call("HEAD", gone).status == 404
    assert api.call("PATCH", gone, headers=CHUNK, body=b"x").status == 500
    assert api.call("OPTIONS", collection).status == 500


def test_bulk_upload_multiple_sorts_lexicographically(server: FakeCvatServer, api: Api) -> None:
    task = api.create_task()
    files = {"b.png": b"B" * 1000, "cats/c.png": b"C", "a.png": os.urandom(3_000_000)}
    request = api.upload_images(task["id"], files)
    assert request["status"] == "finished" and request["operation"]["type"] == "create:task"
    received = server.uploaded_files(task["id"])
    assert list(received) == ["a.png", "b.png", "c.png"]  # Django keeps a form file's base name
    assert [path.read_bytes() for path in received.values()] == [
        files["a.png"],
        files["b.png"],
        files["cats/c.png"],
    ]


def test_single_request_multipart_upload(server: FakeCvatServer, api: Api) -> None:
    task = api.create_task()
    fields = {
        "image_quality": "50",
        "sorting_method": "predefined",
        "client_files[0]": ("2.png", b"two"),
        "client_files[1]": ("1.png", b"one"),
    }
    rq_id = api.ok("POST", f"/api/tasks/{task['id']}/data", fields=fields)["rq_id"]
    assert api.ok("GET", f"/api/tasks/{task['id']}")["size"] == 0  # not done before polled
    assert api.wait(rq_id)["status"] == "finished"
    assert list(server.uploaded_files(task["id"])) == ["2.png", "1.png"]  # as sent
    assert api.call("POST", f"/api/tasks/{task['id']}/data", fields=fields).status == 400


def test_a_copy_of_one_request_is_refused_before_it_writes(
    server: FakeCvatServer, api: Api
) -> None:
    """Upload-Start with Upload-Finish is a whole upload. As on CVAT 2.24, a copy of it meets
    the names the first registered while the task is made (500), then "Adding more data"
    (400); neither appends to the files."""
    task = api.create_task()
    fields = {"image_quality": "70", "client_files[0]": ("a.png", b"first")}
    whole = {"Upload-Start": "true", "Upload-Finish": "true"}
    path = f"/api/tasks/{task['id']}/data/"
    rq_id = api.ok("POST", path, fields=fields, headers=whole)["rq_id"]
    assert api.call("POST", path, fields=fields, headers=whole).status == 500
    assert api.wait(rq_id)["status"] == "finished"
    assert api.call("POST", path, fields=fields, headers=whole).status == 400
    assert server.uploaded_files(task["id"])["a.png"].read_bytes() == b"first"


def test_chunked_transfer_encoding(server: FakeCvatServer, api: Api) -> None:
    body, content_type = urllib3.encode_multipart_formdata(
        {"image_quality": "70", "client_files[0]": ("a.png", b"a" * 100_000)}
    )
    pieces = (body[i : i + 4096] for i in range(0, len(body), 4096))  # no length: chunked
    task = api.create_task()
    response = api.call(
        "POST",
        f"/api/tasks/{task['id']}/data/",
        body=pieces,
        headers={"Content-Type": content_type},
    )
    assert response.status == 202
    api.wait(response.json()["rq_id"])
    assert server.uploaded_files(task["id"])["a.png"].read_bytes() == b"a" * 100_000
    (upload,) = [r for r in server.request_log if r.method == "POST" and "/data" in r.path]
    assert upload.headers["transfer-encoding"] == "chunked" and upload.body_length == len(body)


def test_data_upload_validation(api: Api) -> None:
    task = api.create_task()
    path = f"/api/tasks/{task['id']}/data/"
    assert api.call("POST", path, json={}, headers={"Upload-Finish": "true"}).status == 400
    bulk = api.call(
        "POST",
        path,
        headers={"Upload-Multiple": "true"},
        fields={"client_files[0]": ("b.png", b"b")},
    )
    assert (bulk.status, bulk.json()) == (400, {"image_quality": ["This field is required."]})
    api.ok(
        "POST",
        path,
        headers={"Upload-Multiple": "true"},
        fields={"image_quality": "70", "client_files[0]": ("b.png", b"b")},
    )
    order = {"image_quality": 70, "upload_file_order": ["a.png"], "sorting_method": "predefined"}
    refused = api.call("POST", path, json=order, headers={"Upload-Finish": "true"})
    assert refused.status == 400
    assert refused.json()[0].endswith("Mismatching files: b.png (extra), a.png (missing)")
    mapping = {"image_quality": 70, "job_file_mapping": [["c.png"]]}
    rq_id = api.ok("POST", path, json=mapping, headers={"Upload-Finish": "true"})["rq_id"]
    failed = api.wait(rq_id)
    assert failed["status"] == "failed" and "Can't find file 'c.png'" in failed["message"]
    # an order without the predefined sorting is not looked at, as in CVAT
    ignored = {"image_quality": 70, "upload_file_order": ["z.png"]}
    rq_id = api.ok("POST", path, json=ignored, headers={"Upload-Finish": "true"})["rq_id"]
    assert api.wait(rq_id)["status"] == "finished"


def test_job_file_mapping_in_a_form(server: FakeCvatServer, api: Api) -> None:
    """`job_file_mapping[i][j]` fields make a list of lists, as DRF reads them back; with a
    sorting other than the lexicographical one the creation fails in the background."""
    whole = {"Upload-Start": "true", "Upload-Finish": "true"}
    files = {"client_files[0]": ("a.png", b"a"), "client_files[1]": ("b.png", b"b")}
    mapping = {"job_file_mapping[1][0]": "a.png", "job_file_mapping[0][0]": "b.png"}
    task = api.create_task()
    path = f"/api/tasks/{task['id']}/data/"
    fields = {"image_quality": "70", **mapping, **files}
    rq_id = api.ok("POST", path, fields=fields, headers=whole)["rq_id"]
    assert api.wait(rq_id)["status"] == "finished"
    assert list(server.uploaded_files(task["id"])) == ["b.png", "a.png"]  # the mapping's order
    other = api.create_task()
    fields = {**fields, "sorting_method": "natural"}
    path = f"/api/tasks/{other['id']}/data/"
    failed = api.wait(api.ok("POST", path, fields=fields, headers=whole)["rq_id"])
    assert failed["status"] == "failed"
    assert "job_file_mapping cannot be used with sorting_method" in failed["message"]


@pytest.mark.parametrize(
    ("task_fields", "fields", "named"),
    [
        ({"segment_size": 5}, {}, "segment_size"),
        ({}, {"start_frame": "1"}, "start_frame"),
        ({}, {"stop_frame": "1"}, "stop_frame"),
        ({}, {"frame_filter": "step=2"}, "frame_filter"),
    ],
)
def test_job_file_mapping_fails_with_what_cvat_fails_it_over(
    api: Api, task_fields: dict[str, int], fields: dict[str, str], named: str
) -> None:
    """As on CVAT 2.24 (tests/live/test_multipart_nested_live.py): taken, then failed."""
    task = api.create_task(**task_fields)
    form = {
        "image_quality": "70",
        "job_file_mapping[0][0]": "a.png",
        "job_file_mapping[0][1]": "b.png",
        "client_files[0]": ("a.png", b"a"),
        "client_files[1]": ("b.png", b"b"),
        **fields,
    }
    whole = {"Upload-Start": "true", "Upload-Finish": "true"}
    answer = api.ok("POST", f"/api/tasks/{task['id']}/data/", fields=form, headers=whole)
    failed = api.wait(answer["rq_id"])
    assert failed["status"] == "failed"
    assert f"job_file_mapping cannot be used with {named}'" in failed["message"]


PER_JOB = {"mode": "gt", "frame_selection_method": "random_per_job", "frames_per_job_count": "2"}
POOL = {
    "mode": "gt_pool",
    "frame_selection_method": "random_uniform",
    "frame_count": "1",
    "frames_per_job_count": "1",
}
TOO_MANY_PER_JOB = "Validation frame count per job cannot be greater than segment size"
POOL_NOT_RANDOM = 'validation mode "gt_pool" can only be used with "random" sorting'


@pytest.mark.parametrize(
    ("task_fields", "fields", "failure"),
    [
        ({}, PER_JOB, TOO_MANY_PER_JOB),  # a task without segment_size too
        ({"segment_size": 2}, PER_JOB, TOO_MANY_PER_JOB),
        ({"segment_size": 3}, PER_JOB, None),
        ({}, {**POOL, "sorting_method": "natural"}, POOL_NOT_RANDOM),
        ({}, {**POOL, "sorting_method": "random"}, None),
    ],
)
def test_validation_params_fail_the_creation_as_on_cvat(
    api: Api, task_fields: dict[str, int], fields: dict[str, str], failure: str | None
) -> None:
    """As on CVAT 2.24 (tests/live/test_fidelity.py): taken, then failed in the background."""
    task = api.create_task(**task_fields)
    form: dict[str, Any] = {
        "image_quality": "70",
        **{k if k == "sorting_method" else f"validation_params.{k}": v for k, v in fields.items()},
        "client_files[0]": ("a.png", b"a"),
    }
    whole = {"Upload-Start": "true", "Upload-Finish": "true"}
    answer = api.ok("POST", f"/api/tasks/{task['id']}/data/", fields=form, headers=whole)
    ended = api.wait(answer["rq_id"])
    assert ended["status"] == ("finished" if failure is None else "failed")
    assert failure is None or failure in ended["message"]


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"mode": "gt"}, {"frame_selection_method": ["This field is required."]}),
        (
            {"mode": "gt_pool", "frame_selection_method": "random_uniform", "frame_count": "1"},
            {
                "non_field_errors": [
                    'One of the fields "frames_per_job_count", "frames_per_job_share" required'
                ]
            },
        ),
        (
            {"mode": "gt", "frame_selection_method": "manual", "frames[0]": "a", "frames[1]": "a"},
            {"non_field_errors": ["Frames must not repeat"]},
        ),
    ],
)
def test_validation_params_are_checked_in_every_bulk_request(
    api: Api, params: dict[str, str], detail: dict[str, list[str]]
) -> None:
    """As CVAT 2.24 answers (tests/live/test_fidelity.py), before it takes any file."""
    task = api.create_task()
    form = {
        "image_quality": "70",
        **{f"validation_params.{k}": v for k, v in params.items()},
        "client_files[0]": ("a.png", b"a"),
    }
    path = f"/api/tasks/{task['id']}/data/"
    refused = api.call("POST", path, fields=form, headers={"Upload-Multiple": "true"})
    assert (refused.status, refused.json()) == (400, {"validation_params": detail})


def test_large_upload_is_streamed_to_disk(server: FakeCvatServer, api: Api) -> None:
    """300 MB through TUS in 100 MB chunks, sent from a generator: the server must not buffer."""
    task = api.create_task()
    collection = f"/api/tasks/{task['id']}/data/"
    block, pieces, piece_size = os.urandom(1 << 20), 300, 1 << 20
    size, sent = pieces * piece_size, hashlib.sha256()

    def body(first: int, count: int) -> Iterator[bytes]:
        for i in range(first, first + count):
            piece = i.to_bytes(8, "big") + block[8:]
            sent.update(piece)
            yield piece

    location = tus_create(api, collection, "big.bin", size)
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for first in range(0, pieces, 100):
        headers = {
            **api.headers,
            **CHUNK,
            "Upload-Offset": str(first * piece_size),
            "Content-Length": str(100 * piece_size),
        }
        response = api.http.request("PATCH", location, body=body(first, 100), headers=headers)
        assert response.status == 204
    growth_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    rq_id = api.ok(
        "POST", collection, json={"image_quality": 70}, headers={"Upload-Finish": "true"}
    )["rq_id"]
    api.wait(rq_id)

    received = hashlib.sha256()
    with server.uploaded_files(task["id"])["big.bin"].open("rb") as file:
        while piece := file.read(1 << 20):
            received.update(piece)
    assert received.digest() == sent.digest()
    assert growth_mib < 100


def test_annotations_import_through_tus(server: FakeCvatServer, api: Api) -> None:
    task = api.create_task()
    api.upload_images(task["id"], {"0.png": b"0", "1.png": b"1"})
    cat = api.ok("GET", "/api/labels", {"task_id": task["id"], "name": "cat"})["results"][0]["id"]
    document = dumps({"shapes": [shape(cat, frame=1)]})

    collection = f"/api/tasks/{task['id']}/annotations/"
    query = {"format": "CVAT 1.1", "filename": "ann.json"}
    assert api.call("POST", collection, query, headers={"Upload-Start": "true"}).status == 202
    name = tus_upload(api, collection, "ann.json", document)
    finish = api.ok(
        "POST", collection, {**query, "filename": name}, headers={"Upload-Finish": "true"}
    )
    assert finish["rq_id"] == f"import:task-{task['id']}-annotations"
    assert api.ok("GET", collection)["shapes"] == []  # applied when the request finishes
    request = api.wait(finish["rq_id"])
    assert (request["status"], request["operation"]["format"]) == ("finished", None)  # as CVAT
    assert [s["frame"] for s in api.ok("GET", collection)["shapes"]] == [1]

    job = api.ok("GET", "/api/jobs", {"task_id": task["id"]})["results"][0]
    two = dumps({"tags": [{"frame": 0, "label_id": cat}, {"frame": 1, "label_id": cat}]})
    jobs = f"/api/jobs/{job['id']}/annotations/"
    name = tus_upload(api, jobs, "a.json", two)
    unknown = api.call(
        "POST", jobs, {"format": "X", "filename": name}, headers={"Upload-Finish": "true"}
    )
    assert (unknown.status, unknown.json()) == (400, ["Unknown input format 'X'"])
    # the refused finish left a.json there, and no import of the job ended: the name is taken
    metadata = "filename " + base64.b64encode(b"a.json").decode()
    retry = {**TUS, "Upload-Length": "4", "Upload-Metadata": metadata, "Origin": server.url}
    taken = api.call("POST", jobs, headers=retry)
    assert (taken.status, taken.json()) == (409, "File with same name already exists")
    rq_id = api.ok(
        "POST", jobs, {"format": "COCO 1.0", "filename": name}, headers={"Upload-Finish": "true"}
    )["rq_id"]
    assert api.wait(rq_id)["status"] == "finished"
    data = api.ok("GET", f"/api/jobs/{job['id']}/annotations")
    assert len(data["tags"]) == 2 and data["shapes"] == []

    # CVAT 2.24 reads an annotation file only from the upload area, never from the finish
    in_form = api.call(
        "POST", collection, {"format": "CVAT 1.1"}, fields={"annotation_file": ("b.xml", b"<x/>")}
    )
    assert (in_form.status, in_form.json()) == (400, "No such file were uploaded")
    # once an import of the task ended, a file left under a name no longer blocks it
    tus_upload(api, collection, "b.xml", b"<x/>")
    assert tus_upload(api, collection, "b.xml", b"<y/>") == "b.xml"


def test_export_and_download(server: FakeCvatServer, api: Api) -> None:
    task = api.create_task()
    api.upload_images(task["id"], {"0.png": b"zero", "1.png": b"one"})
    cat = api.ok("GET", "/api/labels", {"task_id": task["id"], "name": "cat"})["results"][0]["id"]
    api.ok("PUT", f"/api/tasks/{task['id']}/annotations", json={"shapes": [shape(cat)]})

    query = {"format": "COCO 1.0", "save_images": "true"}
    rq_id = api.ok("POST", f"/api/tasks/{task['id']}/dataset/export", query)["rq_id"]
    assert rq_id == f"export:task-{task['id']}-dataset-in-COCO_1@0-format-by-1"
    again = api.call("POST", f"/api/tasks/{task['id']}/dataset/export", query)
    assert (again.status, again.json()) == (409, "Export request is being processed")
    early = api.call("GET", f"/api/tasks/{task['id']}/dataset", {**query, "action": "download"})
    assert (early.status, early.data) == (400, b"Dataset export has not been finished yet")
    unknown = api.call("POST", f"/api/tasks/{task['id']}/dataset/export", {"format": "X"})
    assert (unknown.status, unknown.json()) == (400, ["Unknown format specified for the request"])
    request = api.wait(rq_id)
    assert request["status"] == "finished" and request["result_url"].startswith(server.url)

    download = api.http.request(
        "GET", request["result_url"], headers=api.headers, preload_content=False
    )
    assert download.status == 200 and download.headers["Content-Type"] == "application/zip"
    data = b"".join(download.stream(1 << 16))
    assert int(download.headers["Content-Length"]) == len(data)
    members = zip_members(data)
    assert members["data/0.png"] == b"zero" and members["data/1.png"] == b"one"
    assert b'"label_id": %d' % cat in members["annotations.json"]
    assert Api(server, headers={}).http.request("GET", request["result_url"]).status == 401
    # one download per export: then the request is gone
    second = api.http.request("GET", request["result_url"], headers=api.headers)
    assert second.status == 400 and second.data.startswith(b"Unknown export request id.")
    assert api.call("GET", f"/api/requests/{rq_id}").status == 404

    annotations_only = api.ok(
        "POST", f"/api/tasks/{task['id']}/dataset/export", {"format": "YOLO 1.1"}
    )["rq_id"]
    url = api.wait(annotations_only)["result_url"]
    assert "/annotations?" in url and "data/0.png" not in zip_members(
        api.http.request("GET", url, headers=api.headers).data
    )

    job = api.ok("GET", "/api/jobs", {"task_id": task["id"]})["results"][0]
    job_rq = api.ok(
        "POST",
        f"/api/jobs/{job['id']}/dataset/export",
        {"format": "COCO 1.0", "save_images": "true"},
    )["rq_id"]
    job_zip = zip_members(
        api.http.request("GET", api.wait(job_rq)["result_url"], headers=api.headers).data
    )
    assert set(job_zip) == {"task.json", "annotations.json", "data/0.png", "data/1.png"}
    kept = api.ok(
        "POST", f"/api/tasks/{task['id']}/dataset/export", {"format": "CVAT for images 1.1"}
    )["rq_id"]
    api.wait(kept)
    exports = api.ok("GET", "/api/requests", {"action": "export", "task_id": task["id"]})
    assert [r["id"] for r in exports["results"]] == [kept]  # the downloaded ones are gone


def test_task_backup_round_trip(server: FakeCvatServer, api: Api) -> None:
    task = api.create_task("original", segment_size=1)
    api.upload_images(task["id"], {"0.png": b"zero", "1.png": b"one"})
    cat = api.ok("GET", "/api/labels", {"task_id": task["id"], "name": "cat"})["results"][0]
    spec_id = cat["attributes"][0]["id"]
    tag = {
        "frame": 1,
        "label_id": cat["id"],
        "attributes": [{"spec_id": spec_id, "value": "white"}],
    }
    api.ok("PUT", f"/api/tasks/{task['id']}/annotations", json={"tags": [tag]})

    rq_id = api.ok("POST", f"/api/tasks/{task['id']}/backup/export")["rq_id"]
    backup = api.http.request("GET", api.wait(rq_id)["result_url"], headers=api.headers).data

    collection = "/api/tasks/backup/"
    api.ok("POST", collection, headers={"Upload-Start": "true"})
    name = tus_upload(api, collection, "backup.zip", backup)
    # made unique, as CVAT does: a temporary file name with the sent name and the user's
    assert re.fullmatch(r"cvat-backup-backup\.zip-by-admin[a-z0-9_]{8}\.zip", name), name
    restored = api.wait(
        api.ok("POST", collection, {"filename": name}, headers={"Upload-Finish": "true"})["rq_id"]
    )
    assert restored["status"] == "finished", restored["message"]
    copy = api.ok("GET", f"/api/tasks/{restored['result_id']}")
    assert (copy["name"], copy["size"], copy["jobs"]["count"]) == ("original", 2, 2)
    assert {n: p.read_bytes() for n, p in server.uploaded_files(copy["id"]).items()} == {
        "0.png": b"zero",
        "1.png": b"one",
    }
    new_cat = api.ok("GET", "/api/labels", {"task_id": copy["id"], "name": "cat"})["results"][0]
    (copied_tag,) = api.ok("GET", f"/api/tasks/{copy['id']}/annotations")["tags"]
    assert copied_tag["label_id"] == new_cat["id"] != cat["id"]
    assert copied_tag["attributes"] == [
        {"spec_id": new_cat["attributes"][0]["id"], "value": "white"}
    ]

    junk = api.ok("POST", collection, fields={"task_file": ("x.zip", b"not a zip")})["rq_id"]
    failed = api.wait(junk)
    assert (
        failed["status"] == "failed" and "zip" in failed["message"] and failed["result_id"] is None
    )


def test_project_backup_and_dataset_import(api: Api) -> None:
    project = api.ok("POST", "/api/projects", json={"name": "zoo", "labels": [{"name": "cat"}]})
    task = api.create_task("t", project_id=project["id"])
    api.upload_images(task["id"], {"0.png": b"0"})
    rq_id = api.ok("POST", f"/api/projects/{project['id']}/backup/export")["rq_id"]
    backup = api.http.request("GET", api.wait(rq_id)["result_url"], headers=api.headers).data
    assert {
        "project.json",
        f"tasks/{task['id']}/task.json",
        f"tasks/{task['id']}/data/0.png",
    } <= set(zip_members(backup))

    restored = api.wait(
        api.ok("POST", "/api/projects/backup", fields={"project_file": ("p.zip", backup)})["rq_id"]
    )
    copy = api.ok("GET", f"/api/projects/{restored['result_id']}")
    assert (copy["name"], copy["tasks"]["count"]) == ("zoo", 1)

    dataset = api.ok(
        "POST",
        f"/api/projects/{project['id']}/dataset/",
        {"format": "COCO 1.0"},
        fields={"dataset_file": ("d.zip", backup)},
    )
    assert api.wait(dataset["rq_id"])["status"] == "finished"
