"""Labels and their attributes: created with a project or task, changed by PATCH as in CVAT.

Every change is checked whole before any of it is applied, so a 400 leaves the labels as they were.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from ._annotations import drop_labels
from ._http import HttpError
from ._store import Label

if TYPE_CHECKING:
    from ._http import Json
    from ._store import Store

_COLORS = ("#33ddff", "#fa3253", "#34d1b7", "#ff007c", "#ff6037", "#ddff33", "#24b353", "#b83df5")
_INPUT_TYPES = ("checkbox", "radio", "number", "text", "select")
_ATTRIBUTE_FIELDS = ("name", "mutable", "input_type", "values")


def render(label: Label) -> Json:
    return {
        "id": label.id,
        "name": label.name,
        "color": label.color,
        "attributes": label.attributes,
        "type": label.type,
        "svg": label.svg,
        "sublabels": label.sublabels,
        "project_id": label.project_id,
        "task_id": label.task_id,
        "parent_id": None,
        "has_parent": False,
    }


def create_all(
    store: Store, specs: object, *, project_id: int | None = None, task_id: int | None = None
) -> list[Label]:
    checked = _checked(specs, "labels")
    _check_unique([*_names(store, project_id, task_id).values(), *(s["name"] for s in checked)])
    labels = [_new(store, spec, project_id, task_id) for spec in checked]
    store.labels.update((label.id, label) for label in labels)
    return labels


def patch_all(
    store: Store, specs: object, *, project_id: int | None = None, task_id: int | None = None
) -> None:
    """An item with an id changes (or, with `deleted`, removes) that label; others add one."""
    checked = _checked(specs, "labels", partial=True)
    names = _names(store, project_id, task_id)
    for spec in checked:
        if "id" in spec and spec["id"] not in names:
            raise HttpError(400, {"labels": [f"Label with id #{spec['id']} does not exist"]})
    deleted = {s["id"] for s in checked if s.get("deleted")}
    renamed = {s["id"]: s["name"] for s in checked if "id" in s and "name" in s}
    added = [s["name"] for s in checked if "id" not in s]
    _check_unique([renamed.get(i, n) for i, n in names.items() if i not in deleted] + added)
    for spec in checked:
        if "id" not in spec:
            label = _new(store, spec, project_id, task_id)
            store.labels[label.id] = label
        elif spec["id"] in deleted:
            delete(store, store.labels[spec["id"]])
        else:
            _apply(store, store.labels[spec["id"]], spec)


def update(store: Store, label: Label, spec: Json) -> None:
    """PATCH /api/labels/{id}."""
    (checked,) = _checked([{**spec, "id": label.id}], "labels", partial=True)
    if "name" in checked:
        others = _names(store, label.project_id, label.task_id)
        others.pop(label.id)
        _check_unique([*others.values(), checked["name"]])
    _apply(store, label, checked)


def delete(store: Store, label: Label) -> None:
    """Removes a label and, as CVAT does, the annotations that use it or its sublabels."""
    ids = {label.id, *(sub["id"] for sub in label.sublabels)}
    for job in store.jobs.values():
        task = store.tasks[job.task_id]
        if task.id == label.task_id or (task.project_id and task.project_id == label.project_id):
            drop_labels(job, ids)
    del store.labels[label.id]


def _apply(store: Store, label: Label, spec: Json) -> None:
    label.name = spec.get("name", label.name)
    label.color = spec.get("color", label.color)
    label.type = spec.get("type", label.type)
    label.svg = spec.get("svg", label.svg)
    by_id = {a["id"]: a for a in label.attributes}
    for attr in spec.get("attributes", []):
        if attr.get("id") in by_id:
            by_id[attr["id"]].update(_attribute(store, {**by_id[attr["id"]], **attr}))
        else:
            label.attributes.append(_attribute(store, attr))


def _new(store: Store, spec: Json, project_id: int | None, task_id: int | None) -> Label:
    label_id = store.next_id("label")
    return Label(
        id=label_id,
        name=spec["name"],
        color=spec.get("color") or _COLORS[label_id % len(_COLORS)],
        type=spec.get("type", "any"),
        attributes=[_attribute(store, a) for a in spec.get("attributes", [])],
        sublabels=[_sublabel(store, s) for s in spec.get("sublabels", [])],
        svg=spec.get("svg", ""),
        project_id=project_id,
        task_id=task_id,
    )


def _sublabel(store: Store, spec: Json) -> Json:
    sub_id = store.next_id("label")
    return {
        "id": sub_id,
        "name": spec["name"],
        "color": spec.get("color") or _COLORS[sub_id % len(_COLORS)],
        "attributes": [_attribute(store, a) for a in spec.get("attributes", [])],
        "type": spec.get("type", "any"),
        "has_parent": True,
    }


def _attribute(store: Store, spec: Json) -> Json:
    values = [str(v) for v in spec["values"]]
    return {
        "id": spec.get("id") or store.next_id("attribute"),
        "name": spec["name"],
        "mutable": bool(spec["mutable"]),
        "input_type": spec["input_type"],
        "default_value": str(spec.get("default_value") or (values[0] if values else "")),
        "values": values,
    }


def _checked(specs: object, field: str, *, partial: bool = False) -> list[Json]:
    """Label specs, checked as DRF would: names, attributes and sublabels well-formed."""
    items = _objects(specs, field)
    for spec in items:
        if (not partial or "id" not in spec) and not isinstance(spec.get("name"), str):
            raise HttpError(400, {field: [{"name": ["This field is required."]}]})
        for attr in _objects(spec.get("attributes", []), "attributes"):
            missing = [f for f in _ATTRIBUTE_FIELDS if f not in attr]
            if missing:
                raise HttpError(
                    400, {"attributes": [{f: ["This field is required."]} for f in missing]}
                )
            if attr["input_type"] not in _INPUT_TYPES or not isinstance(attr["values"], list):
                raise HttpError(400, {"attributes": [f"Invalid attribute {attr['name']!r}"]})
        _checked(spec.get("sublabels", []), "sublabels")
    return items


def _names(store: Store, project_id: int | None, task_id: int | None) -> dict[int, str]:
    return {
        lb.id: lb.name
        for lb in store.labels.values()
        if (lb.project_id, lb.task_id) == (project_id, task_id)
    }


def _check_unique(names: list[str]) -> None:
    repeated = [name for name, count in Counter(names).items() if count > 1]
    if repeated:
        raise HttpError(400, {"labels": [f"Labels must be unique, {repeated[0]!r} repeats"]})


def _objects(value: object, field: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise HttpError(400, {field: ["Expected a list of objects."]})
    return value
