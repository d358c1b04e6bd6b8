"""The five measured scenarios: ours against a floor measured in the same run, interleaved.

Absolute timings depend on the machine; the ratio to the floor (same process, same server,
same bytes, alternating order) is what the project's speed goals are stated in.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from bench import oracle, payloads
from bench.floor import Floor, interleave, median, retained_bytes, timed, timed_loop
from bench.server import ROOT, basic_auth


@dataclass(frozen=True)
class Settings:
    """How many repetitions: ``quick`` is for a smoke run, the default for numbers to quote."""

    rounds: int = 9  # large GET/PUT: interleaved repetitions (medians)
    self_rounds: int = 20  # small GET: rounds of self_calls back-to-back calls
    self_calls: int = 100
    import_runs: int = 15
    oracle_rounds: int = 3  # the official SDK takes seconds per 20k-shape call
    oracle: bool = True

    @classmethod
    def quick(cls, oracle: bool = True) -> Settings:
        return cls(3, 4, 100, 5, 1, oracle)


@dataclass
class Result:
    """One table row. ``kind`` says how ``ours`` compares with ``floor``: a ratio or a delta."""

    scenario: str
    unit: str
    floor: float
    ours: float
    kind: str  # "ratio" (ours / floor) or "delta" (ours - floor)
    goal: float | None  # the highest acceptable ratio or delta; None: reported only
    official: float | None = None
    official_floor: float | None = None
    samples: dict[str, list[float]] = field(default_factory=dict)
    note: str = ""

    @property
    def metric(self) -> float:
        return self.ours / self.floor if self.kind == "ratio" else self.ours - self.floor

    @property
    def official_metric(self) -> float | None:
        if self.official is None or self.official_floor is None:
            return None
        if self.kind == "ratio":
            return self.official / self.official_floor
        return self.official - self.official_floor

    @property
    def spread(self) -> float:
        """How noisy the floor was: (max - min) / median of its samples."""
        values = self.samples.get("floor") or self.samples.get("bare") or [self.floor]
        return (max(values) - min(values)) / median(values)

    @property
    def passed(self) -> bool | None:
        return None if self.goal is None else self.metric <= self.goal

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            metric=self.metric,
            official_metric=self.official_metric,
            passed=self.passed,
            floor_spread=self.spread,
            minimums={name: min(values) for name, values in self.samples.items()},
        )
        return data


class Context:
    """What the scenarios share: the server, our client, the floor and the settings."""

    def __init__(self, url: str, settings: Settings) -> None:
        from cvat_sdk.api_client import ApiClient, Configuration

        self.url = url
        self.settings = settings
        self.authorization = basic_auth()
        self.floor = Floor(url, self.authorization)
        self.client = ApiClient(
            Configuration(host=url, username=payloads.USERNAME, password=payloads.PASSWORD)
        )
        # the PUT payload lives only during its scenario: 500k live objects would make every
        # full garbage collection of the other scenarios slower, for ours and the floor alike
        self.payload: dict[str, Any] = {}
        self.payload_bytes = len(payloads.encode(payloads.labeled_data()))

    @contextlib.contextmanager
    def put_payload(self) -> Iterator[None]:
        """The PUT payload (plain dicts, as a user builds them) while the block runs."""
        self.payload = payloads.labeled_data()
        try:
            yield
        finally:
            self.payload = {}

    # --- our calls, as a user writes them ---------------------------------------------------
    def ours_get_annotations(self) -> Any:
        data, _ = self.client.jobs_api.retrieve_annotations(payloads.JOB_ID)
        return data

    def ours_put_annotations(self) -> Any:
        _, response = self.client.jobs_api.update_annotations(
            payloads.JOB_ID, job_annotations_update_request=self.payload
        )
        # the 2.24.0 schema declares no body for PUT (so the SDK returns None); CVAT answers
        # with the saved annotations, which a caller decodes like the floor does
        return json.loads(response.data)

    def ours_get_self(self) -> Any:
        data, _ = self.client.users_api.retrieve_self()
        return data

    # --- the official SDK -------------------------------------------------------------------
    def official(self, scenario: str, rounds: int, calls: int = 0) -> dict[str, list[float]] | None:
        if not self.settings.oracle or not oracle.installed():
            return None
        config = {
            "scenario": scenario,
            "url": self.url,
            "authorization": self.authorization,
            "username": payloads.USERNAME,
            "password": payloads.PASSWORD,
            "rounds": rounds,
            "calls": calls,
        }
        return oracle.run_worker(config)


def _with_official(result: Result, samples: dict[str, list[float]] | None) -> Result:
    if samples:
        result.official = median(samples["official"])
        result.official_floor = median(samples["floor"])
        result.samples.update({f"official_run_{k}": v for k, v in samples.items()})
    return result


def get_annotations(ctx: Context) -> Result:
    ctx.floor.get_annotations()
    ctx.ours_get_annotations()  # warm: readers are compiled on first use
    samples = interleave(
        {
            "floor": lambda: timed(ctx.floor.get_annotations),
            "ours": lambda: timed(ctx.ours_get_annotations),
        },
        ctx.settings.rounds,
    )
    result = Result(
        "get_annotations", "ms", median(samples["floor"]), median(samples["ours"]),
        "ratio", 1.5, samples=samples,
        note="jobs_api.retrieve_annotations(id), outputs validated",
    )  # fmt: skip
    return _with_official(result, ctx.official("get_annotations", ctx.settings.oracle_rounds))


def put_annotations(ctx: Context) -> Result:
    with ctx.put_payload():
        return _put_annotations(ctx)


def _put_annotations(ctx: Context) -> Result:
    ctx.floor.put_annotations(ctx.payload)
    ctx.ours_put_annotations()
    samples = interleave(
        {
            "floor": lambda: timed(lambda: ctx.floor.put_annotations(ctx.payload)),
            "ours": lambda: timed(ctx.ours_put_annotations),
        },
        ctx.settings.rounds,
    )
    result = Result(
        "put_annotations", "ms", median(samples["floor"]), median(samples["ours"]),
        "ratio", 1.5, samples=samples,
        note="jobs_api.update_annotations(id, job_annotations_update_request=dict), "
        "inputs validated, response decoded",
    )  # fmt: skip
    return _with_official(result, ctx.official("put_annotations", ctx.settings.oracle_rounds))


def get_self(ctx: Context) -> Result:
    calls = ctx.settings.self_calls
    ctx.floor.get_self()
    ctx.ours_get_self()
    samples = interleave(
        {
            "floor": lambda: timed_loop(ctx.floor.get_self, calls),
            "ours": lambda: timed_loop(ctx.ours_get_self, calls),
        },
        ctx.settings.self_rounds,
    )
    result = Result(
        "get_self", "us/call", median(samples["floor"]), median(samples["ours"]),
        "ratio", 1.5, samples=samples,
        note=f"users_api.retrieve_self(), basic auth; {ctx.settings.self_rounds} rounds x "
        f"{calls} calls",
    )  # fmt: skip
    return _with_official(result, ctx.official("get_self", ctx.settings.self_rounds, calls))


IMPORT_SNIPPET = """\
import cvat_sdk.api_client as a
client = a.ApiClient(a.Configuration(host="http://localhost"))
client.tasks_api
a.models.TaskWriteRequest(name="x")
"""


def _start_ms(code: str, pythonpath: str) -> float:
    """Wall time of a fresh interpreter running ``code`` (bytecode caches are warm)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = pythonpath
    command = [sys.executable, "-c", code]
    return timed(lambda: subprocess.run(command, env=env, cwd="/", check=True))


def import_cost(ctx: Context) -> Result:
    ours_path, official_path = str(ROOT), str(oracle.ORACLE_DIR)
    measures: dict[str, Callable[[], float]] = {
        "bare": lambda: _start_ms("pass", ours_path),
        "ours": lambda: _start_ms(IMPORT_SNIPPET, ours_path),
    }
    with_official = ctx.settings.oracle and oracle.installed()
    if with_official:
        measures["official"] = lambda: _start_ms(IMPORT_SNIPPET, official_path)
    for measure in measures.values():  # warm the bytecode caches
        measure()
    samples = interleave(measures, ctx.settings.import_runs)
    bare = median(samples["bare"])
    result = Result(
        "import_cost", "ms", bare, median(samples["ours"]), "delta", 60.0, samples=samples,
        note="fresh interpreter: import + ApiClient + tasks_api + TaskWriteRequest, "
        "minus `python -c pass`",
    )  # fmt: skip
    if with_official:
        result.official, result.official_floor = median(samples["official"]), bare
    return result


def memory(ctx: Context) -> Result:
    ctx.ours_get_annotations()  # compiled readers and lazy imports are not the payload's cost
    floor_bytes = retained_bytes(ctx.floor.get_annotations)
    ours_bytes = retained_bytes(ctx.ours_get_annotations)
    mb = 1024 * 1024
    result = Result(
        "memory", "MiB", floor_bytes / mb, ours_bytes / mb, "ratio", None,
        samples={"floor": [floor_bytes], "ours": [ours_bytes]},
        note="tracemalloc: bytes kept alive by the parsed 20k-shape payload vs json.loads",
    )  # fmt: skip
    official = ctx.official("memory", 1)
    if official:
        official = {k: [v / mb for v in values] for k, values in official.items()}
    return _with_official(result, official)


SCENARIOS: dict[str, Callable[[Context], Result]] = {
    "get_annotations": get_annotations,
    "put_annotations": put_annotations,
    "get_self": get_self,
    "import_cost": import_cost,
    "memory": memory,
}
