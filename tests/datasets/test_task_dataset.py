"""TaskDataset and the PyTorch datasets on the fake CVAT: samples and bytes, the requests each
construction makes (none with NEVER), a chunk that fails, caches kept apart per server,
tasks without data, and a multi-process DataLoader."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch.utils.data
from PIL import Image

from cvat_sdk import Client, Config
from cvat_sdk.datasets import CacheMissError, TaskDataset, UnsupportedDatasetError, UpdatePolicy
from cvat_sdk.exceptions import ApiException
from cvat_sdk.pytorch import ExtractBoundingBoxes, TaskVisionDataset
from cvat_sdk.testing import FakeCvatServer


@pytest.fixture
def server() -> Iterator[FakeCvatServer]:
    with FakeCvatServer() as running:
        yield running


def _client(server: FakeCvatServer, cache: Path) -> Client:
    client = Client(server.url, config=Config(cache_dir=cache, status_check_period=0.02))
    client.login(("admin", "password"))
    return client


@pytest.fixture
def hl(server: FakeCvatServer, tmp_path: Path) -> Iterator[Client]:
    with _client(server, tmp_path / "cache") as client:
        yield client


def _files(tmp_path: Path, count: int) -> list[Path]:
    paths = []
    for i in range(count):
        pixels = np.random.default_rng(i).integers(0, 256, (10 + i, 12, 3)).astype(np.uint8)
        paths.append(tmp_path / f"img{i}.png")
        Image.fromarray(pixels).save(paths[-1])
    return paths


def _task(hl: Client, files: list[Path], chunk_size: int = 2) -> int:
    task = hl.tasks.create_from_data(
        {"name": "ds", "labels": [{"name": "car"}]}, files, data_params={"chunk_size": chunk_size}
    )
    label = task.get_labels()[0].id
    task.set_annotations(
        {
            "version": 0,
            "tags": [{"frame": 1, "label_id": label}],
            "shapes": [
                {"frame": 2, "label_id": label, "type": "rectangle", "points": [1, 1, 4, 5]}
            ],
            "tracks": [],
        }
    )
    return int(task.id)


def _log(server: FakeCvatServer) -> list[tuple[str, str]]:
    return [(r.method, r.path.rstrip("/")) for r in server.request_log]


def test_samples_and_requests(server: FakeCvatServer, hl: Client, tmp_path: Path) -> None:
    files = _files(tmp_path, 5)
    task_id = _task(hl, files)
    start = len(server.request_log)
    dataset = TaskDataset(hl, task_id)
    made = _log(server)[start:]
    assert sorted(set(made)) == sorted(
        {
            ("GET", f"/api/tasks/{task_id}"),
            ("GET", f"/api/tasks/{task_id}/data/meta"),
            ("GET", "/api/labels"),
            ("GET", f"/api/tasks/{task_id}/annotations"),
            ("GET", f"/api/tasks/{task_id}/data"),
        }
    )
    assert made.count(("GET", f"/api/tasks/{task_id}/data")) == 3  # 3 chunks, once each
    assert [s.frame_name for s in dataset.samples] == [f.name for f in files]
    for sample, path in zip(dataset.samples, files, strict=True):
        assert sample.media.load_bytes() == path.read_bytes()  # type: ignore[attr-defined]
        assert np.array_equal(np.asarray(sample.media.load_image()), np.asarray(Image.open(path)))
    assert [len(s.annotations.tags) for s in dataset.samples] == [0, 1, 0, 0, 0]  # type: ignore[union-attr]
    assert dataset.samples[2].annotations.shapes[0].points == [1, 1, 4, 5]  # type: ignore[union-attr]
    assert [label.name for label in dataset.labels] == ["car"]

    start = len(server.request_log)
    TaskDataset(hl, task_id, update_policy=UpdatePolicy.NEVER)
    assert len(server.request_log) == start
    TaskDataset(hl, task_id)
    assert _log(server)[start:] == [("GET", f"/api/tasks/{task_id}")]
    bare = TaskDataset(hl, task_id, load_annotations=False)
    assert all(s.annotations is None for s in bare.samples)


def test_a_failing_chunk_leaves_no_partial_file(
    server: FakeCvatServer, hl: Client, tmp_path: Path
) -> None:
    task_id = _task(hl, _files(tmp_path, 6))
    cache = tmp_path / "cache"

    def cached_chunks() -> list[str]:
        names = sorted(p.name for p in cache.rglob("chunks/*"))
        assert all(name.endswith(".zip") and not name.startswith(".") for name in names)
        return names

    def refetched() -> int:
        start = len(server.request_log)
        TaskDataset(hl, task_id)
        return len([r for r in server.request_log[start:] if "type=chunk" in r.query])

    # a fresh cache: the chunks start beside the meta, so either may be the one that fails
    # (without the meta's chunk date, chunks already written are of no known date: refetched)
    server.faults.fail_next(500, path_prefix=f"/api/tasks/{task_id}/data", method="GET", times=1)
    with pytest.raises(ApiException):
        TaskDataset(hl, task_id)
    cached_chunks()
    assert refetched() <= 3
    assert len(cached_chunks()) == 3

    # the meta cached: the failure is a chunk's
    for chunk in cache.rglob("chunks/*.zip"):
        chunk.unlink()
    server.faults.fail_next(500, path_prefix=f"/api/tasks/{task_id}/data", method="GET", times=1)
    with pytest.raises(ApiException):
        TaskDataset(hl, task_id)
    kept = len(cached_chunks())
    assert kept < 3
    assert refetched() == 3 - kept  # only what was missing


def test_caches_are_per_server(tmp_path: Path) -> None:
    cache = tmp_path / "shared-cache"
    with FakeCvatServer() as one, FakeCvatServer() as two:
        with _client(one, cache) as a, _client(two, cache) as b:
            (tmp_path / "one").mkdir()
            (tmp_path / "two").mkdir()
            first = _task(a, _files(tmp_path / "one", 3))
            second = _task(b, _files(tmp_path / "two", 4))
            assert first == second  # the same id on two servers
            assert len(TaskDataset(a, first).samples) == 3
            assert len(TaskDataset(b, second).samples) == 4
            assert len(TaskDataset(a, first, update_policy=UpdatePolicy.NEVER).samples) == 3


def test_no_data_and_missing_cache(server: FakeCvatServer, hl: Client) -> None:
    empty = hl.tasks.create({"name": "empty", "labels": [{"name": "car"}]})
    with pytest.raises(UnsupportedDatasetError, match="no data"):
        TaskDataset(hl, empty.id)
    with pytest.raises(CacheMissError, match="NEVER"):
        TaskDataset(hl, 12345, update_policy=UpdatePolicy.NEVER)
    with pytest.raises(TypeError, match="update_policy"):
        TaskDataset(hl, empty.id, update_policy="never")  # type: ignore[arg-type]


def test_data_loader_workers(server: FakeCvatServer, hl: Client, tmp_path: Path) -> None:
    files = _files(tmp_path, 5)
    task_id = _task(hl, files)
    dataset = TaskVisionDataset(
        hl,
        task_id,
        transform=lambda image: torch.from_numpy(np.array(image)),
        target_transform=ExtractBoundingBoxes(include_shape_types=["rectangle"]),
    )
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=None, num_workers=2, multiprocessing_context="fork"
    )
    seen = list(loader)
    assert len(seen) == 5
    for (image, _), path in zip(seen, files, strict=True):
        assert torch.equal(image, torch.from_numpy(np.array(Image.open(path))))
    assert seen[2][1]["boxes"].tolist() == [[1.0, 1.0, 4.0, 5.0]]
