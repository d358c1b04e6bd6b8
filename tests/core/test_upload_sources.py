"""upload_task_data: local files together with another source are refused before sending.

On CVAT 2.24 the combination is accepted and goes wrong later (tests/live/test_resources_live.py
shows the valid ways); here, on the fake server, nothing may be sent at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cvat_sdk._runtime.exceptions import ApiTypeError, ApiValueError
from cvat_sdk.api_client import ApiClient, models
from cvat_sdk.core.uploading import upload_task_data
from cvat_sdk.testing import FakeCvatServer

from .support import create_task


def an_image(tmp_path: Path, name: str = "a.png") -> Path:
    image = tmp_path / name
    image.write_bytes(b"\x89PNG\r\n\x1a\n")
    return image


def refused(
    server: FakeCvatServer, client: ApiClient, tmp_path: Path, params: Any
) -> ApiValueError:
    """The error upload_task_data raises for ``params`` with one local image, having sent
    nothing."""
    task_id = create_task(client)
    before = server.count_requests()
    with pytest.raises(ApiValueError) as caught:
        upload_task_data(client, task_id, [an_image(tmp_path)], data_params=params)
    assert server.count_requests() == before
    return caught.value


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"server_files": ["images/a.png"]}, "server_files"),
        ({"remote_files": ["http://127.0.0.1:1/a.png"]}, "remote_files"),
        ({"cloud_storage_id": 3, "server_files": ["a.png"]}, "server_files and cloud_storage_id"),
        (models.DataRequest(image_quality=50, remote_files=["http://x/a.png"]), "remote_files"),
    ],
)
def test_local_files_with_another_source_send_nothing(
    server: FakeCvatServer, client: ApiClient, tmp_path: Path, params: Any, named: str
) -> None:
    error = refused(server, client, tmp_path, params)
    assert error.path_to_item == ("resources",)
    assert str(error).startswith(f"resources: local files cannot be combined with {named}")
    assert "resources=[]" in str(error)


@pytest.mark.parametrize("empty", [{"server_files": []}, {"server_files": [], "remote_files": []}])
def test_an_empty_other_source_does_not_count(
    server: FakeCvatServer, client: ApiClient, tmp_path: Path, empty: dict[str, Any]
) -> None:
    """Only a source that names files conflicts: empty lists are what DataRequest defaults to."""
    task_id = create_task(client)
    upload_task_data(client, task_id, [an_image(tmp_path)], data_params=empty)
    assert list(server.uploaded_files(task_id)) == ["a.png"]


@pytest.mark.parametrize("sorting", ["natural", "predefined", "random"])
def test_job_file_mapping_with_another_sorting_sends_nothing(
    server: FakeCvatServer, client: ApiClient, tmp_path: Path, sorting: str
) -> None:
    """CVAT would take the files, then fail its background request over the pair."""
    params = {"job_file_mapping": [["a.png"]], "sorting_method": sorting}
    error = refused(server, client, tmp_path, params)
    assert error.path_to_item == ("data_params", "sorting_method")
    assert f"sorting_method={sorting!r}" in str(error)


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"start_frame": 1}, "start_frame"),
        ({"stop_frame": 3}, "stop_frame"),
        ({"frame_filter": "step=2"}, "frame_filter"),
        ({"filename_pattern": "*.png"}, "filename_pattern"),
        ({"server_files_exclude": ["b.png"]}, "server_files_exclude"),
        ({"job_file_mapping": [[]]}, "job_file_mapping"),
        ({"job_file_mapping": []}, "job_file_mapping"),
    ],
)
def test_job_file_mapping_with_what_cvat_fails_it_over_sends_nothing(
    server: FakeCvatServer, client: ApiClient, tmp_path: Path, params: Any, named: str
) -> None:
    """CVAT 2.24 checks these in the background, once every file went up."""
    error = refused(server, client, tmp_path, {"job_file_mapping": [["a.png"]], **params})
    assert error.path_to_item == ("data_params", named)


@pytest.mark.parametrize("unset", [{"start_frame": 0}, {"stop_frame": 0}, {"frame_filter": ""}])
def test_job_file_mapping_with_those_params_left_at_their_defaults_goes(
    server: FakeCvatServer, client: ApiClient, tmp_path: Path, unset: dict[str, Any]
) -> None:
    task_id = create_task(client)
    params = {"job_file_mapping": [["a.png"]], **unset}
    upload_task_data(client, task_id, [an_image(tmp_path)], data_params=params)
    assert list(server.uploaded_files(task_id)) == ["a.png"]


def test_job_file_mapping_with_the_lexicographical_sorting_goes(
    server: FakeCvatServer, client: ApiClient, tmp_path: Path
) -> None:
    task_id = create_task(client)
    images = [an_image(tmp_path, "b.png"), an_image(tmp_path, "a.png")]
    params = {"job_file_mapping": [["b.png"], ["a.png"]], "sorting_method": "lexicographical"}
    upload_task_data(client, task_id, images, data_params=params)
    assert list(server.uploaded_files(task_id)) == ["b.png", "a.png"]


POOL = {
    "mode": "gt_pool",
    "frame_selection_method": "random_uniform",
    "frame_count": 1,
    "frames_per_job_count": 1,
}


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"validation_params": POOL}, "sorting_method"),
        ({"validation_params": POOL, "sorting_method": "natural"}, "sorting_method"),
        ({"validation_params": POOL, "job_file_mapping": [["a.png"]]}, "job_file_mapping"),
        (
            models.DataRequest(
                image_quality=70, validation_params=models.DataRequestValidationParams(**POOL)
            ),
            "sorting_method",
        ),
    ],
)
def test_a_ground_truth_pool_without_random_sorting_sends_nothing(
    server: FakeCvatServer, client: ApiClient, tmp_path: Path, params: Any, named: str
) -> None:
    """CVAT 2.24 fails the creation in the background: 'validation mode "gt_pool" can only be
    used with "random" sorting' (tests/live/test_fidelity.py)."""
    error = refused(server, client, tmp_path, params)
    assert error.path_to_item == ("data_params", named)
    assert "gt_pool" in str(error)


def test_a_ground_truth_pool_with_random_sorting_goes(
    server: FakeCvatServer, client: ApiClient, tmp_path: Path
) -> None:
    task_id = create_task(client)
    params = {"validation_params": POOL, "sorting_method": "random"}
    upload_task_data(client, task_id, [an_image(tmp_path)], data_params=params)
    assert list(server.uploaded_files(task_id)) == ["a.png"]


@pytest.mark.parametrize(
    "params",
    [
        {"job_file_mapping": 5},
        {"validation_params": 3},
        {"job_file_mapping": [["a.png"]], "sorting_method": 7},
    ],
)
def test_values_of_the_wrong_type_get_a_typed_error_first(
    server: FakeCvatServer, client: ApiClient, tmp_path: Path, params: dict[str, Any]
) -> None:
    """The checks of combinations look at values DataRequest has already typed."""
    task_id = create_task(client)
    before = server.count_requests()
    with pytest.raises(ApiTypeError):
        upload_task_data(client, task_id, [an_image(tmp_path)], data_params=params)
    assert server.count_requests() == before
