"""Endpoints as first-class objects: declared by generated API classes, bound to a client.

``TasksApi.create_endpoint`` is an :class:`EndpointSpec` (path, method, parameters and their
placement, response types); ``api.create_endpoint`` is the same endpoint bound to a client,
callable like the method: ``api.create_endpoint(spec_dict) -> (data, response)``.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypedDict, overload

from cvat_sdk._runtime import convert, encode
from cvat_sdk._runtime.configuration import Timeout
from cvat_sdk._runtime.declarations import P
from cvat_sdk._runtime.exceptions import (
    ApiKeyError,
    ApiResponseError,
    ApiTypeError,
    ApiValueError,
)
from cvat_sdk._runtime.specs import Leaf, ModelRef, Spec, parse_spec

if TYPE_CHECKING:
    from urllib3 import HTTPResponse

    from cvat_sdk._runtime.client import BaseApiClient

JSON_MEDIA_TYPES = ("application/json", "application/vnd.cvat+json")


class CallOptions(TypedDict, total=False):
    """Keyword options every API method accepts besides the operation's parameters."""

    _parse_response: bool
    _check_status: bool
    _validate_inputs: bool
    _validate_outputs: bool
    _request_timeout: Timeout
    _content_type: str | None


_OPTION_DEFAULTS: dict[str, Any] = {
    "_parse_response": True,
    "_check_status": True,
    "_validate_inputs": True,
    "_validate_outputs": True,
    "_request_timeout": None,
    "_content_type": None,
}
# accepted for scripts written for other generators, with the same meaning
_OPTION_ALIASES = {
    "_check_input_type": "_validate_inputs",
    "_check_return_type": "_validate_outputs",
}


class EndpointSpec:
    """The declaration of one operation; on an API instance it becomes a bound Endpoint."""

    def __init__(
        self,
        operation_id: str,
        http_method: str,
        path: str,
        *,
        params: tuple[P, ...] = (),
        responses: Mapping[str, str | None] | None = None,
        content_types: tuple[str, ...] = (),
        accept: tuple[str, ...] = (),
        auth: tuple[str, ...] = (),
        deprecated: bool = False,
    ) -> None:
        self.operation_id = operation_id
        self.deprecated = deprecated
        self.http_method = http_method
        self.path = path
        self.params = {p.name: p for p in params}
        self.deprecated_params = frozenset(p.name for p in params if p.deprecated)
        self.positional = [p.name for p in params if p.required]
        self.responses = dict(responses or {})
        self.content_types = content_types
        self.accept = accept
        self.auth = auth
        self.attribute = ""
        #: per-parameter checkers, compiled on the first validated call
        self.checkers: dict[str, convert.Checker] = {}

    def __set_name__(self, owner: type, name: str) -> None:
        self.attribute = name

    @overload
    def __get__(self, instance: None, owner: type) -> EndpointSpec: ...
    @overload
    def __get__(self, instance: Api, owner: type) -> Endpoint: ...
    def __get__(self, instance: Api | None, owner: type) -> EndpointSpec | Endpoint:
        if instance is None:
            return self
        bound = Endpoint(self, instance.api_client, type(instance))
        instance.__dict__[self.attribute] = bound
        return bound

    def __repr__(self) -> str:
        return f"<endpoint {self.operation_id}: {self.http_method} {self.path}>"


class Api:
    """Base of the generated per-tag API classes."""

    def __init__(self, api_client: BaseApiClient | None = None) -> None:
        if api_client is None:
            from cvat_sdk.api_client import ApiClient

            api_client = ApiClient()
        self.api_client = api_client


class Endpoint:
    """An operation bound to a client: call it, or read its path, method and parameters."""

    def __init__(self, spec: EndpointSpec, api_client: BaseApiClient, api_class: type) -> None:
        self.spec = spec
        self.api_client = api_client
        self._resolve = _resolver(api_class)

    # metadata
    @property
    def path(self) -> str:
        return self.spec.path

    @property
    def http_method(self) -> str:
        return self.spec.http_method

    @property
    def operation_id(self) -> str:
        return self.spec.operation_id

    @property
    def params(self) -> dict[str, P]:
        return self.spec.params

    @property
    def param_names(self) -> list[str]:
        return list(self.spec.params)

    def __repr__(self) -> str:
        return repr(self.spec)

    # invocation
    def call_with_http_info(self, **kwargs: Any) -> tuple[Any, HTTPResponse]:
        return self(**kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> tuple[Any, HTTPResponse]:
        values, options = self._bind(args, kwargs)
        if self.spec.deprecated or not self.spec.deprecated_params.isdisjoint(values):
            self._warn_deprecated(values)
        if options["_validate_inputs"]:
            self._validate(values)
        method, url, headers, body = self._build(values, options)
        response = self.api_client.request(
            method,
            url,
            headers=headers,
            body=body,
            _parse_response=options["_parse_response"],
            _request_timeout=options["_request_timeout"],
            _check_status=options["_check_status"],
        )
        if not options["_parse_response"]:
            return None, response
        result = self._parse(response, options["_validate_outputs"], method, url)
        if self.spec.operation_id == "server_retrieve_about" and result is not None:
            self.api_client.note_server_version(result.get("version"))
        return result, response

    def _warn_deprecated(self, values: dict[str, Any]) -> None:
        """A DeprecationWarning, at the caller's line, for what the schema marks deprecated."""
        name = self.spec.operation_id
        what = [f"{name}()"] if self.spec.deprecated else []
        what += [f"{name}({key}=...)" for key in values if key in self.spec.deprecated_params]
        message = f"{' and '.join(what)}: deprecated by the server's API schema"
        warnings.warn(message, DeprecationWarning, stacklevel=_caller_stacklevel())

    def _bind(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        name = self.spec.operation_id
        if len(args) > len(self.spec.positional):
            raise ApiTypeError(
                f"{name}() takes {len(self.spec.positional)} positional arguments "
                f"({', '.join(self.spec.positional) or 'none'}) but {len(args)} were given"
            )
        values = dict(zip(self.spec.positional, args, strict=False))
        options = dict(_OPTION_DEFAULTS)
        for given, value in kwargs.items():
            key = _OPTION_ALIASES.get(given, given)
            if key in options:
                options[key] = value
            elif key in self.spec.params:
                if key in values:
                    raise ApiTypeError(f"{name}() got two values for {key!r}", [key])
                if value is not None:
                    values[key] = value
            else:
                raise ApiTypeError(f"{name}() got an unexpected parameter {key!r}", [key])
        for key in self.spec.positional:
            if values.get(key) is None:
                raise ApiKeyError(f"{name}() is missing the required parameter", [key])
        return values, options

    def _checker(self, param: P) -> convert.Checker:
        checker = self.spec.checkers.get(param.name)
        if checker is None:
            base = convert.build_checker(parse_spec(param.spec), self._resolve)
            limits = convert.constraint_checker(param)
            allowed = param.enum

            def check(value: Any) -> None:
                base(value)
                if allowed is not None and value not in allowed:
                    raise convert.Invalid(f"{value!r} is not one of {list(allowed)}", "value")
                if limits is not None:
                    limits(value)

            checker = self.spec.checkers[param.name] = check
        return checker

    def _validate(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            try:
                self._checker(self.spec.params[key])(value)
            except convert.Invalid as error:
                path = [key, *error.path]
                if error.kind == "key":
                    raise ApiKeyError(error.message, path) from None
                if error.kind == "value":
                    raise ApiValueError(error.message, path) from None
                raise ApiTypeError(error.message, path) from None

    def _build(
        self, values: dict[str, Any], options: dict[str, Any]
    ) -> tuple[str, str, dict[str, str], Any]:
        client = self.api_client
        path = self.spec.path
        queries: list[tuple[str, str]] = []
        headers = client.get_common_headers()
        body: Any = None
        form: dict[str, Any] = {}
        for key, param in self.spec.params.items():  # schema order, whatever the call's
            value = values.get(key)
            if value is None:
                continue
            if param.where == "path":
                path = path.replace("{" + param.wire + "}", encode.path_segment(value))
            elif param.where == "query":
                queries.extend(encode.query_items(param.wire, value))
            elif param.where == "header":
                headers[param.wire] = encode.header_value(param.wire, value)
            elif param.where == "body":
                body = value
            elif param.where == "form":
                form[param.wire] = value
        if form:
            body = form
        if self.spec.accept:
            headers["Accept"] = ", ".join(self.spec.accept)
        client.update_params_for_auth(headers, queries, self.spec.auth, path, self.spec.http_method)
        content_type = options["_content_type"]
        if body is not None:
            if content_type is None:
                content_type = (
                    self.spec.content_types[0] if self.spec.content_types else "application/json"
                )
            if content_type.startswith("multipart/form-data"):
                stream = encode.MultipartStream(encode.multipart_fields(body))
                headers["Content-Type"] = stream.content_type
                headers["Content-Length"] = str(stream.length)
                body = stream
            else:
                headers["Content-Type"] = content_type
                body = encode.json_body(body)
        elif content_type is not None:
            headers["Content-Type"] = content_type
        url = client.configuration.host + path
        if queries:
            from urllib.parse import urlencode

            url += "?" + urlencode(queries)
        return self.spec.http_method, url, headers, body

    def _parse(self, response: HTTPResponse, check: bool, method: str, url: str) -> Any:
        declared = self._declared_type(response.status)
        if declared is None:
            return None
        spec = parse_spec(declared)
        data = response.data
        if isinstance(spec, Leaf) and spec.name == "file":
            return data  # whatever the label: CVAT declares its downloads as vnd.cvat+json
        if not data:
            return None
        media = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        binary_ok = _accepts_binary(spec, self._resolve)
        if media and not _is_json_media(media):
            if binary_ok:
                return data
            if isinstance(spec, Leaf) and spec.name == "str":
                return data.decode("utf-8", "replace")  # text formats (event streams, YAML)
            raise self._response_error(f"expected JSON, got {media!r}", response, method, url)
        with convert.gc_paused():
            try:
                decoded = json.loads(data)
            except (ValueError, RecursionError) as error:  # nesting deep enough to overflow
                if binary_ok:
                    return data
                message = f"invalid JSON: {error}"
                raise self._response_error(message, response, method, url) from None
            if binary_ok and not isinstance(decoded, dict):
                return data  # an object or a file: a JSON string here is file content
            try:
                return convert.build_reader(spec, self._resolve, check)(decoded)
            except convert.Invalid as error:
                path = error.path
                raise self._response_error(error.message, response, method, url, path) from None

    def _declared_type(self, status: int) -> str | None:
        responses = self.spec.responses
        if str(status) in responses:
            return responses[str(status)]
        if not 200 <= status < 300:
            return None  # an error answer (seen with _check_status=False) is not the result
        typed = {t for t in responses.values() if t is not None}
        return typed.pop() if len(typed) == 1 else None  # another 2xx than declared: tolerated

    @staticmethod
    def _response_error(
        message: str,
        response: HTTPResponse,
        method: str,
        url: str,
        path: list[str | int] | None = None,
    ) -> ApiResponseError:
        from cvat_sdk._runtime.client import redact_url

        return ApiResponseError(
            message,
            status=response.status,
            headers=response.headers,
            body=response.data,
            method=method,
            url=redact_url(url),
            path_to_item=path or (),
        )


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _caller_stacklevel() -> int:
    """The ``stacklevel`` of the first frame outside this package (the user's call)."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        _PACKAGE_DIR + os.sep
    ):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def _is_json_media(media: str) -> bool:
    return media in JSON_MEDIA_TYPES or media.endswith("+json")


def _accepts_binary(spec: Spec, resolve: convert.Resolver) -> bool:
    if isinstance(spec, Leaf):
        return spec.name == "file"
    if isinstance(spec, ModelRef):
        return "file" in getattr(resolve(spec.name), "_members", ())
    return False


def _resolver(api_class: type) -> convert.Resolver:
    """Model names of an API module resolve in the ``models`` package beside ``apis``."""
    import importlib

    package = api_class.__module__.rsplit(".", 2)[0] + ".models"

    def resolve(name: str) -> Any:
        return getattr(importlib.import_module(package), name)

    return resolve
