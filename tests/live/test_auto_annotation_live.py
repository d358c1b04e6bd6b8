"""cvat_sdk.auto_annotation on the real CVAT: shapes land with labels (and skeleton points)
mapped by name; appending and clear_existing; allow_unmatched_labels; every BadFunctionError
case sends nothing; batches go out as the function runs; a failure part-way says how far it
got; the predefined torchvision functions (random weights) on a real task."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import cvat_sdk.auto_annotation as cvataa
from cvat_sdk import Client, Config, make_client
from cvat_sdk.auto_annotation import driver
from tests.auto_annotation.test_protocol import BAD_RESULTS
from tests.support.tcp_proxy import TcpProxy

from .support import LiveServer, Trash

FRAMES = 5


def _skeleton_label(name: str, points: list[str]) -> dict[str, Any]:
    nodes = "".join(
        f'<circle r="0.75" cx="{i + 1}" cy="{i + 1}" data-type="element node" '
        f'data-element-id="{i + 1}" data-node-id="{i + 1}" data-label-name="{p}"></circle>'
        for i, p in enumerate(points)
    )
    return {
        "name": name,
        "type": "skeleton",
        "sublabels": [{"name": p, "type": "points"} for p in points],
        "svg": nodes,
    }


LABELS = [{"name": "car"}, {"name": "tree"}, _skeleton_label("walker", ["head", "foot"])]


@pytest.fixture
def hl(live: LiveServer, proxy: TcpProxy, tmp_path: Path) -> Iterator[Client]:
    config = Config(status_check_period=0.5, cache_dir=tmp_path / "cache")
    with make_client(proxy.url, credentials=(live.user, live.password), config=config) as client:
        yield client


def _task(hl: Client, trash: Trash, tmp_path: Path, labels: list[Any], count: int) -> int:
    files = []
    for i in range(count):
        pixels = np.full((30, 40 + i, 3), 40 * i, dtype=np.uint8)
        files.append(tmp_path / f"aa-{i}.png")
        Image.fromarray(pixels).save(files[-1])
    task = hl.tasks.create_from_data(
        {"name": trash.name(), "labels": labels}, files, data_params={"chunk_size": 2}
    )
    return trash.add("tasks", task.id)


class Small:
    """A car box whose x is the frame's position, a walker skeleton, and an unmatched bike."""

    spec = cvataa.DetectionFunctionSpec(
        labels=[
            cvataa.label_spec("bike", 0),
            cvataa.label_spec("car", 1),
            cvataa.skeleton_label_spec(
                "walker",
                2,
                [
                    cvataa.keypoint_spec("foot", 0),
                    cvataa.keypoint_spec("head", 1),
                    cvataa.keypoint_spec("tail", 2),
                ],
            ),
        ]
    )

    def __init__(self) -> None:
        self.contexts: list[Any] = []

    def detect(self, context: cvataa.DetectionFunctionContext, image: Any) -> list[Any]:
        self.contexts.append((context.frame_name, context.conf_threshold, image.size))
        x = float(image.size[0] - 40)  # frames are 40 + i pixels wide
        return [
            cvataa.rectangle(1, [x, 1, x + 5, 6]),
            cvataa.rectangle(0, [0, 0, 1, 1]),
            cvataa.skeleton(
                2,
                [
                    cvataa.keypoint(1, [x, 2]),
                    cvataa.keypoint(0, [x, 9], occluded=True),
                    cvataa.keypoint(2, [x, 5]),
                ],
            ),
        ]


def _annotation_writes(proxy: TcpProxy, task_id: int, start: int) -> list[str]:
    return [
        e.method
        for e in proxy.log[start:]
        if e.path.rstrip("/") == f"/api/tasks/{task_id}/annotations"
        and e.method in ("PUT", "PATCH", "DELETE")
    ]


class Progress:
    def __init__(self) -> None:
        self.events: list[Any] = []

    def start(self, total: int | None) -> None:
        self.events.append(("start", total))

    def advance(self, n: int) -> None:
        self.events.append(("advance", n))

    def finish(self) -> None:
        self.events.append(("finish",))


def test_shapes_land_mapped_by_name(
    hl: Client, trash: Trash, proxy: TcpProxy, tmp_path: Path
) -> None:
    task_id = _task(hl, trash, tmp_path, LABELS, FRAMES)
    task = hl.tasks.retrieve(task_id)
    labels = {label.name: label for label in task.get_labels()}
    subs = {s.name: s.id for s in labels["walker"].sublabels}
    task.set_annotations(
        {"version": 0, "tags": [{"frame": 0, "label_id": labels["tree"].id}], "shapes": []}
    )

    start = len(proxy.log)
    with pytest.raises(cvataa.BadFunctionError, match="'bike'"):
        cvataa.annotate_task(hl, task_id, Small())
    assert _annotation_writes(proxy, task_id, start) == []

    function = Small()
    progress = Progress()
    cvataa.annotate_task(
        hl, task_id, function, allow_unmatched_labels=True, conf_threshold=0.25, pbar=progress
    )
    assert progress.events == [("start", FRAMES), *[("advance", 1)] * FRAMES, ("finish",)]
    assert function.contexts == [(f"aa-{i}.png", 0.25, (40 + i, 30)) for i in range(FRAMES)]

    result = task.get_annotations()
    assert [t.label_id for t in result.tags] == [labels["tree"].id]  # appended, not replaced
    boxes = sorted((s for s in result.shapes if s.type == "rectangle"), key=lambda s: s.frame)
    assert [(s.frame, s.label_id, s.points) for s in boxes] == [
        (i, labels["car"].id, [i, 1, i + 5, 6]) for i in range(FRAMES)
    ]
    skeletons = sorted((s for s in result.shapes if s.type == "skeleton"), key=lambda s: s.frame)
    assert [s.frame for s in skeletons] == list(range(FRAMES))
    for i, shape in enumerate(skeletons):
        assert shape.label_id == labels["walker"].id
        points = {(e.label_id, tuple(e.points), e.occluded) for e in shape.elements}
        # "tail" is not in the task: dropped
        assert points == {(subs["head"], (i, 2), False), (subs["foot"], (i, 9), True)}

    # clear_existing: the old tag and shapes are replaced, in the same request as the first
    # batch
    start = len(proxy.log)
    cvataa.annotate_task(hl, task_id, Small(), allow_unmatched_labels=True, clear_existing=True)
    assert _annotation_writes(proxy, task_id, start) == ["PUT"]
    result = task.get_annotations()
    assert result.tags == [] and len(result.shapes) == 2 * FRAMES


def test_batches_and_a_failure_part_way(
    hl: Client, trash: Trash, proxy: TcpProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    task_id = _task(hl, trash, tmp_path, LABELS[:1], FRAMES)
    spec = cvataa.DetectionFunctionSpec(labels=[cvataa.label_spec("car", 0)])

    class Failing:
        def __init__(self, fail_at: int | None) -> None:
            self.spec, self.fail_at, self.seen = spec, fail_at, 0

        def detect(self, context: Any, image: Any) -> list[Any]:
            if self.seen == self.fail_at:
                raise RuntimeError("the model ran out of memory")
            self.seen += 1
            return [cvataa.rectangle(0, [0, 0, 2, 2]), cvataa.rectangle(0, [1, 1, 3, 3])]

    monkeypatch.setattr(driver, "SHAPES_PER_REQUEST", 4)  # a batch every 2 frames
    start = len(proxy.log)
    cvataa.annotate_task(hl, task_id, Failing(None))
    assert _annotation_writes(proxy, task_id, start) == ["PATCH"] * 3  # 4 + 4 + 2 shapes
    assert len(hl.tasks.retrieve(task_id).get_annotations().shapes) == 10

    with pytest.raises(RuntimeError, match="out of memory") as caught:
        cvataa.annotate_task(hl, task_id, Failing(3), clear_existing=True)
    note = "stopped after 3 of 5 frames; the results of the first 2 frames were sent"
    assert any(note in n for n in getattr(caught.value, "__notes__", [note]))
    shapes = hl.tasks.retrieve(task_id).get_annotations().shapes
    assert sorted(s.frame for s in shapes) == [0, 0, 1, 1]  # the first batch replaced all


def test_each_bad_result_sends_nothing(
    hl: Client, trash: Trash, proxy: TcpProxy, tmp_path: Path
) -> None:
    rectangle_car = {**LABELS[0], "type": "rectangle"}
    task_id = _task(hl, trash, tmp_path, [{"name": "bat"}, rectangle_car, LABELS[2]], 1)
    walker = cvataa.skeleton_label_spec(
        "walker", 2, [cvataa.keypoint_spec("head", 0), cvataa.keypoint_spec("foot", 1)]
    )
    spec = cvataa.DetectionFunctionSpec(
        labels=[
            cvataa.label_spec("bat", 0),
            cvataa.label_spec(
                "car",
                1,
                type="rectangle",
                attributes=[
                    {
                        "id": 3,
                        "name": "color",
                        "input_type": "text",
                        "mutable": False,
                        "values": [""],
                    }
                ],
            ),
            walker,
        ]
    )
    cases = [
        *BAD_RESULTS,
        ([cvataa.mask(0, [0, 4, 0, 0, 1, 1])], "conv_mask_to_poly"),
    ]
    start = len(proxy.log)
    for result, message in cases:

        class Bad:
            def __init__(self, result: Any) -> None:
                self.spec, self.result = spec, result

            def detect(self, context: Any, image: Any) -> Any:
                return self.result

        with pytest.raises(cvataa.BadFunctionError, match=message):
            cvataa.annotate_task(
                hl, task_id, Bad(result), conv_mask_to_poly=True, allow_unmatched_labels=True
            )
    assert _annotation_writes(proxy, task_id, start) == []

    class NoSpec:
        spec = [cvataa.label_spec("bat", 0)]

        def detect(self, context: Any, image: Any) -> list[Any]:
            return []

    with pytest.raises(cvataa.BadFunctionError, match="DetectionFunctionSpec"):
        cvataa.annotate_task(hl, task_id, NoSpec())
    with pytest.raises(ValueError, match="conf_threshold"):
        cvataa.annotate_task(hl, task_id, NoSpec(), conf_threshold=1.5)
    assert hl.tasks.retrieve(task_id).get_annotations().shapes == []


def test_torchvision_functions_on_a_real_task(
    live: LiveServer, trash: Trash, tmp_path: Path
) -> None:
    import torch

    from cvat_sdk.auto_annotation.functions import (
        torchvision_detection,
        torchvision_keypoint_detection,
    )

    torch.manual_seed(0)
    keypoints = torchvision_keypoint_detection.create(
        "keypointrcnn_resnet50_fpn",
        None,
        min_size=64,
        max_size=96,
        box_detections_per_img=3,
        box_score_thresh=0.0,
    )
    names = [str(s.name) for s in keypoints.spec.labels[0].sublabels]
    detection = torchvision_detection.create(
        "fasterrcnn_mobilenet_v3_large_320_fpn", None, box_score_thresh=0.0
    )
    categories = {int(label.id): str(label.name) for label in detection.spec.labels}
    # all the model's categories but one, which allow_unmatched_labels drops
    labels = [{"name": n} for n in sorted(categories.values()) if n != "person"]
    labels.append(_skeleton_label("walker", names))
    # straight to the server: the models take long to build, and an idle connection through
    # the proxy would be closed by the server meanwhile
    hl = make_client(
        live.url, credentials=(live.user, live.password), config=Config(cache_dir=tmp_path)
    )
    task_id = _task(hl, trash, tmp_path, labels, 1)
    task = hl.tasks.retrieve(task_id)
    names_by_id = {label.id: label.name for label in task.get_labels()}

    cvataa.annotate_task(hl, task_id, detection, allow_unmatched_labels=True)
    shapes = task.get_annotations().shapes
    image = Image.open(tmp_path / "aa-0.png")
    expected = [
        (categories[s.label_id], [round(v, 2) for v in s.points])
        for s in detection.detect(driver._Context("aa-0.png", None, False), image)
        if categories[s.label_id] != "person"
    ]
    assert expected, "a random model with no score threshold finds something"
    assert {s.type for s in shapes} == {"rectangle"}
    assert sorted((names_by_id[s.label_id], [round(v, 2) for v in s.points]) for s in shapes) == (
        sorted(expected)
    )

    class Walkers:
        """The keypoint function with its skeleton label named as the task's."""

        spec = cvataa.DetectionFunctionSpec(
            labels=[
                cvataa.skeleton_label_spec(
                    "walker", 1, [cvataa.keypoint_spec(n, i) for i, n in enumerate(names)]
                )
            ]
        )
        detect = staticmethod(keypoints.detect)

    assert [(label.id, label.name) for label in keypoints.spec.labels] == [(1, "person")]
    cvataa.annotate_task(hl, task_id, Walkers(), clear_existing=True)
    skeletons = task.get_annotations().shapes
    assert skeletons and {s.type for s in skeletons} == {"skeleton"}
    assert all(len(s.elements) == 17 for s in skeletons)
    hl.close()
