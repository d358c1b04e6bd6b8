"""``python -m gen --schema PATH_OR_URL [--out DIR]``: generate ``cvat_sdk.api_client``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from gen.generate import PACKAGE_DIR, GenerationError, generate
from gen.schema_io import DEFAULT_SCHEMA, SchemaError

REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gen", description=__doc__)
    parser.add_argument(
        "--schema",
        default=os.environ.get("CVAT_SDK_SCHEMA") or str(DEFAULT_SCHEMA),
        help="schema file (YAML or JSON) or a server's /api/schema/ URL "
        "(default: $CVAT_SDK_SCHEMA, else the CVAT 2.24.0 schema in ../shared)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO / PACKAGE_DIR,
        help="the package directory to (re)create (default: cvat_sdk/api_client)",
    )
    args = parser.parse_args(argv)
    try:
        result = generate(args.schema, args.out)
    except (SchemaError, GenerationError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(
        f"generated {result.out_dir} from schema version {result.version}: {result.apis} APIs, "
        f"{result.operations} operations, {result.models} models in {result.seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
