"""``python -m bench.datasets_real [--real-server URL] [--frames N]``: the PyTorch adapter and
auto-annotation on a real CVAT, ours vs the official cvat-sdk 2.24.0.

One task of N frames (JPEGs of 320x240, two boxes per frame) is made with our SDK. Each
measurement runs in a process of its own, with the same script for both SDKs (their public
API is the same); the official one from ``.oracle`` (``tests/support/oracle.py``), run outside
this repository (checked: each worker reports the package it imported). The task belongs to
a throwaway user, deleted after, so the workers' logins and logouts touch no one else's token:

* ``first``: a fresh cache dir; ``TaskVisionDataset(client, task)`` then every sample read;
* ``cached``: the same again with the cache of ``first``;
* ``annotate``: ``annotate_task`` with a function that returns one box per frame (fresh
  cache, so frames are downloaded too).

The server's own chunk cache is warmed by an untimed pass first, and the runs alternate
between the SDKs, best of ``--repeat``. Goal: ours at least 2x the official on ``first``;
``cached`` close to the time decoding alone takes (``decode``: opening every frame's JPEG
from memory). Results go to ``bench/results_datasets.json`` (key ``datasets_real``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]

WORKER = r"""
import json, sys, time
args = json.loads(sys.argv[1])
from cvat_sdk import Client, Config
import PIL.Image
import cvat_sdk.auto_annotation as cvataa
from cvat_sdk.pytorch import TaskVisionDataset  # torch loads before the clock starts
started = time.perf_counter()
client = Client(f'{args["host"]}:{args["port"]}', config=Config(cache_dir=args["cache_dir"]))
client.login((args["user"], args["password"]))  # a throwaway user: logging out is harmless
with client:
    connected = time.perf_counter()
    if args["what"] == "annotate":
        class Box:
            spec = cvataa.DetectionFunctionSpec(labels=[cvataa.label_spec("car", 0)])
            def detect(self, context, image):
                return [cvataa.rectangle(0, [1, 1, 10, 10])]
        cvataa.annotate_task(client, args["task"], Box(), clear_existing=True)
        done = time.perf_counter()
        print(json.dumps({"total": done - connected, "sdk": cvataa.__file__}))
    else:
        dataset = TaskVisionDataset(client, args["task"])
        built = time.perf_counter()
        for i in range(len(dataset)):
            image, target = dataset[i]
        done = time.perf_counter()
        print(json.dumps({"construct": built - connected, "iterate": done - built,
                          "total": done - connected, "samples": len(dataset),
                          "sdk": cvataa.__file__}))
"""


def _run(sdk: str, args: dict[str, object]) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from tests.support import oracle

    env = oracle.environment() if sdk == "official" else oracle.python_environment(ROOT)
    # ``-c`` puts the working directory first on sys.path: it must not be this repository,
    # whose cvat_sdk would shadow the official one
    done = subprocess.run(
        [sys.executable, "-c", WORKER, json.dumps(args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(args["cache_dir"]).rsplit("/", 1)[0],
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{sdk} worker failed:\n{done.stderr[-3000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    where = str(result.pop("sdk"))
    expected = oracle.ORACLE_DIR if sdk == "official" else ROOT
    if not where.startswith(str(expected / "cvat_sdk")) or (sdk == "ours" and ".oracle" in where):
        raise RuntimeError(f"the {sdk} worker imported {where}")
    return result


def _make_task(url: str, user: str, password: str, frames: int, workdir: Path) -> int:
    import numpy as np
    from PIL import Image

    from cvat_sdk import make_client

    files = []
    rng = np.random.default_rng(0)
    base = np.linspace(0, 255, 320 * 240 * 3).reshape(240, 320, 3)
    for i in range(frames):
        pixels = (base + rng.integers(0, 40, base.shape)) % 256
        path = workdir / f"f{i:04d}.jpg"
        Image.fromarray(pixels.astype(np.uint8)).save(path, quality=90)
        files.append(path)
    with make_client(url, credentials=(user, password)) as client:
        task = client.tasks.create_from_data(
            {"name": f"bench-datasets-{uuid.uuid4().hex[:8]}", "labels": [{"name": "car"}]},
            files,
        )
        label = task.get_labels()[0].id
        task.set_annotations(
            {
                "version": 0,
                "shapes": [
                    {"frame": i, "label_id": label, "type": "rectangle", "points": [k, k, 50, 60]}
                    for i in range(frames)
                    for k in (1, 2)
                ],
            }
        )
        return int(task.id)


@contextlib.contextmanager
def _throwaway_user(options: argparse.Namespace) -> Iterator[tuple[str, str]]:
    """A new user for the run (deleted after): CVAT keeps one token per user and a logout
    ends it, so the workers must not log in and out as the admin others may be using."""
    from cvat_sdk.api_client import ApiClient, Configuration

    name = f"bench{uuid.uuid4().hex[:10]}"
    password = f"Bench-{uuid.uuid4().hex[:12]}!"
    with ApiClient(Configuration(host=options.real_server)) as anonymous:
        anonymous.auth_api.create_register(
            {
                "username": name,
                "email": f"{name}@example.com",
                "password1": password,
                "password2": password,
                "first_name": "bench",
                "last_name": "datasets",
            }
        )
    admin = Configuration(
        host=options.real_server, username=options.user, password=options.password
    )
    try:
        yield name, password
    finally:
        with ApiClient(admin) as api_client:
            (found,) = api_client.users_api.list(username=name)[0].results
            api_client.users_api.destroy(found.id)


def _decode_floor(workdir: Path) -> float:
    from PIL import Image

    blobs = [p.read_bytes() for p in sorted(workdir.glob("f*.jpg"))]
    started = time.perf_counter()
    for blob in blobs:
        Image.open(io.BytesIO(blob)).load()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--real-server", default="http://127.0.0.1:8080")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="Admin12345!")
    parser.add_argument("--frames", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=2)
    options = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.support import oracle

    problem = oracle.ensure_installed()
    if problem:
        sys.exit(problem)
    parts = urlsplit(options.real_server)
    with tempfile.TemporaryDirectory() as tmp, _throwaway_user(options) as (user, password):
        workdir = Path(tmp)
        task_id = _make_task(options.real_server, user, password, options.frames, workdir)
        try:
            common = {
                "host": f"{parts.scheme}://{parts.hostname}",
                "port": parts.port or 80,
                "user": user,
                "password": password,
                "task": task_id,
            }
            _run("ours", {**common, "what": "dataset", "cache_dir": str(workdir / "warm")})
            results: dict[str, dict[str, list[dict[str, float]]]] = {}
            for round_ in range(options.repeat):
                for sdk in ("official", "ours"):
                    cache = str(workdir / f"{sdk}-{round_}")
                    runs = results.setdefault(sdk, {})
                    first = _run(sdk, {**common, "what": "dataset", "cache_dir": cache})
                    cached = _run(sdk, {**common, "what": "dataset", "cache_dir": cache})
                    annotate = _run(sdk, {**common, "what": "annotate", "cache_dir": cache + "-aa"})
                    runs.setdefault("first", []).append(first)
                    runs.setdefault("cached", []).append(cached)
                    runs.setdefault("annotate", []).append(annotate)
                    print(sdk, round_, first, cached, annotate, file=sys.stderr)
            decode = _decode_floor(workdir)
        finally:
            from cvat_sdk.api_client import ApiClient, Configuration

            config = Configuration(host=options.real_server, username=user, password=password)
            with ApiClient(config) as api_client:  # basic auth: no session to log out of
                api_client.tasks_api.destroy(task_id)

    def best(sdk: str, what: str) -> float:
        return min(r["total"] for r in results[sdk][what])

    summary = {
        "frames": options.frames,
        "decode_floor_s": round(decode, 3),
        **{
            f"{sdk}_{what}_s": round(best(sdk, what), 3)
            for sdk in ("ours", "official")
            for what in ("first", "cached", "annotate")
        },
    }
    for what in ("first", "cached", "annotate"):
        summary[f"speedup_{what}"] = round(best("official", what) / best("ours", what), 2)
    summary["ours_cached_over_decode"] = round(best("ours", "cached") / decode, 2)
    print(json.dumps(summary, indent=2))
    path = ROOT / "bench" / "results_datasets.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    stored["datasets_real"] = summary
    path.write_text(json.dumps(stored, indent=2) + "\n")


if __name__ == "__main__":
    main()
