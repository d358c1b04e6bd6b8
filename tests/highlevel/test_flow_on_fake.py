"""The equivalence flow of ``_flow.py`` through this SDK and the official cvat-sdk 2.24.0
(each in its own interpreter) against the fake CVAT: both end in the same state, so the
fake serves the official SDK's requests for these flows as the real server does
(tests/live/test_highlevel_live.py runs the same flow on CVAT itself)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from cvat_sdk.testing import FakeCvatServer
from tests.support import oracle

FLOW = Path(__file__).with_name("_flow.py")
ROOT = Path(__file__).resolve().parents[2]


def _run(env: dict[str, str], server: FakeCvatServer, work: Path) -> dict:  # type: ignore[type-arg]
    work.mkdir()
    address = urlsplit(server.url)
    done = subprocess.run(
        [
            sys.executable,
            str(FLOW),
            address.hostname or "",
            str(address.port),
            "admin",
            "password",
            str(work),
            f"fake-{work.name}",
        ],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_the_flow_ends_alike_through_both_sdks_on_the_fake(tmp_path: Path) -> None:
    problem = oracle.ensure_installed()
    assert not problem, problem
    with FakeCvatServer(polls_to_finish=2) as server:
        ours = _run(oracle.python_environment(ROOT), server, tmp_path / "ours")
        official = _run(oracle.environment(), server, tmp_path / "official")
    assert "cleanup_errors" not in ours and "cleanup_errors" not in official
    assert ours == official
    assert ours["issues"] == [[1, [1.0, 2.0, 5.0, 6.0], True, ["edited", "first"]]]
    assert ours["job"] == ["validation", "in progress", True]
