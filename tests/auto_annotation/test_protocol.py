"""The detection-function protocol without a server: spec rules, result checks and label
mapping (each BadFunctionError case), and loading functions by module, file and parameters."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import cvat_sdk.auto_annotation as cvataa
from cvat_sdk import models
from cvat_sdk.auto_annotation.driver import _convert, _label_maps
from cvat_sdk.auto_annotation.interface import check_spec
from cvat_sdk.models import Label

TASK_LABELS = [
    Label._from_wire({"id": 100, "name": "bat", "type": "any", "sublabels": [], "attributes": []}),
    Label._from_wire(
        {
            "id": 101,
            "name": "cat",
            "type": "rectangle",
            "sublabels": [],
            "attributes": [
                {"id": 7, "name": "color", "input_type": "text", "mutable": False, "values": [""]}
            ],
        }
    ),
    Label._from_wire(
        {
            "id": 102,
            "name": "rat",
            "type": "skeleton",
            "attributes": [],
            "sublabels": [
                {"id": 201, "name": "head", "type": "points", "attributes": []},
                {"id": 202, "name": "tail", "type": "points", "attributes": []},
            ],
        }
    ),
]


def _spec(*labels: Any) -> cvataa.DetectionFunctionSpec:
    return cvataa.DetectionFunctionSpec(labels=list(labels))


SPEC = _spec(
    cvataa.label_spec("bat", 0),
    cvataa.label_spec(
        "cat",
        1,
        type="rectangle",
        attributes=[
            {"id": 3, "name": "color", "input_type": "text", "mutable": False, "values": [""]}
        ],
    ),
    cvataa.skeleton_label_spec(
        "rat", 2, [cvataa.keypoint_spec("head", 0), cvataa.keypoint_spec("tail", 1)]
    ),
)


def test_labels_sublabels_and_attributes_map_by_name() -> None:
    maps = _label_maps(SPEC, TASK_LABELS, allow_unmatched=False)
    shapes = [
        cvataa.rectangle(0, [1, 2, 3, 4]),
        cvataa.rectangle(1, [1, 2, 3, 4], attributes=[{"spec_id": 3, "value": "red"}]),
        cvataa.skeleton(2, [cvataa.keypoint(0, [1, 1]), cvataa.keypoint(1, [2, 2], occluded=True)]),
    ]
    out = _convert(shapes, maps, frame=5, conv_mask_to_poly=False)
    assert [(s["label_id"], s["frame"], s["type"]) for s in out] == [
        (100, 5, "rectangle"),
        (101, 5, "rectangle"),
        (102, 5, "skeleton"),
    ]
    assert out[1]["attributes"] == [{"spec_id": 7, "value": "red"}]
    assert {s["source"] for s in out} == {e["source"] for e in out[2]["elements"]} == {"auto"}
    assert [(e["label_id"], e["frame"], e.get("occluded", False)) for e in out[2]["elements"]] == [
        (201, 5, False),
        (202, 5, True),
    ]


def test_unmatched_labels_fail_or_are_dropped() -> None:
    spec = _spec(
        cvataa.label_spec("bat", 0),
        cvataa.label_spec("dog", 1),
        cvataa.skeleton_label_spec(
            "rat", 2, [cvataa.keypoint_spec("head", 0), cvataa.keypoint_spec("paw", 1)]
        ),
    )
    with pytest.raises(cvataa.BadFunctionError, match="'dog'"):
        _label_maps(spec, TASK_LABELS, allow_unmatched=False)
    maps = _label_maps(spec, TASK_LABELS, allow_unmatched=True)
    out = _convert(
        [
            cvataa.rectangle(1, [0, 0, 1, 1]),
            cvataa.rectangle(0, [0, 0, 1, 1]),
            cvataa.skeleton(2, [cvataa.keypoint(0, [1, 1]), cvataa.keypoint(1, [2, 2])]),
        ],
        maps,
        frame=0,
        conv_mask_to_poly=False,
    )
    assert [s["label_id"] for s in out] == [100, 102]
    assert [e["label_id"] for e in out[1]["elements"]] == [201]  # "paw" dropped


BAD_SPECS = [
    (lambda: _spec(cvataa.label_spec("a", 0), cvataa.label_spec("b", 0)), "id 0 is used twice"),
    (lambda: _spec({"name": "a", "id": 0}), "expected a PatchedLabelRequest"),
    (
        lambda: _spec(cvataa.label_spec("a", 0, sublabels=[cvataa.keypoint_spec("k", 0)])),
        "only skeleton labels",
    ),
    (lambda: _spec(cvataa.skeleton_label_spec("s", 0, [])), "needs sublabels"),
    (
        lambda: _spec(
            cvataa.skeleton_label_spec(
                "s", 0, [cvataa.keypoint_spec("k", 0), cvataa.keypoint_spec("k", 1)]
            )
        ),
        "used twice",
    ),
]


@pytest.mark.parametrize(("make", "message"), BAD_SPECS)
def test_bad_specs(make: Any, message: str) -> None:
    with pytest.raises(cvataa.BadFunctionError, match=message):
        make()


def test_spec_must_be_a_spec() -> None:
    with pytest.raises(cvataa.BadFunctionError, match="DetectionFunctionSpec"):
        check_spec([cvataa.label_spec("a", 0)])


def test_a_repeated_name_is_refused_only_when_the_task_has_it() -> None:
    spec = _spec(cvataa.label_spec("N/A", 0), cvataa.label_spec("N/A", 1))
    maps = _label_maps(spec, TASK_LABELS, allow_unmatched=True)
    assert _convert([cvataa.rectangle(1, [0, 0, 1, 1])], maps, 0, False) == []
    spec = _spec(cvataa.label_spec("bat", 0), cvataa.label_spec("bat", 1))
    with pytest.raises(cvataa.BadFunctionError, match="'bat' twice"):
        _label_maps(spec, TASK_LABELS, allow_unmatched=True)


BAD_RESULTS = [
    ("nope", "must return a list"),
    ([{"label_id": 0, "type": "rectangle"}], "expected a LabeledShapeRequest"),
    (
        [models.LabeledShapeRequest(label_id=0, type="rectangle", points=[0, 0, 1, 1], frame=3)],
        "frame must be 0",
    ),
    ([cvataa.rectangle(9, [0, 0, 1, 1])], "label_id 9 is not in the spec"),
    ([cvataa.rectangle(0, [0, 0, 1, 1], id=5)], "id is set by the driver"),
    ([cvataa.rectangle(0, [0, 0, 1, 1], source="manual")], "source is set by the driver"),
    ([cvataa.skeleton(2, [cvataa.keypoint(0, [1, 1], source="auto")])], "set by the driver"),
    ([cvataa.polygon(1, [0, 0, 1, 1, 2, 0])], "polygon shape for a label of rectangle"),
    ([cvataa.rectangle(2, [0, 0, 1, 1])], "rectangle shape for a skeleton"),
    ([cvataa.skeleton(0, [cvataa.keypoint(0, [1, 1])])], "skeleton shape for a non-skeleton"),
    ([cvataa.skeleton(2, [cvataa.keypoint(5, [1, 1])])], "label_id 5 is not a sublabel"),
    (
        [cvataa.skeleton(2, [cvataa.keypoint(0, [1, 1]), cvataa.keypoint(0, [2, 2])])],
        "appears twice",
    ),
    ([cvataa.rectangle(1, [0, 0, 1, 1], attributes=[{"spec_id": 99, "value": "x"}])], "spec_id 99"),
]


@pytest.mark.parametrize(("result", "message"), BAD_RESULTS)
def test_bad_results(result: Any, message: str) -> None:
    maps = _label_maps(SPEC, TASK_LABELS, allow_unmatched=False)
    with pytest.raises(cvataa.BadFunctionError, match=message):
        _convert(result, maps, frame=0, conv_mask_to_poly=False)


def test_masks_are_refused_when_polygons_are_asked_for() -> None:
    maps = _label_maps(SPEC, TASK_LABELS, allow_unmatched=False)
    masked = [cvataa.mask(0, [0, 4, 0, 0, 1, 1])]
    assert _convert(masked, maps, frame=0, conv_mask_to_poly=False)[0]["type"] == "mask"
    with pytest.raises(cvataa.BadFunctionError, match="conv_mask_to_poly"):
        _convert(masked, maps, frame=0, conv_mask_to_poly=True)


def test_label_type_mismatch_with_the_task() -> None:
    spec = _spec(cvataa.skeleton_label_spec("bat", 0, [cvataa.keypoint_spec("k", 0)]))
    with pytest.raises(cvataa.BadFunctionError, match="'bat' is a skeleton"):
        _label_maps(spec, TASK_LABELS, allow_unmatched=True)
    spec = _spec(cvataa.label_spec("cat", 0, type="polygon"))
    with pytest.raises(cvataa.BadFunctionError, match="polygon shapes, the task's for rectangle"):
        _label_maps(spec, TASK_LABELS, allow_unmatched=True)


FUNCTION_FILE = """
import cvat_sdk.auto_annotation as cvataa

def create(size: int, name: str = "bat", flag: bool = False):
    class F:
        spec = cvataa.DetectionFunctionSpec(labels=[cvataa.label_spec(name, 0)])
        params = (size, name, flag)
        def detect(self, context, image):
            return []
    return F()
"""

MODULE_FUNCTION = """
import cvat_sdk.auto_annotation as cvataa
spec = cvataa.DetectionFunctionSpec(labels=[cvataa.label_spec("bat", 0)])
def detect(context, image):
    return [cvataa.rectangle(0, [0, 0, 1, 1])]
"""


def test_load_function_by_file_module_and_parameters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "my_function.py"
    path.write_text(FUNCTION_FILE)
    params = dict(
        cvataa.parse_function_parameter(p)
        for p in ("size=int:3", "name=str:a=b:c", "flag=bool:true")
    )
    assert params == {"size": 3, "name": "a=b:c", "flag": True}
    made: Any = cvataa.load_function(function_file=path, parameters=params)
    assert made.params == (3, "a=b:c", True)

    (tmp_path / "plain_function.py").write_text(MODULE_FUNCTION)
    monkeypatch.syspath_prepend(str(tmp_path))
    module: Any = cvataa.load_function(function_module="plain_function")
    check_spec(module.spec)
    assert module.detect(SimpleNamespace(), None)[0].type == "rectangle"
    with pytest.raises(ValueError, match="takes no parameters"):
        cvataa.load_function(function_module="plain_function", parameters={"x": 1})
    with pytest.raises(ValueError, match="exactly one"):
        cvataa.load_function()
    with pytest.raises(ValueError, match="is not a file"):
        cvataa.load_function(function_file=tmp_path / "missing.py")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("size", "NAME=TYPE:VALUE"),
        ("size=3", "NAME=TYPE:VALUE"),
        ("size=list:3", "unknown type"),
        ("size=int:x", "not a int"),
        ("f=bool:maybe", "not a bool"),
    ],
)
def test_bad_parameters(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cvataa.parse_function_parameter(text)
