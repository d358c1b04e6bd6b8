"""Version skew: the 2.24.0 client against Prism serving the other schemas (dynamic mode).

Every operation both schemas have (same method and path) is called as the client's schema
says; unknown fields must be kept, unknown enum values accepted (with an
UnknownEnumValueWarning at most) and missing required response fields tolerated. A failed call
is expected (xfail) when a known bug or a difference between the two schemas explains it.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

from tests.contract import _report, _schema, _skew
from tests.contract.conftest import CLIENT_FOR_SKEW, SKEW_MODE, SKEW_SERVERS, Contract


@functools.cache
def _side(version: str) -> _skew.Side:
    return _skew.Side(version, _schema.load(_schema.SCHEMA_FILES[version]))


def _cases() -> list[Any]:
    client = _schema.operations(_schema.load(_schema.SCHEMA_FILES[CLIENT_FOR_SKEW]))
    cases = []
    for server in SKEW_SERVERS:
        served = {op.key for op in _schema.operations(_schema.load(_schema.SCHEMA_FILES[server]))}
        for op in client:
            if op.key in served:
                name = f"{CLIENT_FOR_SKEW}-on-{server}-{op.operation_id}"
                cases.append(pytest.param(CLIENT_FOR_SKEW, server, op.key, id=name))
    return cases


@pytest.mark.parametrize(("client", "server", "key"), _cases())
def test_skew(contract: Contract, client: str, server: str, key: str) -> None:
    record = contract.run(client, server, SKEW_MODE).records.get(key)
    assert record is not None, f"the runner did not report {key}"
    old, new = _side(client), _side(server)
    _report.check(record, lambda outcome: _skew.explain(old, new, key, outcome))
