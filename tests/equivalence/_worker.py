"""Make the planned calls through one SDK, ours or the official one, and write what came back.

Run in a subprocess, as ``python _worker.py --sdk ours|official --plan P --url U --out R``.
Both SDKs are the package ``cvat_sdk``, so each pass has its own interpreter: the official one
runs with only ``.oracle`` on ``PYTHONPATH`` and imports nothing of this repository (standard
library only on that side). The calls are built the way a user script builds them: models from
their own classes, files as open file objects, then ``api.method(**kwargs)``.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import sys
import tempfile
import urllib.request
import warnings
from pathlib import Path
from typing import Any

CONTROL_PATH = "/__equivalence/next"
CONTRACT_DIR = Path(__file__).resolve().parents[1] / "contract"
#: Configuration keyword arguments per credential kind, the same for both SDKs.
CREDENTIALS: dict[str, dict[str, Any]] = {
    "basic": {"username": "user", "password": "secret"},
    "token": {"api_key": {"tokenAuth": "abc123"}, "api_key_prefix": {"tokenAuth": "Token"}},
    "session": {"api_key": {"sessionAuth": "session-1", "csrfAuth": "csrf-1"}},
}


def with_files(value: Any, folder: Path, opened: list[Any]) -> Any:
    """Plan data to call data: each ``{"$bytes": ...}`` becomes an open file, written to
    ``folder`` under a name both passes share (``upload-N.txt``)."""
    if isinstance(value, dict):
        if set(value) == {"$bytes"}:
            path = folder / f"upload-{len(opened)}.txt"
            path.write_bytes(base64.b64decode(value["$bytes"]))
            opened.append(path.open("rb"))
            return opened[-1]
        return {k: with_files(v, folder, opened) for k, v in value.items()}
    if isinstance(value, list):
        return [with_files(v, folder, opened) for v in value]
    return value


def plain(value: Any) -> Any:
    """A result as JSON data both passes can write: models via their own ``to_dict()``."""
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return plain(value.to_dict())
    if hasattr(value, "_data_store") and hasattr(value, "value"):  # an official enum
        return plain(value.value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, datetime.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"$date": value.isoformat()}
    if isinstance(value, (bytes, bytearray)):
        return {"$binary": base64.b64encode(value).decode()}
    if hasattr(value, "read"):  # a file the SDK wrote the response into
        with value:
            return {"$binary": base64.b64encode(value.read()).decode(), "as": "file"}
    if isinstance(value, str):
        return str.__str__(value)  # an enum that is a str subclass: its value
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return {"$repr": type(value).__name__}


class Ours:
    """Our generated client: endpoints and models read from its declarations."""

    def __init__(self, url: str, credentials: dict[str, Any]) -> None:
        sys.path.insert(0, str(CONTRACT_DIR))
        import _runner  # type: ignore[import-not-found]

        from cvat_sdk.api_client import ApiClient, Configuration

        self.runner = _runner
        self.client = ApiClient(Configuration(host=url, **credentials))
        self.index = _runner.endpoint_index()

    def prepare(self, operation: str, call: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        method, path = operation.split(" ", 1)
        api_class, name = self.index[(method, path)]
        api = api_class(self.client)
        params = getattr(api, name + "_endpoint").params
        planned = self.runner._calls.WireCall(
            "", call["params"], call["has_body"], call["body"], call["content_type"]
        )
        resolve = self.runner.resolver(api_class)
        return getattr(api, name), self.runner.call_kwargs(planned, params, resolve, typed=True)


class Official:
    """The official SDK: endpoints from its ``Endpoint`` objects, models by its converter."""

    def __init__(self, url: str, credentials: dict[str, Any]) -> None:
        import cvat_sdk
        from cvat_sdk.api_client import ApiClient, Configuration, apis
        from cvat_sdk.api_client.model_utils import validate_and_convert_types

        if "/.oracle/" not in (cvat_sdk.__file__ or ""):
            raise SystemExit(f"not the official SDK: {cvat_sdk.__file__}")
        self.convert = validate_and_convert_types
        self.client = ApiClient(Configuration(host=url, **credentials))
        self.index: dict[tuple[str, str], tuple[Any, str]] = {}
        for value in vars(apis).values():  # one module importing every API class
            if isinstance(value, type) and value.__name__.endswith("Api"):
                api = value(self.client)
                for attribute, endpoint in vars(api).items():
                    if attribute.endswith("_endpoint"):
                        key = (endpoint.settings["http_method"], endpoint.path)
                        self.index[key] = (api, attribute.removesuffix("_endpoint"))

    def prepare(self, operation: str, call: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        method, path = operation.split(" ", 1)
        api, name = self.index[(method, path)]
        endpoint = getattr(api, name + "_endpoint")
        by_wire = {
            (endpoint.location_map[n], endpoint.attribute_map[n]): n
            for n in endpoint.location_map
            if n in endpoint.attribute_map
        }
        kwargs = {}
        for where, wire, value in call["params"]:
            name_ = by_wire[(where, wire)]
            kwargs[name_] = self.typed(endpoint, name_, value)
        if call["has_body"]:
            whole = [n for n, where in endpoint.location_map.items() if where == "body"]
            if whole:
                kwargs[whole[0]] = self.typed(endpoint, whole[0], call["body"])
            else:
                for wire, value in call["body"].items():
                    name_ = by_wire.get(("form", wire)) or by_wire[("file", wire)]
                    kwargs[name_] = self.typed(endpoint, name_, value)
        return getattr(api, name), kwargs

    def typed(self, endpoint: Any, name: str, value: Any) -> Any:
        """JSON data with wire names as the parameter's type (the SDK's own deserializer)."""
        configuration = self.client.configuration
        return self.convert(value, endpoint.openapi_types[name], [name], True, True, configuration)


def run(sdk: Any, plan: list[dict[str, Any]], url: str, folder: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for number, planned in enumerate(plan):
        call_folder = folder / str(number)
        call_folder.mkdir()
        announce = urllib.request.Request(url + CONTROL_PATH, planned["id"].encode(), method="POST")
        urllib.request.urlopen(announce, timeout=30).close()
        opened: list[Any] = []
        try:
            call = {
                **planned,
                "params": with_files(planned["params"], call_folder, opened),
                "body": with_files(planned["body"], call_folder, opened),
            }
            method, kwargs = sdk.prepare(call["operation"], call)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                data, response = method(**kwargs, _content_type=call["content_type"])
            results[call["id"]] = {"status": response.status, "data": plain(data)}
        except Exception as error:
            results[call["id"]] = {
                "error": type(error).__name__,
                "error_classes": [c.__name__ for c in type(error).__mro__],
                "status": getattr(error, "status", None),
                "message": str(error)[:500],
            }
        finally:
            for handle in opened:
                handle.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdk", choices=("ours", "official"), required=True)
    parser.add_argument("--plan", required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--credentials", choices=sorted(CREDENTIALS), default="basic")
    args = parser.parse_args()
    credentials = CREDENTIALS[args.credentials]
    plan = json.loads(Path(args.plan).read_text(encoding="utf-8"))
    sdk = Ours if args.sdk == "ours" else Official
    client = sdk(args.url, credentials)
    with tempfile.TemporaryDirectory(prefix=f"equivalence-{args.sdk}-") as folder:
        results = run(client, plan, args.url, Path(folder))
    Path(args.out).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
