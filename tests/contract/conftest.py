"""Fixtures of the contract tests: generated client sites, Prism runs and their results."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.contract import _report, _schema, _tools

#: Prism modes: static examples, and dynamic (json-schema-faker) with fixed seeds.
SEEDS = (1, 2, 3)
MODES = ("static", *(f"dynamic-{seed}" for seed in SEEDS))
CLIENT_FOR_SKEW = "2.24.0"
SKEW_SERVERS = ("2.17.0", "2.51.1", "2.72.0")
SKEW_MODE = "dynamic-1"


def seed_of(mode: str) -> int | None:
    return int(mode.split("-")[1]) if mode.startswith("dynamic-") else None


@dataclass
class Run:
    """One runner pass: a client version against Prism serving a schema in one mode."""

    client: str
    server: str
    mode: str
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str = ""

    @property
    def label(self) -> str:
        if self.client == self.server:
            return f"contract {self.client} {self.mode}"
        return f"skew client {self.client} -> server {self.server} {self.mode}"

    def passed(self, *, unchecked: bool = False) -> int:
        parts = (_report.part(r, unchecked=unchecked) for r in self.records.values())
        return sum(bool(p["ok"]) for p in parts)


class Contract:
    """Builds sites on demand (all needed versions in parallel) and caches runner passes."""

    def __init__(self, root: Path, versions: set[str]) -> None:
        self.root = root
        self.versions = versions
        self.sites: dict[str, Path] = {}
        self.site_errors: dict[str, str] = {}
        self.runs: dict[tuple[str, str, str], Run] = {}

    def site(self, version: str) -> Path:
        if version not in self.sites and version not in self.site_errors:
            self._build({version} | (self.versions - set(self.sites)))
        if version in self.site_errors:
            pytest.fail(f"generating the {version} client failed: {self.site_errors[version]}")
        return self.sites[version]

    def _build(self, versions: set[str]) -> None:
        started: dict[str, subprocess.Popen[str]] = {}
        for version in sorted(versions):
            site = self.root / f"site-{version}"
            started[version] = _tools.start_generation(_schema.SCHEMA_FILES[version], site)
        for version, process in started.items():
            try:
                _tools.finish(process, f"python -m gen for {version}")
            except _tools.ToolError as error:
                self.site_errors[version] = str(error)
            else:
                self.sites[version] = self.root / f"site-{version}"

    def run(self, client: str, server: str, mode: str) -> Run:
        """The cached pass; the first call starts Prism, runs every operation, stops Prism."""
        key = (client, server, mode)
        if key not in self.runs:
            run = self.runs[key] = Run(client, server, mode)
            site = self.site(client)
            out = self.root / f"results-{client}-{server}-{mode}.json"
            log = self.root / f"prism-{server}-{mode}.log"
            try:
                with _tools.prism(_schema.SCHEMA_FILES[server], seed=seed_of(mode), log=log) as url:
                    records = _tools.run_contract(
                        site,
                        _schema.SCHEMA_FILES[client],
                        _schema.SCHEMA_FILES[server],
                        url,
                        out,
                        errors=client == server,
                        skew=client != server,
                    )
            except (_tools.ToolError, subprocess.TimeoutExpired) as error:
                run.error = str(error)
            else:
                run.records = {r["key"]: r for r in records}
        run = self.runs[key]
        if run.error:
            pytest.fail(f"{run.label}: {run.error}")
        return run


_CONTRACT = pytest.StashKey[Contract]()
_VERSIONS = pytest.StashKey[set[str]]()


def pytest_collection_finish(session: pytest.Session) -> None:
    """Remember which client versions the selected tests need, to generate them together."""
    needed: set[str] = set()
    for item in session.items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "client" in callspec.params:
            needed.add(str(callspec.params["client"]))
    session.config.stash[_VERSIONS] = needed


@pytest.fixture(scope="session")
def contract(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Contract:
    root = tmp_path_factory.mktemp("contract")
    found = Contract(root, request.config.stash.get(_VERSIONS, set()))
    request.config.stash[_CONTRACT] = found
    return found


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    found = config.stash.get(_CONTRACT, None)
    if found is None or not found.runs:
        return
    terminalreporter.section("contract results")
    for run in found.runs.values():
        if run.error:
            terminalreporter.write_line(f"{run.label}: not run: {run.error.splitlines()[0]}")
            continue
        total = len(run.records)
        line = f"{run.label}: {run.passed()}/{total} operations"
        if run.client != run.server:
            line += f" ({100 * run.passed() / max(total, 1):.1f}%)"
        else:
            line += (
                f"; error answers with _check_status=False: {run.passed(unchecked=True)}/{total}"
            )
        terminalreporter.write_line(line)
