"""wait_for_request: finished, failed and timed-out background requests."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from cvat_sdk._runtime import settings
from cvat_sdk.api_client import ApiClient, Configuration
from cvat_sdk.core.exceptions import BackgroundRequestFailed, BackgroundRequestTimeout
from cvat_sdk.core.helpers import next_poll_delay, wait_for_request
from cvat_sdk.core.uploading import upload_task_data
from cvat_sdk.testing import FakeCvatServer
from tests.support.loopback import LoopbackServer, Recorded, Reply

from .support import create_task


def start_task_creation(client: ApiClient, tmp_path: Path) -> tuple[int, str]:
    """A task whose data upload was finished but not waited for: its rq_id is pending."""
    task_id = create_task(client)
    image = tmp_path / "a.png"
    image.write_bytes(b"png")
    response = upload_task_data(client, task_id, [image], wait=False)
    return task_id, str(json.loads(response.data)["rq_id"])


def polls(server: FakeCvatServer, rq_id: str) -> int:
    """GETs of the request once it existed (the upload's look before its finish, a 404,
    is not a poll)."""
    path = f"/api/requests/{quote(rq_id, safe='')}"
    return sum(1 for r in server.request_log if (r.method, r.path, r.status) == ("GET", path, 200))


def test_finished(server: FakeCvatServer, client: ApiClient, tmp_path: Path) -> None:
    task_id, rq_id = start_task_creation(client, tmp_path)
    request = wait_for_request(client, rq_id)
    assert (str(request.status), request.id, request.operation.task_id) == (
        "finished",
        rq_id,
        task_id,
    )
    assert polls(server, rq_id) == 2  # the fixture's server finishes on the second poll


def test_failed_carries_the_servers_message(
    server: FakeCvatServer, client: ApiClient, tmp_path: Path
) -> None:
    server.faults.fail_background("No space left on device", operation="create:task")
    _, rq_id = start_task_creation(client, tmp_path)
    with pytest.raises(BackgroundRequestFailed) as raised:
        wait_for_request(client, rq_id)
    failure = raised.value
    assert (failure.rq_id, failure.message) == (rq_id, "No space left on device")
    assert "No space left on device" in str(failure) and str(failure.request.status) == "failed"


def _request_json(rq_id: str, finished_date: str | None) -> dict[str, object]:
    return {
        "status": "finished",
        "message": "",
        "id": rq_id,
        "operation": {"type": "export:task", "target": "task", "task_id": 1},
        "created_date": "2026-12-03T10:00:00Z",
        "finished_date": finished_date,
        "expiry_date": None if finished_date is None else "2026-12-04T10:00:01Z",
        "owner": {"id": 1, "username": "admin"},
        "result_url": "http://127.0.0.1:1/api/tasks/1/dataset?action=download",
    }


def test_a_finished_answer_without_its_end_is_read_again() -> None:
    """CVAT 2.24 may say "finished" before it stores the end: the Request returned has it."""
    answers = iter([None, None, "2026-12-03T10:00:01Z"])

    def reply(recorded: Recorded) -> Reply:
        return Reply.json(_request_json("export:task-1-dataset", next(answers)))

    with (
        LoopbackServer(reply) as loopback,
        ApiClient(Configuration(host=loopback.url, username="u", password="p")) as client,
    ):
        request = wait_for_request(client, "export:task-1-dataset")
    assert request.finished_date is not None and request.expiry_date is not None
    assert len(loopback.requests) == 3


def test_timeout(tmp_path: Path) -> None:
    with (
        FakeCvatServer(polls_to_finish=1_000_000) as server,
        ApiClient(Configuration(host=server.url, username="admin", password="password")) as client,
    ):
        _, rq_id = start_task_creation(client, tmp_path)
        started = time.monotonic()
        with pytest.raises(BackgroundRequestTimeout) as raised:
            wait_for_request(client, rq_id, poll_interval=0.05, timeout=0.3)
        elapsed = time.monotonic() - started
        assert isinstance(raised.value, TimeoutError)
        assert (raised.value.rq_id, raised.value.last_status) == (rq_id, "started")
        assert 0.3 <= elapsed < 1.0, elapsed
        # the last poll is made at the deadline, not one interval before it
        assert polls(server, rq_id) >= 6


def test_the_poll_interval_setting_is_read_when_waiting(tmp_path: Path) -> None:
    """settings.POLL_INTERVAL (0.02 s in these tests) applies to calls that do not give one:
    twenty polls take well under a second, not twenty times the 1 s default."""
    assert settings.POLL_INTERVAL == 0.02
    with (
        FakeCvatServer(polls_to_finish=20) as server,
        ApiClient(Configuration(host=server.url, username="admin", password="password")) as client,
    ):
        _, rq_id = start_task_creation(client, tmp_path)
        started = time.monotonic()
        assert str(wait_for_request(client, rq_id).status) == "finished"
        assert time.monotonic() - started < 2.0
        assert polls(server, rq_id) == 20


def test_quick_requests_do_not_wait_a_whole_interval(tmp_path: Path) -> None:
    """The first polls come sooner than `poll_interval`: a request that finishes on the third
    poll is seen in ~0.3 s even with a 5 s interval."""
    with (
        FakeCvatServer(polls_to_finish=3) as server,
        ApiClient(Configuration(host=server.url, username="admin", password="password")) as client,
    ):
        _, rq_id = start_task_creation(client, tmp_path)
        started = time.monotonic()
        wait_for_request(client, rq_id, poll_interval=5.0)
        assert time.monotonic() - started < 1.5


@pytest.mark.parametrize(
    ("waited", "expected"),
    [(0.0, 0.1), (0.9, 0.1), (2.0, 0.2), (21.0, 2.1), (60.0, 5.0)],
)
def test_each_poll_waits_a_tenth_of_the_time_waited(waited: float, expected: float) -> None:
    """0.1 s at first, then a tenth of the wait so far (a request's end is seen at most ~10%
    late: a quarter overshot CVAT 2.24's 2.1 s task creation by 0.5 s), never over 5 s here."""
    assert next_poll_delay(waited, 5.0) == pytest.approx(expected)


def test_a_raw_traceback_in_a_failure_message_is_cut_to_its_last_line() -> None:
    """CVAT 2.24 answers the worker's raw traceback until it stores the formatted message."""
    from cvat_sdk.core.helpers import condensed_failure

    raw = (
        'Traceback (most recent call last):\n  File "x.py", line 1, in feed\n'
        "xml.parsers.expat.ExpatError: syntax error\n\nDuring handling of the above exception, "
        'another exception occurred:\n\nTraceback (most recent call last):\n  File "y.py"\n'
        "cvat.apps.dataset_manager.bindings.CvatImportError: Failed to import item\n"
    )
    assert condensed_failure(raw) == (
        "cvat.apps.dataset_manager.bindings.CvatImportError: Failed to import item"
    )
    assert condensed_failure("Unsupported format") == "Unsupported format"
