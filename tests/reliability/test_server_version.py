"""A server of another major.minor version than the schema: one clear warning per client."""

from __future__ import annotations

import warnings

import pytest

from cvat_sdk._runtime.client import major_minor
from cvat_sdk._runtime.exceptions import ServerVersionWarning
from cvat_sdk.api_client import SCHEMA_VERSION, ApiClient, Configuration
from tests.reliability._support import client_for
from tests.support.loopback import LoopbackServer, Reply

MAJOR, MINOR = major_minor(SCHEMA_VERSION) or (0, 0)
SAME = [SCHEMA_VERSION, f"{MAJOR}.{MINOR}.99", f"v{MAJOR}.{MINOR}.1-dev", f"{MAJOR}.{MINOR}"]
OTHER = [
    f"{MAJOR}.{MINOR + 1}.0",
    f"{MAJOR}.{MINOR - 1}.3",
    f"{MAJOR + 1}.0.0",
    f"v{MAJOR}.{MINOR + 48}.0",
]


def about(version: str) -> Reply:
    return Reply.json({"name": "CVAT", "description": "d", "version": version})


def test_the_client_knows_its_schema_version() -> None:
    assert ApiClient.schema_version == SCHEMA_VERSION
    assert major_minor(SCHEMA_VERSION) is not None


@pytest.mark.parametrize("version", SAME)
def test_the_same_minor_version_is_quiet(version: str) -> None:
    client = ApiClient(Configuration(host="http://127.0.0.1:9"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client.note_server_version(version)
    assert client.server_version == version


@pytest.mark.parametrize("version", OTHER)
def test_another_minor_version_warns_with_the_fix(version: str) -> None:
    client = ApiClient(Configuration(host="http://admin:hunter2@cvat.example:8080"))
    with pytest.warns(ServerVersionWarning) as caught:
        client.note_server_version(version)
    (warning,) = caught.list
    text = str(warning.message)
    assert version in text and SCHEMA_VERSION in text
    assert "CVAT_SDK_SCHEMA=http://admin:***@cvat.example:8080/api/schema/ pip install ." in text
    assert "hunter2" not in text
    assert warning.filename == __file__  # it points at the caller's line


def test_it_warns_once_per_client() -> None:
    first = ApiClient(Configuration(host="http://127.0.0.1:9"))
    with pytest.warns(ServerVersionWarning) as caught:
        first.note_server_version(OTHER[0])
        first.note_server_version(OTHER[0])
        first.note_server_version(OTHER[1])
    assert len(caught.list) == 1
    assert first.server_version == OTHER[1]
    second = ApiClient(Configuration(host="http://127.0.0.1:9"))
    with pytest.warns(ServerVersionWarning):
        second.note_server_version(OTHER[0])


@pytest.mark.parametrize("version", ["", "unknown", "dev", None, 2])
def test_an_unreadable_version_is_quiet(version: object) -> None:
    client = ApiClient(Configuration(host="http://127.0.0.1:9"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client.note_server_version(version)  # type: ignore[arg-type]


def test_retrieve_about_checks_the_version() -> None:
    with LoopbackServer(lambda _: about(OTHER[0])) as server, client_for(server) as client:
        with pytest.warns(ServerVersionWarning, match=OTHER[0]):
            result, _ = client.server_api.retrieve_about()
        assert result.version == OTHER[0]
        assert client.server_version == OTHER[0]


def test_retrieve_about_of_the_same_version_is_quiet() -> None:
    with LoopbackServer(lambda _: about(SCHEMA_VERSION)) as server, client_for(server) as client:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            client.server_api.retrieve_about()
