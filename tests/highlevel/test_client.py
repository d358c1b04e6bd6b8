"""Client, Config and make_client on real sockets: scheme probing, sessions, organization
context, version checks and waiting for background requests."""

from __future__ import annotations

import _thread
import json
import ssl
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import pytest

import cvat_sdk
from cvat_sdk import Client, Config, make_client, models
from cvat_sdk._runtime.exceptions import ServerVersionWarning
from cvat_sdk.core.client import (
    IncompatibleVersionException,
    InvalidHostException,
    Version,
    default_cache_dir,
)
from cvat_sdk.core.exceptions import BackgroundRequestFailed, BackgroundRequestTimeout
from cvat_sdk.core.uploading import upload_task_data
from cvat_sdk.exceptions import ApiValueError, UnauthorizedException
from cvat_sdk.testing import FakeCvatServer
from tests.support.loopback import LoopbackServer, Recorded, Reply


def _paths(server: FakeCvatServer) -> list[str]:
    return [f"{r.method} {r.path}" for r in server.request_log]


# --- imports -----------------------------------------------------------------------------


def test_documented_imports_and_a_cheap_package_import() -> None:
    from cvat_sdk.core.client import Client as Client2
    from cvat_sdk.core.proxies.tasks import ResourceType, Task

    assert Client2 is Client and make_client is cvat_sdk.make_client
    assert models.TaskWriteRequest is cvat_sdk.api_client.models.TaskWriteRequest
    assert cvat_sdk.exceptions.ApiException is cvat_sdk.api_client.exceptions.ApiException
    assert str(ResourceType.LOCAL) == "local" and Task.__name__ == "Task"
    code = "import cvat_sdk, sys; print(sorted(m for m in sys.modules if m.startswith('cvat_sdk')))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "['cvat_sdk']"  # nothing of the high-level layer or the client


# --- locating the server -------------------------------------------------------------------


def test_scheme_less_host_probes_https_then_uses_http(server: FakeCvatServer) -> None:
    address = server.url.removeprefix("http://")
    host, port = address.split(":")
    with make_client(host, port=port, credentials=("admin", "password")) as client:
        assert client.api_map.host == server.url
        assert client.api_client.configuration.host == server.url
        # one probe answered (its About is reused for the version check), then the login
        assert _paths(server) == ["GET /api/server/about", "POST /api/auth/login"]
        assert client.users.retrieve_current_user().username == "admin"


def test_explicit_scheme_means_no_probing(server: FakeCvatServer) -> None:
    with Client(server.url, check_server_version=False) as client:
        assert server.request_log == []
        client.login(("admin", "password"))
    assert _paths(server) == ["POST /api/auth/login", "POST /api/auth/logout"]


def test_tls_handshake_failure_is_not_followed_by_http(tls_context: ssl.SSLContext) -> None:
    with LoopbackServer(
        lambda r: Reply.json({"version": "2.24.0"}), ssl_context=tls_context
    ) as tls:
        address = tls.url.removeprefix("https://")
        with pytest.raises(InvalidHostException, match=r"handshake failed.*CERTIFICATE_VERIFY"):
            make_client(address, credentials=("admin", "password"))
        assert tls.requests == []  # nothing went out in clear text, or at all


def test_tls_with_the_ca_given_connects(tls_context: ssl.SSLContext, tmp_path: object) -> None:
    # verify_ssl=False accepts the certificate; the probe then stays on https
    with LoopbackServer(
        lambda r: Reply.json({"version": "2.24.0"}), ssl_context=tls_context
    ) as tls:
        address = tls.url.removeprefix("https://")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # urllib3's InsecureRequestWarning
            with Client(address, config=Config(verify_ssl=False)) as client:
                assert client.api_map.host == tls.url


def test_nothing_listening_names_both_attempts() -> None:
    with LoopbackServer(lambda r: Reply()) as gone:
        address = gone.url.removeprefix("http://")
    with pytest.raises(InvalidHostException, match=r"https: .*refused.*; http: .*refused"):
        Client(address)


def test_api_map_builds_urls(server: FakeCvatServer) -> None:
    with Client(server.url, check_server_version=False) as client:
        api_map = client.api_map
        assert api_map.make_endpoint_url("/api/tasks/%s", psub=(3,)) == server.url + "/api/tasks/3"
        assert (
            api_map.make_endpoint_url("/api/jobs/%(id)s", kwsub={"id": 4}, query_params={"a": 1})
            == server.url + "/api/jobs/4?a=1"
        )
        assert api_map.login == server.url + "/api/auth/login"


def test_make_client_checks_its_arguments() -> None:
    with pytest.raises(ApiValueError, match="port"):
        make_client("localhost", port="80a")
    with pytest.raises(ApiValueError, match="already names a port"):
        make_client("http://localhost:8080", port=8080)
    with pytest.raises(ApiValueError, match="access_token"):
        make_client("localhost", credentials=("a", "b"), access_token="t")
    with pytest.raises(ApiValueError, match="credentials"):
        Client("http://127.0.0.1:9", check_server_version=False).login("admin")  # type: ignore[arg-type]


# --- sessions ------------------------------------------------------------------------------


def test_login_session_and_logout(server: FakeCvatServer) -> None:
    client = Client(server.url, check_server_version=False)
    assert not client.has_credentials()
    client.login(("admin", "password"))
    assert client.has_credentials()
    # a change needs the CSRF token and Origin: the fake checks both like CVAT
    task = client.tasks.create({"name": "t", "labels": [{"name": "a"}]})
    assert task.name == "t"
    client.logout()
    assert not client.has_credentials()
    with pytest.raises(UnauthorizedException):
        client.users.retrieve_current_user()
    client.close()
    assert _paths(server).count("POST /api/auth/logout") == 1  # close() after logout: none


def test_wrong_password(server: FakeCvatServer) -> None:
    with pytest.raises(Exception) as caught:
        make_client(server.url, credentials=("admin", "nope"))
    assert getattr(caught.value, "status", None) in (400, 401)


def test_access_token(server: FakeCvatServer) -> None:
    token = server.issue_token("admin")
    with Client(server.url, check_server_version=False) as client:
        client.api_client.configuration.api_key["tokenAuth"] = f"Token {token}"
        assert client.users.retrieve_current_user().username == "admin"
    with Client(server.url, check_server_version=False) as client:
        # the 2.24 schema has no bearer scheme: the token goes as its REST key
        client.use_access_token(token)
        assert client.api_client.configuration.access_token == token
        assert client.users.retrieve_current_user().username == "admin"


# --- organization context ------------------------------------------------------------------


def test_organization_slug_and_context(hl: Client, server: FakeCvatServer) -> None:
    org = hl.organizations.create({"slug": "acme", "name": "Acme"})
    assert hl.organization_slug is None
    with hl.organization_context("acme"):
        assert hl.organization_slug == "acme"
        in_org = hl.tasks.create({"name": "in org", "labels": [{"name": "a"}]})
    assert hl.organization_slug is None
    hl.organization_slug = ""
    personal = hl.tasks.create({"name": "personal", "labels": [{"name": "a"}]})
    hl.organization_slug = None
    assert in_org.organization == org.id
    assert personal.organization is None
    sent = [r.headers.get("x-organization") for r in server.request_log if r.method == "POST"]
    assert sent[-2:] == ["acme", ""]
    with pytest.raises(ApiValueError, match="organization_slug"):
        hl.organization_slug = 5  # type: ignore[assignment]


# --- versions ------------------------------------------------------------------------------


def test_version_compares() -> None:
    assert Version("2.24.0") > "2.17.0" and Version("2.9.1") < Version("2.10")
    assert Version("2.24.0-dev") == "2.24.0" and str(Version("2.24.0")) == "2.24.0"
    assert Version("2.24.0").minor == 24


def _about_server(version: str) -> LoopbackServer:
    def answer(request: Recorded) -> Reply:
        return Reply.json({"name": "CVAT", "description": "", "version": version})

    return LoopbackServer(answer)


def test_unsupported_server_warns_by_default_and_raises_when_told() -> None:
    with _about_server("1.7.0") as old:
        with pytest.warns(UserWarning, match=r"1\.7\.0 is outside"):
            Client(old.url).close()
        with pytest.raises(IncompatibleVersionException, match=r"1\.7\.0"):
            Client(old.url, config=Config(allow_unsupported_server=False))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            client = Client(old.url, check_server_version=False)  # no request, no warning
        assert len(old.requests) == 2
        with pytest.warns(ServerVersionWarning):  # the low-level client's own notice
            assert client.get_server_version() == "1.7.0"


def test_supported_server_is_quiet(server: FakeCvatServer) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with Client(server.url, config=Config(allow_unsupported_server=False)) as client:
            assert client.get_server_version() == "2.24.0"


def test_config_defaults_and_checks() -> None:
    config = Config()
    assert config.cache_dir == default_cache_dir() and config.cache_dir.name == "cvat-sdk"
    assert config.allow_unsupported_server is True
    with pytest.raises(ApiValueError, match="status_check_period"):
        Config(status_check_period=0)


# --- background requests -------------------------------------------------------------------


def _data_rq(hl: Client, image: Path) -> str:
    """A background request: a task's data, being processed."""
    task = hl.tasks.create({"name": "t", "labels": [{"name": "a"}]})
    response = upload_task_data(hl.api_client, task.id, [image], wait=False)
    return json.loads(response.data)["rq_id"]


def test_wait_backs_off_up_to_the_period(config: Config, images: list[Path]) -> None:
    with FakeCvatServer(polls_to_finish=24) as server, Client(server.url, config=config) as hl:
        hl.login(("admin", "password"))
        rq_id = _data_rq(hl, images[0])
        started = time.monotonic()
        request, response = hl.wait_for_completion(rq_id, status_check_period=0.2)
        elapsed = time.monotonic() - started
        assert str(request.status) == "finished" and response.status == 200
        # 23 waits: 0.1 until 1 s, then a tenth of the time waited (0.11, 0.121...) up to
        # 0.2: polls end at about 3.1 s; not 23 x 0.1 = 2.3 s, nor 23 x 0.2 = 4.6 s
        assert 2.7 < elapsed < 4.2, elapsed


def test_wait_times_out(config: Config, images: list[Path]) -> None:
    with FakeCvatServer(polls_to_finish=1000) as server, Client(server.url, config=config) as hl:
        hl.login(("admin", "password"))
        rq_id = _data_rq(hl, images[0])
        started = time.monotonic()
        with pytest.raises(BackgroundRequestTimeout, match=rq_id):
            hl.wait_for_completion(rq_id, timeout=0.3)
        assert time.monotonic() - started < 1.0
        hl.config.wait_timeout = 0.2
        with pytest.raises(BackgroundRequestTimeout):
            hl.wait_for_completion(rq_id)


def test_wait_reports_a_failure_with_its_message(
    hl: Client, server: FakeCvatServer, images: list[Path]
) -> None:
    server.faults.fail_background("disk full", operation="create:task")
    with pytest.raises(BackgroundRequestFailed, match="disk full"):
        hl.wait_for_completion(_data_rq(hl, images[0]))


def test_ctrl_c_stops_the_wait_at_once_and_the_client_still_works(
    config: Config, images: list[Path]
) -> None:
    with FakeCvatServer(polls_to_finish=1000) as server, Client(server.url, config=config) as hl:
        hl.login(("admin", "password"))
        rq_id = _data_rq(hl, images[0])
        timer = threading.Timer(0.5, _thread.interrupt_main)
        timer.start()
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            hl.wait_for_completion(rq_id, status_check_period=5.0)
        assert time.monotonic() - started < 5.0  # the sleep was interrupted, not waited out
        assert hl.users.retrieve_current_user().username == "admin"
