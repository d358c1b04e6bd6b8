"""Type specs: the small grammar generated declarations use to describe a value's type.

``str int float bool date datetime file any object`` are leaves, ``[T]`` is a list, ``{T}`` a
string-keyed map, ``Name`` a model of the same generated package, and a trailing ``?`` makes a
spec nullable. Parsing happens once per distinct spec string.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

LEAVES = frozenset({"str", "int", "float", "bool", "date", "datetime", "file", "any", "object"})


class Leaf(NamedTuple):
    name: str
    nullable: bool = False


class ListOf(NamedTuple):
    item: Spec
    nullable: bool = False


class MapOf(NamedTuple):
    value: Spec
    nullable: bool = False


class ModelRef(NamedTuple):
    name: str
    nullable: bool = False


Spec = Leaf | ListOf | MapOf | ModelRef


class SpecSyntaxError(ValueError):
    """A declaration carries a spec string outside the grammar: a generator bug."""


@functools.cache
def parse_spec(text: str) -> Spec:
    nullable = text.endswith("?")
    body = text[:-1] if nullable else text
    if body.startswith("[") and body.endswith("]"):
        return ListOf(parse_spec(body[1:-1]), nullable)
    if body.startswith("{") and body.endswith("}"):
        return MapOf(parse_spec(body[1:-1]), nullable)
    if body in LEAVES:
        return Leaf(body, nullable)
    if body.isidentifier() and body[:1].isupper():
        return ModelRef(body, nullable)
    raise SpecSyntaxError(f"not a type spec: {text!r}")


def describe(spec: Spec) -> str:
    """A reader-friendly name of a spec, for error messages."""
    if isinstance(spec, ListOf):
        text = f"list of {describe(spec.item)}"
    elif isinstance(spec, MapOf):
        text = f"dict of {describe(spec.value)}"
    elif isinstance(spec, Leaf):
        text = {"object": "dict", "any": "any value", "file": "binary file"}.get(
            spec.name, spec.name
        )
    else:
        text = spec.name
    return f"{text} or None" if spec.nullable else text
