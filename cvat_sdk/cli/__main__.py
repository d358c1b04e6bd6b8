"""``python -m cvat_sdk.cli``: the same as the ``cvat-cli`` console script."""

from __future__ import annotations

import sys

from cvat_sdk.cli import main

if __name__ == "__main__":
    sys.exit(main())
