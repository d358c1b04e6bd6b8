"""``python -m tests.reference.report``: every difference from the reference, grouped.

Prints failing (unexplained) differences first, then the ones the schema explains, each
grouped by its check. Exit status 1 when anything unexplained remains.
"""

from __future__ import annotations

import sys

from tests.reference import refdoc, surface


def main() -> int:
    ref = refdoc.load()
    ours, broken = surface.model_classes()
    checks = {
        "API classes": surface.api_class_differences(ref),
        "operations": surface.operation_differences(ref),
        "parameters": surface.parameter_type_differences(ref),
        "models": broken + surface.model_set_differences(ref, ours),
        "enums": surface.enum_differences(ref, ours),
        "model fields": surface.field_differences(ref, ours),
    }
    failing = 0
    for explained in (False, True):
        print("== explained by the schema ==" if explained else "== mismatches ==")
        for check, found in checks.items():
            chosen = [d for d in found if (d.explanation is not None) == explained]
            if chosen:
                print(f"-- {check} ({len(chosen)})")
                print(surface.report(chosen))
            if not explained:
                failing += len(chosen)
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
