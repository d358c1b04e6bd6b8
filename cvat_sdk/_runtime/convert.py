"""Readers and checkers compiled from type specs: the hot paths of the client.

A *reader* turns decoded JSON into Python values in place (dicts become models, strings become
enums and datetimes). It is lenient where version skew is harmless (unknown fields are kept,
unknown enum values are accepted with a warning, missing fields are left unset, a null is kept
even where the schema says the field is not nullable) and strict about types otherwise.
A *checker* validates what a caller gives before anything is
sent: unknown or missing fields, wrong types, enum values and constraints, naming the path.

Both are closures built once per (spec, package) and cached: no reflection per value.
"""

from __future__ import annotations

import contextlib
import datetime
import gc
import io
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from cvat_sdk._runtime.declarations import Declared
from cvat_sdk._runtime.specs import Leaf, ListOf, MapOf, ModelRef, Spec, describe, parse_spec

Reader = Callable[[Any], Any]
Checker = Callable[[Any], None]
Resolver = Callable[[str], Any]

MISSING: Any = object()
_NONE = type(None)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a response is decoded and read.

    Decoding allocates hundreds of thousands of containers that all stay alive; each
    allocation threshold crossed would make the collector walk them again, which costs more
    than the decoding itself (measured: 2.1x of ``json.loads`` with it, 0.9x without).
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        # What was built stays alive: move it to the oldest generation without walking it
        # (a collection on re-enabling would walk it once more). Cycles among it are still
        # found by the next full collection.
        if gc.get_count()[0] > 10 * gc.get_threshold()[0]:
            gc.freeze()
            gc.unfreeze()
        gc.enable()


class Invalid(Exception):
    """A value does not fit its spec. ``path`` grows while the error travels outwards."""

    def __init__(self, message: str, kind: str = "type") -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind  # "type", "value" or "key"
        self.reversed_path: list[str | int] = []

    @property
    def path(self) -> list[str | int]:
        return self.reversed_path[::-1]


def kind_of(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, dict):
        return "dict"
    if isinstance(value, list):
        return "list"
    return type(value).__name__


def _mismatch(spec: Spec, value: Any) -> Invalid:
    return Invalid(f"expected {describe(spec)}, got {kind_of(value)} {_preview(value)}")


def _preview(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return ""
    text = repr(value)
    return f"({text[:60]}...)" if len(text) > 60 else f"({text})"


# Exact runtime types accepted for leaves read from JSON (bool is not an int here).
_WIRE_TYPES: dict[str, frozenset[type]] = {
    "str": frozenset({str}),
    "int": frozenset({int}),
    "float": frozenset({float, int}),
    "bool": frozenset({bool}),
    "object": frozenset({dict}),
}


def _leaf_types(spec: Spec) -> frozenset[type] | None:
    """The exact types a leaf accepts when read from JSON, or None if it needs conversion."""
    if not isinstance(spec, Leaf) or spec.name not in _WIRE_TYPES:
        return None
    types = _WIRE_TYPES[spec.name]
    return types | {_NONE} if spec.nullable else types


def parse_datetime(value: str) -> datetime.datetime:
    try:
        return datetime.datetime.fromisoformat(value)
    except ValueError:
        # older Pythons reject the "Z" suffix and some ISO 8601 forms; dateutil reads them
        from dateutil.parser import isoparse

        return isoparse(value)


# ---------------------------------------------------------------------------------------
# readers: JSON -> Python, in place
# ---------------------------------------------------------------------------------------


def build_reader(spec: Spec, resolve: Resolver, check: bool) -> Reader:
    reader = _build_reader(spec, resolve, check)
    if not spec.nullable:
        return reader

    def read_nullable(value: Any) -> Any:
        return None if value is None else reader(value)

    return read_nullable


def _build_reader(spec: Spec, resolve: Resolver, check: bool) -> Reader:
    if isinstance(spec, ModelRef):
        cls = resolve(spec.name)
        return cls._reader(check)  # type: ignore[no-any-return]
    if isinstance(spec, ListOf):
        return _list_reader(spec, resolve, check)
    if isinstance(spec, MapOf):
        return _map_reader(spec, resolve, check)
    if spec.name == "datetime":
        return _text_reader(spec, parse_datetime, check)
    if spec.name == "date":
        return _text_reader(spec, datetime.date.fromisoformat, check)
    types = _leaf_types(Leaf(spec.name))
    if types is None or not check:
        return _identity

    def read_leaf(value: Any) -> Any:
        if type(value) not in types:
            raise _mismatch(spec, value)
        return value

    return read_leaf


def _identity(value: Any) -> Any:
    return value


def _text_reader(spec: Spec, parse: Callable[[str], Any], check: bool) -> Reader:
    def read_text(value: Any) -> Any:
        if type(value) is str:
            try:
                return parse(value)
            except ValueError:
                pass
        if check:
            raise _mismatch(spec, value)
        return value

    return read_text


def _list_reader(spec: ListOf, resolve: Resolver, check: bool) -> Reader:
    item_types = _leaf_types(spec.item)
    if item_types is not None:
        if not check:
            return _identity

        def read_leaf_list(value: Any) -> Any:
            if type(value) is not list:
                raise _mismatch(spec, value)
            for item in value:
                if type(item) not in item_types:
                    _raise_at_first_bad(value, item_types, spec.item)
            return value

        return read_leaf_list
    item_reader = build_reader(spec.item, resolve, check)

    def read_list(value: Any) -> Any:
        if type(value) is not list:
            if check:
                raise _mismatch(spec, value)
            return value
        index = 0
        try:
            for index, item in enumerate(value):
                value[index] = item_reader(item)
        except Invalid as error:
            error.reversed_path.append(index)
            raise
        return value

    return read_list


def _raise_at_first_bad(values: list[Any], types: frozenset[type], item_spec: Spec) -> None:
    for index, item in enumerate(values):
        if type(item) not in types:
            error = _mismatch(item_spec, item)
            error.reversed_path.append(index)
            raise error


def _map_reader(spec: MapOf, resolve: Resolver, check: bool) -> Reader:
    value_reader = build_reader(spec.value, resolve, check)

    def read_map(value: Any) -> Any:
        if type(value) is not dict:
            if check:
                raise _mismatch(spec, value)
            return value
        key = ""
        try:
            for key, item in value.items():
                value[key] = value_reader(item)
        except Invalid as error:
            error.reversed_path.append(key)
            raise
        return value

    return read_map


def build_model_reader(cls: Any, resolve: Resolver, check: bool) -> Reader:
    """Read a JSON object into an instance of ``cls``, reusing the dict as its ``__dict__``.

    Field readers are built on first use: this serves keyword construction, where few fields
    are given and nested models should not be loaded for nothing (responses go through the
    compiled readers of :mod:`cvat_sdk._runtime.compile`).
    """
    by_wire = {f.wire: f for f in cls._fields}
    readers: dict[str, Reader | None] = {}
    renames = [(f.wire, f.name) for f in cls._fields if f.wire != f.name]
    new = object.__new__
    set_attr = object.__setattr__
    name = cls.__name__

    def reader_for(wire: str) -> Reader | None:
        if wire not in readers:
            spec = parse_spec(by_wire[wire].spec)
            plain = isinstance(spec, Leaf) and (
                spec.name in ("any", "file") or (not check and _leaf_types(spec) is not None)
            )
            readers[wire] = None if plain else build_reader(spec, resolve, check)
        return readers[wire]

    def read_model(value: Any) -> Any:
        if type(value) is not dict:
            if check and not isinstance(value, cls):
                raise Invalid(f"expected an object ({name}), got {kind_of(value)}")
            return value
        for wire in list(value):
            item = value[wire]
            if item is None or wire not in by_wire:
                continue  # nulls are tolerated; unknown fields are kept as they are
            reader = reader_for(wire)
            if reader is not None:
                try:
                    value[wire] = reader(item)
                except Invalid as error:
                    error.reversed_path.append(wire)
                    raise
        for wire, python in renames:
            if wire in value:
                value[python] = value.pop(wire)
        instance = new(cls)
        set_attr(instance, "__dict__", value)
        return instance

    return read_model


def build_enum_reader(cls: Any, check: bool) -> Reader:
    instances: dict[str, Any] = cls._instances

    def read_enum(value: Any) -> Any:
        if type(value) is str:
            found = instances.get(value)
            return found if found is not None else cls._unknown(value)
        if check and not isinstance(value, cls):
            raise Invalid(f"expected {cls.__name__} (a string), got {kind_of(value)}")
        return value

    return read_enum


def build_enum_union_reader(cls: Any, resolve: Resolver, check: bool) -> Reader:
    members = [resolve(name) for name in cls._members]
    enums = [m for m in members if None not in m._values]
    accepts_null = cls._nullable or len(enums) < len(members)

    def read_enum_union(value: Any) -> Any:
        if value is None:
            if check and not accepts_null:
                raise Invalid(f"expected {cls.__name__}, got None")
            return None
        if type(value) is str:
            for member in enums:
                found = member._instances.get(value)
                if found is not None:
                    return found
            if enums:
                return enums[0]._unknown(value)
        if check and not isinstance(value, tuple(enums)):
            raise Invalid(f"expected {cls.__name__} (a string), got {kind_of(value)}")
        return value

    return read_enum_union


# ---------------------------------------------------------------------------------------
# checkers: what a caller gives, validated before sending
# ---------------------------------------------------------------------------------------


def build_checker(spec: Spec, resolve: Resolver) -> Checker:
    checker = _build_checker(spec, resolve)
    if not spec.nullable:
        return checker

    def check_nullable(value: Any) -> None:
        if value is not None:
            checker(value)

    return check_nullable


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_file(value: Any) -> bool:
    return isinstance(value, (io.IOBase, bytes, bytearray)) or callable(
        getattr(value, "read", None)
    )


def _is_datetime_text(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parse_datetime(value)
    except ValueError:
        return False
    return True


def _is_date_text(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


_LEAF_TESTS: dict[str, Callable[[Any], bool]] = {
    "str": lambda v: isinstance(v, str),
    "int": _is_int,
    "float": _is_number,
    "bool": lambda v: isinstance(v, bool),
    "datetime": lambda v: isinstance(v, datetime.datetime) or _is_datetime_text(v),
    "date": lambda v: isinstance(v, datetime.date) or _is_date_text(v),
    "file": _is_file,
    "object": lambda v: isinstance(v, Mapping),
    "any": lambda v: True,
}


def _build_checker(spec: Spec, resolve: Resolver) -> Checker:
    if isinstance(spec, ModelRef):
        return resolve(spec.name)._checker()  # type: ignore[no-any-return]
    if isinstance(spec, ListOf):
        item_checker = build_checker(spec.item, resolve)
        exact = _leaf_types(spec.item)

        def check_list(value: Any) -> None:
            if not isinstance(value, (list, tuple)):
                raise _mismatch(spec, value)
            if exact is not None:  # plain JSON leaves pass without a call per item
                for item in value:
                    if type(item) not in exact:
                        break
                else:
                    return
            for index, item in enumerate(value):
                try:
                    item_checker(item)
                except Invalid as error:
                    error.reversed_path.append(index)
                    raise

        return check_list
    if isinstance(spec, MapOf):
        value_checker = build_checker(spec.value, resolve)

        def check_map(value: Any) -> None:
            if not isinstance(value, Mapping):
                raise _mismatch(spec, value)
            key = ""
            try:
                for key, item in value.items():
                    if not isinstance(key, str):
                        raise Invalid(f"keys must be strings, got {kind_of(key)}")
                    value_checker(item)
            except Invalid as error:
                error.reversed_path.append(key)
                raise

        return check_map
    test = _LEAF_TESTS[spec.name]

    def check_leaf(value: Any) -> None:
        if not test(value):
            raise _mismatch(spec, value)

    return check_leaf


def constraint_checker(field: Any) -> Checker | None:
    """Length, range and pattern limits of a field or parameter (request side only)."""
    limits: list[Callable[[Any], str | None]] = []
    if field.min_length is not None:
        low = field.min_length
        limits.append(lambda v: f"shorter than {low}" if _sized(v) and len(v) < low else None)
    if field.max_length is not None:
        high = field.max_length
        limits.append(lambda v: f"longer than {high}" if _sized(v) and len(v) > high else None)
    if field.minimum is not None:
        minimum = field.minimum
        limits.append(lambda v: f"less than {minimum}" if _is_number(v) and v < minimum else None)
    if field.maximum is not None:
        maximum = field.maximum
        limits.append(
            lambda v: f"greater than {maximum}" if _is_number(v) and v > maximum else None
        )
    if field.pattern is not None:
        pattern = re.compile(field.pattern)
        limits.append(
            lambda v: (
                f"does not match {pattern.pattern!r}"
                if isinstance(v, str) and not pattern.search(v)
                else None
            )
        )
    item_limits = None
    if field.items:
        item_limits = constraint_checker(Declared("item", "any", **field.items))
    if not limits and item_limits is None:
        return None

    def check_limits(value: Any) -> None:
        for limit in limits:
            problem = limit(value)
            if problem is not None:
                raise Invalid(f"{value!r} is {problem}", kind="value")
        if item_limits is not None and isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                if item is None:
                    continue
                try:
                    item_limits(item)
                except Invalid as error:
                    error.reversed_path.append(index)
                    raise

    return check_limits


def _sized(value: Any) -> bool:
    return isinstance(value, (str, list, tuple))


def build_model_checker(cls: Any, resolve: Resolver) -> Checker:
    """Validate a model instance or a dict meant as one (strict: no unknown keys).

    Field checkers are built on first use (see :func:`build_model_reader`); bulk request
    bodies go through :func:`cvat_sdk._runtime.compile.compile_model_checker`.
    """
    fields = cls._fields
    by_key = {f.wire: f for f in fields} | {f.name: f for f in fields}
    built: dict[str, tuple[Checker, Checker | None]] = {}
    required = [f for f in fields if f.required and not f.read_only]
    name = cls.__name__

    def checks_for(key: str) -> tuple[Checker, Checker | None]:
        found = built.get(key)
        if found is None:
            field = by_key[key]
            found = (build_checker(parse_spec(field.spec), resolve), constraint_checker(field))
            built[key] = found
        return found

    def check_model(value: Any) -> None:
        if isinstance(value, cls) or getattr(type(value), "_fields", None) is fields:
            return  # models validate on construction and assignment
        if not isinstance(value, Mapping):
            raise Invalid(f"expected {name} or a dict, got {kind_of(value)}")
        for field in required:
            if field.wire not in value and field.name not in value:
                error = Invalid(f"required field of {name} is missing", kind="key")
                error.reversed_path.append(field.name)
                raise error
        for key, item in value.items():
            if key not in by_key:
                error = Invalid(f"{name} has no field {key!r}", kind="key")
                error.reversed_path.append(key)
                raise error
            check, limits = checks_for(key)
            try:
                check(item)
                if limits is not None and item is not None:
                    limits(item)
            except Invalid as error:
                error.reversed_path.append(key)
                raise

    return check_model


def build_enum_checker(cls: Any) -> Checker:
    allowed = frozenset(v for v in cls._values if v is not None)

    def check_enum(value: Any) -> None:
        if isinstance(value, cls):
            return
        if not isinstance(value, str):
            raise Invalid(f"expected {cls.__name__} (a string), got {kind_of(value)}")
        if value not in allowed:
            raise Invalid(
                f"{value!r} is not a valid {cls.__name__}; allowed: {sorted(allowed)}",
                kind="value",
            )

    return check_enum


def build_union_checker(cls: Any, members: list[Checker]) -> Checker:
    """A value fits a union when it fits one of its members; else the first error is told."""

    def check_union(value: Any) -> None:
        if isinstance(value, cls):
            return
        first: Invalid | None = None
        for member in members:
            try:
                member(value)
            except Invalid as error:
                first = first or error
            else:
                return
        if first is not None:
            raise first

    return check_union


def copy_json(value: Any) -> Any:
    """Copy the containers of caller data so that reading it in place changes nothing of theirs."""
    if type(value) is dict:
        return {k: copy_json(v) for k, v in value.items()}
    if type(value) in (list, tuple):
        return [copy_json(v) for v in value]
    if isinstance(value, Mapping) and not hasattr(value, "_fields"):
        return {k: copy_json(v) for k, v in value.items()}
    return value


def warn_unknown_enum(cls_name: str, value: str) -> None:
    warnings.warn(
        f"{cls_name} got {value!r}, a value this client does not know (the server is probably "
        "newer); it is kept as is",
        UnknownEnumValueWarning,
        stacklevel=3,
    )


class UnknownEnumValueWarning(UserWarning):
    """An enum value from the server is not in the schema the client was built from."""
