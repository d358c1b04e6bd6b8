"""One measured high-level call on a real CVAT, ours or the official SDK, in a process of its own.

Run by ``bench.highlevel_real`` as ``python bench/highlevel_real_client.py CONFIG_JSON`` with
either this repository or only ``.oracle`` on ``PYTHONPATH`` (both packages are named
``cvat_sdk``). The same code drives both SDKs: their high-level API (``make_client``,
``client.tasks``...) is the same. It logs in, warms the connection, then times the case's
call (``repeat`` times where the call leaves nothing behind) and prints one JSON object.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# beside this file, not via the bench package: /work/main must stay off sys.path here
from real_upload_client import PeakRss, _cpu  # type: ignore[import-not-found]


def _check_sdk(sdk: str) -> None:
    import cvat_sdk

    official = "/.oracle/" in (cvat_sdk.__file__ or "")
    if official != (sdk == "official"):
        raise RuntimeError(f"{sdk}: imported the wrong SDK, {cvat_sdk.__file__}")


def _timed(meter: PeakRss, call: Any) -> tuple[Any, dict[str, float]]:
    meter.start()
    cpu, started = _cpu(), time.perf_counter()
    result = call()
    seconds = time.perf_counter() - started
    return result, {"seconds": seconds, "cpu": _cpu() - cpu, "peak_mb": meter.stop()}


def create_from_data(client: Any, config: dict[str, Any], meter: PeakRss) -> dict[str, Any]:
    spec = {"name": config["task_name"], "labels": [{"name": "object"}]}
    task, run = _timed(
        meter,
        lambda: client.tasks.create_from_data(
            spec=spec, resources=config["files"], data_params=config["data_params"]
        ),
    )
    if int(task.size) != len(config["files"]):
        raise RuntimeError(f"task {task.id} has {task.size} frames, not {len(config['files'])}")
    return {"runs": [run], "task_id": task.id}


def get_annotations(client: Any, config: dict[str, Any], meter: PeakRss) -> dict[str, Any]:
    task = client.tasks.retrieve(config["task_id"])
    low_level = client.api_client.tasks_api
    calls = {"high": task.get_annotations}
    if config["sdk"] == "ours":  # the low-level call the high-level one wraps, interleaved
        calls["low"] = lambda: low_level.retrieve_annotations(task.id)[0]
    for call in calls.values():
        call()  # warm: imports, the server's caches
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in calls}
    for number in range(config["repeat"]):
        order = list(calls) if number % 2 == 0 else list(calls)[::-1]
        for name in order:
            annotations, run = _timed(meter, calls[name])
            shapes = len(annotations.shapes)
            if shapes != config["shapes"]:
                raise RuntimeError(f"{name}: {shapes} shapes, not {config['shapes']}")
            del annotations
            runs[name].append(run)
    return {"runs": runs["high"], "low_runs": runs.get("low", [])}


def download_frames(client: Any, config: dict[str, Any], meter: PeakRss) -> dict[str, Any]:
    task = client.tasks.retrieve(config["task_id"])
    frames = range(config["frames"])
    runs = []
    for _ in range(config["repeat"]):
        with tempfile.TemporaryDirectory(prefix="bench-frames-") as outdir:
            _, run = _timed(meter, lambda: task.download_frames(frames, outdir=outdir))
            saved = [p for p in Path(outdir).iterdir() if p.name.startswith("frame_")]
            if len(saved) != len(frames):
                raise RuntimeError(f"{len(saved)} frames saved, not {len(frames)}")
            run["bytes"] = float(sum(p.stat().st_size for p in saved))
        runs.append(run)
    return {"runs": runs}


def list_tasks(client: Any, config: dict[str, Any], meter: PeakRss) -> dict[str, Any]:
    runs = []
    for _ in range(config["repeat"]):
        tasks, run = _timed(meter, client.tasks.list)
        if len(tasks) != config["tasks"]:
            raise RuntimeError(f"listed {len(tasks)} tasks, not {config['tasks']}")
        del tasks
        runs.append(run)
    return {"runs": runs}


CASES = {
    "create_from_data": create_from_data,
    "get_annotations": get_annotations,
    "download_frames": download_frames,
    "list_tasks": list_tasks,
}


def main() -> None:
    config = json.loads(sys.argv[1])
    _check_sdk(config["sdk"])
    from cvat_sdk import make_client

    meter = PeakRss()
    credentials = (config["username"], config["password"])
    with make_client(config["url"], credentials=credentials) as client:
        client.users.retrieve_current_user()  # connected, authenticated, code paths warm
        result = CASES[config["case"]](client, config, meter)
    result["exact_peak"] = meter.exact
    print(json.dumps(result))


if __name__ == "__main__":
    main()
