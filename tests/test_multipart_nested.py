"""Nested values in multipart bodies, on the wire (a loopback server records the bytes).

CVAT reads forms with Django REST framework's HTML-form rules: ``name[0][1]`` for lists,
``name.key`` for an object's members, ``name[0]key`` for a member of a list's item. That is
what was checked on a real CVAT 2.24 (tests/live/test_multipart_nested_live.py); these tests
pin the exact fields, and that what the server cannot read back is refused before sending.
"""

from __future__ import annotations

import email.parser
import email.policy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cvat_sdk._runtime import encode
from cvat_sdk.api_client import ApiClient, Configuration, exceptions, models
from tests.support.loopback import LoopbackServer, Recorded, Reply

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    def answer(request: Recorded) -> Reply:
        if request.path.startswith("/api/cloudstorages"):
            return Reply.json({"id": 5, "provider_type": "AWS_S3_BUCKET", "resource": "b"})
        if request.path.endswith("/annotations"):
            return Reply(200)
        return Reply.json({"rq_id": "rq-1"}, status=202)

    with LoopbackServer(answer) as loopback:
        yield loopback


def client_for(server: LoopbackServer) -> ApiClient:
    return ApiClient(Configuration(host=server.url, username="u", password="p"))


def parts(sent: Recorded) -> list[tuple[str, str | None, str]]:
    """(field name, filename, content) of each part, in the order sent."""
    head = f"Content-Type: {sent.headers['Content-Type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + sent.body)
    found = []
    for part in message.iter_parts():
        content = part.get_payload(decode=True) or b""
        name = str(part.get_param("name", header="content-disposition"))
        shown = "<png>" if content == PNG else content.decode("utf-8")
        found.append((name, part.get_filename(), shown))
    return found


def test_job_file_mapping_and_validation_params_travel_as_indexed_and_dotted_fields(
    server: LoopbackServer, tmp_path: Path
) -> None:
    files = []
    for name in ("a.png", "b.png", "c.png"):
        (tmp_path / name).write_bytes(PNG)
        files.append(open(tmp_path / name, "rb"))  # noqa: SIM115 - closed below
    try:
        with client_for(server) as api_client:
            api_client.tasks_api.create_data(
                7,
                data_request=models.DataRequest(
                    image_quality=70,
                    client_files=files,
                    job_file_mapping=[["c.png", "a.png"], ["b.png"]],
                    validation_params=models.DataRequestValidationParams(
                        mode="gt", frame_selection_method="manual", frames=["b.png"]
                    ),
                ),
                _content_type="multipart/form-data",
            )
    finally:
        for handle in files:
            handle.close()
    sent = server.requests[0]
    assert int(sent.headers["Content-Length"]) == len(sent.body)
    assert parts(sent) == [
        ("image_quality", None, "70"),
        ("client_files[0]", "a.png", "<png>"),
        ("client_files[1]", "b.png", "<png>"),
        ("client_files[2]", "c.png", "<png>"),
        ("job_file_mapping[0][0]", None, "c.png"),
        ("job_file_mapping[0][1]", None, "a.png"),
        ("job_file_mapping[1][0]", None, "b.png"),
        ("validation_params.mode", None, "gt"),
        ("validation_params.frame_selection_method", None, "manual"),
        ("validation_params.frames[0]", None, "b.png"),
    ]


def test_cloud_storage_owner_travels_as_dotted_fields(server: LoopbackServer) -> None:
    with client_for(server) as api_client:
        api_client.cloudstorages_api.create(
            models.CloudStorageWriteRequest(
                provider_type="AWS_S3_BUCKET",
                resource="bucket",
                display_name="d",
                credentials_type="ANONYMOUS_ACCESS",
                owner=models.BasicUserRequest(username="someone", first_name="S"),
            ),
            _content_type="multipart/form-data",
        )
        api_client.cloudstorages_api.partial_update(
            5,
            patched_cloud_storage_write_request={"owner": {"username": "other"}},
            _content_type="multipart/form-data",
        )
    created, patched = (parts(r) for r in server.requests)
    assert ("owner.username", None, "someone") in created
    assert ("owner.first_name", None, "S") in created
    assert not [p for p in created if p[0] == "owner"]
    assert patched == [("owner.username", None, "other")]


def test_a_list_item_s_members_follow_its_index_without_a_dot(server: LoopbackServer) -> None:
    body = {
        "version": 0,
        "tags": [
            {"frame": 2, "label_id": 9, "attributes": [{"spec_id": 3, "value": "v"}]},
            {"frame": 3, "label_id": 9},
        ],
    }
    with client_for(server) as api_client:
        api_client.tasks_api.update_annotations(
            7, task_annotations_update_request=body, _content_type="multipart/form-data"
        )
    assert parts(server.requests[0]) == [
        ("version", None, "0"),
        ("tags[0]frame", None, "2"),
        ("tags[0]label_id", None, "9"),
        ("tags[0]attributes[0]spec_id", None, "3"),
        ("tags[0]attributes[0]value", None, "v"),
        ("tags[1]frame", None, "3"),
        ("tags[1]label_id", None, "9"),
    ]


@pytest.mark.parametrize(
    ("body", "where"),
    [
        # the server requires JSON numbers in points; a form carries only text
        (
            {"shapes": [{"type": "rectangle", "frame": 0, "label_id": 1, "points": [1, 2, 3, 4]}]},
            "shapes[0].points",
        ),
        (
            {
                "tracks": [
                    {
                        "frame": 0,
                        "label_id": 1,
                        "shapes": [{"type": "points", "frame": 0, "points": [1.5, 2]}],
                    }
                ]
            },
            "tracks[0].shapes[0].points",
        ),
    ],
)
def test_what_a_form_cannot_carry_is_refused_before_sending(
    server: LoopbackServer, body: dict[str, Any], where: str
) -> None:
    with client_for(server) as api_client, pytest.raises(exceptions.ApiValueError) as caught:
        api_client.tasks_api.update_annotations(
            7, task_annotations_update_request=body, _content_type="multipart/form-data"
        )
    assert str(caught.value).startswith(f"{where}: ")
    assert '_content_type="application/json"' in str(caught.value)
    assert server.requests == []


def test_an_empty_job_in_job_file_mapping_is_refused_before_sending(
    server: LoopbackServer,
) -> None:
    request = models.DataRequest(image_quality=70, job_file_mapping=[["a.png"], [], ["b.png"]])
    with client_for(server) as api_client, pytest.raises(exceptions.ApiValueError) as caught:
        api_client.tasks_api.create_data(
            7, data_request=request, _content_type="multipart/form-data"
        )
    assert caught.value.path_to_item == ("job_file_mapping", 1)
    assert server.requests == []


def test_the_same_body_as_json_is_unchanged(server: LoopbackServer) -> None:
    request = models.DataRequest(image_quality=70, job_file_mapping=[["a.png"], ["b.png"]])
    with client_for(server) as api_client:
        api_client.tasks_api.create_data(7, data_request=request)
    sent = server.requests[0]
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.json() == {"image_quality": 70, "job_file_mapping": [["a.png"], ["b.png"]]}


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"a": {"b": {"c": True}}}, [("a.b.c", "true")]),
        ({"a": [{"b": {"c": 1}}]}, [("a[0]b.c", "1")]),
        (
            {"a": [[{"b": 1}], [[2, 3]]]},
            [("a[0][0]b", "1"), ("a[1][0][0]", "2"), ("a[1][0][1]", "3")],
        ),
        ({"a": {"b": None, "c": [], "d": "x"}, "e": None}, [("a.d", "x")]),
        ({"a": [b"\x00"]}, [("a[0]", b"\x00")]),
    ],
)
def test_flattening_rules(body: dict[str, Any], fields: list[tuple[str, Any]]) -> None:
    assert encode.multipart_fields(body) == fields


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"a": {"x.y": 1}}, ("a", "x.y")),
        ({"a": {"x[0]": 1}}, ("a", "x[0]")),
        ({"a": {"": 1}}, ("a", "")),
        ({"a": [1, None, 2]}, ("a", 1)),
        ({"a": [{}]}, ("a", 0)),
        ({"a": [[1], [{"b": None}]]}, ("a", 1, 0)),
    ],
)
def test_flattening_refusals(body: dict[str, Any], where: tuple[Any, ...]) -> None:
    with pytest.raises(exceptions.ApiValueError) as caught:
        encode.multipart_fields(body)
    assert caught.value.path_to_item == where
