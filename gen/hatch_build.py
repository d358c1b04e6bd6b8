"""Hatchling hooks: the package version is the schema's, and building runs the generator.

``pip install .`` (or ``-e .``) generates ``cvat_sdk/api_client`` from ``$CVAT_SDK_SCHEMA``
(a file or a server's ``/api/schema/`` URL), by default the CVAT 2.24.0 schema in ../shared.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface
from hatchling.metadata.plugin.interface import MetadataHookInterface

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from gen.generate import PACKAGE_DIR, generate  # noqa: E402 (needs ROOT on the path)
from gen.schema_io import DEFAULT_SCHEMA, load_schema, schema_version  # noqa: E402


def _schema_source() -> str:
    return os.environ.get("CVAT_SDK_SCHEMA") or str(DEFAULT_SCHEMA)


class CustomMetadataHook(MetadataHookInterface):
    def update(self, metadata: dict[str, Any]) -> None:
        metadata["version"] = schema_version(load_schema(_schema_source()))


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        result = generate(_schema_source(), ROOT / PACKAGE_DIR)
        self.app.display_info(
            f"generated cvat_sdk.api_client from CVAT {result.version}: {result.apis} APIs, "
            f"{result.operations} operations, {result.models} models in {result.seconds:.1f} s"
        )
