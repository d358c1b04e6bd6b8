"""Call every operation of a schema through a generated client against a running Prism mock.

Run as a script with ``PYTHONPATH=<site>`` only, so that ``cvat_sdk`` is the throwaway client
generated into that site (the package name clashes with the repository's own)::

    python _runner.py --client-schema S --server-schema S --url http://127.0.0.1:PORT --out R

For each operation it builds minimal and full calls from the client's schema, sends them with
basic auth through the generated API method (parsing and validation on) once per 2xx status the
server schema declares (``Prefer: code=...``), checks the parsed result against the declared
type (deeply: fields kept, types read), and, with ``--errors``, that each declared error status
(and 404) raises its ApiException subclass, and is returned unread with ``_check_status=False``.
Results go to ``--out`` as JSON, one record per operation.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import pkgutil
import sys
import time
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Any

import _calls
import _schema

from cvat_sdk._runtime.specs import Leaf, ListOf, MapOf, ModelRef, Spec, parse_spec
from cvat_sdk.api_client import ApiClient, Configuration, apis
from cvat_sdk.api_client import exceptions as api_exceptions

ENUM_WARNING = "UnknownEnumValueWarning"
#: what the schema marks deprecated (an operation, or a parameter the full call sets)
DEPRECATION_WARNING = "DeprecationWarning"
#: The ApiException subclass each error status must raise (the others: ApiException itself).
EXPECTED_ERRORS = {
    400: "BadRequestException",
    401: "UnauthorizedException",
    403: "ForbiddenException",
    404: "NotFoundException",
    409: "ConflictException",
}
_PREVIEW = 1200
#: Response bodies are kept whole up to this size: Prism's validation reports explain failures.
_BODY_PREVIEW = 20000


@dataclass
class Call:
    """One request to make: its variant name, keyword arguments and content type."""

    variant: str
    kwargs: dict[str, Any]
    content_type: str | None = None
    #: the operation's own ``Prefer`` header parameter (2.72 previews), which carries the code
    prefer: str | None = None


@dataclass
class Outcome:
    variant: str
    status: str
    ok: bool
    problem: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


# --- the generated client's endpoints ------------------------------------------------------


def endpoint_index() -> dict[tuple[str, str], tuple[type, str]]:
    """(METHOD, path) -> (API class, method name), from the EndpointSpec declarations."""
    found: dict[tuple[str, str], tuple[type, str]] = {}
    for info in pkgutil.iter_modules(apis.__path__):
        module = importlib.import_module(f"{apis.__name__}.{info.name}")
        for value in vars(module).values():
            if not isinstance(value, type) or value.__module__ != module.__name__:
                continue
            for attribute, spec in vars(value).items():
                if attribute.endswith("_endpoint") and hasattr(spec, "params"):
                    key = (spec.http_method, spec.path)
                    found[key] = (value, attribute.removesuffix("_endpoint"))
    return found


def resolver(api_class: type) -> Any:
    package = importlib.import_module(api_class.__module__.rsplit(".", 2)[0] + ".models")
    return lambda name: getattr(package, name)


# --- building calls ------------------------------------------------------------------------


class CallError(Exception):
    """A call cannot be built: the client does not declare what the schema has."""


def _param_for(params: dict[str, Any], wire: str, where: str) -> Any:
    for param in params.values():
        if param.wire == wire and param.where == where:
            return param
    raise CallError(f"the client declares no {where} parameter {wire!r}")


def lift(value: Any, spec: Spec, resolve: Any) -> Any:
    """JSON data (wire names) as the client's own types: models, enums, datetimes."""
    if value is None:
        return None
    if isinstance(spec, ListOf):
        return [lift(item, spec.item, resolve) for item in value]
    if isinstance(spec, MapOf):
        return {key: lift(item, spec.value, resolve) for key, item in value.items()}
    if isinstance(spec, ModelRef):
        cls = resolve(spec.name)
        if cls._kind in ("enum", "enum_union"):
            return cls(value)
        by_wire = {f.wire: f for f in cls._fields}
        values = {}
        for wire, item in value.items():
            if wire not in by_wire:
                raise CallError(f"{cls.__name__} declares no field {wire!r}")
            fld = by_wire[wire]
            values[fld.name] = lift(item, parse_spec(fld.spec), resolve)
        return cls(**values)
    if spec.name == "datetime" and isinstance(value, str):
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if spec.name == "date" and isinstance(value, str):
        return datetime.date.fromisoformat(value)
    return value


def plan_calls(
    operation: _schema.Operation, document: dict[str, Any], params: dict[str, Any], resolve: Any
) -> list[Call]:
    """The planned calls as keyword arguments: minimal calls pass plain JSON data, full calls
    the client's own types (models, enums, datetimes)."""
    prefer = next((p.name for p in params.values() if p.wire == "Prefer"), None)
    calls = []
    for planned in _calls.plan(operation, document):
        kwargs = call_kwargs(planned, params, resolve, typed=planned.full)
        calls.append(
            Call(
                planned.variant, kwargs, planned.content_type, prefer if prefer in kwargs else None
            )
        )
    return calls


def call_kwargs(
    planned: _calls.WireCall, params: dict[str, Any], resolve: Any, *, typed: bool
) -> dict[str, Any]:
    """A planned call's parameters and body as keyword arguments of the method declaring
    ``params``: as the client's own types with ``typed``, else as the plain JSON data."""

    def value_for(param: Any, value: Any) -> Any:
        return lift(value, parse_spec(param.spec), resolve) if typed else value

    kwargs = {}
    for where, wire, value in planned.params:
        param = _param_for(params, wire, where)
        kwargs[param.name] = value_for(param, value)
    if planned.has_body:
        whole = [p for p in params.values() if p.where == "body"]
        if whole:
            kwargs[whole[0].name] = value_for(whole[0], planned.body)
        else:  # an inline form: one parameter per property
            for wire, value in planned.body.items():
                param = _param_for(params, wire, "form")
                kwargs[param.name] = value_for(param, value)
    return kwargs


# --- checking results ----------------------------------------------------------------------

_LEAF_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "datetime": (datetime.datetime,),
    "date": (datetime.date,),
    "object": (dict,),
    "file": (bytes,),
}


def conform(value: Any, raw: Any, spec: Spec, resolve: Any, path: str, problems: list[str]) -> None:
    """Compare a parsed value with the raw JSON it came from, as the declared spec says."""
    where = path or "<result>"
    if value is None and (spec.nullable or raw is None):
        if raw is not None:
            problems.append(f"{where}: None instead of {raw!r}")
        return
    if isinstance(spec, ListOf):
        if not isinstance(value, list) or not isinstance(raw, list) or len(value) != len(raw):
            problems.append(f"{where}: expected a list like {_short(raw)}, got {_short(value)}")
            return
        for index, (item, raw_item) in enumerate(zip(value, raw, strict=True)):
            conform(item, raw_item, spec.item, resolve, f"{path}[{index}]", problems)
        return
    if isinstance(spec, MapOf):
        if not isinstance(value, dict) or not isinstance(raw, dict):
            problems.append(f"{where}: expected a dict, got {_short(value)}")
            return
        for key, raw_item in raw.items():
            conform(value.get(key), raw_item, spec.value, resolve, f"{path}.{key}", problems)
        return
    if isinstance(spec, ModelRef):
        _conform_model(value, raw, resolve(spec.name), resolve, where, problems)
        return
    _conform_leaf(value, raw, spec, where, problems)


def _conform_leaf(value: Any, raw: Any, spec: Leaf, where: str, problems: list[str]) -> None:
    if spec.name == "any":
        if value != raw:
            problems.append(f"{where}: {_short(value)} differs from {_short(raw)}")
        return
    types = _LEAF_TYPES[spec.name]
    if not isinstance(value, types) or (spec.name != "bool" and isinstance(value, bool)):
        problems.append(f"{where}: expected {spec.name}, got {type(value).__name__}")
    elif spec.name in ("datetime", "date"):
        if not isinstance(raw, str):
            problems.append(f"{where}: {spec.name} read from {_short(raw)}")
    elif spec.name != "file" and value != raw:
        problems.append(f"{where}: {_short(value)} differs from {_short(raw)}")


def _conform_model(
    value: Any, raw: Any, cls: type, resolve: Any, where: str, problems: list[str]
) -> None:
    kind = getattr(cls, "_kind", "")
    if kind == "enum":
        if not isinstance(value, cls) or str(value) != raw:
            problems.append(f"{where}: expected {cls.__name__} {raw!r}, got {value!r}")
        return
    if kind == "enum_union":
        members = tuple(resolve(m) for m in cls._members)  # type: ignore[attr-defined]
        if not isinstance(value, members) or str(value) != raw:
            problems.append(f"{where}: expected {cls.__name__} {raw!r}, got {value!r}")
        return
    if "file" in getattr(cls, "_members", ()) and isinstance(value, bytes):
        return
    if not isinstance(value, cls):
        problems.append(f"{where}: expected {cls.__name__}, got {type(value).__name__}")
        return
    if not isinstance(raw, dict):
        problems.append(f"{where}: {cls.__name__} read from {_short(raw)}")
        return
    fields = {f.wire: f for f in cls._fields}  # type: ignore[attr-defined]
    stored = vars(value)
    for wire, raw_item in raw.items():
        fld = fields.get(wire)
        name = fld.name if fld is not None else wire
        if name not in stored:
            problems.append(f"{where}.{wire}: dropped (the server sent {_short(raw_item)})")
        elif fld is None:
            if stored[name] != raw_item:
                problems.append(f"{where}.{wire}: unknown field changed to {_short(stored[name])}")
        else:
            conform(
                stored[name], raw_item, parse_spec(fld.spec), resolve, f"{where}.{wire}", problems
            )
    extra = set(stored) - {fields[w].name if w in fields else w for w in raw}
    if extra:
        problems.append(f"{where}: fields the server did not send: {sorted(extra)}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# --- running -------------------------------------------------------------------------------


def _describe_call(call: Call) -> str:
    def show(value: Any) -> Any:
        if isinstance(value, bytes):
            return f"<{len(value)} bytes>"
        return repr(value) if not isinstance(value, (str, int, float, bool, type(None))) else value

    args = {k: show(v) for k, v in call.kwargs.items()}
    text = json.dumps(args, default=repr)
    if call.content_type:
        text += f", _content_type={call.content_type!r}"
    return text[:_PREVIEW]


def _response_detail(response: Any) -> dict[str, Any]:
    if response is None:
        return {}
    body = response.data or b""
    return {
        "status": response.status,
        "content_type": response.headers.get("Content-Type"),
        "body": body[:_BODY_PREVIEW].decode("utf-8", "replace"),
    }


def _exception_detail(error: BaseException) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "exception": f"{type(error).__name__}: {str(error)[:_PREVIEW]}",
        "traceback": "".join(traceback.format_exception(error)[-6:])[-3000:],
    }
    if isinstance(error, api_exceptions.ApiException):
        detail["response"] = {
            "status": error.status,
            "content_type": (error.headers or {}).get("Content-Type"),
            "body": (error.body or b"")[:_BODY_PREVIEW].decode("utf-8", "replace"),
        }
    return detail


class Runner:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.client_doc = _schema.load(args.client_schema)
        self.server_doc = _schema.load(args.server_schema)
        self.server_ops = {op.key: op for op in _schema.operations(self.server_doc)}
        # basic auth; bearer-only operations (2.51+: /api/auth/access_tokens/self) need a token
        configuration = Configuration(
            host=args.url,
            username="user",
            password="secret",
            api_key={"accessTokenAuth": "test-access-token"},
        )
        self.client = ApiClient(configuration)
        self.index = endpoint_index()

    def run(self) -> list[dict[str, Any]]:
        records = []
        for operation in _schema.operations(self.client_doc):
            server_op = self.server_ops.get(operation.key)
            if server_op is None:
                continue  # version skew: only operations both schemas have
            started = time.perf_counter()
            record: dict[str, Any] = {"key": operation.key, "id": operation.operation_id}
            try:
                outcomes = self.run_operation(operation, server_op)
            except Exception as error:
                outcomes = [
                    Outcome("build", "-", False, "cannot build the call", _exception_detail(error))
                ]
            record["outcomes"] = [vars(o) for o in outcomes]
            record["ok"] = all(o.ok for o in outcomes)
            record["seconds"] = round(time.perf_counter() - started, 3)
            records.append(record)
        return records

    def run_operation(
        self, operation: _schema.Operation, server_op: _schema.Operation
    ) -> list[Outcome]:
        found = self.index.get((operation.method.upper(), operation.path))
        if found is None:
            return [Outcome("build", "-", False, "the client has no method for this operation")]
        api_class, method_name = found
        api = api_class(self.client)
        method = getattr(api, method_name)
        endpoint = getattr(api, method_name + "_endpoint")
        resolve = resolver(api_class)
        calls = plan_calls(operation, self.client_doc, endpoint.params, resolve)
        outcomes = []
        for call in calls:
            for status in server_op.success_statuses():
                outcomes.append(self.success_call(method, endpoint, call, status, resolve))
        if self.args.errors:
            minimal = calls[0]
            # the declared error statuses, and 404 (Prism answers a problem+json body for
            # an undeclared one, as CVAT does with {"detail": "Not found."})
            for status in dict.fromkeys([*server_op.error_statuses(), "404"]):
                outcomes.append(self.error_call(method, minimal, status))
                outcomes.append(self.unchecked_error_call(method, minimal, status))
        return outcomes

    def _send(
        self, method: Any, call: Call, status: str, **options: Any
    ) -> tuple[Any, Any, list[str]]:
        self.client.set_default_header("Prefer", f"code={status}")
        kwargs = dict(call.kwargs)
        if call.prefer is not None:
            kwargs[call.prefer] = f"code={status}"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            data, response = method(**kwargs, _content_type=call.content_type, **options)
        shown = [f"{w.category.__name__}: {w.message}" for w in caught]
        return data, response, shown

    def success_call(
        self, method: Any, endpoint: Any, call: Call, status: str, resolve: Any
    ) -> Outcome:
        outcome = Outcome(call.variant, status, False)
        outcome.detail["call"] = _describe_call(call)
        try:
            data, response, outcome.warnings = self._send(method, call, status)
        except Exception as error:
            outcome.problem = f"raised {type(error).__name__}"
            outcome.detail.update(_exception_detail(error))
            return outcome
        outcome.detail["response"] = _response_detail(response)
        bad_warnings = [
            w for w in outcome.warnings if not w.startswith((ENUM_WARNING, DEPRECATION_WARNING))
        ]
        enum_warnings = [w for w in outcome.warnings if w.startswith(ENUM_WARNING)]
        if bad_warnings or (enum_warnings and not self.args.skew):
            outcome.problem = f"warned: {(bad_warnings or enum_warnings)[0][:300]}"
            return outcome
        if str(response.status) != status:
            outcome.problem = f"asked for {status}, got {response.status}"
            return outcome
        outcome.problem = self.check_data(endpoint, data, response, resolve)
        outcome.ok = not outcome.problem
        return outcome

    @staticmethod
    def check_data(endpoint: Any, data: Any, response: Any, resolve: Any) -> str:
        declared = endpoint.spec.responses.get(str(response.status), "<undeclared>")
        if declared == "<undeclared>":  # a 2xx the client does not know (version skew)
            typed = {t for t in endpoint.spec.responses.values() if t is not None}
            declared = typed.pop() if len(typed) == 1 and response.data else None
        if declared is None:
            return "" if data is None else f"expected no data, got {_short(data)}"
        spec = parse_spec(declared)
        media = (response.headers.get("Content-Type") or "").split(";")[0].strip()
        raw: Any = response.data
        if media.endswith("json") and raw:
            raw = json.loads(raw)
        elif raw and isinstance(spec, Leaf) and spec.name == "str":  # text (an event stream)
            raw = raw.decode("utf-8", "replace")
        problems: list[str] = []
        conform(data, raw, spec, resolve, "", problems)
        if not problems:
            return ""
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return f"parsed as {declared}, but {problems[0]}{more}"

    def error_call(self, method: Any, call: Call, status: str) -> Outcome:
        outcome = Outcome(call.variant, status, False)
        outcome.detail["call"] = _describe_call(call)
        expected_name = EXPECTED_ERRORS.get(int(status), "ApiException")
        if int(status) >= 500:
            expected_name = "ServiceException"
        expected = getattr(api_exceptions, expected_name)
        try:
            _data, response, outcome.warnings = self._send(method, call, status)
        except api_exceptions.ApiException as error:
            outcome.detail.update(_exception_detail(error))
            if type(error) is not expected:
                outcome.problem = f"raised {type(error).__name__}, expected {expected_name}"
            elif str(error.status) != status:
                outcome.problem = f"asked for {status}, got {error.status}"
            else:
                outcome.ok = True
                outcome.detail = {}
            return outcome
        except Exception as error:
            outcome.problem = f"raised {type(error).__name__}, expected {expected_name}"
            outcome.detail.update(_exception_detail(error))
            return outcome
        outcome.problem = f"no exception for {status} (got {response.status})"
        outcome.detail["response"] = _response_detail(response)
        return outcome

    def unchecked_error_call(self, method: Any, call: Call, status: str) -> Outcome:
        """With ``_check_status=False`` an error answer is returned, not raised, and its body
        is not read as the operation's success type: data is None (or the plain JSON)."""
        outcome = Outcome(call.variant + "-unchecked", status, False)
        outcome.detail["call"] = _describe_call(call) + ", _check_status=False"
        try:
            data, response, outcome.warnings = self._send(method, call, status, _check_status=False)
        except Exception as error:
            outcome.problem = f"raised {type(error).__name__} though _check_status=False"
            outcome.detail.update(_exception_detail(error))
            return outcome
        outcome.detail["response"] = _response_detail(response)
        raw: Any = None
        if response.data:
            try:
                raw = json.loads(response.data)
            except ValueError:
                raw = response.data
        if str(response.status) != status:
            outcome.problem = f"asked for {status}, got {response.status}"
        elif data is not None and (type(data) not in (dict, list, str) or data != raw):
            outcome.problem = f"the {status} body was read as {type(data).__name__}"
        else:
            outcome.ok = True
            outcome.detail = {}
        return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client-schema", required=True)
    parser.add_argument("--server-schema", required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--errors", action="store_true", help="also check error statuses")
    parser.add_argument("--skew", action="store_true", help="allow unknown enum warnings")
    args = parser.parse_args(argv)
    records = Runner(args).run()
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(records, handle, indent=1, default=repr)
    passed = sum(r["ok"] for r in records)
    print(f"{passed}/{len(records)} operations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
