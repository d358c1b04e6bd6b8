"""Base classes of the generated models.

A generated model only declares its fields (``_fields``); this module gives them behaviour.
An instance keeps its values in ``__dict__`` keyed by Python field name, exactly the set that
was given or received: reading a field that was never set raises ``ApiAttributeError``, fields
a newer server sends are kept and round-trip through :meth:`Model.to_dict`.
"""

from __future__ import annotations

import datetime
import importlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from cvat_sdk._runtime import convert
from cvat_sdk._runtime.compile import compile_model_checker, compile_model_reader
from cvat_sdk._runtime.declarations import F
from cvat_sdk._runtime.exceptions import (
    ApiAttributeError,
    ApiKeyError,
    ApiTypeError,
    ApiValueError,
)
from cvat_sdk._runtime.specs import parse_spec


class _Unset:
    """The default of fields and parameters that were not given."""

    _instance: ClassVar[_Unset | None] = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


#: Marks an argument that was not given. Typed ``Any`` so it fits every annotation.
UNSET: Any = _Unset()


def resolver_for(cls: type) -> convert.Resolver:
    """Model names in specs resolve within the generated ``models`` package of ``cls``."""
    package_name = cls.__module__.rpartition(".")[0]

    def resolve(name: str) -> Any:
        package = sys.modules.get(package_name) or importlib.import_module(package_name)
        return getattr(package, name)

    return resolve


def _input_error(error: convert.Invalid, path: list[str | int]) -> Exception:
    full_path = path + error.path
    if error.kind == "key":
        return ApiKeyError(error.message, full_path)
    if error.kind == "value":
        return ApiValueError(error.message, full_path)
    return ApiTypeError(error.message, full_path)


class _Compiled:
    """Per-class caches of compiled readers and checkers, built on first use."""

    _cache: ClassVar[dict[tuple[type, str], Any]] = {}

    @classmethod
    def get(cls, owner: type, key: str, build: Any) -> Any:
        found = cls._cache.get((owner, key))
        if found is None:
            found = cls._cache[(owner, key)] = build()
        return found


class Model:
    """A schema object: keyword (or positional, for required fields) construction, validated."""

    _fields: ClassVar[tuple[F, ...]] = ()
    _kind: ClassVar[str] = "object"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        fields = {f.name: f for f in cls._fields}
        positional = [f.name for f in cls._fields if f.required and not f.read_only]
        if len(args) > len(positional):
            raise ApiTypeError(
                f"{cls.__name__}() takes {len(positional)} positional arguments "
                f"({', '.join(positional) or 'none'}) but {len(args)} were given"
            )
        values: dict[str, Any] = {}
        for name, value in zip(positional, args, strict=False):
            values[name] = value
        for name, value in kwargs.items():
            if name in values:
                raise ApiTypeError(f"{cls.__name__}() got two values for {name!r}")
            if name not in fields:
                raise ApiTypeError(f"{cls.__name__}() got an unexpected field {name!r}", [name])
            if value is not UNSET:
                values[name] = value
        for name in positional:
            if name not in values:
                raise ApiKeyError(f"{cls.__name__}() is missing the required field", [name])
        check, read = cls._construction()
        try:
            check(values)
        except convert.Invalid as error:
            raise _input_error(error, []) from None
        object.__setattr__(self, "__dict__", read(convert.copy_json(values)).__dict__)

    # --- compiled hot paths -------------------------------------------------------------
    @classmethod
    def _reader(cls, check: bool) -> convert.Reader:
        return _Compiled.get(  # type: ignore[no-any-return]
            cls,
            f"reader{check}",
            lambda: compile_model_reader(cls, resolver_for(cls), check),
        )

    @classmethod
    def _checker(cls) -> convert.Checker:
        return _Compiled.get(  # type: ignore[no-any-return]
            cls, "checker", lambda: compile_model_checker(cls, resolver_for(cls))
        )

    @classmethod
    def _construction(cls) -> tuple[convert.Checker, convert.Reader]:
        """Checker and reader for keyword construction: built per field on use, not compiled
        (a constructor sees a few values; compiling pays off for bulk bodies and responses)."""

        def build() -> tuple[convert.Checker, convert.Reader]:
            resolve = resolver_for(cls)
            checker = (
                cls._checker()
                if cls._kind == "union"
                else convert.build_model_checker(cls, resolve)
            )
            return checker, convert.build_model_reader(cls, resolve, False)

        return _Compiled.get(cls, "construction", build)  # type: ignore[no-any-return]

    @classmethod
    def _from_wire(cls, data: Any, *, check: bool = True) -> Any:
        """Build an instance from decoded JSON (which it takes over: no copy)."""
        with convert.gc_paused():
            return cls._reader(check)(data)

    # --- attribute and item access ------------------------------------------------------
    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any:
            if any(f.name == name for f in type(self)._fields):
                raise ApiAttributeError(f"{type(self).__name__}.{name} is not set", [name])
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        checker, limits, reader = type(self)._field_setter(name)
        try:
            checker(value)
            if limits is not None and value is not None:
                limits(value)
        except convert.Invalid as error:
            raise _input_error(error, [name]) from None
        self.__dict__[name] = reader(convert.copy_json(value))

    @classmethod
    def _field_setter(
        cls, name: str
    ) -> tuple[convert.Checker, convert.Checker | None, convert.Reader]:
        """Checker, limits and reader of one field, built on its first assignment."""

        def build() -> tuple[convert.Checker, convert.Checker | None, convert.Reader]:
            field = next((f for f in cls._fields if f.name == name), None)
            if field is None:
                raise ApiAttributeError(f"{cls.__name__} has no field {name!r}", [name])
            resolve = resolver_for(cls)
            spec = parse_spec(field.spec)
            return (
                convert.build_checker(spec, resolve),
                convert.constraint_checker(field),
                convert.build_reader(spec, resolve, False),
            )

        return _Compiled.get(cls, f"set {name}", build)  # type: ignore[no-any-return]

    def __delattr__(self, name: str) -> None:
        self.__dict__.pop(name, None)

    def __getitem__(self, name: str) -> Any:
        try:
            return getattr(self, name)
        except AttributeError:
            raise ApiKeyError(f"{type(self).__name__} has no value for {name!r}", [name]) from None

    def __setitem__(self, name: str, value: Any) -> None:
        setattr(self, name, value)

    def __contains__(self, name: object) -> bool:
        return name in self.__dict__

    def get(self, name: str, default: Any = None) -> Any:
        return self.__dict__.get(name, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self.__dict__)

    # --- conversions --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain data: nested models become dicts, enums plain strings; datetimes stay."""
        return {name: to_plain(value) for name, value in self.__dict__.items()}

    def _to_wire(self) -> dict[str, Any]:
        """The JSON object to send: wire names; nested values are encoded by the caller."""
        renames = {f.name: f.wire for f in type(self)._fields if f.wire != f.name}
        if not renames:
            return self.__dict__
        return {renames.get(k, k): v for k, v in self.__dict__.items()}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Model):
            return NotImplemented
        return type(self)._fields is type(other)._fields and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items())
        return f"{type(self).__name__}({inner})"


class UnionModel(Model):
    """A ``oneOf``/``anyOf`` object: exposes the fields of all members; a dict fits any one."""

    _kind: ClassVar[str] = "union"
    _members: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def _checker(cls) -> convert.Checker:
        def build() -> convert.Checker:
            resolve = resolver_for(cls)
            members = [
                convert.build_checker(parse_spec(m), resolve) for m in cls._members if m != "file"
            ]
            return convert.build_union_checker(cls, members)

        return _Compiled.get(cls, "checker", build)  # type: ignore[no-any-return]


class EnumModel(str):
    """A schema enum: a ``str`` whose value is one of ``_values`` (``.value`` gives it)."""

    _kind: ClassVar[str] = "enum"
    _values: ClassVar[tuple[Any, ...]] = ()
    _instances: ClassVar[dict[str, EnumModel]]
    _warned: ClassVar[set[str]]
    allowed_values: ClassVar[dict[tuple[str], dict[str, Any]]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._instances = {v: str.__new__(cls, v) for v in cls._values if v is not None}
        cls._warned = set()
        cls.allowed_values = {("value",): _constant_names(cls._values)}

    def __new__(cls, value: Any) -> EnumModel:
        if isinstance(value, cls):
            return value
        found = cls._instances.get(value) if isinstance(value, str) else None
        if found is None:
            raise ApiValueError(
                f"{value!r} is not a valid {cls.__name__}; allowed: {list(cls._values)}"
            )
        return found

    @classmethod
    def _unknown(cls, value: str) -> EnumModel:
        """A value the schema does not list (from a newer server): kept, warned about once."""
        if value not in cls._warned:
            cls._warned.add(value)
            convert.warn_unknown_enum(cls.__name__, value)
        return str.__new__(cls, value)

    @property
    def value(self) -> str:
        return str.__str__(self)

    def __str__(self) -> str:
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str.__repr__(self)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (str, (str.__str__(self),))

    @classmethod
    def _reader(cls, check: bool) -> convert.Reader:
        return _Compiled.get(  # type: ignore[no-any-return]
            cls, f"reader{check}", lambda: convert.build_enum_reader(cls, check)
        )

    @classmethod
    def _checker(cls) -> convert.Checker:
        return _Compiled.get(  # type: ignore[no-any-return]
            cls, "checker", lambda: convert.build_enum_checker(cls)
        )


_SYMBOL_NAMES = {"+": "PLUS", "-": "MINUS", "*": "STAR", "/": "SLASH", ".": "DOT", "": "EMPTY"}


def _constant_names(values: tuple[Any, ...]) -> dict[str, Any]:
    """Upper-case constant names of enum values (``in progress`` -> ``IN_PROGRESS``, ``+`` ->
    ``PLUS``), made unique by a numeric suffix where two values would share one."""
    names: dict[str, Any] = {}
    for value in values:
        if value is None:
            base = "NULL"
        elif value in _SYMBOL_NAMES:
            base = _SYMBOL_NAMES[value]
        else:
            text = "".join(c if c.isalnum() else "_" for c in str(value)).strip("_").upper()
            base = text or "_".join(_SYMBOL_NAMES.get(c, f"X{ord(c):X}") for c in str(value))
        name, suffix = base, 2
        while name in names:
            name, suffix = f"{base}_{suffix}", suffix + 1
        names[name] = value
    return names


class EnumUnion:
    """A ``oneOf`` of enums (typically an enum or ``NullEnum``): values are member instances."""

    _kind: ClassVar[str] = "enum_union"
    _members: ClassVar[tuple[str, ...]] = ()
    _nullable: ClassVar[bool] = False
    _values: ClassVar[tuple[Any, ...]] = ()

    def __new__(cls, value: Any) -> Any:
        try:
            cls._checker()(value)
        except convert.Invalid as error:
            raise _input_error(error, []) from None
        return cls._reader(False)(value)

    @classmethod
    def _reader(cls, check: bool) -> convert.Reader:
        return _Compiled.get(  # type: ignore[no-any-return]
            cls,
            f"reader{check}",
            lambda: convert.build_enum_union_reader(cls, resolver_for(cls), check),
        )

    @classmethod
    def _checker(cls) -> convert.Checker:
        def build() -> convert.Checker:
            resolve = resolver_for(cls)
            members = [convert.build_checker(parse_spec(m), resolve) for m in cls._members]
            if cls._nullable:
                members.append(lambda v: None if v is None else _raise_not_none())
            return convert.build_union_checker(cls, members)

        return _Compiled.get(cls, "checker", build)  # type: ignore[no-any-return]


def _raise_not_none() -> None:
    raise convert.Invalid("expected None")


def to_plain(value: Any) -> Any:
    """Models to dicts (Python names), enums to ``str``, containers copied; leaves as they are."""
    if isinstance(value, Model):
        return value.to_dict()
    if isinstance(value, EnumModel):
        return str.__str__(value)
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    return value


def to_json_data(value: Any) -> Any:
    """JSON-ready data: like :func:`to_plain` with wire names and ISO 8601 dates."""
    if isinstance(value, Model):
        return {k: to_json_data(v) for k, v in value._to_wire().items()}
    if isinstance(value, EnumModel):
        return str.__str__(value)
    if isinstance(value, (list, tuple)):
        return [to_json_data(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json_data(v) for k, v in value.items()}
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    return value
