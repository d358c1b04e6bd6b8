"""Per-model readers and checkers compiled to Python source, the way dataclasses builds
``__init__``: one straight-line function per model, with leaf checks and enum lookups inline.

This is the hot path of every response (a 20,000-shape annotation payload runs it 20,000
times), so it avoids loops over field tables, tuple unpacking and calls per field. The source
is built only from the model's declarations (names are checked to be identifiers; values are
passed in as constants, never pasted as code).
"""

from __future__ import annotations

import keyword
from collections.abc import Mapping
from typing import Any

from cvat_sdk._runtime import convert
from cvat_sdk._runtime.specs import Leaf, ListOf, ModelRef, Spec, describe, parse_spec

_EXACT_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (float, int),
    "bool": (bool,),
    "object": (dict,),
}


class _Source:
    """Collects lines and the constants the generated function refers to."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {}

    def const(self, value: Any) -> str:
        name = f"_c{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def add(self, line: str, depth: int = 1) -> None:
        self.lines.append("    " * depth + line)

    def build(self, name: str, signature: str) -> Any:
        code = f"def {name}({signature}):\n" + "\n".join(self.lines) + "\n"
        exec(compile(code, f"<cvat_sdk compiled {name}>", "exec"), self.namespace)  # noqa: S102
        return self.namespace[name]


def _type_test(source: _Source, types: tuple[type, ...], var: str) -> str:
    """``type(v) is not A and type(v) is not B``: the fastest exact-type test in CPython."""
    return " and ".join(f"type({var}) is not {source.const(t)}" for t in types)


def _mismatch_raiser(spec: Spec, wire: str) -> Any:
    def fail(value: Any) -> None:
        error = convert.Invalid(
            f"expected {describe(spec)}, got {convert.kind_of(value)} {convert._preview(value)}"
        )
        error.reversed_path.append(wire)
        raise error

    return fail


def _item_raiser(item_spec: Spec, types: tuple[type, ...], wire: str) -> Any:
    def fail(values: Any) -> None:
        if type(values) is not list:
            error = convert.Invalid(
                f"expected list of {describe(item_spec)}, got {convert.kind_of(values)}"
            )
            error.reversed_path.append(wire)
            raise error
        for index, item in enumerate(values):
            if type(item) not in types and not (item is None and item_spec.nullable):
                error = convert._mismatch(item_spec, item)
                error.reversed_path += [index, wire]
                raise error

    return fail


def _safe(name: str) -> str:
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"not a usable field name: {name!r}")
    return name


def compile_model_reader(cls: Any, resolve: convert.Resolver, check: bool) -> convert.Reader:
    """A reader like :func:`convert.build_model_reader`, compiled for ``cls``."""
    src = _Source()
    cls_name = src.const(cls)
    src.add("if type(value) is not dict:")
    src.add(f"return _not_object(value, {cls_name})", 2)
    src.namespace["_not_object"] = _not_object if check else _pass_through
    src.add("get = value.get")
    for field in cls._fields:
        spec = parse_spec(field.spec)
        wire = repr(field.wire)
        if isinstance(spec, Leaf) and spec.name in _EXACT_TYPES:
            if check:  # null is tolerated in every response field (see convert)
                fail = src.const(_mismatch_raiser(spec, field.wire))
                allowed = src.const(frozenset((*_EXACT_TYPES[spec.name], type(None))))
                src.add(f"if type(get({wire})) not in {allowed}:")
                src.add(f"{fail}(get({wire}))", 2)
            continue
        if isinstance(spec, Leaf) and spec.name in ("any", "file"):
            continue
        src.add(f"v = get({wire})")
        src.add("if v is not None:")
        target = _model_or_none(spec, resolve)
        if target is not None and target._kind == "enum":
            instances, unknown = src.const(target._instances), src.const(target._unknown)
            src.add("if type(v) is str:", 2)
            src.add(f"e = {instances}.get(v)", 3)
            src.add(f"value[{wire}] = e if e is not None else {unknown}(v)", 3)
            if check:
                src.add(f"elif not isinstance(v, {src.const(target)}):", 2)
                src.add(f"{src.const(_mismatch_raiser(spec, field.wire))}(v)", 3)
            continue
        if (
            check
            and isinstance(spec, ListOf)
            and isinstance(spec.item, Leaf)
            and spec.item.name in _EXACT_TYPES
        ):
            types = _EXACT_TYPES[spec.item.name] + ((type(None),) if spec.item.nullable else ())
            fail = src.const(_item_raiser(spec.item, types, field.wire))
            src.add("if type(v) is not list:", 2)
            src.add(f"{fail}(v)", 3)
            src.add("for x in v:", 2)
            src.add(f"if {_type_test(src, types, 'x')}:", 3)
            src.add(f"{fail}(v)", 4)
            continue
        reader = src.const(convert.build_reader(spec, resolve, check))
        depth = 2
        if isinstance(spec, ListOf):  # most lists in annotations are empty: no call for them
            src.add("if v or type(v) is not list:", 2)
            depth = 3
        src.add("try:", depth)
        src.add(f"value[{wire}] = {reader}(v)", depth + 1)
        src.add("except _Invalid as error:", depth)
        src.add(f"error.reversed_path.append({wire})", depth + 1)
        src.add("raise", depth + 1)
    src.namespace["_Invalid"] = convert.Invalid
    for field in cls._fields:
        if field.wire != field.name:
            src.add(f"if {field.wire!r} in value:")
            src.add(f"value[{_safe(field.name)!r}] = value.pop({field.wire!r})", 2)
    src.namespace["_new"] = object.__new__
    src.namespace["_set"] = object.__setattr__
    src.add(f"instance = _new({cls_name})")
    src.add("_set(instance, '__dict__', value)")
    src.add("return instance")
    return src.build(f"read_{cls.__name__}", "value")  # type: ignore[no-any-return]


def _not_object(value: Any, cls: Any) -> Any:
    if isinstance(value, cls):
        return value
    raise convert.Invalid(f"expected an object ({cls.__name__}), got {convert.kind_of(value)}")


def _pass_through(value: Any, cls: Any) -> Any:
    return value


def _model_or_none(spec: Spec, resolve: convert.Resolver) -> Any:
    return resolve(spec.name) if isinstance(spec, ModelRef) else None


def compile_model_checker(cls: Any, resolve: convert.Resolver) -> convert.Checker:
    """A checker like :func:`convert.build_model_checker`, compiled for ``cls``."""
    src = _Source()
    fields = cls._fields
    known = frozenset(f.wire for f in fields) | frozenset(f.name for f in fields)
    src.namespace.update(
        _Mapping=Mapping, _known=known, _fields=fields, _unknown_key=_unknown_key(cls)
    )
    cls_name = src.const(cls)
    src.add("if type(value) is not dict:")
    src.add(
        f"if isinstance(value, {cls_name}) or getattr(type(value), '_fields', None) is _fields:", 2
    )
    src.add("return", 3)
    src.add("if not isinstance(value, _Mapping):", 2)
    src.add(f"{src.const(_not_a_mapping(cls))}(value)", 3)
    src.add("if not value.keys() <= _known:")
    src.add("_unknown_key(value)", 2)
    for field in fields:
        if field.required and not field.read_only:
            missing = src.const(_missing(cls, field.name))
            test = f"{field.wire!r} not in value"
            if field.name != field.wire:
                test += f" and {field.name!r} not in value"
            src.add(f"if {test}:")
            src.add(f"{missing}()", 2)
    src.add("get = value.get")
    for field in fields:
        spec = parse_spec(field.spec)
        keys = [field.wire] if field.name == field.wire else [field.wire, field.name]
        for key in keys:
            src.add(f"v = get({key!r}, _M)")
            src.add("if v is not _M:")
            _emit_field_check(src, spec, field, key, resolve)
    src.namespace["_M"] = convert.MISSING
    src.add("return None")
    return src.build(f"check_{cls.__name__}", "value")  # type: ignore[no-any-return]


def _emit_field_check(
    src: _Source, spec: Spec, field: Any, key: str, resolve: convert.Resolver
) -> None:
    limits = convert.constraint_checker(field)
    checker = convert.build_checker(spec, resolve)
    fast = _EXACT_TYPES.get(spec.name) if isinstance(spec, Leaf) else None
    run = f"{src.const(_path_wrapped(checker, limits, key))}(v)"
    inline_limits = _inline_limits(src, field, "v")
    if fast is not None and inline_limits is not None:
        # plain JSON values within their limits pass without a call; anything else (another
        # type, a subclass, a value out of range) takes the full check and its error message
        passes = " or ".join(f"type(v) is {src.const(t)}" for t in fast)
        test = f"({passes}){inline_limits}"
        if spec.nullable:
            test = f"v is None or ({test})"
        src.add(f"if not ({test}):", 2)
        src.add(run, 3)
    else:
        src.add(run, 2)


def _inline_limits(src: _Source, field: Any, var: str) -> str | None:
    """Range and length limits as inline conditions (`` and v >= 0``); None when a limit
    (a pattern, limits on list items) needs the full check."""
    if field.pattern is not None or field.items:
        return None
    parts = []
    if field.minimum is not None:
        parts.append(f" and {var} >= {src.const(field.minimum)}")
    if field.maximum is not None:
        parts.append(f" and {var} <= {src.const(field.maximum)}")
    if field.min_length is not None:
        parts.append(f" and len({var}) >= {src.const(field.min_length)}")
    if field.max_length is not None:
        parts.append(f" and len({var}) <= {src.const(field.max_length)}")
    return "".join(parts)


def _path_wrapped(checker: convert.Checker, limits: convert.Checker | None, key: str) -> Any:
    def check(value: Any) -> None:
        try:
            checker(value)
            if limits is not None and value is not None:
                limits(value)
        except convert.Invalid as error:
            error.reversed_path.append(key)
            raise

    return check


def _unknown_key(cls: Any) -> Any:
    known = {f.wire for f in cls._fields} | {f.name for f in cls._fields}

    def fail(value: Any) -> None:
        key = next(k for k in value if k not in known)
        error = convert.Invalid(f"{cls.__name__} has no field {key!r}", kind="key")
        error.reversed_path.append(key)
        raise error

    return fail


def _missing(cls: Any, name: str) -> Any:
    def fail() -> None:
        error = convert.Invalid(f"required field of {cls.__name__} is missing", kind="key")
        error.reversed_path.append(name)
        raise error

    return fail


def _not_a_mapping(cls: Any) -> Any:
    def fail(value: Any) -> None:
        raise convert.Invalid(f"expected {cls.__name__} or a dict, got {convert.kind_of(value)}")

    return fail
