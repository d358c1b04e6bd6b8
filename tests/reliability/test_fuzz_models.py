"""Property-based fuzzing of every model of the schema, with strategies built from its specs.

For each model: valid wire payloads parse and round-trip through ``to_json`` to the same data
(datetimes compared as instants); a payload with one wrong-typed value at a random depth fails
with ``Invalid`` naming exactly that path, and served by a loopback endpoint it fails with an
``ApiResponseError`` that names the path and keeps the raw body.

The default run is bounded (a few examples per model); ``HYPOTHESIS_PROFILE=long`` runs many.
"""

from __future__ import annotations

import copy
import datetime
import json
import os
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cvat_sdk._runtime.convert import Invalid, parse_datetime
from cvat_sdk._runtime.endpoint import EndpointSpec
from cvat_sdk._runtime.specs import Leaf, ListOf, MapOf, ModelRef, Spec, parse_spec
from cvat_sdk.api_client import apis, exceptions, model_utils, models
from tests.reliability._support import FIGURES, client_for
from tests.support.loopback import LoopbackServer, Recorded, Reply

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile(
    "fuzz-default", max_examples=20, deadline=None, suppress_health_check=_QUIET, derandomize=False
)
settings.register_profile("long", max_examples=1000, deadline=None, suppress_health_check=_QUIET)
PROFILE = settings.get_profile(
    "long" if os.environ.get("HYPOTHESIS_PROFILE") == "long" else "fuzz-default"
)

#: Below this depth, lists and maps are empty and optional fields left out (payloads stay small).
DEEP = 4
#: Required fields that nest deeper than this would be a cycle in the schema.
TOO_DEEP = 20

MODEL_NAMES = [
    name for name in models.__all__ if not (name.startswith("I") and name[1:] in models.__all__)
]
Path = list[str | int]


def model(name: str) -> Any:
    return getattr(models, name)


def values_of(cls: Any) -> list[Any]:
    """The wire values an enum or an enum union accepts."""
    if cls._kind == "enum":
        return list(cls._values)
    found: list[Any] = [None] if cls._nullable else []
    for member in cls._members:
        found += [v for v in values_of(model(member)) if v not in found]
    return found


# --- valid payloads ----------------------------------------------------------------------------

JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
_ZONES: list[datetime.tzinfo | None] = [
    None,
    datetime.timezone.utc,
    datetime.timezone(datetime.timedelta(hours=5, minutes=30)),
]
ZONES: Any = st.sampled_from(_ZONES)


def _datetime_text(moment: datetime.datetime, zulu: bool) -> str:
    text = moment.isoformat()
    return text.replace("+00:00", "Z") if zulu else text


DATETIMES = st.builds(
    _datetime_text,
    st.datetimes(min_value=datetime.datetime(1900, 1, 1), timezones=ZONES),
    st.booleans(),
)
LEAVES: dict[str, st.SearchStrategy[Any]] = {
    "str": st.text(max_size=12),
    "int": st.integers(min_value=-(2**63), max_value=2**63),
    "float": st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers()),
    "bool": st.booleans(),
    "date": st.dates().map(datetime.date.isoformat),
    "datetime": DATETIMES,
    "file": st.text(max_size=8),
    "any": JSON_VALUE,
    "object": st.dictionaries(st.text(max_size=6), JSON_VALUE, max_size=3),
}


def wire(spec: Spec, depth: int) -> st.SearchStrategy[Any]:
    """Valid wire data for a spec."""
    if depth > TOO_DEEP:
        raise AssertionError("required fields nest without end: a cycle in the schema?")
    if isinstance(spec, Leaf):
        base = LEAVES[spec.name]
    elif isinstance(spec, ListOf):
        base = st.lists(wire(spec.item, depth + 1), max_size=0 if depth >= DEEP else 3)
    elif isinstance(spec, MapOf):
        size = 0 if depth >= DEEP else 3
        base = st.dictionaries(st.text(max_size=6), wire(spec.value, depth + 1), max_size=size)
    else:
        base = model_wire(spec.name, depth + 1)
    return st.one_of(st.none(), base) if spec.nullable else base


def model_wire(name: str, depth: int = 0) -> st.SearchStrategy[Any]:
    cls = model(name)
    if cls._kind in ("enum", "enum_union"):
        return st.sampled_from(values_of(cls))
    required = {f.wire: wire(parse_spec(f.spec), depth) for f in cls._fields if f.required}
    optional = {}
    if depth < DEEP:
        optional = {f.wire: wire(parse_spec(f.spec), depth) for f in cls._fields if not f.required}
    return st.fixed_dictionaries(required, optional=optional)


# --- comparison after a round trip -------------------------------------------------------------


def normalized(spec: Spec, value: Any) -> Any:
    """Datetimes as instants (``Z`` and ``+00:00`` are the same), the rest as it is."""
    if value is None:
        return None
    if isinstance(spec, Leaf):
        return parse_datetime(value) if spec.name == "datetime" else value
    if isinstance(spec, ListOf):
        return [normalized(spec.item, v) for v in value]
    if isinstance(spec, MapOf):
        return {k: normalized(spec.value, v) for k, v in value.items()}
    cls = model(spec.name)
    if cls._kind in ("enum", "enum_union"):
        return value
    specs = {f.wire: parse_spec(f.spec) for f in cls._fields}
    return {k: normalized(specs[k], v) if k in specs else v for k, v in value.items()}


def read(cls: Any, payload: Any) -> Any:
    return cls._from_wire(payload) if hasattr(cls, "_from_wire") else cls._reader(True)(payload)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_valid_payloads_parse_and_round_trip(name: str) -> None:
    cls = model(name)
    spec = ModelRef(name)
    if cls._kind == "enum" and values_of(cls) == [None]:
        # NullEnum only occurs in unions and fields, whose readers take null before it
        assert model("AnnotationIdShapeType")._reader(True)(None) is None
        return

    @PROFILE
    @given(model_wire(name))
    def check(payload: Any) -> None:
        original = copy.deepcopy(payload)  # reading takes the payload over
        parsed = read(cls, payload)
        if cls._kind in ("object", "union"):
            assert isinstance(parsed, cls)
        again = model_utils.to_json(parsed)
        assert normalized(spec, again) == normalized(spec, original)
        assert json.loads(json.dumps(again)) == again  # and it is JSON again
        FIGURES["fuzz: valid payloads round-tripped"] += 1

    check()


# --- invalid payloads --------------------------------------------------------------------------

WRONG: dict[str, list[Any]] = {
    "str": [12345, 1.5, True, [], {}],
    "int": ["12", 1.5, True, [], {}],
    "float": ["1.5", True, [], {}],
    "bool": ["true", 1, 0.0, [], {}],
    "date": [20240101, True, "not a date", []],
    "datetime": [20240101, False, "31/12/2024", {}],
    "object": [[1], "x", 3],
    "list": ["not a list", 7, {"a": 1}],
    "map": [[1], "x", 7],
    "model": ["x", 7, [1], True],
    "enum": [7, 1.5, [], {}],
}


def wrong_values(spec: Spec) -> list[Any] | None:
    """Values that must be refused where ``spec`` is expected (None: anything goes there)."""
    if isinstance(spec, Leaf):
        return WRONG.get(spec.name)  # "any" and "file" take anything
    if isinstance(spec, ListOf):
        return WRONG["list"]
    if isinstance(spec, MapOf):
        return WRONG["map"]
    kind = model(spec.name)._kind
    return WRONG["enum"] if kind in ("enum", "enum_union") else WRONG["model"]


def sites(spec: Spec, value: Any, path: Path) -> list[tuple[Path, Spec]]:
    """Every place of a valid payload where a wrong value must be noticed, with its spec."""
    found = [(path, spec)] if wrong_values(spec) is not None else []
    if value is None:
        return found
    if isinstance(spec, ListOf):
        for index, item in enumerate(value):
            found += sites(spec.item, item, [*path, index])
    elif isinstance(spec, MapOf):
        for key, item in value.items():
            found += sites(spec.value, item, [*path, key])
    elif isinstance(spec, ModelRef) and model(spec.name)._kind in ("object", "union"):
        specs = {f.wire: parse_spec(f.spec) for f in model(spec.name)._fields}
        for key, item in value.items():
            found += sites(specs[key], item, [*path, key])
    return found


def put(payload: Any, path: Path, value: Any) -> Any:
    if not path:
        return value
    target = payload
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return payload


@st.composite
def broken(draw: Callable[..., Any], name: str, top: bool = True) -> tuple[Any, Path, Any]:
    """A valid payload of ``name`` with one wrong value put at a random depth (``top``: the
    payload itself may be the wrong value)."""
    payload = draw(model_wire(name))
    places = [s for s in sites(ModelRef(name), payload, []) if top or s[0]]
    assume(places)
    path, spec = draw(st.sampled_from(places))
    bad = draw(st.sampled_from(wrong_values(spec) or []))
    return put(payload, path, bad), path, bad


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_a_wrong_value_anywhere_is_named_by_its_path(name: str) -> None:
    cls = model(name)

    @PROFILE
    @given(broken(name))
    def check(case: tuple[Any, Path, Any]) -> None:
        payload, path, bad = case
        with pytest.raises(Invalid) as caught:
            read(cls, payload)
        assert caught.value.path == path, (caught.value.message, bad)
        FIGURES["fuzz: invalid payloads refused at the right path"] += 1
        deepest = FIGURES["fuzz: deepest wrong value (path items)"]
        FIGURES["fuzz: deepest wrong value (path items)"] = max(deepest, len(path))

    check()


# --- the same, through a real endpoint --------------------------------------------------------


def _endpoints() -> dict[str, tuple[str, str, list[int], bool]]:
    """Model -> (API attribute, method name, path arguments, list?) of a GET that returns it."""
    import inspect

    found: dict[str, tuple[str, str, list[int], bool]] = {}
    for api_name in dir(apis):
        api_class = getattr(apis, api_name)
        if not inspect.isclass(api_class):
            continue
        for attribute, spec in vars(api_class).items():
            if not isinstance(spec, EndpointSpec) or spec.http_method != "GET":
                continue
            declared = spec.responses.get("200")
            required = [p for p in spec.params.values() if p.required]
            if declared is None or any(p.where != "path" or p.spec != "int" for p in required):
                continue
            parsed = parse_spec(declared)
            is_list = isinstance(parsed, ListOf)
            target = parsed.item if isinstance(parsed, ListOf) else parsed
            if isinstance(target, ModelRef) and model(target.name)._kind in ("object", "union"):
                accessor = "".join("_" + c.lower() if c.isupper() else c for c in api_name).lstrip(
                    "_"
                )
                found.setdefault(target.name, (accessor, attribute, [1] * len(required), is_list))
    return found


ENDPOINTS = _endpoints()


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_a_wrong_value_served_is_an_api_response_error(name: str) -> None:
    api_attribute, endpoint_name, arguments, is_list = ENDPOINTS[name]
    current: list[bytes] = [b"{}"]

    def serve(_: Recorded) -> Reply:
        return Reply(200, current[0], {"Content-Type": "application/vnd.cvat+json"})

    with LoopbackServer(serve) as server, client_for(server, retries=0) as client:
        endpoint = getattr(getattr(client, api_attribute), endpoint_name)

        # an answer of a union with a file member that is not an object is the file's content
        top = "file" not in getattr(model(name), "_members", ())

        @PROFILE
        @given(broken(name, top))
        def check(case: tuple[Any, Path, Any]) -> None:
            payload, path, _ = case
            body = json.dumps([payload] if is_list else payload).encode()
            current[0] = body
            with pytest.raises(exceptions.ApiResponseError) as caught, warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # e.g. retrieve_status
                endpoint(*arguments)
            expected = [0, *path] if is_list else path
            assert list(caught.value.path_to_item) == expected, str(caught.value)
            assert caught.value.body == body and caught.value.status == 200
            FIGURES["fuzz: invalid answers refused by an endpoint"] += 1

        check()
    assert server.requests  # the examples did go over the wire


def test_every_model_is_covered() -> None:
    kinds = {model(n)._kind for n in MODEL_NAMES}
    assert kinds == {"object", "union", "enum", "enum_union"}
    assert len(MODEL_NAMES) > 150 and len(ENDPOINTS) > 20
