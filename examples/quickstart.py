"""Create a task, attach images, annotate it and export it: the everyday CVAT flow.

python examples/quickstart.py                      # against an in-memory test server
python examples/quickstart.py --host URL --user NAME --password PASS   # a real CVAT

The task it makes is deleted at the end (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import contextlib
import struct
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from cvat_sdk.api_client import ApiClient, Configuration, models
from cvat_sdk.core.downloading import download_file
from cvat_sdk.core.helpers import get_paginated_collection, wait_for_request
from cvat_sdk.core.uploading import upload_task_data


def make_png(path: Path, width: int, height: int, shade: int) -> None:
    """A small grey PNG, written without an imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + bytes([shade]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@contextlib.contextmanager
def server_for(args: argparse.Namespace) -> Iterator[tuple[str, str, str]]:
    if args.host:
        yield args.host, args.user, args.password
        return
    from cvat_sdk.testing import FakeCvatServer

    with FakeCvatServer() as server:
        print(f"started an in-memory CVAT-compatible server at {server.url}")
        yield server.url, "admin", "password"


def run(host: str, user: str, password: str, workdir: Path, *, keep: bool = False) -> None:
    images = []
    for index in range(4):
        image = workdir / f"image{index + 1}.png"
        make_png(image, 64, 48, 40 * index)
        images.append(image)

    with ApiClient(Configuration(host=host)) as api_client:
        # log in: the session cookie and CSRF token are kept by the client
        api_client.auth_api.create_login(
            models.LoginSerializerExRequest(username=user, password=password)
        )
        api_client.set_default_header("X-CSRFToken", api_client.cookies["csrftoken"].value)
        api_client.set_default_header("Origin", api_client.build_origin_header())
        me, _ = api_client.users_api.retrieve_self()
        print(f"logged in as {me.username}")

        task, _ = api_client.tasks_api.create(
            {
                "name": f"quickstart task {time.strftime('%Y-%m-%d %H:%M:%S')}",
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
        print(f"created task {task.id}")
        try:
            use_task(api_client, task.id, images, workdir)
        finally:
            if keep:
                print(f"kept task {task.id}")
            else:
                api_client.tasks_api.destroy(task.id)
                print(f"deleted task {task.id}")


def use_task(api_client: ApiClient, task_id: int, images: list[Path], workdir: Path) -> None:
    """Attach the images, annotate every frame, export the annotations."""
    started = time.perf_counter()
    upload_task_data(
        api_client,
        task_id,
        images,
        data_params={"image_quality": 75, "sorting_method": "predefined"},
    )
    task, _ = api_client.tasks_api.retrieve(task_id)
    print(f"attached {task.size} images in {time.perf_counter() - started:.2f} s")
    assert task.size == len(images), task.size

    labels = get_paginated_collection(api_client.labels_api.list_endpoint, task_id=task.id)
    jobs = get_paginated_collection(api_client.jobs_api.list_endpoint, task_id=task.id)
    shapes = [
        {
            "type": "rectangle",
            "frame": frame,
            "label_id": labels[0].id,
            "points": [1.0, 2.0, 30.0 + frame, 40.0],
        }
        for frame in range(task.size)
    ]
    api_client.jobs_api.update_annotations(
        jobs[0].id,
        job_annotations_update_request={
            "version": 0,
            "tags": [],
            "shapes": shapes,
            "tracks": [],
        },
    )
    annotations, _ = api_client.jobs_api.retrieve_annotations(jobs[0].id)
    print(f"job {jobs[0].id} has {len(annotations.shapes)} shapes")
    assert len(annotations.shapes) == len(shapes)

    export, _ = api_client.tasks_api.create_dataset_export(
        "CVAT for images 1.1", task.id, save_images=False
    )
    request = wait_for_request(api_client, export.rq_id, poll_interval=0.2)
    archive = download_file(api_client, request.result_url, workdir / "dataset.zip")
    with zipfile.ZipFile(archive) as dataset:
        print(f"exported {archive.stat().st_size} bytes: {', '.join(dataset.namelist())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", help="a CVAT server URL (default: start a test server)")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="password")
    parser.add_argument("--keep", action="store_true", help="keep the task at the end")
    args = parser.parse_args()
    with server_for(args) as (host, user, password), tempfile.TemporaryDirectory() as tmp:
        run(host, user, password, Path(tmp), keep=args.keep)
    print("quickstart finished")


if __name__ == "__main__":
    main()
