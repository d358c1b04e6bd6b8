"""ApiClient against real loopback servers: auth, cookies, call options, bodies, errors."""

from __future__ import annotations

import base64
import io
import json
import threading
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlparse

import pytest

from cvat_sdk.api_client import ApiClient, Configuration, exceptions, models
from tests.support.loopback import LoopbackServer, Recorded, Reply

ABOUT = {"name": "CVAT", "description": "Computer Vision Annotation Tool", "version": "2.24.0"}
USER = {"id": 1, "username": "admin", "groups": ["admin"], "is_staff": True}


def about_everywhere(_: Recorded) -> Reply:
    return Reply.json(ABOUT)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer(about_everywhere) as running:
        yield running


def client_for(server: LoopbackServer, **config: object) -> ApiClient:
    return ApiClient(Configuration(host=server.url, **config))  # type: ignore[arg-type]


def test_basic_auth_header(server: LoopbackServer) -> None:
    with client_for(server, username="admin", password="s3cret") as api_client:
        about, response = api_client.server_api.retrieve_about()
    assert response.status == 200
    assert isinstance(about, models.About) and about.version == "2.24.0"
    sent = server.requests[0]
    expected = "Basic " + base64.b64encode(b"admin:s3cret").decode()
    assert sent.headers["Authorization"] == expected
    assert sent.path == "/api/server/about"
    assert "application/vnd.cvat+json" in sent.headers["Accept"]


def test_token_auth_header(server: LoopbackServer) -> None:
    with client_for(server, api_key={"tokenAuth": "Token abc"}) as api_client:
        api_client.server_api.retrieve_about()
    assert server.requests[0].headers["Authorization"] == "Token abc"


def test_session_login_flow_sets_cookies_and_csrf() -> None:
    def handler(request: Recorded) -> Reply:
        if request.path == "/api/auth/login":
            return Reply(
                200,
                json.dumps({"key": "tok"}).encode(),
                {
                    "Content-Type": "application/vnd.cvat+json",
                    "Set-Cookie": "sessionid=sess1; Path=/; HttpOnly",
                },
            )
        return Reply.json(USER)

    with LoopbackServer(handler) as server:
        # two Set-Cookie headers in one answer: the loopback adds one, so log in twice
        with client_for(server) as api_client:
            auth, _ = api_client.auth_api.create_login(
                models.LoginSerializerExRequest(username="admin", password="pw")
            )
            assert auth.key == "tok"
            api_client.cookies.load("csrftoken=csrf1; Path=/")
            assert "sessionid" in api_client.cookies
            api_client.set_default_header("X-CSRFToken", api_client.cookies["csrftoken"].value)
            api_client.set_default_header("Origin", api_client.build_origin_header())
            user, _ = api_client.users_api.retrieve_self()
            assert user.username == "admin"
    login, me = server.requests
    assert login.json() == {"username": "admin", "password": "pw"}
    assert "sessionid=sess1" in me.headers["Cookie"]
    assert "csrftoken=csrf1" in me.headers["Cookie"]
    assert me.headers["X-CSRFToken"] == "csrf1"
    assert me.headers["Origin"] == server.url


def test_session_auth_from_configuration(server: LoopbackServer) -> None:
    config = {"api_key": {"sessionAuth": "sid", "csrfAuth": "tok"}}
    with client_for(server, **config) as api_client:
        api_client.server_api.retrieve_about()
    sent = server.requests[0].headers
    assert "sessionid=sid" in sent["Cookie"]
    assert sent["X-CSRFToken"] == "tok"


def test_secrets_stay_out_of_repr() -> None:
    config = Configuration(
        host="http://h", username="u", password="hunter2", api_key={"tokenAuth": "Token zzz"}
    )
    text = repr(config) + str(config) + repr(ApiClient(config))
    assert "hunter2" not in text and "zzz" not in text


def test_constructor_header_and_cookie(server: LoopbackServer) -> None:
    config = Configuration(host=server.url)
    with ApiClient(config, header_name="X-Test", header_value="1", cookie="a=b") as api_client:
        api_client.server_api.retrieve_about()
    sent = server.requests[0].headers
    assert sent["X-Test"] == "1" and sent["Cookie"] == "a=b"


def test_parse_response_false_streams_the_body() -> None:
    blob = bytes(range(256)) * 4096

    def handler(_: Recorded) -> Reply:
        return Reply(200, [blob[i : i + 65536] for i in range(0, len(blob), 65536)])

    with LoopbackServer(handler) as server, client_for(server) as api_client:
        data, response = api_client.tasks_api.retrieve_data(
            1, type="chunk", number=0, quality="original", _parse_response=False
        )
        assert data is None
        received = b""
        while chunk := response.read(8192):
            received += chunk
    assert received == blob
    assert dict(server.requests[0].query) == {"type": "chunk", "number": "0", "quality": "original"}


def test_check_status_false_returns_the_error_response() -> None:
    with LoopbackServer(lambda _: Reply(404, b'{"detail":"no"}')) as server:
        with client_for(server) as api_client:
            _, response = api_client.tasks_api.retrieve(
                5, _check_status=False, _parse_response=False
            )
    assert response.status == 404


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, exceptions.BadRequestException),
        (401, exceptions.UnauthorizedException),
        (403, exceptions.ForbiddenException),
        (404, exceptions.NotFoundException),
        (409, exceptions.ConflictException),
        (500, exceptions.ServiceException),
        (418, exceptions.ApiException),
    ],
)
def test_error_statuses_raise_typed_exceptions(status: int, error: type[Exception]) -> None:
    body = b'{"detail": "nope"}'

    def handler(_: Recorded) -> Reply:
        return Reply(status, body, {"X-Request-Id": "r1"})

    with LoopbackServer(handler) as server, client_for(server, retries=0) as api_client:
        with pytest.raises(error) as caught:
            api_client.tasks_api.retrieve(5)
    assert isinstance(caught.value, exceptions.ApiException)
    assert caught.value.status == status
    assert caught.value.body == body
    assert caught.value.headers["X-Request-Id"] == "r1"
    assert "GET" in str(caught.value) and "/api/tasks/5" in str(caught.value)


def test_bad_input_raises_before_anything_is_sent(server: LoopbackServer) -> None:
    with client_for(server) as api_client:
        with pytest.raises(exceptions.ApiTypeError, match=r"task_write_request\.name"):
            api_client.tasks_api.create({"name": 5})
        with pytest.raises(exceptions.ApiTypeError, match="unexpected parameter 'bogus'"):
            api_client.tasks_api.list(bogus=1)
        with pytest.raises(TypeError, match="id"):
            api_client.tasks_api.retrieve()  # type: ignore[call-arg]
        with pytest.raises(exceptions.ApiKeyError, match="id"):
            api_client.tasks_api.retrieve_endpoint()
        with pytest.raises(exceptions.ApiTypeError, match="id"):
            api_client.tasks_api.retrieve("7")  # type: ignore[arg-type]
        with pytest.raises(exceptions.ApiValueError, match="location"):
            api_client.tasks_api.create_dataset_export("CVAT", 1, location="moon")
        with pytest.raises(exceptions.ApiValueError, match="X-Organization"):
            api_client.tasks_api.list(x_organization="a\r\nInjected: 1")
    assert server.requests == []


def test_validate_inputs_false_sends_anyway(server: LoopbackServer) -> None:
    with client_for(server) as api_client:
        api_client.tasks_api.create({"name": 5}, _validate_inputs=False, _parse_response=False)
    assert server.requests[0].json() == {"name": 5}


def test_path_parameters_are_escaped(server: LoopbackServer) -> None:
    with client_for(server) as api_client:
        api_client.requests_api.retrieve("../../admin?x=1", _parse_response=False)
    assert server.requests[0].path == "/api/requests/..%2F..%2Fadmin%3Fx%3D1"


def test_bad_response_body_is_a_typed_error_with_the_raw_body() -> None:
    html = b"<html>proxy error</html>"
    with LoopbackServer(lambda _: Reply(200, html, {"Content-Type": "text/html"})) as server:
        with client_for(server) as api_client:
            with pytest.raises(exceptions.ApiResponseError) as caught:
                api_client.server_api.retrieve_about()
            assert caught.value.body == html
            _, response = api_client.server_api.retrieve_about(_parse_response=False)
            assert response.data == html


def test_wrong_typed_response_names_the_path() -> None:
    shapes = [{"type": "rectangle", "frame": 0, "label_id": 1, "points": [1, 2, 3, 4]}] * 20
    shapes = [dict(s) for s in shapes]
    shapes[17] = dict(shapes[17], points=[1, 2, "x", 4])
    payload = {"version": 0, "tags": [], "shapes": shapes, "tracks": []}
    with LoopbackServer(lambda _: Reply.json(payload)) as server, client_for(server) as api_client:
        with pytest.raises(exceptions.ApiResponseError, match=r"shapes\[17\]\.points\[2\]"):
            api_client.jobs_api.retrieve_annotations(1)
        data, _ = api_client.jobs_api.retrieve_annotations(1, _validate_outputs=False)
        assert data.shapes[17].points[2] == "x"


def test_content_type_and_multipart_upload_streams_files(tmp_path: pytest.TempPathFactory) -> None:
    image = tmp_path / "image1.jpg"  # type: ignore[operator]
    image.write_bytes(b"\xff\xd8" + bytes(range(256)) * 1000)
    reply = Reply.json({"rq_id": "rq-1"}, status=202)
    with LoopbackServer(lambda _: reply) as server, client_for(server) as api_client:
        with open(image, "rb") as handle:
            result, response = api_client.tasks_api.create_data(
                42,
                data_request=models.DataRequest(image_quality=75, client_files=[handle]),
                _content_type="multipart/form-data",
            )
    assert result.rq_id == "rq-1" and response.status == 202
    sent = server.requests[0]
    content_type = sent.headers["Content-Type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    assert int(sent.headers["Content-Length"]) == len(sent.body)
    from email.parser import BytesParser

    message = BytesParser().parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + sent.body
    )
    parts = {p.get_param("name", header="content-disposition"): p for p in message.get_payload()}
    assert parts["image_quality"].get_payload() == "75"
    assert parts["client_files[0]"].get_filename() == "image1.jpg"
    assert parts["client_files[0]"].get_payload(decode=True) == image.read_bytes()


def test_upload_start_headers_and_json_body(server: LoopbackServer) -> None:
    with client_for(server) as api_client:
        api_client.tasks_api.create_data(
            42,
            data_request=models.DataRequest(image_quality=70),
            upload_start=True,
            _parse_response=False,
        )
    sent = server.requests[0]
    assert sent.headers["Upload-Start"] == "true"
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.json() == {"image_quality": 70}


def test_request_timeout_ends_a_silent_server() -> None:
    with LoopbackServer(lambda _: Reply.json(ABOUT, delay=2.0)) as server:
        with client_for(server, retries=0) as api_client:
            with pytest.raises(exceptions.ApiTimeoutError, match="GET"):
                api_client.server_api.retrieve_about(_request_timeout=0.3)
            with pytest.raises(exceptions.ApiTimeoutError):
                api_client.server_api.retrieve_about(_request_timeout=(1, 0.3))


def test_connection_refused_is_a_connection_error() -> None:
    with LoopbackServer(about_everywhere) as server:
        url = server.url
    with ApiClient(Configuration(host=url, retries=0)) as api_client:
        with pytest.raises(exceptions.ApiConnectionError, match="/api/server/about"):
            api_client.server_api.retrieve_about()


def test_call_api_and_request_as_documented() -> None:
    def handler(request: Recorded) -> Reply:
        return Reply(200, b"ZIPDATA", {"Content-Type": "application/zip"})

    with LoopbackServer(handler) as server:
        with client_for(server, username="u", password="p") as api_client:
            parsed = urlparse(server.url + "/api/tasks/1/dataset/download?rq_id=abc")
            _, response = api_client.call_api(
                parsed.path,
                method="GET",
                query_params=parse_qsl(parsed.query),
                auth_settings=api_client.configuration.auth_settings(),
                _parse_response=False,
            )
            assert response.read(8192) == b"ZIPDATA"
            headers = api_client.get_common_headers()
            api_client.update_params_for_auth(headers=headers, queries=[], method="GET")
            response = api_client.request(
                "GET", server.url + "/api/x", headers=headers, _parse_response=False
            )
            assert response.data == b"ZIPDATA"
    first, second = server.requests
    assert first.path == "/api/tasks/1/dataset/download" and first.query == [("rq_id", "abc")]
    assert first.headers["Authorization"].startswith("Basic ")
    assert second.headers["Authorization"].startswith("Basic ")


def test_endpoint_objects_are_first_class(server: LoopbackServer) -> None:
    with client_for(server) as api_client:
        endpoint = api_client.tasks_api.list_endpoint
        assert endpoint.path == "/api/tasks" and endpoint.http_method == "GET"
        assert endpoint.params["page_size"].where == "query"
        assert endpoint.params["x_organization"].wire == "X-Organization"
        server.handler = lambda _: Reply.json(
            {"count": 0, "next": None, "previous": None, "results": []}
        )
        page, _ = endpoint(page_size=10, org="acme")
        assert page.count == 0
        page, _ = endpoint.call_with_http_info(page=2)
    assert server.requests[0].query == [("org", "acme"), ("page_size", "10")]  # schema order


def test_one_client_shared_by_threads() -> None:
    def handler(request: Recorded) -> Reply:
        task_id = int(request.path.rstrip("/").rsplit("/", 1)[-1])
        if task_id % 7 == 0:
            return Reply(404, b"{}")
        return Reply.json({"id": task_id, "name": f"task {task_id}"})

    errors: list[str] = []
    with LoopbackServer(handler) as server, client_for(server, retries=0) as api_client:

        def work(offset: int) -> None:
            for task_id in range(offset * 1000 + 1, offset * 1000 + 101):
                try:
                    task, _ = api_client.tasks_api.retrieve(task_id)
                    if task.id != task_id or task.name != f"task {task_id}":
                        errors.append(f"crosstalk: {task_id} -> {task.id}")
                except exceptions.NotFoundException:
                    if task_id % 7:
                        errors.append(f"unexpected 404 for {task_id}")

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert len(server.requests) == 800


def test_open_file_objects_without_fileno_are_streamed(server: LoopbackServer) -> None:
    server.handler = lambda _: Reply.json({"filename": "a.txt"}, status=201)
    with client_for(server) as api_client:
        asset, _ = api_client.assets_api.create(file=io.BytesIO(b"hello"))
    assert asset.filename == "a.txt"
    assert b"hello" in server.requests[0].body


def test_deprecated_operation_warns_at_the_callers_line(server: LoopbackServer) -> None:
    client = client_for(server, username="u", password="p")
    with pytest.warns(DeprecationWarning, match=r"tasks_retrieve_status\(\)") as caught:
        client.tasks_api.retrieve_status(1, _parse_response=False)
    assert [w.filename for w in caught] == [__file__]
    assert len(server.requests) == 1  # a warning, not a refusal


def test_deprecated_parameter_warns_only_when_given(server: LoopbackServer) -> None:
    import warnings

    client = client_for(server, username="u", password="p")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client.jobs_api.retrieve_annotations(1, _parse_response=False)
    with pytest.warns(DeprecationWarning, match=r"use_default_location=") as caught:
        client.jobs_api.retrieve_annotations(1, use_default_location=True, _parse_response=False)
    assert [w.filename for w in caught] == [__file__]
    assert ("use_default_location", "true") in server.requests[-1].query
