"""Nested values in multipart bodies on a real CVAT 2.24: the value arrives, as in JSON.

The client spells them as CVAT's form parser reads them back (``name[0][1]``, ``name.key``,
``name[0]key``; see ``cvat_sdk._runtime.encode.multipart_fields``). The raw requests here show
why not OpenAPI's default, a JSON part: CVAT reads it as a plain string.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import urllib3
from urllib3.fields import RequestField

from cvat_sdk.api_client import ApiClient, exceptions, models
from cvat_sdk.core.exceptions import BackgroundRequestFailed
from cvat_sdk.core.helpers import wait_for_request
from tests.support.loopback import LoopbackServer, Reply

from .support import LiveServer, Trash, png

NAMES = ("a.png", "b.png", "c.png", "d.png")
MULTIPART = "multipart/form-data"


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("nested")
    return [png(folder / name, 10 + i, 8, seed=i) for i, name in enumerate(NAMES)]


def create_data(client: ApiClient, task_id: int, images: list[Path], **fields: Any) -> None:
    """Attach the images in one multipart request (no upload protocol) and wait."""
    handles = [open(path, "rb") for path in images]  # noqa: SIM115 - closed below
    try:
        started, _ = client.tasks_api.create_data(
            task_id,
            data_request=models.DataRequest(image_quality=70, client_files=handles, **fields),
            _content_type=MULTIPART,
        )
    finally:
        for handle in handles:
            handle.close()
    wait_for_request(client, started.rq_id)


def raw(live: LiveServer, method: str, path: str, fields: list[Any]) -> urllib3.BaseHTTPResponse:
    """A multipart request built by hand, for the encodings the client does not use."""
    body, content_type = urllib3.encode_multipart_formdata(fields)
    token = base64.b64encode(f"{live.user}:{live.password}".encode()).decode()
    headers = {"Authorization": f"Basic {token}", "Content-Type": content_type}
    return urllib3.request(method, live.url + path, body=body, headers=headers, timeout=60)


def json_part(name: str, value: Any) -> RequestField:
    part = RequestField(name, json.dumps(value))
    part.make_multipart(content_type="application/json")
    return part


def test_job_file_mapping_in_a_form_makes_exactly_those_jobs(
    client: ApiClient, trash: Trash, images: list[Path]
) -> None:
    task_id = trash.task(client)
    create_data(client, task_id, images, job_file_mapping=[["c.png", "a.png"], ["d.png", "b.png"]])
    meta, _ = client.tasks_api.retrieve_data_meta(task_id)
    frames = [frame.name for frame in meta.frames]
    jobs, _ = client.jobs_api.list(task_id=task_id, type="annotation", sort="id")
    assert [frames[j.start_frame : j.stop_frame + 1] for j in jobs.results] == [
        ["c.png", "a.png"],
        ["d.png", "b.png"],
    ]


def test_job_file_mapping_with_another_sorting_fails_in_the_background(
    live: LiveServer, client: ApiClient, trash: Trash, images: list[Path]
) -> None:
    """Why upload_task_data refuses the pair before sending: CVAT takes the files, answers
    202, then fails the creation (the fake server does the same)."""
    task_id = trash.task(client)
    files = [("client_files[0]", ("a.png", images[0].read_bytes(), "image/png"))]
    fields = [("image_quality", "70"), ("sorting_method", "natural")]
    mapping = [("job_file_mapping[0][0]", "a.png")]
    answer = raw(live, "POST", f"/api/tasks/{task_id}/data/", [*files, *fields, *mapping])
    assert answer.status == 202
    with pytest.raises(BackgroundRequestFailed) as failed:
        wait_for_request(client, answer.json()["rq_id"])
    assert "job_file_mapping cannot be used with sorting_method" in str(failed.value)


@pytest.mark.parametrize(
    ("task_fields", "fields", "named"),
    [
        ({"segment_size": 5}, [], "segment_size"),
        ({}, [("start_frame", "1")], "start_frame"),
        ({}, [("stop_frame", "1")], "stop_frame"),
        ({}, [("frame_filter", "step=2")], "frame_filter"),
    ],
)
def test_job_file_mapping_fails_in_the_background_with(
    live: LiveServer,
    client: ApiClient,
    trash: Trash,
    images: list[Path],
    task_fields: dict[str, int],
    fields: list[tuple[str, str]],
    named: str,
) -> None:
    """Why upload_task_data and create_from_data refuse these with a job_file_mapping."""
    task_id = trash.task(client, **task_fields)
    files = [
        (f"client_files[{i}]", (path.name, path.read_bytes(), "image/png"))
        for i, path in enumerate(images[:2])
    ]
    mapping = [("job_file_mapping[0][0]", "a.png"), ("job_file_mapping[0][1]", "b.png")]
    parts = [*files, ("image_quality", "70"), *mapping, *fields]
    answer = raw(live, "POST", f"/api/tasks/{task_id}/data/", parts)
    assert answer.status == 202
    with pytest.raises(BackgroundRequestFailed) as failed:
        wait_for_request(client, answer.json()["rq_id"])
    assert f"job_file_mapping cannot be used with {named}'" in str(failed.value)


def test_job_file_mapping_as_a_json_part_is_refused_by_the_server(
    live: LiveServer, client: ApiClient, trash: Trash, images: list[Path]
) -> None:
    """Why the client does not send OpenAPI's JSON part: CVAT sees one string per job."""
    task_id = trash.task(client)
    files = [("client_files[0]", ("a.png", images[0].read_bytes(), "image/png"))]
    answer = raw(
        live,
        "POST",
        f"/api/tasks/{task_id}/data/",
        [*files, ("image_quality", "70"), json_part("job_file_mapping", [["a.png"]])],
    )
    assert answer.status == 400
    assert answer.json() == {
        "job_file_mapping": {"0": ['Expected a list of items but got type "str".']}
    }


def test_validation_params_in_a_form_choose_the_ground_truth_frames(
    client: ApiClient, trash: Trash, images: list[Path]
) -> None:
    task_id = trash.task(client)
    params = {"mode": "gt", "frame_selection_method": "manual", "frames": ["d.png", "b.png"]}
    create_data(client, task_id, images, validation_params=params)
    layout, _ = client.tasks_api.retrieve_validation_layout(task_id)
    meta, _ = client.tasks_api.retrieve_data_meta(task_id)
    frames = [frame.name for frame in meta.frames]
    assert str(layout.mode) == "gt"
    assert sorted(frames[i] for i in layout.validation_frames) == ["b.png", "d.png"]


def test_annotation_tags_with_attributes_in_a_form_are_saved(
    live: LiveServer, client: ApiClient, trash: Trash, images: list[Path]
) -> None:
    label = {
        "name": "cat",
        "attributes": [{"name": "note", "mutable": False, "input_type": "text", "values": ["x"]}],
    }
    task_id = trash.task(client, labels=[label])
    create_data(client, task_id, images)
    task_label = client.labels_api.list(task_id=task_id)[0].results[0]
    spec_id = task_label.attributes[0].id
    tags = [
        {
            "frame": 2,
            "label_id": task_label.id,
            "attributes": [{"spec_id": spec_id, "value": "hi"}],
        },
        {"frame": 3, "label_id": task_label.id},
    ]
    client.tasks_api.update_annotations(
        task_id,
        task_annotations_update_request={"version": 0, "tags": tags},
        _content_type=MULTIPART,
    )
    saved, _ = client.tasks_api.retrieve_annotations(task_id)
    got = sorted((t.frame, [(a.spec_id, a.value) for a in t.attributes]) for t in saved.tags)
    assert got[0] == (2, [(spec_id, "hi")])
    assert got[1][0] == 3

    # what the client refuses to send as a form, the server refuses too: points are text there
    shape = [("shapes[0]type", "rectangle"), ("shapes[0]frame", "0")]
    shape += [("shapes[0]label_id", str(task_label.id))]
    shape += [(f"shapes[0]points[{i}]", str(v)) for i, v in enumerate([1, 2, 3, 4])]
    answer = raw(live, "PUT", f"/api/tasks/{task_id}/annotations", shape)
    assert answer.status == 400 and b"Value must be a float or an integer" in answer.data
    with pytest.raises(exceptions.ApiValueError, match=r"^shapes\[0\]\.points: "):
        client.tasks_api.update_annotations(
            task_id,
            task_annotations_update_request={
                "shapes": [{"type": "rectangle", "frame": 0, "label_id": 1, "points": [1, 2, 3, 4]}]
            },
            _content_type=MULTIPART,
        )


@pytest.fixture
def bucket() -> Iterator[LoopbackServer]:
    """An "S3 endpoint" on loopback that says every bucket exists (CVAT only asks HEAD)."""
    with LoopbackServer(lambda _: Reply(200, b"", {"Content-Type": "application/xml"})) as s3:
        yield s3


def test_cloud_storage_owner_in_a_form_is_read_and_validated_as_in_json(
    live: LiveServer, client: ApiClient, trash: Trash, bucket: LoopbackServer
) -> None:
    """The server sets the owner itself, but validates the one sent: an existing user name
    is refused ("already exists"), so the refusal shows the form's ``owner`` was read."""
    storage, _ = client.cloudstorages_api.create(
        models.CloudStorageWriteRequest(
            provider_type="AWS_S3_BUCKET",
            resource="live-bucket",
            display_name=f"live-nested-storage-{uuid.uuid4().hex[:8]}",  # at most 63
            credentials_type="ANONYMOUS_ACCESS",
            specific_attributes=f"endpoint_url={bucket.url}",
            owner={"username": f"nobody-{uuid.uuid4().hex[:8]}"},
        ),
        _content_type=MULTIPART,
    )
    trash.add("cloudstorages", storage.id)
    assert storage.owner.username == live.user
    assert [(r.method, r.path) for r in bucket.requests] == [("HEAD", "/live-bucket")]

    refusals = []
    for content_type in (MULTIPART, "application/json"):
        with pytest.raises(exceptions.BadRequestException) as caught:
            client.cloudstorages_api.partial_update(
                storage.id,
                patched_cloud_storage_write_request={"owner": {"username": live.user}},
                _content_type=content_type,
            )
        refusals.append(json.loads(caught.value.body))
    form, plain = refusals
    assert form == plain
    assert list(form) == ["owner"] and "already exists" in form["owner"]["username"][0]

    # a JSON part (OpenAPI's default for an object in a form) is not read at all: the same
    # owner, which the server refused above, passes unseen
    path = f"/api/cloudstorages/{storage.id}"
    answer = raw(live, "PATCH", path, [json_part("owner", {"username": live.user})])
    assert answer.status == 200
