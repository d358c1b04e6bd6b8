"""Type specs: the small grammar generated declarations use to describe a value's type.

``str int float bool date datetime file any object`` are leaves, ``[T]`` is a list, ``{T}`` a
string-keyed map, ``Name`` a model of the same generated package, and a trailing ``?`` makes a
spec nullable. Parsing happens once per distinct spec string.
"""

from __future__ import annotations

import functools

LEAVES = frozenset({"str", "int", "float", "bool", "date", "datetime", "file", "any", "object"})


class _Spec:
    """Value-like: equal when of the same kind with the same parts."""

    __slots__ = ("nullable",)
    nullable: bool

    def _parts(self) -> tuple[object, ...]:
        return (*(getattr(self, name) for name in self.__slots__), self.nullable)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, _Spec)
            and type(other) is type(self)
            and other._parts() == self._parts()
        )

    def __hash__(self) -> int:
        return hash((type(self), self._parts()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}{self._parts()!r}"


class Leaf(_Spec):
    __slots__ = ("name",)

    def __init__(self, name: str, nullable: bool = False) -> None:
        self.name = name
        self.nullable = nullable


class ListOf(_Spec):
    __slots__ = ("item",)

    def __init__(self, item: Spec, nullable: bool = False) -> None:
        self.item = item
        self.nullable = nullable


class MapOf(_Spec):
    __slots__ = ("value",)

    def __init__(self, value: Spec, nullable: bool = False) -> None:
        self.value = value
        self.nullable = nullable


class ModelRef(_Spec):
    __slots__ = ("name",)

    def __init__(self, name: str, nullable: bool = False) -> None:
        self.name = name
        self.nullable = nullable


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
