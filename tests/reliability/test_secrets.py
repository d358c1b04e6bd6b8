# mypy: disable-error-code="arg-type, call-arg, dict-item, list-item, func-returns-value"
# (the wrong arguments are the point of these tests)
"""Secrets stay secret: out of repr(), messages and logs, and off other hosts on redirects.

Every text the client produced during a session of authenticated calls (log records of all
loggers at DEBUG, exception messages and reprs, repr() of configurations and clients) is
searched for every secret used; the count found is reported (goal: 0).
"""

from __future__ import annotations

import base64
import logging
import ssl
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import urllib3
from urllib3.util.retry import Retry

from cvat_sdk.api_client import ApiClient, Configuration, exceptions, models
from tests.reliability._support import (
    FIGURES,
    ForwardProxy,
    SilentServer,
    client_for,
    eventually,
    failing_first,
    quick_retries,
)
from tests.reliability.conftest import Pki
from tests.support.loopback import LoopbackServer, Recorded, Reply

PASSWORD = "pw-Secret-1a"
TOKEN = "tok-Secret-2b"
SESSION = "sess-Secret-3c"
CSRF = "csrf-Secret-4d"
SIGN = "sign-Secret-5e"
HOST_PASSWORD = "hostpw-Secret-6f"
PROXY_PASSWORD = "proxypw-Secret-7g"
LOGIN_KEY = "key-Secret-8h"
SERVER_SESSION = "srvsess-Secret-9i"
SERVER_CSRF = "srvcsrf-Secret-0j"
BASIC = base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
SECRETS = [
    PASSWORD,
    TOKEN,
    SESSION,
    CSRF,
    SIGN,
    HOST_PASSWORD,
    PROXY_PASSWORD,
    LOGIN_KEY,
    SERVER_SESSION,
    SERVER_CSRF,
    BASIC,
]
ABOUT = {"name": "CVAT", "description": "d", "version": "2.24.0"}
USER = {"id": 1, "username": "admin"}


def leaks(texts: list[str]) -> list[tuple[str, str]]:
    return [(secret, text) for text in texts for secret in SECRETS if secret in text]


def cvat_server(request: Recorded) -> Reply:
    """Login sets a session and a CSRF cookie; /denied answers 401; /busy is overloaded once."""
    if request.path == "/api/auth/login":
        return Reply(
            200,
            f'{{"key": "{LOGIN_KEY}"}}'.encode(),
            {"Content-Type": "application/vnd.cvat+json"},
            extra_headers=[
                ("Set-Cookie", f"sessionid={SERVER_SESSION}; Path=/; HttpOnly"),
                ("Set-Cookie", f"csrftoken={SERVER_CSRF}; Path=/"),
            ],
        )
    if request.path.startswith("/api/users/self"):
        return Reply.json(USER)
    if request.path == "/api/denied":
        return Reply(401, b'{"detail": "Invalid token."}', {"WWW-Authenticate": "Token"})
    if request.path == "/api/hop":
        return Reply(302, b"", {"Location": f"/api/server/about?sign={SIGN}"})
    return Reply.json(ABOUT)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer(cvat_server) as running:
        yield running


def test_no_secret_leaks_into_logs_messages_or_reprs(
    server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    texts: list[str] = []
    host_with_password = server.url.replace("://", f"://admin:{HOST_PASSWORD}@")
    configurations = [
        Configuration(host=server.url, username="admin", password=PASSWORD),
        Configuration(
            host=server.url, api_key={"tokenAuth": TOKEN}, api_key_prefix={"tokenAuth": "Token"}
        ),
        Configuration(host=server.url, api_key={"sessionAuth": SESSION, "csrfAuth": CSRF}),
        Configuration(host=server.url, api_key={"signatureAuth": SIGN}, retries=quick_retries()),
        Configuration(
            host=host_with_password,
            proxy=f"http://proxy:{PROXY_PASSWORD}@127.0.0.1:9",
            proxy_headers={"Proxy-Authorization": f"Basic {PROXY_PASSWORD}"},
            retries=0,
        ),
    ]
    with caplog.at_level(logging.DEBUG):
        # a login that sets cookies, then calls carrying them and the CSRF header
        with client_for(server) as api_client:
            auth, _ = api_client.auth_api.create_login(
                models.LoginSerializerExRequest(username="admin", password=PASSWORD)
            )
            assert auth.key == LOGIN_KEY
            api_client.set_default_header("X-CSRFToken", api_client.cookies["csrftoken"].value)
            api_client.users_api.retrieve_self()
            texts += [repr(api_client), str(api_client), repr(api_client.configuration)]
        for configuration in configurations[:4]:
            with ApiClient(configuration) as api_client:
                api_client.server_api.retrieve_about()
                api_client.users_api.retrieve_self()
                api_client.call_api("/api/hop", "GET", auth_settings=None)  # urllib3 logs it
                with pytest.raises(exceptions.UnauthorizedException) as denied:
                    api_client.call_api("/api/denied", "GET")
                texts += [str(denied.value), repr(denied.value), *map(str, denied.value.args)]
                texts += [
                    repr(api_client),
                    str(api_client),
                    repr(configuration),
                    str(configuration),
                ]
        # a retry (urllib3 logs the URL of each), with the signature in the query
        server.handler = failing_first(1, lambda: Reply(503), Reply.json(ABOUT))
        with ApiClient(configurations[3]) as api_client:
            api_client.server_api.retrieve_about()
        # failures of every kind, with credentials in the URL and the headers
        server.handler = lambda _: Reply(200, b"<html>", {"Content-Type": "text/html"})
        with ApiClient(configurations[3]) as api_client:
            with pytest.raises(exceptions.ApiResponseError) as unusable:
                api_client.server_api.retrieve_about()
            texts += [str(unusable.value), repr(unusable.value)]
        with SilentServer() as silent:
            config = Configuration(
                host=silent.url, api_key={"signatureAuth": SIGN}, read_timeout=0.1, retries=0
            )
            with ApiClient(config) as api_client, pytest.raises(exceptions.ApiTimeoutError) as late:
                api_client.server_api.retrieve_about()
            texts += [str(late.value), repr(late.value)]
        with ApiClient(configurations[4]) as api_client:  # the proxy is not there
            with pytest.raises(exceptions.ApiConnectionError) as refused:
                api_client.server_api.retrieve_about()
            texts += [
                str(refused.value),
                repr(refused.value),
                repr(api_client),
                repr(configurations[4]),
            ]
        # bad values of secret fields: the message names the field, never the value
        for attempt in (
            lambda: models.LoginSerializerExRequest(username="a", password=[PASSWORD]),
            lambda: models.PasswordChangeRequest(PASSWORD * 20, "x", "x"),
            lambda: models.PasswordChangeRequest("x", 7, "x"),
            lambda: models.CloudStorageWriteRequest(
                provider_type="AWS_S3_BUCKET",
                resource="r",
                display_name="d",
                credentials_type="KEY_SECRET_KEY_PAIR",
                secret_key=PASSWORD * 10,
            ),
        ):
            with pytest.raises(exceptions.OpenApiException) as invalid:
                attempt()
            texts += [str(invalid.value), repr(invalid.value)]
            FIGURES["bad inputs tried"] += 1
    records = caplog.records
    texts += [r.getMessage() for r in records] + [r.exc_text or "" for r in records]
    found = leaks(texts)
    FIGURES["secrets found leaked"] += len(found)
    FIGURES["texts searched for secrets"] += len(texts)
    FIGURES["log records searched"] += len(records)
    assert found == []
    # the secrets did travel where they belong, and the log says what happened
    sent = [r.headers for r in server.requests]
    assert any(h.get("Authorization") == f"Basic {BASIC}" for h in sent)
    assert any(f"sessionid={SERVER_SESSION}" in h.get("Cookie", "") for h in sent)
    assert any(r.query == [("sign", SIGN)] for r in server.requests)
    ours = [r.getMessage() for r in records if r.name == "cvat_sdk"]
    assert any(
        m.startswith(f"POST {server.url}/api/auth/login -> 200 in ") and " ms" in m for m in ours
    )
    assert any("'Authorization': '***'" in m for m in ours)
    assert any("'Cookie': '***'" in m and "'X-CSRFToken': '***'" in m for m in ours)
    assert any("sign=***" in r.getMessage() for r in records if r.name.startswith("urllib3"))


def test_secret_validation_messages_still_say_what_is_wrong() -> None:
    with pytest.raises(exceptions.ApiValueError) as caught:
        models.PasswordChangeRequest(PASSWORD * 20, "x", "x")
    assert str(caught.value) == "old_password: the value is longer than 128"
    with pytest.raises(exceptions.ApiTypeError) as wrong:
        models.PasswordChangeRequest("x", 7, "x")
    assert str(wrong.value) == "new_password1: expected str, got int (value hidden)"


# --- redirects to another host ----------------------------------------------------------------


@pytest.mark.parametrize(
    "retries", [None, 2, Retry(3, redirect=3)], ids=["default", "int", "plain Retry"]
)
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_credentials_do_not_follow_a_redirect_to_another_host(status: int, retries: Any) -> None:
    with LoopbackServer(lambda _: Reply.json(ABOUT)) as other:
        target = other.url + "/api/server/about"

        def redirect(request: Recorded) -> Reply:
            if request.path == "/api/auth/login":
                return cvat_server(request)
            return Reply(status, b"", {"Location": target})

        with LoopbackServer(redirect) as first:
            config = Configuration(
                host=first.url,
                username="admin",
                password=PASSWORD,
                api_key={"csrfAuth": CSRF, "sessionAuth": SESSION},
                retries=retries,
            )
            with ApiClient(config) as api_client:
                api_client.auth_api.create_login(
                    models.LoginSerializerExRequest(username="admin", password=PASSWORD)
                )
                about, _ = api_client.server_api.retrieve_about()
            assert about.version == "2.24.0"
            assert first.requests[-1].headers["Authorization"] == f"Basic {BASIC}"
            assert first.requests[-1].headers["X-CSRFToken"] == CSRF
    (arrived,) = other.requests
    names = {name.lower() for name in arrived.headers}
    assert not names & {"authorization", "cookie", "x-csrftoken", "proxy-authorization"}
    assert leaks([str(arrived.headers)]) == []
    FIGURES["cross-host redirects checked"] += 1


def test_credentials_follow_a_redirect_on_the_same_host(server: LoopbackServer) -> None:
    """The counterpart: the stripping is for other hosts only."""
    with client_for(server, username="admin", password=PASSWORD) as api_client:
        api_client.call_api("/api/hop", "GET", _parse_response=False)
    first, second = server.requests
    assert second.path == "/api/server/about"
    assert first.headers["Authorization"] == second.headers["Authorization"] == f"Basic {BASIC}"


# --- TLS ----------------------------------------------------------------------------------------


def test_tls_is_verified_by_default(pki: Pki) -> None:
    with LoopbackServer(lambda _: Reply.json(ABOUT), ssl_context=pki.server_context) as server:
        assert Configuration(host=server.url).verify_ssl is True
        with client_for(server, retries=0) as api_client:
            with pytest.raises(exceptions.ApiConnectionError) as caught:
                api_client.server_api.retrieve_about()
        assert not isinstance(
            caught.value, (exceptions.ApiTimeoutError, urllib3.exceptions.HTTPError)
        )
        assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value)
        assert f"GET {server.url}/api/server/about" in str(caught.value)
        assert eventually(lambda: server.tls_failures == 1) and server.requests == []
        # a certificate problem is not retried: it will not heal
        with client_for(server, retries=quick_retries()) as api_client:
            with pytest.raises(exceptions.ApiConnectionError):
                api_client.server_api.retrieve_about()
        assert eventually(lambda: server.tls_failures >= 2)
        time.sleep(0.1)
        assert server.tls_failures == 2


def test_tls_with_the_servers_ca_or_without_verification(pki: Pki) -> None:
    with LoopbackServer(lambda _: Reply.json(ABOUT), ssl_context=pki.server_context) as server:
        with client_for(server, ssl_ca_cert=str(pki.ca_pem)) as api_client:
            about, _ = api_client.server_api.retrieve_about()
        assert about.version == "2.24.0"
        with client_for(server, verify_ssl=False) as api_client:
            with pytest.warns(urllib3.exceptions.InsecureRequestWarning):
                api_client.server_api.retrieve_about()
    assert len(server.requests) == 2


def test_tls_hostname_is_checked(pki: Pki) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    pki.ca.issue_cert("cvat.example").configure_cert(context)
    with LoopbackServer(lambda _: Reply.json(ABOUT), ssl_context=context) as server:
        with client_for(server, ssl_ca_cert=str(pki.ca_pem), retries=0) as api_client:
            with pytest.raises(exceptions.ApiConnectionError, match=r"mismatch.*127\.0\.0\.1"):
                api_client.server_api.retrieve_about()
        config = {"ssl_ca_cert": str(pki.ca_pem), "assert_hostname": "cvat.example"}
        with client_for(server, **config) as api_client:
            api_client.server_api.retrieve_about()
    assert len(server.requests) == 1


def test_client_certificates(pki: Pki) -> None:
    with LoopbackServer(lambda _: Reply.json(ABOUT), ssl_context=pki.mutual_context) as server:
        with client_for(server, ssl_ca_cert=str(pki.ca_pem), retries=0) as api_client:
            with pytest.raises(exceptions.ApiConnectionError):
                api_client.server_api.retrieve_about()
        assert server.requests == []
        config = {
            "ssl_ca_cert": str(pki.ca_pem),
            "cert_file": str(pki.client_cert),
            "key_file": str(pki.client_key),
        }
        with client_for(server, **config) as api_client:
            about, _ = api_client.server_api.retrieve_about()
    assert about.version == "2.24.0" and len(server.requests) == 1


# --- proxies -------------------------------------------------------------------------------------


def test_an_http_proxy_relays_absolute_form_requests() -> None:
    with LoopbackServer(lambda _: Reply.json(ABOUT)) as server, ForwardProxy() as proxy:
        config = Configuration(
            host=server.url,
            username="admin",
            password=PASSWORD,
            proxy=proxy.url,
            proxy_headers={"Proxy-Authorization": "Basic cHJveHk6cHc="},
        )
        with ApiClient(config) as api_client:
            about, _ = api_client.server_api.retrieve_about()
            api_client.tasks_api.retrieve(5, _check_status=False, _parse_response=False)
    assert about.version == "2.24.0"
    assert [(p.method, p.target) for p in proxy.seen] == [
        ("GET", server.url + "/api/server/about"),
        ("GET", server.url + "/api/tasks/5"),
    ]
    assert all(p.headers["Proxy-Authorization"] == "Basic cHJveHk6cHc=" for p in proxy.seen)
    assert [r.path for r in server.requests] == ["/api/server/about", "/api/tasks/5"]
    assert server.requests[0].headers["Authorization"] == f"Basic {BASIC}"


def test_https_through_a_proxy_is_tunnelled(pki: Pki) -> None:
    with (
        LoopbackServer(lambda _: Reply.json(ABOUT), ssl_context=pki.server_context) as server,
        ForwardProxy() as proxy,
    ):
        proxy_url = proxy.url.replace("://", f"://proxy:{PROXY_PASSWORD}@")
        config = Configuration(
            host=server.url,
            username="admin",
            password=PASSWORD,
            proxy=proxy_url,
            ssl_ca_cert=str(pki.ca_pem),
        )
        with ApiClient(config) as api_client:
            about, _ = api_client.server_api.retrieve_about()
            shown = repr(config) + repr(api_client)
    assert about.version == "2.24.0"
    (connect,) = proxy.seen
    assert connect.method == "CONNECT" and connect.target == server.url.removeprefix("https://")
    expected = base64.b64encode(f"proxy:{PROXY_PASSWORD}".encode()).decode()
    assert connect.headers["Proxy-Authorization"] == f"Basic {expected}"
    assert "Authorization" not in connect.headers  # the credentials went inside the tunnel
    assert server.requests[0].headers["Authorization"] == f"Basic {BASIC}"
    assert leaks([shown]) == []


def test_a_proxy_that_is_down_is_a_connection_error() -> None:
    with SilentServer() as nothing:
        port = nothing.url.rsplit(":", 1)[1]
    config = Configuration(
        host="http://127.0.0.1:9", proxy=f"http://u:{PROXY_PASSWORD}@127.0.0.1:{port}", retries=0
    )
    with ApiClient(config) as api_client, warnings.catch_warnings():
        with pytest.raises(exceptions.ApiConnectionError) as caught:
            api_client.server_api.retrieve_about()
    assert PROXY_PASSWORD not in str(caught.value) + repr(caught.value)
