"""Every operation of every schema, through the client generated from that schema, on Prism.

Per schema and Prism mode (static, dynamic with fixed seeds) one runner pass sends, for each
operation, a minimal and a full call per declared 2xx status and checks the parsed result,
then asks for each declared error status and checks the exception class (see ``_runner``).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract import _report, _schema
from tests.contract.conftest import MODES, Contract


def _cases() -> list[Any]:
    cases = []
    for version, path in _schema.SCHEMA_FILES.items():
        keys = [(op.key, op.operation_id) for op in _schema.operations(_schema.load(path))]
        for mode in MODES:
            for key, operation_id in keys:
                cases.append(
                    pytest.param(version, mode, key, id=f"{version}-{mode}-{operation_id}")
                )
    return cases


@pytest.mark.parametrize(("client", "mode", "key"), _cases())
def test_operation(contract: Contract, client: str, mode: str, key: str) -> None:
    """Minimal and full calls per declared 2xx status; each error status raises its class."""
    _report.check(_report.part(_record(contract, client, mode, key), unchecked=False))


@pytest.mark.parametrize(("client", "mode", "key"), _cases())
def test_unchecked_error(contract: Contract, client: str, mode: str, key: str) -> None:
    """With ``_check_status=False`` error answers are returned, their bodies not read as the
    operation's success type."""
    _report.check(_report.part(_record(contract, client, mode, key), unchecked=True))


def _record(contract: Contract, client: str, mode: str, key: str) -> dict[str, Any]:
    record = contract.run(client, client, mode).records.get(key)
    assert record is not None, f"the runner did not report {key}"
    return record
