"""The equivalence passes, run once per session (all modes at once) and summed up at the end."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.equivalence import _harness
from tests.support import oracle

#: Prism modes: its static examples, and random schema-valid data with fixed seeds; each
#: pass signs in another way (the worker's CREDENTIALS), so every kind of auth header is compared.
MODES = ("static", "dynamic-1", "dynamic-2")
CREDENTIALS = {"static": "basic", "dynamic-1": "token", "dynamic-2": "session"}


class Equivalence:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.passes: dict[str, _harness.Pass] = {}
        self.errors: dict[str, str] = {}

    def get(self, mode: str) -> _harness.Pass:
        if not self.passes and not self.errors:
            self._run_all()
        if mode in self.errors:
            pytest.fail(f"equivalence pass {mode}: {self.errors[mode]}")
        return self.passes[mode]

    def _run_all(self) -> None:
        problem = oracle.ensure_installed()
        if problem:
            self.errors = dict.fromkeys(MODES, problem)
            return
        with ThreadPoolExecutor(len(MODES)) as pool:
            futures = {mode: pool.submit(self._run, mode) for mode in MODES}
        for mode, future in futures.items():
            try:
                self.passes[mode] = future.result()
            except Exception as error:  # a tool failed: each test of the mode reports it
                self.errors[mode] = f"{type(error).__name__}: {error}"

    def _run(self, mode: str) -> _harness.Pass:
        seed = None if mode == "static" else int(mode.split("-")[1])
        folder = self.root / mode
        folder.mkdir()
        return _harness.run_pass(mode, seed, CREDENTIALS[mode], folder)


_EQUIVALENCE = pytest.StashKey[Equivalence]()


@pytest.fixture(scope="session")
def equivalence(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Equivalence:
    found = Equivalence(tmp_path_factory.mktemp("equivalence"))
    request.config.stash[_EQUIVALENCE] = found
    return found


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    found = config.stash.get(_EQUIVALENCE, None)
    if found is None or not (found.passes or found.errors):
        return
    terminalreporter.section("equivalence with the official cvat-sdk 2.24.0")
    for mode in MODES:
        if mode in found.errors:
            terminalreporter.write_line(f"{mode}: not run: {found.errors[mode].splitlines()[0]}")
            continue
        run = found.passes[mode]
        same = deliberate = other = 0
        kinds: dict[str, int] = {}
        for call in run.calls:
            compared = run.compare(call)
            if not compared:
                same += 1
            elif all(rule is not None for _, rule in compared):
                deliberate += 1
                for key in {rule.key for _, rule in compared if rule is not None}:
                    kinds[key] = kinds.get(key, 0) + 1
            else:
                other += 1
        operations = len({c.operation for c in run.calls})
        terminalreporter.write_line(
            f"{mode} ({CREDENTIALS[mode]} auth): {len(run.calls)} calls over {operations} operations: {same} identical, "
            f"{deliberate} with deliberate differences only, {other} with other differences"
        )
        for key, count in sorted(kinds.items()):
            terminalreporter.write_line(f"    {key}: {count} calls")
