"""Our client against the official cvat-sdk 2.24.0, call by call, on the same answer bytes.

For every operation of the 2.24 schema, the contract's minimal and full calls (per declared
status, and the minimal one per error status) are made through both SDKs. Both must send the
same request (method, path, query, body as data, multipart fields and files, auth and
negotiation headers) and return the same ``to_dict()`` data or raise the same exception class,
except for the deliberate differences of ``_deliberate``, each listed in the README.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.contract import _schema
from tests.equivalence import _deliberate, _harness
from tests.equivalence.conftest import MODES, Equivalence

README = Path(__file__).resolve().parents[2] / "README.md"
_OPERATIONS = [
    (op.key, op.operation_id)
    for op in _schema.operations(_schema.load(_schema.SCHEMA_FILES[_harness.SCHEMA_VERSION]))
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("key", "operation_id"), _OPERATIONS, ids=[o[1] for o in _OPERATIONS])
def test_same_requests_and_results(
    equivalence: Equivalence, mode: str, key: str, operation_id: str
) -> None:
    run = equivalence.get(mode)
    assert key not in run.unplanned, f"no call could be planned: {run.unplanned.get(key)}"
    calls = run.calls_of(key)
    assert calls, f"{operation_id}: no calls planned"
    unexplained = []
    for call in calls:
        assert run.requests["ours"].get(call.id), f"{call.id}: our client sent nothing"
        got = run.results["ours"].get(call.id, {}).get("status")
        assert str(got) == call.status, f"{call.id}: answered {got}: nothing to compare"
        unexplained += [f"{call.id}: {diff}" for diff, rule in run.compare(call) if rule is None]
    assert not unexplained, "\n".join(unexplained[:20])


def test_every_deliberate_difference_is_seen_and_in_the_readme(equivalence: Equivalence) -> None:
    """A rule nothing needs is stale; one the README does not give a reason for is hidden."""
    seen: set[str] = set()
    for mode in MODES:
        run = equivalence.get(mode)
        for call in run.calls:
            seen.update(rule.key for _, rule in run.compare(call) if rule is not None)
    readme = README.read_text(encoding="utf-8")
    for rule in _deliberate.RULES:
        assert rule.key in seen, f"no call shows {rule.key!r}: drop the rule"
        assert rule.readme in readme, f"the README does not list {rule.readme!r}"
