"""``annotate_task``: run a detection function on every frame of a task and upload the shapes.

Frames come from the local dataset cache (:class:`cvat_sdk.datasets.TaskDataset`), so a
second run downloads nothing. Results go to the server in batches while the function runs;
a failure part-way says (in a note on the exception, and in the client's log) how many
frames were done and sent.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cvat_sdk.auto_annotation.interface import (
    BadFunctionError,
    DetectionFunction,
    DetectionFunctionContext,
    check_spec,
)
from cvat_sdk.core.progress import NullProgress, ProgressReporter
from cvat_sdk.datasets import TaskDataset
from cvat_sdk.datasets._readahead import ReadAhead

if TYPE_CHECKING:
    from cvat_sdk.core.client import Client

__all__ = ["SHAPES_PER_REQUEST", "annotate_task"]

#: Shapes collected before they are sent (one PATCH each batch).
SHAPES_PER_REQUEST = 1000


@dataclass(frozen=True)
class _Context(DetectionFunctionContext):
    _frame_name: str
    _conf_threshold: float | None
    _conv_mask_to_poly: bool

    @property
    def frame_name(self) -> str:
        return self._frame_name

    @property
    def conf_threshold(self) -> float | None:
        return self._conf_threshold

    @property
    def conv_mask_to_poly(self) -> bool:
        return self._conv_mask_to_poly


@dataclass
class _LabelMap:
    """One function label: the task's label ID (None: unmatched, dropped), its sublabels'
    and attributes' IDs by the function's IDs, and the shape type the spec requires."""

    task_id: int | None
    skeleton: bool
    shape_type: str
    sublabels: dict[int, int | None]
    attributes: dict[int, int | None]


def _attribute_map(
    spec_attributes: Any, task_attributes: Any, where: str, allow_unmatched: bool
) -> dict[int, int | None]:
    by_name = {str(a.name): int(a.id) for a in task_attributes or []}
    mapping: dict[int, int | None] = {}
    for attribute in spec_attributes or []:
        name, spec_id = attribute.get("name"), attribute.get("id")
        if not isinstance(spec_id, int):
            raise BadFunctionError(f"{where}: attribute {name!r} needs an int id")
        found = by_name.get(str(name))
        if found is None and not allow_unmatched:
            raise BadFunctionError(f"{where}: the task has no attribute {name!r}")
        mapping[spec_id] = found
    return mapping


def _label_maps(spec: Any, task_labels: Any, allow_unmatched: bool) -> dict[int, _LabelMap]:
    """The function's labels matched to the task's by name (sublabels within a skeleton)."""
    by_name = {str(label.name): label for label in task_labels}
    maps: dict[int, _LabelMap] = {}
    matched: set[str] = set()
    for label in spec.labels:
        name = str(label.name)
        if name in matched:
            raise BadFunctionError(
                f"the function declares the label {name!r} twice, and the task has one: "
                "which one its shapes belong to is ambiguous"
            )
        kind = str(label.get("type") or "any")
        is_skeleton = kind == "skeleton"
        found = by_name.get(name)
        if found is None:
            if not allow_unmatched:
                raise BadFunctionError(
                    f"the function's label {name!r} has no label of that name in the task "
                    "(allow_unmatched_labels=True drops its shapes)"
                )
            maps[int(label.id)] = _LabelMap(None, is_skeleton, kind, {}, {})
            continue
        matched.add(name)
        task_kind = str(found.get("type") or "any")
        if is_skeleton != (task_kind == "skeleton"):
            raise BadFunctionError(
                f"the function's label {name!r} is {'a' if is_skeleton else 'not a'} skeleton, "
                f"the task's is {'not ' if is_skeleton else ''}a skeleton"
            )
        if not is_skeleton and "any" not in (kind, task_kind) and kind != task_kind:
            raise BadFunctionError(
                f"the function's label {name!r} is for {kind} shapes, the task's for {task_kind}"
            )
        sublabels: dict[int, int | None] = {}
        if is_skeleton:
            task_subs = {str(s.name): int(s.id) for s in found.get("sublabels") or []}
            for sub in label.sublabels:
                sub_id = task_subs.get(str(sub.name))
                if sub_id is None and not allow_unmatched:
                    raise BadFunctionError(
                        f"the function's sublabel {sub.name!r} of {name!r} has no sublabel of "
                        "that name in the task (allow_unmatched_labels=True drops its points)"
                    )
                sublabels[int(sub.id)] = sub_id
        attributes = _attribute_map(
            label.get("attributes"),
            found.get("attributes"),
            f"label {name!r}",
            allow_unmatched,
        )
        maps[int(label.id)] = _LabelMap(int(found.id), is_skeleton, kind, sublabels, attributes)
    return maps


def _mapped_attributes(shape: Any, mapping: dict[int, int | None], where: str) -> list[Any]:
    out = []
    for attribute in shape.get("attributes") or []:
        spec_id = int(attribute.spec_id)
        if spec_id not in mapping:
            raise BadFunctionError(f"{where}: attribute spec_id {spec_id} is not in the spec")
        task_id = mapping[spec_id]
        if task_id is not None:
            out.append({"spec_id": task_id, "value": str(attribute.value)})
    return out


def _convert(
    shapes: Any, maps: dict[int, _LabelMap], frame: int, conv_mask_to_poly: bool
) -> list[dict[str, Any]]:
    """What ``detect`` returned, checked and mapped to the task's IDs and the frame."""
    from cvat_sdk.api_client import models

    if not isinstance(shapes, list):
        raise BadFunctionError(f"detect() must return a list, got {type(shapes).__name__}")
    out: list[dict[str, Any]] = []
    for index, shape in enumerate(shapes):
        where = f"detect() result [{index}]"
        if not isinstance(shape, models.LabeledShapeRequest):
            raise BadFunctionError(
                f"{where}: expected a LabeledShapeRequest, got {type(shape).__name__}"
            )
        if shape.frame != 0:
            raise BadFunctionError(f"{where}: frame must be 0, got {shape.frame}")
        for preset in ("id", "source"):
            if preset in shape:
                raise BadFunctionError(f"{where}: {preset} is set by the driver, not the function")
        label = maps.get(int(shape.label_id))
        if label is None:
            raise BadFunctionError(f"{where}: label_id {shape.label_id} is not in the spec")
        kind = str(shape.type)
        if kind == "mask" and conv_mask_to_poly:
            raise BadFunctionError(f"{where}: a mask, though conv_mask_to_poly asks for polygons")
        elements = list(shape.get("elements") or [])
        if label.skeleton != (kind == "skeleton"):
            raise BadFunctionError(
                f"{where}: a {kind} shape for a {'skeleton' if label.skeleton else 'non-skeleton'}"
                " label"
            )
        if not label.skeleton and label.shape_type not in ("any", kind):
            raise BadFunctionError(
                f"{where}: a {kind} shape for a label of {label.shape_type} shapes"
            )
        if elements and not label.skeleton:
            raise BadFunctionError(f"{where}: only skeletons have elements")
        if label.task_id is None:
            continue  # an unmatched label (allow_unmatched_labels)
        value = shape.to_dict()
        value.update(frame=frame, label_id=label.task_id, source="auto")
        value["attributes"] = _mapped_attributes(shape, label.attributes, where)
        if label.skeleton:
            seen: set[int] = set()
            mapped_elements = []
            for sub_index, element in enumerate(elements):
                sub_where = f"{where}.elements[{sub_index}]"
                if not isinstance(element, models.SubLabeledShapeRequest):
                    raise BadFunctionError(
                        f"{sub_where}: expected a SubLabeledShapeRequest, "
                        f"got {type(element).__name__}"
                    )
                if str(element.type) != "points" or element.frame != 0:
                    raise BadFunctionError(f"{sub_where}: must be a points shape on frame 0")
                if "id" in element or "source" in element:
                    raise BadFunctionError(f"{sub_where}: id and source are set by the driver")
                sub_id = int(element.label_id)
                if sub_id not in label.sublabels:
                    raise BadFunctionError(f"{sub_where}: label_id {sub_id} is not a sublabel")
                if sub_id in seen:
                    raise BadFunctionError(f"{sub_where}: sublabel {sub_id} appears twice")
                seen.add(sub_id)
                task_sub = label.sublabels[sub_id]
                if task_sub is None:
                    continue
                element_value = element.to_dict()
                element_value.update(frame=frame, label_id=task_sub, attributes=[], source="auto")
                mapped_elements.append(element_value)
            if not mapped_elements:
                continue
            value["elements"] = mapped_elements
            value.setdefault("points", [])
        out.append(value)
    return out


def annotate_task(
    client: Client,
    task_id: int,
    function: DetectionFunction,
    *,
    pbar: ProgressReporter | None = None,
    clear_existing: bool = False,
    allow_unmatched_labels: bool = False,
    conf_threshold: float | None = None,
    conv_mask_to_poly: bool = False,
) -> None:
    """Annotate every frame of task ``task_id`` with ``function``'s shapes.

    Labels (and skeleton sublabels, and attributes) are matched to the task's by name; a
    function label the task lacks is an error unless ``allow_unmatched_labels`` (its shapes
    are then dropped). New shapes are added to the task's, or replace them all with
    ``clear_existing`` (the first batch replaces them, so a function that fails at once
    leaves the old annotations in place). Progress counts frames.

    Raises:
        BadFunctionError: the function's spec or results break the protocol.
        ValueError: ``conf_threshold`` is not between 0 and 1.
    """
    if conf_threshold is not None and (
        isinstance(conf_threshold, bool)
        or not isinstance(conf_threshold, (int, float))
        or not 0 <= conf_threshold <= 1
    ):
        raise ValueError(f"conf_threshold: must be between 0 and 1, got {conf_threshold!r}")
    spec = getattr(function, "spec", None)
    check_spec(spec)
    if not callable(getattr(function, "detect", None)):
        raise BadFunctionError("the function has no detect() method")
    # frames are annotated as their chunks come, while the later ones are still fetched
    dataset = TaskDataset(client, task_id, load_annotations=False, _stream_media=True)
    try:
        maps = _label_maps(spec, dataset.labels, allow_unmatched_labels)
        _annotate(
            client,
            task_id,
            dataset,
            function,
            maps,
            reporter=pbar or NullProgress(),
            clear_existing=clear_existing,
            conf_threshold=conf_threshold,
            conv_mask_to_poly=conv_mask_to_poly,
        )
    finally:
        dataset._close_media()


def _annotate(
    client: Client,
    task_id: int,
    dataset: TaskDataset,
    function: DetectionFunction,
    maps: dict[int, _LabelMap],
    *,
    reporter: ProgressReporter,
    clear_existing: bool,
    conf_threshold: float | None,
    conv_mask_to_poly: bool,
) -> None:
    from cvat_sdk.core.proxies.tasks import Task

    task = Task(client, dataset.task)
    pending: list[dict[str, Any]] = []
    state = {"replace": bool(clear_existing), "sent_frames": 0}
    done = 0

    def send(frames_done: int) -> None:
        body: Mapping[str, Any] = {"version": 0, "tags": [], "shapes": pending, "tracks": []}
        if state["replace"]:
            task.set_annotations(body)
            state["replace"] = False
        elif pending:
            task.update_annotations(body, action="create")
        pending.clear()
        state["sent_frames"] = frames_done

    samples = dataset.samples

    def load(position: int) -> Any:
        dataset._wait_for_media(position)
        return samples[position].media.load_image()

    total = len(samples)
    reporter.start(total)
    # the next frames are decoded while the function works on this one
    images = ReadAhead([functools.partial(load, n) for n in range(total)])
    try:
        for position, sample in enumerate(samples):
            image = images.get(position)
            context = _Context(sample.frame_name, conf_threshold, conv_mask_to_poly)
            shapes = function.detect(context, image)
            pending.extend(_convert(shapes, maps, sample.frame_index, conv_mask_to_poly))
            done += 1
            reporter.advance(1)
            if len(pending) >= SHAPES_PER_REQUEST:
                send(done)
        send(done)
    except Exception as error:
        note = (
            f"annotate_task: task {task_id}: stopped after {done} of {total} frames; the "
            f"results of the first {state['sent_frames']} frames were sent"
        )
        logging.getLogger("cvat_sdk").warning("%s (%s)", note, error)
        if hasattr(error, "add_note"):
            error.add_note(note)
        raise
    finally:
        images.close()
        reporter.finish()
