"""``python -m tests.golden.update``: regenerate the golden snapshot in ``tests/golden/expected``.

Run it after a deliberate change to ``gen/`` or ``schema.yml``, then review ``git diff``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tests.golden import snapshot


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="golden-") as scratch:
        generated = snapshot.generate_package(Path(scratch))
        changed = snapshot.differences(generated)
        snapshot.install(generated)
    where = snapshot.EXPECTED.relative_to(snapshot.REPO)
    print(f"{where}: {len(changed)} file(s) changed" if changed else f"{where}: up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
