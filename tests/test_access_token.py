"""``Configuration(access_token=...)``, ``Client.use_access_token`` and
``make_client(access_token=...)`` on real sockets: which ``Authorization`` each schema's
schemes get, and that the fake CVAT authenticates with it."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest

from cvat_sdk import Client, make_client
from cvat_sdk._runtime.configuration import DEFAULT_AUTH_SCHEMES, AuthScheme
from cvat_sdk.api_client import ApiClient, Configuration
from cvat_sdk.exceptions import ApiValueError, UnauthorizedException
from cvat_sdk.testing import FakeCvatServer
from tests.support.loopback import LoopbackServer, Recorded, Reply


class BearerConfiguration(Configuration):
    """What a client generated from the 2.51/2.72 schemas declares: ``accessTokenAuth``."""

    auth_schemes = (
        AuthScheme("accessTokenAuth", "bearer", "header", "Authorization"),
        *DEFAULT_AUTH_SCHEMES,
    )


@pytest.fixture
def loopback() -> Iterator[LoopbackServer]:
    with LoopbackServer(lambda _: Reply.json({"version": "2.24.0"})) as running:
        yield running


@pytest.fixture
def fake() -> Iterator[FakeCvatServer]:
    with FakeCvatServer() as running:
        yield running


def _sent_authorization(server: LoopbackServer, configuration: Configuration) -> str | None:
    with ApiClient(configuration) as api_client:
        # every configured scheme, as an operation of a 2.51 client lists accessTokenAuth
        api_client.call_api("/api/server/about", "GET", auth_settings=None)
    return server.requests[-1].headers.get("Authorization")


def test_schema_without_bearer_sends_the_rest_token(loopback: LoopbackServer) -> None:
    configuration = Configuration(host=loopback.url, access_token="K")
    assert configuration.access_token == "K"
    assert _sent_authorization(loopback, configuration) == "Token K"
    with ApiClient(Configuration(host=loopback.url, access_token="K")) as api_client:
        api_client.server_api.retrieve_about()  # a generated 2.24 operation
    assert loopback.requests[-1].headers["Authorization"] == "Token K"


def test_schema_with_bearer_sends_bearer(loopback: LoopbackServer) -> None:
    configuration = BearerConfiguration(host=loopback.url, access_token="K")
    assert _sent_authorization(loopback, configuration) == "Bearer K"
    assert list(configuration.auth_settings()) == ["accessTokenAuth"]


def test_settable_after_construction_and_cleared(loopback: LoopbackServer) -> None:
    configuration = Configuration(host=loopback.url)
    assert configuration.access_token is None
    assert _sent_authorization(loopback, configuration) is None
    configuration.access_token = "later"
    assert _sent_authorization(loopback, configuration) == "Token later"
    assert copy.deepcopy(configuration).access_token == "later"
    configuration.access_token = None
    assert _sent_authorization(loopback, configuration) is None


def test_an_explicit_api_key_wins_for_its_scheme(loopback: LoopbackServer) -> None:
    configuration = BearerConfiguration(
        host=loopback.url, access_token="K", api_key={"accessTokenAuth": "other"}
    )
    assert _sent_authorization(loopback, configuration) == "Bearer other"
    plain = Configuration(host=loopback.url, access_token="K", api_key={"tokenAuth": "Token x"})
    assert _sent_authorization(loopback, plain) == "Token x"


def test_the_token_is_not_printed() -> None:
    configuration = Configuration(host="http://127.0.0.1:1", access_token="s3cr3t-value")
    assert "s3cr3t-value" not in repr(configuration)
    assert "tokenAuth" in repr(configuration)


@pytest.mark.parametrize("bad", ["", "  ", 42, b"K"])
def test_bad_token_is_refused_naming_the_field(bad: object) -> None:
    with pytest.raises(ApiValueError) as caught:
        Configuration(host="http://127.0.0.1:1", access_token=bad)  # type: ignore[arg-type]
    assert "access_token" in str(caught.value)
    configuration = Configuration(host="http://127.0.0.1:1")
    with pytest.raises(ApiValueError):
        configuration.access_token = bad  # type: ignore[assignment]
    assert configuration.access_token is None


def test_fake_cvat_authenticates_the_rest_token(fake: FakeCvatServer) -> None:
    token = fake.issue_token("admin")
    with ApiClient(Configuration(host=fake.url, access_token=token)) as api_client:
        me, _ = api_client.users_api.retrieve_self()
        assert me.username == "admin"
    with ApiClient(Configuration(host=fake.url, access_token="wrong")) as api_client:
        with pytest.raises(UnauthorizedException):
            api_client.users_api.retrieve_self()


def test_client_and_make_client_use_the_same_attribute(fake: FakeCvatServer) -> None:
    token = fake.issue_token("admin")
    with Client(fake.url, check_server_version=False) as client:
        client.use_access_token(token)
        assert client.api_client.configuration.access_token == token
        assert "Authorization" not in client.api_client.default_headers
        assert client.has_credentials()
        assert client.users.retrieve_current_user().username == "admin"
    with make_client(fake.url, access_token=token) as client:
        assert client.api_client.configuration.access_token == token
        assert client.users.retrieve_current_user().username == "admin"
    fake.request_log.clear()
    # closing a token client does not log out: the token still works afterwards
    with make_client(fake.url, access_token=token) as client:
        pass
    assert all(r.path != "/api/auth/logout" for r in fake.request_log)
    with ApiClient(Configuration(host=fake.url, access_token=token)) as api_client:
        assert api_client.users_api.retrieve_self()[0].username == "admin"


def test_use_access_token_refuses_bad_tokens(fake: FakeCvatServer) -> None:
    with Client(fake.url, check_server_version=False) as client:
        with pytest.raises(ApiValueError) as caught:
            client.use_access_token("")
        assert "access_token" in str(caught.value)
        assert client.api_client.configuration.access_token is None


def test_bearer_header_from_a_recording_server() -> None:
    seen: list[Recorded] = []

    def handler(request: Recorded) -> Reply:
        seen.append(request)
        return Reply.json({"version": "2.51.0"})

    with LoopbackServer(handler) as server:
        configuration = BearerConfiguration(host=server.url)
        configuration.access_token = "Bearer already"
        _sent_authorization(server, configuration)
    assert seen[-1].headers["Authorization"] == "Bearer already"
