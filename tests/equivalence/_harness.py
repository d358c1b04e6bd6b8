"""One equivalence pass: plan the calls, feed both SDKs the same answers, keep both sides.

Ours goes first, through the recorder to Prism (which validates each request and picks the
answer); the official SDK then gets the very same answer bytes, replayed per call.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.contract import _calls, _schema, _tools
from tests.equivalence import _recorder
from tests.equivalence._compare import Difference, differences, request_view
from tests.equivalence._deliberate import Context, Rule, explain
from tests.support import oracle
from tests.support.loopback import LoopbackServer, Recorded, Reply

WORKER = Path(__file__).resolve().with_name("_worker.py")
WORKER_TIMEOUT = 600.0
SCHEMA_VERSION = "2.24.0"
#: What Prism is shown in passes with other credentials (those are compared, not validated).
PRISM_AUTH = "Basic " + base64.b64encode(b"user:secret").decode()
#: Parts of a result not compared: each SDK words its messages its own way.
IGNORED = ("result.message", "result.error_classes")


@dataclass
class PlannedCall:
    id: str
    operation: str  # "METHOD /path"
    variant: str
    status: str
    #: a 2xx whose declared response differs from the operation's first 2xx
    own_type: bool
    data: dict[str, Any]  # the worker's view: params, body, content type


@dataclass
class Pass:
    """Both SDKs' requests and results, per call id, for one Prism mode."""

    mode: str
    calls: list[PlannedCall] = field(default_factory=list)
    unplanned: dict[str, str] = field(default_factory=dict)  # operation -> why
    requests: dict[str, dict[str, list[Recorded]]] = field(default_factory=dict)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers: dict[str, Reply] = field(default_factory=dict)
    _compared: dict[str, list[tuple[Difference, Rule | None]]] = field(default_factory=dict)

    def calls_of(self, operation: str) -> list[PlannedCall]:
        return [c for c in self.calls if c.operation == operation]

    def compare(self, call: PlannedCall) -> list[tuple[Difference, Rule | None]]:
        """Each difference between the two SDKs for one call, with the rule explaining it."""
        if call.id not in self._compared:
            self._compared[call.id] = self._compare(call)
        return self._compared[call.id]

    def _compare(self, call: PlannedCall) -> list[tuple[Difference, Rule | None]]:
        ours = self.requests["ours"].get(call.id, [])
        official = self.requests["official"].get(call.id, [])
        found = differences(
            [request_view(r) for r in ours], [request_view(r) for r in official], "request"
        )
        ours_result = self.results["ours"].get(call.id, {})
        official_result = self.results["official"].get(call.id, {})
        found += differences(ours_result, official_result, "result")
        answer = self.answers.get(call.id)
        context = Context(
            call.own_type,
            ours_result,
            official_result,
            bodies_empty=not any(r.body for r in [*ours, *official]),
            answer_body=answer.body
            if answer is not None and isinstance(answer.body, bytes)
            else b"",
        )
        return [(d, explain(d, context)) for d in found if not d.where.startswith(IGNORED)]


def _wire(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_wire(v) for v in value]
    return value


def plan(document: dict[str, Any]) -> tuple[list[PlannedCall], dict[str, str]]:
    """Every planned call once per declared 2xx status; the minimal one per error status."""
    planned: list[PlannedCall] = []
    unplanned: dict[str, str] = {}
    for operation in _schema.operations(document):
        try:
            calls = _calls.plan(operation, document)
        except (_calls.PlanError, _schema.UnsupportedSchema) as error:
            unplanned[operation.key] = str(error)
            continue
        errors = list(dict.fromkeys([*operation.error_statuses(), "404"]))
        successes = operation.success_statuses()
        first = _declared(document, operation, successes[0]) if successes else None
        for call in calls:
            statuses = successes + (errors if call is calls[0] else [])
            for status in statuses:
                data = {
                    "params": _wire(call.params),
                    "has_body": call.has_body,
                    "body": _wire(call.body),
                    "content_type": call.content_type,
                }
                call_id = f"{operation.operation_id}:{call.variant}:{status}"
                own = status in successes and _declared(document, operation, status) != first
                planned.append(PlannedCall(call_id, operation.key, call.variant, status, own, data))
    return planned, unplanned


def _declared(document: dict[str, Any], operation: _schema.Operation, status: str) -> str:
    """The response a status declares (media types and schemas), as comparable text."""
    response = _schema.resolve(document, operation.node["responses"][status])
    return json.dumps(response.get("content") or {}, sort_keys=True)


def run_pass(mode: str, seed: int | None, credentials: str, workdir: Path) -> Pass:
    """Every call through ours (answered by Prism), then the official SDK (same answers)."""
    schema_file = _schema.SCHEMA_FILES[SCHEMA_VERSION]
    found = Pass(mode)
    found.calls, found.unplanned = plan(_schema.load(schema_file))
    plan_file = workdir / f"plan-{mode}.json"
    worker_plan = [{"id": c.id, "operation": c.operation, **c.data} for c in found.calls]
    plan_file.write_text(json.dumps(worker_plan), encoding="utf-8")
    statuses = {c.id: c.status for c in found.calls}
    upstream_auth = None if credentials == "basic" else PRISM_AUTH
    with _tools.prism(schema_file, seed=seed, log=workdir / f"prism-{mode}.log") as prism_url:
        recorder = _recorder.Recorder(statuses, prism_url, upstream_auth=upstream_auth)
        with LoopbackServer(recorder) as server:
            for sdk in ("ours", "official"):
                found.requests[sdk] = recorder.start_pass(replay=sdk == "official")
                out = workdir / f"results-{mode}-{sdk}.json"
                _run_worker(sdk, plan_file, server.url, out, credentials)
                found.results[sdk] = json.loads(out.read_text(encoding="utf-8"))
    found.answers = recorder.answers
    return found


def _run_worker(sdk: str, plan_file: Path, url: str, out: Path, credentials: str) -> None:
    # ours: this repository's cvat_sdk, whatever is installed
    env = oracle.environment() if sdk == "official" else oracle.python_environment(_tools.REPO)
    args = [sys.executable, str(WORKER), "--sdk", sdk, "--plan", str(plan_file)]
    args += ["--url", url, "--out", str(out), "--credentials", credentials]
    done = subprocess.run(
        args,
        env=env,
        cwd=out.parent,
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise _tools.ToolError(
            f"the {sdk} worker failed ({done.returncode}):\n{done.stderr[-4000:]}"
        )
