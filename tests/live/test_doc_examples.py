"""The examples of the low-level API document, run against the real CVAT and the fake one.

The document (../shared/reference/cvat-sdk-low-level-api.md) is stored without line breaks, so
its examples are transcribed here with their structure and calls kept; only placeholders
(hosts, credentials, ids) are filled in. Where the document itself is wrong, the comment says
what was changed and why. On the real server, names are unique and what an example makes is
deleted afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from time import sleep
from urllib.parse import parse_qsl, urlparse

import pytest

from cvat_sdk.api_client import ApiClient, Configuration, apis, exceptions, models
from cvat_sdk.core.helpers import get_paginated_collection
from cvat_sdk.core.uploading import upload_task_data
from cvat_sdk.testing import FakeCvatServer
from tests.live.support import LiveServer, Trash, png
from tests.support.loopback import LoopbackServer, Recorded, Reply


@dataclass
class Target:
    """A server an example runs against, and what the example made there (to delete)."""

    url: str
    user: str
    password: str
    name: Callable[[str], str]
    made: Callable[[str, int], int]


@pytest.fixture(params=["fake", "live"])
def server(request: pytest.FixtureRequest) -> Iterator[Target]:
    if request.param == "fake":
        with FakeCvatServer(polls_to_finish=2) as fake:
            yield Target(fake.url, "admin", "password", lambda n: n, lambda _, i: i)
        return
    live: LiveServer = request.getfixturevalue("live")
    trash: Trash = request.getfixturevalue("trash")
    yield Target(live.url, live.user, live.password, trash.name, trash.add)


@pytest.fixture
def images(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.chdir(tmp_path)
    names = ["image1.jpg", "image2.jpg"]
    for index, name in enumerate(names):
        png(Path(name), 32, 24, seed=index)  # the server reads images by their content
    return names


def test_task_creation_example(server: Target, images: list[str]) -> None:
    configuration = Configuration(host=server.url, username=server.user, password=server.password)
    with ApiClient(configuration) as api_client:
        task_spec = {
            "name": server.name("example task"),
            "labels": [
                {
                    "name": "car",
                    "color": "#ff00ff",
                    "attributes": [
                        {
                            "name": "a",
                            "mutable": True,
                            "input_type": "number",
                            "default_value": "5",
                            "values": ["4", "5", "6"],
                        }
                    ],
                }
            ],
        }
        try:
            (task, response) = api_client.tasks_api.create(task_spec)
        except exceptions.ApiException as e:
            print("Exception when trying to create a task: %s\n" % e)
        server.made("tasks", task.id)

        task_data = models.DataRequest(
            image_quality=75,
            client_files=[open("image1.jpg", "rb"), open("image2.jpg", "rb")],  # noqa: SIM115
        )
        (result, response) = api_client.tasks_api.create_data(
            task.id,
            data_request=task_data,
            _content_type="multipart/form-data",
            _check_status=False,
            _parse_response=False,
        )
        assert response.status == 202, response.msg
        # the document reads result.rq_id, but with _parse_response=False the result is None
        # (in every SDK): the id is in the body
        rq_id = json.loads(response.data)["rq_id"]

        for _ in range(100):
            request_details, response = api_client.requests_api.retrieve(rq_id)
            status, message = request_details.status, request_details.message
            if status.value in {"finished", "failed"}:
                break
            sleep(0.1)
        assert status.value == "finished", status.message

        (task, _) = api_client.tasks_api.retrieve(task.id)
        assert task.size == 2  # the document asserts 4 after sending 2 images


def test_configuration_examples(server: Target) -> None:
    with ApiClient(Configuration(host=server.url)) as api_client:
        (auth, _) = api_client.auth_api.create_login(
            models.LoginSerializerExRequest(username=server.user, password=server.password)
        )
        assert "sessionid" in api_client.cookies
        api_client.set_default_header("X-CSRFToken", api_client.cookies["csrftoken"].value)
        api_client.set_default_header("Origin", api_client.build_origin_header())
        made, _ = api_client.tasks_api.create(
            {"name": server.name("made with a session"), "labels": [{"name": "car"}]}
        )
        server.made("tasks", made.id)
        session = (api_client.cookies["sessionid"].value, api_client.cookies["csrftoken"].value)

    with ApiClient(Configuration(host=server.url)) as api_client:
        (auth, _) = api_client.auth_api.create_login(
            models.LoginSerializerExRequest(username=server.user, password=server.password)
        )
        token_client = ApiClient(Configuration(host=server.url))
        token_client.set_default_header("Authorization", "Token " + auth.key)
        user, _ = token_client.users_api.retrieve_self()
        assert user.username == server.user

    configuration = Configuration(
        host=server.url, api_key={"sessionAuth": session[0], "csrfAuth": session[1]}
    )
    with ApiClient(configuration) as api_client:
        made, _ = api_client.tasks_api.create(
            {"name": server.name("made with configured session keys"), "labels": [{"name": "car"}]}
        )
        server.made("tasks", made.id)

    configuration = Configuration(host=server.url, api_key={"tokenAuth": "Token " + auth.key})
    with ApiClient(configuration) as api_client:
        user, _ = api_client.users_api.retrieve_self()
        assert user.username == server.user


def test_api_wrapper_and_models_examples(server: Target) -> None:
    api_client = ApiClient(
        Configuration(host=server.url, username=server.user, password=server.password)
    )
    auth_api = apis.AuthApi(api_client)
    tasks_api = apis.TasksApi(api_client)
    assert auth_api.api_client is tasks_api.api_client is api_client

    task_spec = models.TaskWriteRequest(
        name=server.name("example task"),
        labels=[
            models.PatchedLabelRequest(
                name="car",
                color="#ff00ff",
                attributes=[
                    # the document writes model.AttributeRequest (a typo for models.)
                    models.AttributeRequest(
                        name="a",
                        mutable=True,
                        input_type="number",
                        default_value="5",
                        values=["4", "5", "6"],
                    )
                ],
            )
        ],
    )
    created, _ = api_client.tasks_api.create(task_spec)
    server.made("tasks", created.id)
    as_dict, _ = api_client.tasks_api.create(
        {
            "name": created.name,
            "labels": [
                {
                    "name": "car",
                    "color": "#ff00ff",
                    "attributes": [
                        {
                            "name": "a",
                            "mutable": True,
                            "input_type": "number",
                            "default_value": "5",
                            "values": ["4", "5", "6"],
                        }
                    ],
                }
            ],
        }
    )
    server.made("tasks", as_dict.id)
    assert created.name == as_dict.name
    (data, response) = api_client.tasks_api.list()
    assert data.count >= 2 and response.status == 200  # the fake has only these two
    assert {created.id, as_dict.id} <= {t.id for t in data.results}  # newest first
    api_client.close()


def test_organization_and_pagination_examples(server: Target) -> None:
    configuration = Configuration(host=server.url, username=server.user, password=server.password)
    with ApiClient(configuration) as api_client:
        slug = "acme" + server.name("")[-8:]  # unique on a shared server
        org, _ = api_client.organizations_api.create({"slug": slug})
        org_id = server.made("organizations", org.id)
        project, _ = api_client.projects_api.create(
            {"name": server.name("p"), "labels": [{"name": "car"}]}
        )
        project_id = server.made("projects", project.id)
        for n in range(3):
            task_spec = {"name": f"t{n}", "project_id": project_id}
            server.made("tasks", api_client.tasks_api.create(task_spec)[0].id)
        (task, response) = api_client.tasks_api.create(
            {"name": server.name("in org"), "labels": [{"name": "car"}]}, org_id=org_id
        )
        server.made("tasks", task.id)
        assert response.status == 201
        assert task.organization == org_id

        # the document pages projects_api.list_tasks_endpoint, which CVAT 2.24 no longer
        # has: tasks of a project are listed with a filter
        project_tasks = get_paginated_collection(
            api_client.tasks_api.list_endpoint, project_id=project_id, page_size=2
        )
        assert sorted(t.name for t in project_tasks) == ["t0", "t1", "t2"]


def test_receiving_data_example(server: Target, images: list[str]) -> None:
    interval = 0.05
    setup = ApiClient(
        Configuration(host=server.url, username=server.user, password=server.password)
    )
    task_id = setup.tasks_api.create(
        {"name": server.name("to export"), "labels": [{"name": "car"}]}
    )[0].id
    server.made("tasks", task_id)
    upload_task_data(setup, task_id, images)
    setup.close()

    with ApiClient(
        configuration=Configuration(host=server.url, username=server.user, password=server.password)
    ) as api_client:
        (_, response) = api_client.tasks_api.create_dataset_export(
            id=task_id,
            format="COCO 1.0",
            save_images=True,
            _parse_response=False,
        )
        assert response.status == HTTPStatus.ACCEPTED

        rq_id = json.loads(response.data).get("rq_id")
        assert rq_id, "The rq_id parameter was not found in the server response"

        while True:
            (background_request, response) = api_client.requests_api.retrieve(rq_id)
            assert response.status == HTTPStatus.OK
            process_status = background_request.status.value
            if process_status in (
                models.RequestStatus.allowed_values[("value",)]["FINISHED"],
                models.RequestStatus.allowed_values[("value",)]["FAILED"],
            ):
                break
            sleep(interval)

        if process_status != models.RequestStatus.allowed_values[("value",)]["FINISHED"]:
            exception_msg = f"Export failed with status: {process_status}"
            if background_request.message:
                exception_msg += f". Details: {background_request.message}"
            raise AssertionError(exception_msg)

        result_url = background_request.result_url
        assert result_url, "No 'result_url' in the server response"

        parsed_result_url = urlparse(result_url)
        query_params = parse_qsl(parsed_result_url.query)

        _, response = api_client.call_api(
            parsed_result_url.path,
            method="GET",
            query_params=query_params,
            auth_settings=api_client.configuration.auth_settings(),
            _parse_response=False,
        )

        output = b""
        while chunk := response.read(8192):
            output += chunk
    assert output.startswith(b"PK")  # a zip archive


def test_cloud_storage_content_v2_example() -> None:
    """The bucket-listing loop, against a server that pages through a small tree."""
    tree = {
        "": [("sub", "DIR"), ("image_2.jpg", "REG")],
        "sub/": [("image_1.jpg", "REG")],
    }

    def handler(request: Recorded) -> Reply:
        prefix = dict(request.query).get("prefix", "")
        content = [{"name": n, "type": t, "mime_type": "image"} for n, t in tree[prefix]]
        return Reply.json({"content": content, "next": None})

    with LoopbackServer(handler) as loopback:
        BASE_URL, user, password, cloud_storage_id = loopback.url, "u", "p", 1
        next_token = None
        files, prefixes = [], []
        prefix = ""
        with ApiClient(
            configuration=Configuration(host=BASE_URL, username=user, password=password)
        ) as api_client:
            while True:
                data, response = api_client.cloudstorages_api.retrieve_content_v2(
                    cloud_storage_id,
                    **({"prefix": prefix} if prefix else {}),
                    **({"next_token": next_token} if next_token else {}),
                )
                files.extend(
                    [prefix + f["name"] for f in data["content"] if str(f["type"]) == "REG"]
                )
                prefixes.extend(
                    [prefix + f["name"] for f in data["content"] if str(f["type"]) == "DIR"]
                )
                next_token = data["next"]
                if next_token:
                    continue
                if not len(prefixes):
                    break
                prefix = f"{prefixes.pop()}/"
    assert files == ["image_2.jpg", "sub/image_1.jpg"]


def test_custom_request_examples(server: Target) -> None:
    with ApiClient(
        Configuration(host=server.url, username=server.user, password=server.password)
    ) as api_client:
        parsed_url = urlparse(server.url + "/api/users/self")
        query_params = parse_qsl(parsed_url.query)
        _, response = api_client.call_api(
            parsed_url.path, method="GET", query_params=query_params, _parse_response=False
        )
        assert json.loads(response.data)["username"] == server.user

        headers = api_client.get_common_headers()
        api_client.update_params_for_auth(headers=headers, queries=[], method="GET")
        response = api_client.request(
            "GET", server.url + "/api/users/self", headers=headers, _parse_response=False
        )
        assert json.loads(response.data)["username"] == server.user

        # the "custom backend" variant, with urllib3 standing in for requests
        import urllib3

        headers = api_client.get_common_headers()
        query_params = []
        api_client.update_params_for_auth(headers=headers, queries=query_params, method="GET")
        raw = urllib3.request("GET", server.url + "/api/users/self", headers=headers)
        assert raw.json()["username"] == server.user
