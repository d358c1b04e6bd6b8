"""Faults of the network and the server: retries, backoff, Retry-After, timeouts, errors.

Attempts are counted on a real loopback server; backoff is measured from arrival times.
"""

from __future__ import annotations

import io
import time
from functools import partial
from typing import Any

import pytest
import urllib3
from urllib3.util.retry import Retry

from cvat_sdk._runtime import settings
from cvat_sdk._runtime.configuration import CappedRetry, retry_policy
from cvat_sdk.api_client import Configuration, exceptions
from tests.reliability._support import (
    FIGURES,
    SilentServer,
    client_for,
    failing_first,
    gaps,
    quick_retries,
    stalling,
    within,
)
from tests.support.loopback import LoopbackServer, Recorded, Reply

OK = Reply.json({"ok": True})
IDEMPOTENT = ("GET", "HEAD", "PUT", "DELETE", "OPTIONS")


def overloaded(status: int) -> Reply:
    return Reply(status, b'{"detail":"busy"}', {"Content-Type": "application/json"})


# --- which failures are retried, and how often ------------------------------------------------


@pytest.mark.parametrize("status", [429, 502, 503, 504])
@pytest.mark.parametrize("method", IDEMPOTENT)
def test_overload_answers_are_retried_for_idempotent_methods(method: str, status: int) -> None:
    handler = failing_first(2, lambda: overloaded(status), OK)
    with LoopbackServer(handler) as server, client_for(server, retries=quick_retries()) as client:
        response = client.request(method, server.url + "/api/x")
    assert response.status == 200
    assert len(server.requests) == 3
    FIGURES["faults survived"] += 2


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_post_and_patch_are_not_retried_by_default(method: str) -> None:
    with (
        LoopbackServer(lambda _: overloaded(503)) as server,
        client_for(server, retries=quick_retries()) as client,
    ):
        with pytest.raises(exceptions.ServiceException) as caught:
            client.request(method, server.url + "/api/x", body={"a": 1})
    assert len(server.requests) == 1
    error = caught.value
    assert (error.status, error.reason, error.body) == (
        503,
        "Service Unavailable",
        b'{"detail":"busy"}',
    )
    assert error.headers is not None and error.headers["Content-Type"] == "application/json"
    assert f"{method} {server.url}/api/x" in str(error)
    FIGURES["faults injected"] += 1


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_post_and_patch_are_retried_when_the_caller_opts_in(method: str) -> None:
    handler = failing_first(2, lambda: overloaded(503), OK)
    policy = quick_retries(methods=(*settings.RETRY_METHODS, "POST", "PATCH"))
    with LoopbackServer(handler) as server, client_for(server, retries=policy) as client:
        response = client.request(method, server.url + "/api/x", body={"a": 1})
    assert response.status == 200
    assert [r.json() for r in server.requests] == [{"a": 1}] * 3  # the same body each time
    FIGURES["faults survived"] += 2


def test_a_plain_urllib3_retry_is_accepted_as_the_opt_in() -> None:
    handler = failing_first(1, lambda: overloaded(502), OK)
    policy = Retry(total=2, status_forcelist=[502], allowed_methods=None, backoff_factor=0)
    with LoopbackServer(handler) as server, client_for(server, retries=policy) as client:
        assert client.request("POST", server.url + "/api/x", body=b"{}").status == 200
    assert len(server.requests) == 2
    FIGURES["faults survived"] += 1


@pytest.mark.parametrize("attempts", [0, 1, 3])
def test_retries_are_bounded_and_the_last_answer_is_raised(attempts: int) -> None:
    with (
        LoopbackServer(lambda _: overloaded(503)) as server,
        client_for(server, retries=quick_retries(attempts)) as client,
    ):
        with pytest.raises(exceptions.ServiceException) as caught:
            client.tasks_api.retrieve(1)
    assert len(server.requests) == 1 + attempts
    assert caught.value.status == 503 and caught.value.body == b'{"detail":"busy"}'
    FIGURES["faults injected"] += 1 + attempts


def test_an_int_retries_counts_retries_per_failure_kind() -> None:
    with (
        LoopbackServer(lambda _: overloaded(503)) as server,
        client_for(server, retries=1) as client,
    ):
        with pytest.raises(exceptions.ServiceException):
            client.tasks_api.retrieve(1)
    assert len(server.requests) == 2
    policy = Configuration(retries=1).effective_retries()
    assert (policy.connect, policy.read, policy.status, policy.other) == (1, 1, 1, 0)
    assert policy.redirect == settings.MAX_REDIRECTS  # retries=0 must not disable redirects
    FIGURES["faults injected"] += 2


def test_other_errors_are_not_retried() -> None:
    with LoopbackServer(lambda _: Reply(500, b"boom")) as server, client_for(server) as client:
        with pytest.raises(exceptions.ServiceException):
            client.tasks_api.retrieve(1)
    assert len(server.requests) == 1


def test_dropped_connections_are_retried_for_get_only() -> None:
    handler = failing_first(2, lambda: Reply(drop=True), OK)
    with LoopbackServer(handler) as server, client_for(server, retries=quick_retries()) as client:
        assert client.request("GET", server.url + "/api/x").status == 200
        assert len(server.requests) == 3
        server.handler = lambda _: Reply(drop=True)
        with pytest.raises(exceptions.ApiConnectionError) as caught:
            client.request("POST", server.url + "/api/y", body=b"{}")
    assert [r.method for r in server.requests].count("POST") == 1  # it may have been acted on
    assert "POST" in str(caught.value) and "/api/y" in str(caught.value)
    FIGURES["faults injected"] += 3
    FIGURES["faults survived"] += 2


def test_a_body_cut_short_is_retried_like_a_dropped_connection() -> None:
    cut = Reply(200, b'{"ok": tr', {"Content-Type": "application/json"}, content_length=100)
    handler = failing_first(2, lambda: cut, OK)
    with LoopbackServer(handler) as server, client_for(server, retries=quick_retries()) as client:
        assert client.request("GET", server.url + "/api/x").data == OK.body
        assert len(server.requests) == 3
        server.handler = lambda _: cut
        with pytest.raises(exceptions.ApiResponseError) as caught:
            client.request("POST", server.url + "/api/y", body=b"{}")
    assert caught.value.body == b'{"ok": tr'  # what arrived is kept
    assert [r.method for r in server.requests].count("POST") == 1
    FIGURES["faults injected"] += 3
    FIGURES["faults survived"] += 2


def test_a_connection_refused_is_a_connection_error_naming_the_request() -> None:
    with LoopbackServer(lambda _: OK) as server:
        url = server.url
    with client_for(url, retries=quick_retries(2)) as client:
        started = time.monotonic()
        with pytest.raises(exceptions.ApiConnectionError) as caught:
            client.request("POST", url + "/api/tasks", body=b"{}")
    assert not isinstance(caught.value, exceptions.ApiTimeoutError)
    assert f"POST {url}/api/tasks" in str(caught.value)
    assert time.monotonic() - started < 2
    FIGURES["faults injected"] += 3


def test_a_stream_body_is_not_resent_but_a_file_is() -> None:
    """A consumed stream cannot be sent again, so its overload answer is raised as such; a
    seekable file is rewound and sent whole again."""

    class OneShot(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self.left = data

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
            size = min(len(buffer), len(self.left))
            buffer[:size] = self.left[:size]
            self.left = self.left[size:]
            return size

    handler = failing_first(1, lambda: overloaded(503), OK)
    with LoopbackServer(handler) as server, client_for(server, retries=quick_retries()) as client:
        headers = {"Content-Length": "5"}
        with pytest.raises(exceptions.ServiceException):
            client.request("PUT", server.url + "/a", headers=headers, body=OneShot(b"hello"))
        assert len(server.requests) == 1
        server.handler = failing_first(1, lambda: overloaded(503), OK)
        response = client.request("PUT", server.url + "/b", body=io.BytesIO(b"hello"))
    assert response.status == 200
    assert [r.body for r in server.requests[1:]] == [b"hello", b"hello"]
    FIGURES["faults injected"] += 2
    FIGURES["faults survived"] += 1


# --- backoff and Retry-After ---------------------------------------------------------------------


def test_backoff_is_exponential() -> None:
    policy = retry_policy(3, backoff=0.05, jitter=0.0)
    with (
        LoopbackServer(lambda _: overloaded(503)) as server,
        client_for(server, retries=policy) as client,
    ):
        with pytest.raises(exceptions.ServiceException):
            client.request("GET", server.url + "/api/x")
    waits = gaps(server.requests)
    # urllib3 retries the first failure at once, then waits backoff * 2**(n-1)
    for waited, expected in zip(waits, [0.0, 0.1, 0.2], strict=True):
        assert expected <= waited < expected + 0.08, waits
    FIGURES["faults injected"] += 4


def test_jitter_adds_a_random_part_within_its_bound() -> None:
    policy = retry_policy(3, backoff=0.02, jitter=0.06)
    observed: list[float] = []
    for _ in range(3):
        with (
            LoopbackServer(lambda _: overloaded(503)) as server,
            client_for(server, retries=policy) as client,
        ):
            with pytest.raises(exceptions.ServiceException):
                client.request("GET", server.url + "/api/x")
        waits = gaps(server.requests)
        for waited, base in zip(waits[1:], [0.04, 0.08], strict=True):
            assert base <= waited < base + 0.06 + 0.05, waits
            observed.append(waited - base)
        FIGURES["faults injected"] += 4
    assert max(observed) - min(observed) > 0.002  # it is random: not the same every time


def test_the_default_backoff_grows_and_is_capped() -> None:
    policy = Configuration().effective_retries()
    assert isinstance(policy, CappedRetry)
    assert policy.backoff_factor == settings.RETRY_BACKOFF > 0
    assert policy.backoff_jitter == settings.RETRY_JITTER > 0
    error = urllib3.exceptions.ProtocolError("test")
    waits = []
    for _ in range(3):
        policy = policy.increment("GET", "/x", error=error)
        waits.append(policy.get_backoff_time())
    assert waits[0] == 0
    assert (
        settings.RETRY_BACKOFF * 2 <= waits[1] <= settings.RETRY_BACKOFF * 2 + settings.RETRY_JITTER
    )
    assert (
        settings.RETRY_BACKOFF * 4 <= waits[2] <= settings.RETRY_BACKOFF * 4 + settings.RETRY_JITTER
    )
    assert policy.backoff_max == settings.RETRY_BACKOFF_MAX


def test_retry_after_is_honoured() -> None:
    busy = Reply(503, b"", {"Retry-After": "1"})
    handler = failing_first(1, lambda: busy, OK)
    with LoopbackServer(handler) as server, client_for(server, retries=quick_retries()) as client:
        assert client.request("GET", server.url + "/api/x").status == 200
    (waited,) = gaps(server.requests)
    assert 1.0 <= waited < 1.5  # the backoff alone would not wait at all
    FIGURES["faults survived"] += 1


@pytest.mark.parametrize("retry_after", ["3600", "Fri, 31 Dec 2100 23:59:59 GMT"])
def test_retry_after_is_capped(retry_after: str) -> None:
    busy = Reply(429, b"", {"Retry-After": retry_after})
    handler = failing_first(1, lambda: busy, OK)
    policy = quick_retries(retry_after_max=0.3)
    with LoopbackServer(handler) as server, client_for(server, retries=policy) as client:
        response = within(5, lambda: client.request("GET", server.url + "/api/x"))
    assert response.status == 200
    (waited,) = gaps(server.requests)
    assert 0.3 <= waited < 0.8
    FIGURES["faults survived"] += 1


def test_an_unreadable_retry_after_falls_back_to_the_backoff() -> None:
    busy = Reply(503, b"", {"Retry-After": "soon"})
    handler = failing_first(2, lambda: busy, OK)
    with LoopbackServer(handler) as server, client_for(server, retries=quick_retries()) as client:
        assert client.request("GET", server.url + "/api/x").status == 200
    assert len(server.requests) == 3
    FIGURES["faults survived"] += 2


def test_the_default_cap_applies_to_every_policy() -> None:
    """The default policy, an int and a caller's plain Retry all cap a day-long Retry-After."""
    answer = Reply(503, b"", {"Retry-After": "86400"})
    with LoopbackServer(lambda _: answer) as server, client_for(server, retries=0) as client:
        response = client.request("GET", server.url + "/x", _check_status=False)
    for retries in (None, 2, Retry(3)):
        policy = Configuration(retries=retries).effective_retries()
        assert policy.get_retry_after(response) == settings.RETRY_AFTER_MAX
    assert retry_policy(retry_after_max=5).new(total=1).get_retry_after(response) == 5


# --- timeouts ---------------------------------------------------------------------------------


def test_a_server_that_never_answers_times_out() -> None:
    assert settings.CONNECT_TIMEOUT is not None and settings.READ_TIMEOUT is not None
    with SilentServer() as silent, client_for(silent.url, read_timeout=0.2, retries=0) as client:
        started = time.monotonic()
        with pytest.raises(exceptions.ApiTimeoutError) as caught:
            within(5, client.server_api.retrieve_about)
    assert time.monotonic() - started < 1.5
    assert f"GET {silent.url}/api/server/about" in str(caught.value)
    FIGURES["faults injected"] += 1


def test_timeouts_are_retried_for_get_and_bounded() -> None:
    with (
        SilentServer() as silent,
        client_for(silent.url, read_timeout=0.1, retries=quick_retries(2)) as client,
    ):
        with pytest.raises(exceptions.ApiTimeoutError):
            within(5, client.server_api.retrieve_about)
        assert silent.connections == 3
        with pytest.raises(exceptions.ApiTimeoutError):
            within(5, lambda: client.tasks_api.create({"name": "t"}))
        assert silent.connections == 4  # a POST is sent once
    FIGURES["faults injected"] += 4


def test_the_per_call_timeout_overrides_the_configuration() -> None:
    with SilentServer() as silent, client_for(silent.url, read_timeout=60, retries=0) as client:
        for timeout in (0.2, (1.0, 0.2), urllib3.Timeout(connect=1.0, read=0.2)):
            started = time.monotonic()
            with pytest.raises(exceptions.ApiTimeoutError):
                within(5, partial(client.server_api.retrieve_about, _request_timeout=timeout))
            assert time.monotonic() - started < 1.5
            FIGURES["faults injected"] += 1


def test_a_body_that_stalls_times_out_also_when_streamed() -> None:
    def handler(_: Recorded) -> Reply:
        return Reply(200, stalling(b'{"name": "CV', 2.0), {"Content-Type": "application/json"})

    with (
        LoopbackServer(handler) as server,
        client_for(server, read_timeout=0.2, retries=0) as client,
    ):
        with pytest.raises(exceptions.ApiTimeoutError):
            within(5, client.server_api.retrieve_about)
        _, response = client.server_api.retrieve_about(_parse_response=False)
        with pytest.raises(exceptions.ApiTimeoutError) as caught:
            within(5, response.read)
        assert f"GET {server.url}/api/server/about" in str(caught.value)
    FIGURES["faults injected"] += 2


@pytest.mark.parametrize("timeout", [-1, 0, "5", (1, 2, 3), (1, "x"), True], ids=repr)
def test_bad_timeouts_are_refused_before_sending(timeout: Any) -> None:
    with LoopbackServer(lambda _: OK) as server, client_for(server) as client:
        with pytest.raises(exceptions.ApiValueError, match="_request_timeout"):
            client.server_api.retrieve_about(_request_timeout=timeout)
    assert server.requests == []
    FIGURES["bad inputs tried"] += 1


@pytest.mark.parametrize(
    "config",
    [
        {"connect_timeout": -1},
        {"read_timeout": 0},
        {"retries": -1},
        {"retries": "3"},
        {"proxy": "socks5://127.0.0.1:1080"},
        {"proxy": "127.0.0.1:3128"},
    ],
    ids=repr,
)
def test_bad_settings_are_refused(config: dict[str, object]) -> None:
    with pytest.raises(exceptions.ApiValueError):
        Configuration(host="http://127.0.0.1", **config)  # type: ignore[arg-type]
    FIGURES["bad inputs tried"] += 1
