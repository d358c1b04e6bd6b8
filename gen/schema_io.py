"""Loading a CVAT OpenAPI schema from a file or a live server, as YAML or JSON."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import Any

import yaml

#: The schema the package is built from when nothing else is asked for.
DEFAULT_SCHEMA = (
    Path(__file__).resolve().parent.parent.parent / "shared/cvat-schemas/cvat-2.24.0.yml"
)


class SchemaError(Exception):
    """The schema could not be read or is not a CVAT OpenAPI 3 document."""


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def read_schema_text(source: str) -> str:
    """Return the raw text of a schema file or of a server's ``/api/schema/`` answer."""
    if is_url(source):
        request = urllib.request.Request(  # noqa: S310 (is_url: http and https only)
            source, headers={"Accept": "application/vnd.oai.openapi+json, application/json;q=0.9"}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                body: bytes = response.read()
        except OSError as error:
            raise SchemaError(f"cannot download the schema from {source}: {error}") from error
        return body.decode("utf-8")
    path = Path(source)
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise SchemaError(f"cannot read the schema file {path}: {error}") from error


def parse_schema_text(text: str, source: str = "<schema>") -> dict[str, Any]:
    """Parse YAML or JSON (JSON is YAML, but the JSON parser is much faster)."""
    try:
        document = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise SchemaError(f"{source} is neither valid JSON nor YAML: {error}") from error
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3."):
        raise SchemaError(f"{source} is not an OpenAPI 3 document")
    if "paths" not in document or "components" not in document:
        raise SchemaError(f"{source} has no paths or components")
    return document


def load_schema(source: str | Path) -> dict[str, Any]:
    source = str(source)
    return parse_schema_text(read_schema_text(source), source)


def schema_version(document: dict[str, Any]) -> str:
    """The server version, e.g. ``2.24.0`` (2.72 reports ``2.72.0 (2.0)``: the API revision
    in brackets is dropped)."""
    text = str(document.get("info", {}).get("version", "")).strip()
    found = re.match(r"\d+(\.\d+)*", text)
    if not found:
        raise SchemaError(f"the schema's info.version is not a version: {text!r}")
    return found.group(0)
