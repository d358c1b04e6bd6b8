# mypy: disable-error-code="arg-type, call-arg, dict-item, list-item, func-returns-value"
# (the wrong arguments are the point of these tests)
"""Bad input from the caller: a typed error naming the field path, before anything is sent.

Every case runs against a live loopback server that must see no request at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import pytest

from cvat_sdk.api_client import ApiClient, exceptions, models
from tests.reliability._support import FIGURES, client_for
from tests.support.loopback import LoopbackServer, Reply

Call = Callable[[ApiClient], object]
SHAPE = {"type": "rectangle", "frame": 0, "label_id": 1, "points": [1.0, 2.0, 3.0, 4.0]}
LABEL = {"name": "car", "type": "rectangle"}
ATTRIBUTE = {"name": "color", "mutable": False, "input_type": "select", "values": ["red"]}


def shape(**changes: Any) -> dict[str, Any]:
    return {**SHAPE, **changes}


# (call, error class, the path as rendered in the message)
CASES: dict[str, tuple[Call, type[Exception], str]] = {
    # wrong types, at every depth
    "a str for an int parameter": (
        lambda c: c.tasks_api.retrieve("7"),
        exceptions.ApiTypeError,
        "id",
    ),
    "a bool for an int parameter": (
        lambda c: c.tasks_api.retrieve(True),
        exceptions.ApiTypeError,
        "id",
    ),
    "a float for an int parameter": (
        lambda c: c.tasks_api.retrieve(7.0),
        exceptions.ApiTypeError,
        "id",
    ),
    "a str for an int query": (
        lambda c: c.tasks_api.list(page_size="10"),
        exceptions.ApiTypeError,
        "page_size",
    ),
    "an int for a str field": (
        lambda c: c.tasks_api.create({"name": 5}),
        exceptions.ApiTypeError,
        "task_write_request.name",
    ),
    "a dict for a list": (
        lambda c: c.tasks_api.create({"name": "t", "labels": {"name": "car"}}),
        exceptions.ApiTypeError,
        "task_write_request.labels",
    ),
    "a str in a list of floats": (
        lambda c: c.jobs_api.update_annotations(
            1, job_annotations_update_request={"shapes": [shape(), shape(points=[1.0, "2"])]}
        ),
        exceptions.ApiTypeError,
        "job_annotations_update_request.shapes[1].points[1]",
    ),
    "a wrong type three levels down": (
        lambda c: c.tasks_api.create(
            {
                "name": "t",
                "labels": [LABEL, {**LABEL, "attributes": [ATTRIBUTE, {**ATTRIBUTE, "name": 1}]}],
            }
        ),
        exceptions.ApiTypeError,
        "task_write_request.labels[1].attributes[1].name",
    ),
    "a list for a model": (
        lambda c: c.webhooks_api.update(1, [1, 2]),
        exceptions.ApiTypeError,
        "webhook_write_request",
    ),
    "a non-ISO datetime": (
        lambda c: c.events_api.list(to="yesterday"),
        exceptions.ApiTypeError,
        "to",
    ),
    "a non-ISO datetime in a body": (
        lambda c: c.events_api.create(
            {"events": [{"scope": "s", "timestamp": "2024-13-45T99:00:00"}], "timestamp": "now"}
        ),
        exceptions.ApiTypeError,
        "client_events_request.events[0].timestamp",
    ),
    # unknown and missing fields
    "an unknown field": (
        lambda c: c.tasks_api.create({"name": "t", "nmae": "x"}),
        exceptions.ApiKeyError,
        "task_write_request.nmae",
    ),
    "an unknown nested field": (
        lambda c: c.tasks_api.create({"name": "t", "labels": [{**LABEL, "colour": "red"}]}),
        exceptions.ApiKeyError,
        "task_write_request.labels[0].colour",
    ),
    "a missing required field": (
        lambda c: c.tasks_api.create({"labels": []}),
        exceptions.ApiKeyError,
        "task_write_request.name",
    ),
    "a missing required nested field": (
        lambda c: c.jobs_api.update_annotations(
            1, job_annotations_update_request={"shapes": [{"type": "rectangle", "frame": 0}]}
        ),
        exceptions.ApiKeyError,
        "job_annotations_update_request.shapes[0].label_id",
    ),
    "a missing required parameter": (
        lambda c: c.tasks_api.retrieve_endpoint(),
        exceptions.ApiKeyError,
        "id",
    ),
    "an unknown parameter": (
        lambda c: c.tasks_api.list(bogus=1),
        exceptions.ApiTypeError,
        "bogus",
    ),
    "too many positional arguments": (
        lambda c: c.tasks_api.retrieve_endpoint(1, 2),
        exceptions.ApiTypeError,
        "",
    ),
    # enums and constraints
    "an enum value out of the list": (
        lambda c: c.tasks_api.create(
            {
                "name": "t",
                "labels": [LABEL, {**LABEL, "attributes": [{**ATTRIBUTE, "input_type": "slider"}]}],
            }
        ),
        exceptions.ApiValueError,
        "task_write_request.labels[1].attributes[0].input_type",
    ),
    "an enum parameter out of the list": (
        lambda c: c.tasks_api.create_dataset_export("CVAT", 1, location="moon"),
        exceptions.ApiValueError,
        "location",
    ),
    "an enum given an int": (
        lambda c: c.jobs_api.update_annotations(
            1, job_annotations_update_request={"shapes": [shape(type=3)]}
        ),
        exceptions.ApiTypeError,
        "job_annotations_update_request.shapes[0].type",
    ),
    "below a minimum": (
        lambda c: c.jobs_api.update_annotations(
            1, job_annotations_update_request={"shapes": [shape(frame=-1)]}
        ),
        exceptions.ApiValueError,
        "job_annotations_update_request.shapes[0].frame",
    ),
    "above a maximum": (
        lambda c: c.jobs_api.update_annotations(
            1, job_annotations_update_request={"shapes": [shape(rotation=400.0)]}
        ),
        exceptions.ApiValueError,
        "job_annotations_update_request.shapes[0].rotation",
    ),
    "longer than allowed": (
        lambda c: c.tasks_api.create({"name": "t" * 257}),
        exceptions.ApiValueError,
        "task_write_request.name",
    ),
    "shorter than allowed": (
        lambda c: c.tasks_api.create({"name": ""}),
        exceptions.ApiValueError,
        "task_write_request.name",
    ),
    "a list item longer than allowed": (
        lambda c: c.tasks_api.create(
            {
                "name": "t",
                "labels": [
                    {"name": "car", "attributes": [{**ATTRIBUTE, "values": ["red", "r" * 201]}]}
                ],
            }
        ),
        exceptions.ApiValueError,
        "task_write_request.labels[0].attributes[0].values[1]",
    ),
    "an empty item of a list of lists": (
        lambda c: c.tasks_api.create_data(
            1, data_request={"image_quality": 70, "job_file_mapping": [["a.jpg"], ["b.jpg", ""]]}
        ),
        exceptions.ApiValueError,
        "data_request.job_file_mapping[1][1]",
    ),
    "a list item below a minimum, in a model": (
        lambda c: models.PatchedTaskValidationLayoutWriteRequest(disabled_frames=[3, -1]),
        exceptions.ApiValueError,
        "disabled_frames[1]",
    ),
    "a list item assigned out of its limits": (
        lambda c: setattr(models.AttributeRequest(**ATTRIBUTE), "values", ["v" * 201]),
        exceptions.ApiValueError,
        "values[0]",
    ),
    "a map with a non-str key": (
        lambda c: models.LabelMappingEntryRequest(name="x", sublabels={1: {"name": "y"}}),
        exceptions.ApiTypeError,
        "sublabels[1]",  # the offending key
    ),
    # models built by the caller
    "a model given a wrong type": (
        lambda c: models.LabeledShapeRequest(
            type="rectangle", frame=0, label_id=1, points=[1, "x"]
        ),
        exceptions.ApiTypeError,
        "points[1]",
    ),
    "a model given an unknown field": (
        lambda c: models.LabeledShapeRequest(type="rectangle", frame=0, label_id=1, colour=1),
        exceptions.ApiTypeError,
        "colour",
    ),
    "a model missing a required field": (
        lambda c: models.LabeledShapeRequest(type="rectangle", frame=0),
        exceptions.ApiKeyError,
        "label_id",
    ),
    "a model given a bad enum": (
        lambda c: models.LabeledShapeRequest(type="blob", frame=0, label_id=1),
        exceptions.ApiValueError,
        "type",
    ),
    "a model field assigned a wrong type": (
        lambda c: setattr(
            models.LabeledShapeRequest(type="rectangle", frame=0, label_id=1), "frame", "0"
        ),
        exceptions.ApiTypeError,
        "frame",
    ),
    # headers
    "CR LF in a header parameter": (
        lambda c: c.tasks_api.list(x_organization="acme\r\nX-Injected: 1"),
        exceptions.ApiValueError,
        "X-Organization",
    ),
    "a bare LF in a header parameter": (
        lambda c: c.tasks_api.list(x_organization="acme\nX-Injected: 1"),
        exceptions.ApiValueError,
        "X-Organization",
    ),
    "NUL in a header parameter": (
        lambda c: c.tasks_api.list(x_organization="acme\0"),
        exceptions.ApiValueError,
        "X-Organization",
    ),
    "CR LF in a default header": (
        lambda c: c.set_default_header("X-Test", "a\r\nb"),
        exceptions.ApiValueError,
        "X-Test",
    ),
    "CR LF in a credential": (
        lambda c: (
            setattr(c.configuration, "api_key", {"tokenAuth": "Token a\r\nX: 1"})
            or c.server_api.retrieve_about()
        ),
        exceptions.ApiValueError,
        "Authorization",
    ),
    "a body that is not JSON": (
        lambda c: c.request("POST", c.configuration.host + "/api/x", body={"a": object()}),
        exceptions.ApiTypeError,
        "",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_refused_before_sending(name: str) -> None:
    call, error_class, path = CASES[name]
    with LoopbackServer(lambda _: Reply.json({})) as server, client_for(server) as client:
        with pytest.raises(error_class) as caught:
            call(client)
    assert server.requests == [], "a request went out"
    message = str(caught.value)
    assert isinstance(caught.value, exceptions.OpenApiException)
    if path:
        assert message.startswith(path + ":"), message
    FIGURES["bad inputs tried"] += 1


# --- path, query and header encoding ------------------------------------------------------------

HOSTILE_SEGMENTS = [
    "../../admin",
    "..",
    ".",
    "...",
    "a/b",
    "x?admin=1",
    "x#frag",
    "a b",
    "%2e%2e%2f",
    "é/ü",
    "a\\b",
    "\r\nHost: evil",
    ";jsessionid=1",
]


@pytest.mark.parametrize("segment", HOSTILE_SEGMENTS, ids=repr)
def test_path_parameters_cannot_change_the_path(segment: str) -> None:
    with LoopbackServer(lambda _: Reply.json({})) as server, client_for(server) as client:
        client.requests_api.retrieve(segment, _parse_response=False)
        client.call_api(
            "/api/requests/{id}", "GET", path_params={"id": segment}, _parse_response=False
        )
    for sent in server.requests:
        prefix, _, last = sent.path.partition("/api/requests/")
        assert prefix == "" and "/" not in last and "?" not in last and "#" not in last
        assert unquote(last) == segment
        assert sent.query == []
    FIGURES["bad inputs tried"] += 2


def test_query_values_cannot_add_parameters() -> None:
    with LoopbackServer(lambda _: Reply.json({"count": 0, "results": []})) as server:
        with client_for(server) as client:
            client.tasks_api.list(search="a&org=evil#x", sort="=1", _parse_response=False)
    assert server.requests[0].query == [("search", "a&org=evil#x"), ("sort", "=1")]
    FIGURES["bad inputs tried"] += 2


def test_validation_can_be_turned_off_and_the_raw_value_goes_out() -> None:
    """The checks are client-side only; with ``_validate_inputs=False`` the server decides."""
    with LoopbackServer(lambda _: Reply.json({})) as server, client_for(server) as client:
        client.tasks_api.create(
            {"name": 5, "extra": True}, _validate_inputs=False, _parse_response=False
        )
    assert server.requests[0].json() == {"name": 5, "extra": True}


def test_error_messages_name_the_whole_path() -> None:
    with LoopbackServer(lambda _: Reply.json({})) as server, client_for(server) as client:
        bad = {"shapes": [shape(), shape(elements=[{**SHAPE, "points": [0.0, 1.0, "z"]}])]}
        with pytest.raises(exceptions.ApiTypeError) as caught:
            client.jobs_api.update_annotations(1, job_annotations_update_request=bad)
    assert server.requests == []
    assert str(caught.value).startswith(
        "job_annotations_update_request.shapes[1].elements[0].points[2]:"
    ), str(caught.value)
    assert caught.value.path_to_item == (
        "job_annotations_update_request",
        "shapes",
        1,
        "elements",
        0,
        "points",
        2,
    )
