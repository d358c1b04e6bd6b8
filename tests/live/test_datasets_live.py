"""cvat_sdk.datasets and cvat_sdk.pytorch on the real CVAT: a task with boxes, polygons, an
ellipse and tags, read as samples; the cache (what a second construction asks, staleness);
projects with subsets and filters; the requests each construction costs, counted by a
loopback proxy in front of the server."""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cvat_sdk import Client, Config, make_client
from cvat_sdk.datasets import CacheMissError, TaskDataset, UpdatePolicy
from cvat_sdk.pytorch import (
    ExtractBoundingBoxes,
    ExtractInstanceMasks,
    ExtractSingleLabelIndex,
    ProjectVisionDataset,
    Target,
    TaskVisionDataset,
)
from tests.support.tcp_proxy import TcpProxy

from .support import LiveServer, Trash

CHUNK = 2  # frames per chunk: 5 frames make 3 chunks
LABELS = [{"name": "car"}, {"name": "person"}]


def _images(tmp_path: Path, count: int, seed: int = 0) -> list[Path]:
    """Noise PNGs of different sizes: a lossy or resized frame would not compare equal."""
    paths = []
    for i in range(count):
        pixels = np.random.default_rng(seed * 100 + i).integers(0, 256, (24 + i, 32 + 2 * i, 3))
        path = tmp_path / f"frame-{seed}-{i}.png"
        Image.fromarray(pixels.astype(np.uint8)).save(path)
        paths.append(path)
    return paths


@pytest.fixture
def hl(live: LiveServer, proxy: TcpProxy, tmp_path: Path) -> Iterator[Client]:
    config = Config(status_check_period=0.5, cache_dir=tmp_path / "cache")
    with make_client(proxy.url, credentials=(live.user, live.password), config=config) as client:
        yield client


def _task(hl: Client, trash: Trash, files: list[Path], **fields: object) -> int:
    spec = {"name": trash.name(), "labels": LABELS, **fields}
    task = hl.tasks.create_from_data(spec, files, data_params={"chunk_size": CHUNK})
    return trash.add("tasks", task.id)


def _annotate(hl: Client, task_id: int) -> dict[str, int]:
    """Tags, boxes, a polygon, a rotated box and an ellipse; returns label ids by name."""
    labels = {label.name: label.id for label in hl.tasks.retrieve(task_id).get_labels()}
    car, person = labels["car"], labels["person"]
    hl.tasks.retrieve(task_id).set_annotations(
        {
            "version": 0,
            "tags": [
                {"frame": 0, "label_id": car},
                {"frame": 1, "label_id": person},
                {"frame": 4, "label_id": person},
            ],
            "shapes": [
                {"frame": 0, "label_id": car, "type": "rectangle", "points": [1, 2, 10, 12]},
                {"frame": 0, "label_id": person, "type": "polygon", "points": [3, 3, 9, 4, 5, 11]},
                {
                    "frame": 1,
                    "label_id": person,
                    "type": "rectangle",
                    "points": [10, 10, 20, 14],
                    "rotation": 90,
                },
                {"frame": 2, "label_id": car, "type": "ellipse", "points": [16, 12, 20, 9]},
                {"frame": 3, "label_id": car, "type": "rectangle", "points": [0, 0, 4, 4]},
            ],
            "tracks": [],
        }
    )
    return labels


def _requests_since(proxy: TcpProxy, start: int) -> list[tuple[str, str]]:
    """``(method, path?sorted query)`` of the requests after the first ``start``, trailing
    slashes dropped, so expectations do not depend on how the client orders a query."""
    made = []
    for exchange in proxy.log[start:]:
        path, _, query = exchange.target.partition("?")
        query = "&".join(sorted(q for q in query.split("&") if q))
        made.append((exchange.method, path.rstrip("/") + (f"?{query}" if query else "")))
    return made


def test_task_samples_pixels_targets_and_transforms(
    hl: Client, trash: Trash, proxy: TcpProxy, tmp_path: Path
) -> None:
    files = _images(tmp_path, 5)
    task_id = _task(hl, trash, files)
    labels = _annotate(hl, task_id)
    hl.tasks.retrieve(task_id).remove_frames_by_ids([3])
    server = hl.tasks.retrieve(task_id).get_annotations()

    start = len(proxy.log)
    dataset = TaskVisionDataset(hl, task_id)
    made = _requests_since(proxy, start)
    # the task, its meta, labels and annotations once each, and the 3 chunks
    assert sorted(made) == sorted(
        [
            ("GET", f"/api/tasks/{task_id}"),
            ("GET", f"/api/tasks/{task_id}/data/meta"),
            ("GET", f"/api/labels?task_id={task_id}"),
            ("GET", f"/api/tasks/{task_id}/annotations"),
            *(
                ("GET", f"/api/tasks/{task_id}/data?number={n}&quality=original&type=chunk")
                for n in range(3)
            ),
        ]
    ), made

    assert len(dataset) == 4  # frame 3 is deleted
    frames = [0, 1, 2, 4]
    for position, frame in enumerate(frames):
        image, target = dataset[position]
        assert isinstance(target, Target)
        assert np.array_equal(np.asarray(image), np.asarray(Image.open(files[frame])))
        # in ascending id order, whatever order the server lists them in
        assert [s.to_dict() for s in target.annotations.shapes] == [
            s.to_dict() for s in sorted(server.shapes, key=lambda s: s.id) if s.frame == frame
        ]
        assert [t.to_dict() for t in target.annotations.tags] == [
            t.to_dict() for t in sorted(server.tags, key=lambda t: t.id) if t.frame == frame
        ]
    assert dataset[0][1].label_id_to_index == {labels["car"]: 0, labels["person"]: 1}

    samples = TaskDataset(hl, task_id).samples
    assert [s.frame_index for s in samples] == frames
    assert [s.frame_name for s in samples] == [files[i].name for i in frames]

    boxes = TaskVisionDataset(
        hl,
        task_id,
        transform=lambda image: torch.from_numpy(np.array(image)),
        target_transform=ExtractBoundingBoxes(include_shape_types=["rectangle", "ellipse"]),
    )
    image, target = boxes[0]
    assert torch.equal(image, torch.from_numpy(np.array(Image.open(files[0]))))
    assert torch.equal(target["boxes"], torch.tensor([[1.0, 2.0, 10.0, 12.0]]))
    assert torch.equal(target["labels"], torch.tensor([0]))
    # rotated by 90 degrees about its center (15, 12): 4 wide and 10 high
    assert torch.allclose(boxes[1][1]["boxes"], torch.tensor([[13.0, 7.0, 17.0, 17.0]]))
    # the ellipse's box: center (16, 12), radii 4 and 3
    assert torch.equal(boxes[2][1]["boxes"], torch.tensor([[12.0, 9.0, 20.0, 15.0]]))
    assert boxes[3][1]["boxes"].shape == (0, 4)

    named = TaskVisionDataset(
        hl,
        task_id,
        label_name_to_index={"car": 7, "person": 3},
        target_transform=ExtractSingleLabelIndex(),
    )
    assert named[0][1].item() == 7 and named[0][1].shape == ()
    assert named[1][1].item() == 3 and named[3][1].item() == 3
    with pytest.raises(ValueError, match="exactly one tag"):
        named[2]  # frame 2 has no tag

    both = TaskVisionDataset(
        hl, task_id, transforms=lambda image, target: (image.size, len(target.annotations.shapes))
    )
    assert both[0] == ((32, 24), 2)
    masks = TaskVisionDataset(hl, task_id, transforms=ExtractInstanceMasks())
    _, found = masks[0]
    assert found["masks"].shape == (2, 24, 32) and found["labels"].tolist() == [0, 1]
    assert bool(found["masks"][0, 5, 5]) and not bool(found["masks"][0, 20, 20])
    with pytest.raises(ValueError, match="transforms"):
        TaskVisionDataset(hl, task_id, transforms=ExtractInstanceMasks(), transform=lambda i: i)
    with pytest.raises(ValueError, match="'person'"):
        TaskVisionDataset(hl, task_id, label_name_to_index={"car": 0})


def test_cache_never_stale_and_partial(
    hl: Client, trash: Trash, proxy: TcpProxy, tmp_path: Path
) -> None:
    files = _images(tmp_path, 5, seed=1)
    task_id = _task(hl, trash, files)
    labels = _annotate(hl, task_id)

    with pytest.raises(CacheMissError, match="not in the cache"):
        TaskVisionDataset(hl, task_id, update_policy=UpdatePolicy.NEVER)

    first = TaskVisionDataset(hl, task_id)
    start = len(proxy.log)
    offline = TaskVisionDataset(hl, task_id, update_policy=UpdatePolicy.NEVER)
    assert _requests_since(proxy, start) == []
    assert len(offline) == len(first) == 5
    assert np.array_equal(np.asarray(offline[4][0]), np.asarray(Image.open(files[4])))

    # up to date: one request (the task) tells the cache is current
    start = len(proxy.log)
    TaskVisionDataset(hl, task_id)
    assert _requests_since(proxy, start) == [("GET", f"/api/tasks/{task_id}")]

    # an annotation changed on the server: the cached annotations are stale, the chunks not
    hl.tasks.retrieve(task_id).update_annotations(
        {
            "version": 0,
            "tags": [],
            "shapes": [
                {"frame": 2, "label_id": labels["person"], "type": "points", "points": [1, 1]}
            ],
            "tracks": [],
        },
        action="create",
    )
    stale_offline = TaskVisionDataset(hl, task_id, update_policy=UpdatePolicy.NEVER)
    assert len(stale_offline[2][1].annotations.shapes) == 1  # NEVER uses what is cached
    start = len(proxy.log)
    fresh = TaskVisionDataset(hl, task_id)
    made = _requests_since(proxy, start)
    assert not [m for m in made if "type=chunk" in m[1]], made
    assert ("GET", f"/api/tasks/{task_id}/annotations") in made
    assert [str(s.type) for s in fresh[2][1].annotations.shapes] == ["ellipse", "points"]

    # a chunk lost from the cache: NEVER says so; the default policy fetches only it
    cache = Path(hl.config.cache_dir)
    chunk = next(cache.rglob(f"tasks/{task_id}/chunks/1.zip"))
    chunk.unlink()
    with pytest.raises(CacheMissError, match="chunk 1"):
        TaskVisionDataset(hl, task_id, update_policy=UpdatePolicy.NEVER)
    start = len(proxy.log)
    TaskVisionDataset(hl, task_id)
    assert [m for m in _requests_since(proxy, start) if "type=chunk" in m[1]] == [
        ("GET", f"/api/tasks/{task_id}/data?number=1&quality=original&type=chunk")
    ]


def test_project_subsets_filter_and_request_counts(
    hl: Client, live: LiveServer, trash: Trash, proxy: TcpProxy, tmp_path: Path
) -> None:
    project = hl.projects.create({"name": trash.name("project"), "labels": LABELS})
    trash.add("projects", project.id)
    made = {}
    for subset, seed, count in (("Train", 2, 3), ("Validation", 3, 2), ("Validation", 4, 1)):
        files = _images(tmp_path, count, seed=seed)
        task = hl.tasks.create_from_data(
            {"name": trash.name(subset), "project_id": project.id, "subset": subset},
            files,
            data_params={"chunk_size": CHUNK},
        )
        trash.add("tasks", task.id)
        made[task.id] = files
    ids = sorted(made)

    start = len(proxy.log)
    everything = ProjectVisionDataset(hl, project.id)
    requests = _requests_since(proxy, start)
    assert len(everything) == 6
    assert [t.id for t in everything.tasks] == ids
    # the project's labels once; no task is read again after the list
    assert sum(1 for m in requests if m[1].startswith("/api/labels")) == 1
    assert not [m for m in requests if m[1].startswith("/api/tasks/") and m[1].count("/") == 3]
    pixels = [np.asarray(Image.open(f)) for i in ids for f in made[i]]
    for index in range(6):
        assert np.array_equal(np.asarray(everything[index][0]), pixels[index])
    assert np.array_equal(np.asarray(everything[-1][0]), pixels[-1])

    validation = ProjectVisionDataset(hl, project.id, include_subsets=["Validation"])
    assert [t.id for t in validation.tasks] == ids[1:] and len(validation) == 3
    narrowed = ProjectVisionDataset(
        hl, project.id, include_subsets={"Validation"}, task_filter=lambda t: t.size == 1
    )
    assert [t.id for t in narrowed.tasks] == [ids[2]]
    assert np.array_equal(np.asarray(narrowed[0][0]), pixels[5])
    with pytest.raises(IndexError):
        narrowed[1]

    start = len(proxy.log)
    offline = ProjectVisionDataset(hl, project.id, update_policy=UpdatePolicy.NEVER)
    assert _requests_since(proxy, start) == [] and len(offline) == 6


def _riff(fourcc: bytes, data: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")


def _mjpeg_avi(path: Path, frames: list[np.ndarray], fps: int = 5) -> Path:
    """A Motion-JPEG AVI (every frame a key frame), written without a video library."""
    height, width = frames[0].shape[:2]
    jpegs = []
    for frame in frames:
        out = io.BytesIO()
        Image.fromarray(frame).save(out, format="JPEG", quality=95)
        jpegs.append(out.getvalue())
    count, biggest = len(jpegs), max(len(j) for j in jpegs)
    avih = struct.pack(
        "<14I",
        1_000_000 // fps,
        biggest * fps,
        0,
        0x10,
        count,
        0,
        1,
        biggest,
        width,
        height,
        0,
        0,
        0,
        0,
    )
    strh = b"vidsMJPG" + struct.pack(
        "<IHHIIIIIIII4h",
        0,
        0,
        0,
        0,
        1,
        fps,
        0,
        count,
        biggest,
        0xFFFFFFFF,
        0,
        0,
        0,
        width,
        height,
    )
    strf = struct.pack(
        "<IiiHH4sIiiII", 40, width, height, 1, 24, b"MJPG", width * height * 3, 0, 0, 0, 0
    )
    stream = _riff(b"LIST", b"strl" + _riff(b"strh", strh) + _riff(b"strf", strf))
    header = _riff(b"LIST", b"hdrl" + _riff(b"avih", avih) + stream)
    movi, index = b"", b""
    for jpeg in jpegs:
        index += b"00dc" + struct.pack("<III", 0x10, 4 + len(movi), len(jpeg))
        movi += _riff(b"00dc", jpeg)
    body = b"AVI " + header + _riff(b"LIST", b"movi" + movi) + _riff(b"idx1", index)
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def test_video_task(hl: Client, trash: Trash, proxy: TcpProxy, tmp_path: Path) -> None:
    """Video tasks work too (the official SDK refuses them): frames are fetched one by one
    as the server decodes them, in original quality."""
    frames = [np.full((48, 64, 3), (30 * i, 100, 200 - 20 * i), dtype=np.uint8) for i in range(7)]
    video = _mjpeg_avi(tmp_path / "clip.avi", frames)
    task = hl.tasks.create_from_data(
        {"name": trash.name(), "labels": LABELS}, [video], data_params={"chunk_size": 3}
    )
    trash.add("tasks", task.id)
    assert task.data_original_chunk_type == "video"
    car = task.get_labels()[0].id
    task.set_annotations(
        {"version": 0, "tags": [{"frame": 5, "label_id": car}], "shapes": [], "tracks": []}
    )
    dataset = TaskVisionDataset(hl, task.id, target_transform=ExtractSingleLabelIndex())
    assert len(dataset) == 7
    samples = TaskDataset(hl, task.id).samples
    assert [s.frame_name for s in samples] == [f"frame_{i:06d}" for i in range(7)]
    for i, frame in enumerate(frames):
        image = np.asarray(samples[i].media.load_image()).astype(int)
        assert image.shape == frame.shape
        assert np.abs(image - frame).mean() < 3  # JPEG in the video: close, not equal
        served = np.asarray(Image.open(task.get_frame(i, quality="original"))).astype(int)
        assert np.array_equal(image, served)  # what the server decodes, unchanged
    assert dataset[5][1].item() == 0
    start = len(proxy.log)
    assert len(TaskVisionDataset(hl, task.id, update_policy=UpdatePolicy.NEVER)) == 7
    assert _requests_since(proxy, start) == []
