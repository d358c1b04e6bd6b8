"""Model behaviour of the generated 2.24 client: construction, validation, conversion."""

from __future__ import annotations

import datetime
import json
import pickle
import warnings

import pytest

from cvat_sdk._runtime.convert import UnknownEnumValueWarning
from cvat_sdk.api_client import exceptions, model_utils, models

LABEL = {
    "name": "car",
    "color": "#ff00ff",
    "attributes": [
        {
            "name": "a",
            "mutable": True,
            "input_type": "number",
            "default_value": "5",
            "values": ["4", "5", "6"],
        }
    ],
}


def test_keyword_construction_converts_nested_dicts_recursively() -> None:
    spec = models.TaskWriteRequest(name="example task", labels=[LABEL])
    label = spec.labels[0]
    assert isinstance(label, models.PatchedLabelRequest)
    assert isinstance(label.attributes[0], models.AttributeRequest)
    assert isinstance(label.attributes[0].input_type, models.InputTypeEnum)
    assert label.attributes[0].input_type.value == "number"
    assert spec.to_dict() == {"name": "example task", "labels": [LABEL]}


def test_construction_does_not_change_the_callers_dicts() -> None:
    label = json.loads(json.dumps(LABEL))
    models.PatchedLabelRequest(**label)
    assert label == LABEL


def test_models_and_dicts_can_be_mixed() -> None:
    attribute = models.AttributeRequest(name="a", mutable=True, input_type="number", values=["1"])
    label = models.PatchedLabelRequest(name="car", attributes=[attribute, LABEL["attributes"][0]])
    assert label.attributes[0] is not None
    assert [a.name for a in label.attributes] == ["a", "a"]


def test_required_fields_can_be_positional() -> None:
    attribute = models.AttributeRequest("a", True, "checkbox", ["false"])
    assert (attribute.name, attribute.mutable, attribute.values) == ("a", True, ["false"])
    with pytest.raises(exceptions.ApiKeyError, match="values"):
        models.AttributeRequest("a", True, "checkbox")


def test_attribute_and_item_access() -> None:
    about = models.About(name="CVAT", description="d", version="2.24.0")
    assert about["version"] == about.version == "2.24.0"
    assert "name" in about
    with pytest.raises(exceptions.ApiKeyError):
        about["nope"]


def test_unset_optional_field_raises_a_named_error() -> None:
    user = models.BasicUser(username="u")
    with pytest.raises(exceptions.ApiAttributeError, match=r"BasicUser\.first_name is not set"):
        _ = user.first_name
    assert user.get("first_name") is None


def test_equality_and_repr() -> None:
    a = models.About(name="CVAT", description="d", version="1")
    b = models.About(**a.to_dict())
    assert a == b
    assert a != models.About(name="CVAT", description="d", version="2")
    assert repr(a) == "About(name='CVAT', description='d', version='1')"


def test_wrong_type_is_a_typed_error_naming_the_path() -> None:
    with pytest.raises(exceptions.ApiTypeError) as caught:
        models.TaskWriteRequest(
            name="t",
            labels=[
                {
                    "name": "car",
                    "attributes": [
                        {"name": 1, "mutable": True, "input_type": "text", "values": []}
                    ],
                }
            ],
        )
    assert caught.value.path_to_item == ("labels", 0, "attributes", 0, "name")
    assert "labels[0].attributes[0].name" in str(caught.value)


def test_unknown_field_and_bad_enum_value_are_rejected() -> None:
    with pytest.raises(exceptions.ApiTypeError, match="unexpected field 'nme'"):
        models.TaskWriteRequest(nme="t")
    with pytest.raises(exceptions.ApiKeyError, match=r"labels\[0\]\.colour"):
        models.TaskWriteRequest(name="t", labels=[{"name": "car", "colour": "#fff"}])
    with pytest.raises(exceptions.ApiValueError, match="'bogus' is not a valid InputTypeEnum"):
        models.AttributeRequest(name="a", mutable=True, input_type="bogus", values=[])


def test_constraints_are_checked_on_input() -> None:
    with pytest.raises(exceptions.ApiValueError, match="name"):
        models.TaskWriteRequest(name="x" * 300)


def test_assignment_is_validated() -> None:
    spec = models.TaskWriteRequest(name="t")
    spec.labels = [LABEL]
    assert isinstance(spec.labels[0], models.PatchedLabelRequest)
    with pytest.raises(exceptions.ApiTypeError, match="name"):
        spec.name = 5


def test_enums_are_strings_with_a_value() -> None:
    kind = models.InputTypeEnum("checkbox")
    assert kind.value == "checkbox" == str(kind) == kind
    assert repr(kind) == "InputTypeEnum('checkbox')"
    assert models.InputTypeEnum("checkbox") is kind
    assert models.RequestStatus.allowed_values[("value",)]["FINISHED"] == "finished"
    assert pickle.loads(pickle.dumps(kind)) == "checkbox"
    with pytest.raises(exceptions.ApiValueError):
        models.InputTypeEnum("bogus")


def test_interface_classes_carry_field_annotations() -> None:
    annotations = models.ITaskWriteRequest.__annotations__
    assert annotations["name"] == "str"
    assert issubclass(models.TaskWriteRequest, models.ITaskWriteRequest)


def test_reading_a_response_keeps_unknown_fields_and_round_trips() -> None:
    wire = {
        "name": "CVAT",
        "description": "d",
        "version": "9.0.0",
        "new_field_from_a_newer_server": {"x": [1, 2]},
    }
    about = models.About._from_wire(json.loads(json.dumps(wire)))
    assert about.to_dict() == wire
    assert model_utils.to_json(about) == wire


def test_unknown_enum_value_from_the_server_is_kept_with_a_warning() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status = models.Request._from_wire(
            {"status": "paused-by-newer-server", "id": "rq", "message": ""}
        ).status
    assert status == "paused-by-newer-server"
    assert isinstance(status, models.RequestStatus)
    assert [w.category for w in caught] == [UnknownEnumValueWarning]


def test_datetimes_are_aware_and_serialize_back() -> None:
    user = models.User._from_wire(
        {"username": "u", "groups": [], "last_login": "2024-05-01T10:00:00Z", "date_joined": None}
    )
    assert user.last_login == datetime.datetime(2024, 5, 1, 10, tzinfo=datetime.timezone.utc)
    assert user.date_joined is None  # not nullable in 2.24, but a null must not fail the call
    assert model_utils.to_json(user)["last_login"] == "2024-05-01T10:00:00+00:00"


def test_response_with_wrong_type_names_the_path() -> None:
    from cvat_sdk._runtime.convert import Invalid

    shapes = [
        {"type": "rectangle", "frame": 0, "label_id": 1, "points": [1.0, 2.0, 3.0, 4.0]}
        for _ in range(20)
    ]
    shapes[17]["points"][2] = "3"
    with pytest.raises(Invalid) as caught:
        models.LabeledData._from_wire({"shapes": shapes})
    assert caught.value.path == ["shapes", 17, "points", 2]


def test_missing_required_response_field_is_tolerated() -> None:
    about = models.About._from_wire({"name": "CVAT"})
    assert about.name == "CVAT"
    with pytest.raises(exceptions.ApiAttributeError):
        _ = about.version


def test_wrapper_models() -> None:
    storage = models.PatchedTaskWriteRequestTargetStorage(location="local")
    assert isinstance(storage, models.StorageRequest)
    spec = models.TaskWriteRequest(name="t", target_storage={"location": "cloud_storage"})
    assert isinstance(spec.target_storage, models.PatchedTaskWriteRequestTargetStorage)
    spec2 = models.TaskWriteRequest(
        name="t", target_storage=models.StorageRequest(location="local")
    )
    assert spec2.target_storage.location == "local"
    annotation_id = models.AnnotationId._from_wire({"shape_type": "mask", "obj_id": 1})
    assert isinstance(annotation_id.shape_type, models.ShapeType)
    assert models.AnnotationId._from_wire({"shape_type": None}).shape_type is None
    assert models.AnnotationIdShapeType("polygon") == models.ShapeType("polygon")


def test_nullable_fields_accept_none() -> None:
    patch = models.PatchedTaskWriteRequest(assignee_id=None, project_id=None)
    assert patch.to_dict() == {"assignee_id": None, "project_id": None}
    with pytest.raises(exceptions.ApiTypeError):
        models.PatchedTaskWriteRequest(name=None)


def test_union_models_accept_any_member() -> None:
    annotations = models.AnnotationsRead._from_wire({"version": 1, "shapes": [], "tags": []})
    assert annotations.version == 1
    assert models.MetaUser._from_wire({"username": "u"}).username == "u"
