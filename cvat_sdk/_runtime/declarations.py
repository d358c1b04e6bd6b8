"""The declarations generated code is made of: model fields (``F``) and parameters (``P``).

Both carry a Python name, a type spec, a wire name and the schema's constraints, which are
checked on what a caller sends (never on what a server answers).
"""

from __future__ import annotations

from typing import Any


class Declared:
    """What fields and parameters share."""

    __slots__ = (
        "items",
        "max_length",
        "maximum",
        "min_length",
        "minimum",
        "name",
        "pattern",
        "required",
        "spec",
        "wire",
    )

    def __init__(
        self,
        name: str,
        spec: str,
        *,
        wire: str | None = None,
        required: bool = False,
        min_length: int | None = None,
        max_length: int | None = None,
        minimum: float | None = None,
        maximum: float | None = None,
        pattern: str | None = None,
        items: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.spec = spec
        self.wire = wire or name
        self.required = required
        self.min_length = min_length
        self.max_length = max_length
        self.minimum = minimum
        self.maximum = maximum
        self.pattern = pattern
        #: the constraints of each item of a list (same keywords, nested for lists of lists)
        self.items = items


class F(Declared):
    """A model field."""

    __slots__ = ("read_only", "write_only")

    def __init__(
        self,
        name: str,
        spec: str,
        *,
        read_only: bool = False,
        write_only: bool = False,
        **common: Any,
    ) -> None:
        super().__init__(name, spec, **common)
        self.read_only = read_only
        self.write_only = write_only

    def __repr__(self) -> str:
        return f"F({self.name!r}, {self.spec!r})"


class P(Declared):
    """An operation parameter, placed in the path, query, a header, the body or a form."""

    __slots__ = ("deprecated", "enum", "where")

    def __init__(
        self,
        name: str,
        where: str,
        spec: str,
        *,
        enum: tuple[Any, ...] | None = None,
        deprecated: bool = False,
        **common: Any,
    ) -> None:
        super().__init__(name, spec, **common)
        self.where = where
        self.enum = enum
        self.deprecated = deprecated

    def __repr__(self) -> str:
        return f"P({self.name!r}, {self.where!r}, {self.spec!r})"
