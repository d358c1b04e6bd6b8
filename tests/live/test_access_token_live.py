"""``access_token`` on the real CVAT 2.24: its REST key, from ``POST /api/auth/login``,
authenticates as ``Token <key>``; and ``Client.close()`` after ``login()`` logs out, which
deletes that key (documented behaviour, with its consequence). A throwaway user of each test
alone: the admin is never logged out."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cvat_sdk import Client, make_client
from cvat_sdk.api_client import ApiClient, Configuration
from cvat_sdk.exceptions import UnauthorizedException

from .support import LiveServer, throwaway_user


@pytest.fixture
def throwaway(live: LiveServer) -> Iterator[tuple[str, str]]:
    with throwaway_user(live, "tok") as user:
        yield user


#: A client built from a schema with a bearer scheme (CVAT 2.51+, as in the 2.72.0 skew run of
#: ``test_highlevel_live.py``) sends ``access_token`` as ``Bearer``: there it names a personal
#: access token, which CVAT 2.24 does not have. The API changed: such a client gives 2.24's
#: REST key through ``tokenAuth`` instead, and these tests check both halves of that.
BEARER_SCHEMA = any(s.style == "bearer" for s in Configuration.auth_schemes)


def _token_config(live: LiveServer, key: str) -> Configuration:
    """A configuration that authenticates with the REST key, as this client's schema allows."""
    if BEARER_SCHEMA:
        return Configuration(host=live.url, api_key={"tokenAuth": f"Token {key}"})
    return Configuration(host=live.url, access_token=key)


def _rest_key(live: LiveServer, user: tuple[str, str]) -> str:
    """The user's REST token, as login answers it (the session it opens is dropped)."""
    with ApiClient(Configuration(host=live.url)) as api_client:
        answer, _ = api_client.auth_api.create_login({"username": user[0], "password": user[1]})
        return str(answer.key)


def test_access_token_authenticates_as_the_rest_key(
    live: LiveServer, throwaway: tuple[str, str]
) -> None:
    key = _rest_key(live, throwaway)
    if BEARER_SCHEMA:
        with ApiClient(Configuration(host=live.url, access_token=key)) as api_client:
            assert api_client.configuration.auth_settings()["accessTokenAuth"]["value"] == (
                f"Bearer {key}"
            )
            with pytest.raises(UnauthorizedException):
                api_client.users_api.retrieve_self()
        with ApiClient(_token_config(live, key)) as api_client:
            assert api_client.users_api.retrieve_self()[0].username == throwaway[0]
        return
    with ApiClient(Configuration(host=live.url, access_token=key)) as api_client:
        me, _ = api_client.users_api.retrieve_self()
        assert me.username == throwaway[0]
        assert "sessionid" not in api_client.cookies  # the token did it, not a session
    later = Configuration(host=live.url)
    later.access_token = key
    with ApiClient(later) as api_client:
        assert api_client.users_api.retrieve_self()[0].username == throwaway[0]
    with make_client(live.url, access_token=key) as client:
        assert client.users.retrieve_current_user().username == throwaway[0]
    # closing a token client does not log out: the key still works
    with ApiClient(Configuration(host=live.url, access_token=key)) as api_client:
        assert api_client.users_api.retrieve_self()[0].username == throwaway[0]
    # why not Bearer on 2.24: the server refuses it
    bearer = Configuration(host=live.url, api_key={"tokenAuth": f"Bearer {key}"})
    with ApiClient(bearer) as api_client, pytest.raises(UnauthorizedException):
        api_client.users_api.retrieve_self()


def test_close_after_login_logs_out_and_ends_the_users_token(
    live: LiveServer, throwaway: tuple[str, str]
) -> None:
    """The documented ``with make_client(credentials=...)`` logout on leaving: CVAT deletes
    the user's one REST token then, so a token client of the same user stops working."""
    key = _rest_key(live, throwaway)
    with ApiClient(_token_config(live, key)) as token_client:
        assert token_client.users_api.retrieve_self()[0].username == throwaway[0]
        with make_client(live.url, credentials=throwaway) as session_client:
            assert session_client.users.retrieve_current_user().username == throwaway[0]
        with pytest.raises(UnauthorizedException):
            token_client.users_api.retrieve_self()
    # a client that never logged in leaves the (new) token alone on close
    key = _rest_key(live, throwaway)
    Client(live.url).close()
    with ApiClient(_token_config(live, key)) as token_client:
        assert token_client.users_api.retrieve_self()[0].username == throwaway[0]
