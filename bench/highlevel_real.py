"""``python -m bench.highlevel_real [--real-server URL] [--rounds N] [--case NAME]``: the
high-level layer (``make_client``, ``client.tasks``, task proxies) on a real CVAT, ours vs the
official cvat-sdk 2.24.0, in the same run, interleaved (the order flips every round).

Each measurement runs in a client process of its own (``bench/highlevel_real_client.py``), the
same script for both SDKs; the official one from ``.oracle`` (``tests/support/oracle.py``),
never imported here. Each process logs in with ``make_client``, warms the connection, and
then times only the call of the case, with the SDK's defaults:

* ``create_bulk``: ``client.tasks.create_from_data`` of 200 JPEGs of about 1 MB, the whole
  call (task creation, upload, waiting for the server's processing, the final read);
* ``create_tus``: the same with 10 JPEGs over 8 MiB each;
* ``get_annotations``: ``task.get_annotations()`` of a task holding 20,000 shapes; ours is
  also timed against the low-level ``tasks_api.retrieve_annotations`` in the same process;
* ``download_frames``: ``task.download_frames(range(500), outdir=...)`` of a task of 500
  small JPEGs (defaults: original quality; the server's chunk cache warmed first);
* ``list_tasks``: ``client.tasks.list()`` as a user who owns exactly 1,000 tasks.

Goals (ratios of the median seconds, official over ours): create >= 2x and our peak RSS
growth during the call < 64 MB (``VmHWM``, as in ``bench.real_upload``); get_annotations
>= 2x and our high-level call within 1.1x of the low-level one; download_frames >= 4x;
list_tasks >= 2x. The JPEGs of the create cases come from ``bench.real_upload``'s cache; the
rest is made fresh each run by two throwaway users (one for the 1,000 tasks), all uniquely
named and deleted at the end, also on failure. Results go to
``bench/results_highlevel.json`` (key ``highlevel_real``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.real_upload import CASES as UPLOAD_CASES
from bench.real_upload import Server, images
from bench.reporting import text_table, write_results
from tests.support.oracle import ORACLE_DIR, environment, python_environment

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results_highlevel.json"
CLIENT = Path(__file__).resolve().parent / "highlevel_real_client.py"
DATA_PARAMS = {"image_quality": 70, "use_cache": True}
SHAPES, ANNOTATION_FRAMES, SHAPE_BATCH = 20_000, 10, 2_500
FRAMES = 500
LISTED_TASKS, CREATE_WORKERS = 1_000, 4
MEMORY_GOAL_MB = 64.0
LOW_LEVEL_GOAL = 1.1


@dataclass(frozen=True)
class Case:
    name: str
    ratio_goal: float
    note: str
    repeat: int = 1  # timed calls per client process (where a call leaves nothing behind)
    memory_goal: bool = False


CASES = {
    "create_bulk": Case("create_bulk", 2.0, "create_from_data, 200 JPEGs of ~1 MB", 1, True),
    "create_tus": Case("create_tus", 2.0, "create_from_data, 10 JPEGs over 8 MiB", 1, True),
    "get_annotations": Case("get_annotations", 2.0, f"{SHAPES} shapes", 2),
    "download_frames": Case("download_frames", 4.0, f"{FRAMES} small JPEGs"),
    "list_tasks": Case("list_tasks", 2.0, f"tasks.list() of {LISTED_TASKS} tasks"),
}
SDKS = ("ours", "official")


# --- users and fixtures ---------------------------------------------------------------------


def token_client(url: str, username: str, password: str) -> Any:
    """Our low-level client, logged in as ``username`` with a token (made fresh: the client
    processes log out when they end, which deletes the user's token)."""
    from cvat_sdk.api_client import ApiClient, Configuration

    with ApiClient(Configuration(host=url)) as anonymous:
        token, _ = anonymous.auth_api.create_login({"username": username, "password": password})
    return ApiClient(Configuration(host=url, api_key={"tokenAuth": f"Token {token.key}"}))


def small_jpegs(folder: Path, count: int) -> list[Path]:
    """``count`` JPEGs of 320x240 (a gradient with noise, about 15 kB each)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(count)
    base = np.linspace(0, 255, 320 * 240 * 3).reshape(240, 320, 3)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        pixels = (base + rng.integers(0, 40, base.shape)) % 256
        path = folder / f"frame_{index:04d}.jpg"
        Image.fromarray(pixels.astype(np.uint8)).save(path, quality=90)
        paths.append(path)
    return paths


def data_task(api: Any, name: str, files: list[Path]) -> int:
    from cvat_sdk.core.uploading import upload_task_data

    task, _ = api.tasks_api.create({"name": name, "labels": [{"name": "object"}]})
    upload_task_data(api, task.id, files, data_params=DATA_PARAMS, wait=True)
    return int(task.id)


def annotate(api: Any, task_id: int) -> None:
    """``SHAPES`` rectangles and polygons over the task's frames, in PATCH batches."""
    (label,) = api.labels_api.list(task_id=task_id)[0].results
    for start in range(0, SHAPES, SHAPE_BATCH):
        shapes = []
        for n in range(start, min(start + SHAPE_BATCH, SHAPES)):
            x, y = float(n % 300), float(n % 200)
            polygon = n % 4 == 0
            points = [x, y, x + 9, y, x + 9, y + 7, x, y + 7] if polygon else [x, y, x + 9, y + 7]
            shapes.append(
                {
                    "frame": n % ANNOTATION_FRAMES,
                    "label_id": label.id,
                    "type": "polygon" if polygon else "rectangle",
                    "points": points,
                    "z_order": n % 3,
                }
            )
        api.tasks_api.partial_update_annotations(
            "create", task_id, patched_labeled_data_request={"version": 0, "shapes": shapes}
        )
    held = len(api.tasks_api.retrieve_annotations(task_id)[0].shapes)
    if held != SHAPES:
        raise RuntimeError(f"task {task_id} holds {held} shapes, not {SHAPES}")


def make_tasks(url: str, username: str, password: str, prefix: str, count: int) -> None:
    """``count`` tasks without data, a few requests at a time."""
    with token_client(url, username, password) as api:

        def one(index: int) -> None:
            api.tasks_api.create({"name": f"{prefix}-{index:04d}", "labels": [{"name": "a"}]})

        with ThreadPoolExecutor(CREATE_WORKERS) as pool:
            list(pool.map(one, range(count)))


def delete_owned(url: str, username: str, password: str) -> int:
    """Deletes the tasks ``username`` owns (a throwaway user's), a few at a time."""
    with token_client(url, username, password) as api:
        owned = [t for t in _all_tasks(api) if (t.get("owner") or {}).get("username") == username]
        ids = [int(t["id"]) for t in owned]
        with ThreadPoolExecutor(CREATE_WORKERS) as pool:
            list(pool.map(api.tasks_api.destroy, ids))
    return len(ids)


def _all_tasks(api: Any) -> Iterator[dict[str, Any]]:
    page = 1
    while True:
        _, response = api.tasks_api.list(page=page, page_size=500, _parse_response=False)
        body = json.loads(response.data)
        yield from body["results"]
        if not body.get("next"):
            return
        page += 1


@contextmanager
def throwaway_users(server: Server, prefix: str, roles: list[str]) -> Iterator[dict[str, str]]:
    """One new user per role (name -> password); at the end, their tasks and they are
    deleted, whatever happened."""
    made: dict[str, tuple[str, int]] = {}
    try:
        for role in roles:
            name = f"{prefix}-{role}"
            made[name] = server.add_user(name)
        yield {name: password for name, (password, _) in made.items()}
    finally:
        for name, (password, user_id) in made.items():
            try:
                left = delete_owned(server.url, name, password)
                print(f"deleted {left} tasks of {name}", file=sys.stderr)
            finally:
                server.delete_user(user_id)


# --- one client run -------------------------------------------------------------------------


def run_client(sdk: str, config: dict[str, Any], timeout: float) -> dict[str, Any]:
    env = python_environment(ROOT) if sdk == "ours" else environment()
    cwd = ROOT if sdk == "ours" else ORACLE_DIR
    done = subprocess.run(
        [sys.executable, str(CLIENT), json.dumps({**config, "sdk": sdk})],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{sdk} {config['case']} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# --- the report -----------------------------------------------------------------------------


def summarize(runs: dict[str, dict[str, list[dict[str, Any]]]]) -> list[dict[str, Any]]:
    rows = []
    for name, by_sdk in runs.items():
        case = CASES[name]
        ours = [r["seconds"] for r in by_sdk["ours"]]
        official = [r["seconds"] for r in by_sdk.get("official", [])]
        row: dict[str, Any] = {
            "case": name,
            "note": case.note,
            "ours_s": statistics.median(ours),
            "ours_all_s": [round(s, 3) for s in ours],
            "official_s": statistics.median(official) if official else None,
            "official_all_s": [round(s, 3) for s in official],
            "ours_peak_mb": max(r["peak_mb"] for r in by_sdk["ours"]),
            "official_peak_mb": max(
                (r["peak_mb"] for r in by_sdk.get("official", [])), default=None
            ),
            "ours_cpu_s": statistics.median(r["cpu"] for r in by_sdk["ours"]),
            "official_cpu_s": (
                statistics.median(r["cpu"] for r in by_sdk["official"]) if official else None
            ),
            "ratio_goal": case.ratio_goal,
        }
        row["ratio"] = row["official_s"] / row["ours_s"] if official else None
        met = [row["ratio"] is not None and row["ratio"] >= case.ratio_goal]
        if case.memory_goal:
            row["memory_goal_mb"] = MEMORY_GOAL_MB
            met.append(row["ours_peak_mb"] < MEMORY_GOAL_MB)
        low = [r["seconds"] for r in by_sdk.get("ours-low", [])]
        if low:
            row["low_level_s"] = statistics.median(low)
            row["low_level_all_s"] = [round(s, 3) for s in low]
            row["over_low_level"] = row["ours_s"] / row["low_level_s"]
            row["low_level_goal"] = LOW_LEVEL_GOAL
            met.append(row["over_low_level"] <= LOW_LEVEL_GOAL)
        row["goal_met"] = all(met)
        rows.append(row)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    def num(value: float | None, form: str) -> str:
        return "-" if value is None else format(value, form)

    header = (
        "case", "ours s", "official s", "ratio", "goal", "ours MB", "official MB",
        "ours/low", "met",
    )  # fmt: skip
    lines = [header]
    for row in rows:
        lines.append(
            (
                row["case"],
                num(row["ours_s"], ".3f"),
                num(row["official_s"], ".3f"),
                num(row["ratio"], ".2f") + "x",
                f">= {row['ratio_goal']:g}x",
                num(row["ours_peak_mb"], ".1f"),
                num(row["official_peak_mb"], ".1f"),
                num(row.get("over_low_level"), ".3f"),
                "yes" if row["goal_met"] else "NO",
            )
        )
    return text_table(lines)


# --- the orchestrator -----------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.highlevel_real", description=__doc__)
    p.add_argument("--real-server", default="http://127.0.0.1:8080", help="CVAT's URL")
    p.add_argument("--user", default=os.environ.get("CVAT_LIVE_USER", "admin"))
    p.add_argument("--password", default=os.environ.get("CVAT_LIVE_PASSWORD", "Admin12345!"))
    p.add_argument("--rounds", type=int, default=3, help="client runs of each SDK and case (3)")
    p.add_argument("--case", action="append", choices=list(CASES), help="only these cases")
    p.add_argument("--no-official", action="store_true", help="only our SDK")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds per client run")
    p.add_argument("--output", type=Path, default=RESULTS)
    p.add_argument("--strict", action="store_true", help="exit with 1 when a goal is missed")
    return p


def _step(what: str, call: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = call()
    print(f"{what}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from bench import oracle

    cases = args.case or list(CASES)
    sdks = ["ours"] if args.no_official else list(SDKS)
    if not args.no_official and not oracle.ensure_installed():
        return 1
    admin = Server(args.real_server, args.user, args.password)
    version = admin.version()
    uploads = {
        name: images(UPLOAD_CASES[name.removeprefix("create_")])
        for name in cases
        if name.startswith("create_")
    }
    prefix = f"bench-hl-{uuid.uuid4().hex[:8]}"
    url = admin.url
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {c: {} for c in cases}
    load = os.getloadavg()
    started = time.perf_counter()
    print(
        f"CVAT {version} at {url}; cases: {', '.join(cases)}; {args.rounds} rounds; "
        f"users and tasks named {prefix}*",
        file=sys.stderr,
    )
    with (
        tempfile.TemporaryDirectory(prefix="bench-hl-") as tmp,
        throwaway_users(admin, prefix, ["work", "list"]) as users,
    ):
        worker, lister = f"{prefix}-work", f"{prefix}-list"
        fixtures: dict[str, dict[str, Any]] = {}
        with token_client(url, worker, users[worker]) as api:
            if "get_annotations" in cases:
                files = small_jpegs(Path(tmp) / "annotated", ANNOTATION_FRAMES)
                task_id = _step("annotations task", lambda: data_task(api, f"{prefix}-ann", files))
                _step(f"{SHAPES} shapes", lambda: annotate(api, task_id))
                fixtures["get_annotations"] = {"task_id": task_id, "shapes": SHAPES}
            if "download_frames" in cases:
                files = small_jpegs(Path(tmp) / "frames", FRAMES)
                task_id = _step(
                    f"{FRAMES}-frame task", lambda: data_task(api, f"{prefix}-frames", files)
                )
                fixtures["download_frames"] = {"task_id": task_id, "frames": FRAMES}
        if "list_tasks" in cases:
            _step(
                f"{LISTED_TASKS} tasks",
                lambda: make_tasks(url, lister, users[lister], f"{prefix}-l", LISTED_TASKS),
            )
            fixtures["list_tasks"] = {"tasks": LISTED_TASKS}
        for name in cases:
            if name.startswith("create_"):
                fixtures[name] = {
                    "files": [str(p) for p in uploads[name]],
                    "data_params": DATA_PARAMS,
                }
        if "download_frames" in cases:  # the server makes its chunks on the first read
            for sdk in sdks:
                config = {"case": "download_frames", "repeat": 1, **fixtures["download_frames"]}
                run_client(sdk, {**config, "url": url, "username": worker,
                                 "password": users[worker]}, args.timeout)  # fmt: skip
        for number in range(args.rounds):
            for name in cases:
                case = CASES[name]
                for sdk in sdks if number % 2 == 0 else sdks[::-1]:
                    user = lister if name == "list_tasks" else worker
                    config = {
                        "case": "create_from_data" if name.startswith("create_") else name,
                        "url": url,
                        "username": user,
                        "password": users[user],
                        "repeat": case.repeat,
                        "task_name": f"{prefix}-{name}-{sdk}-{number}",
                        **fixtures[name],
                    }
                    result = run_client(sdk, config, args.timeout)
                    if "task_id" in result and name.startswith("create_"):
                        with token_client(url, worker, users[worker]) as api:
                            api.tasks_api.destroy(result["task_id"])
                    runs[name].setdefault(sdk, []).extend(result["runs"])
                    if result.get("low_runs"):
                        runs[name].setdefault("ours-low", []).extend(result["low_runs"])
                    seconds = ", ".join(f"{r['seconds']:.3f}" for r in result["runs"])
                    low = ", ".join(f"{r['seconds']:.3f}" for r in result.get("low_runs", []))
                    print(
                        f"round {number} {name:<16} {sdk:<8} {seconds} s"
                        + (f" (low-level {low} s)" if low else "")
                        + f" peak {max(r['peak_mb'] for r in result['runs']):.1f} MB",
                        file=sys.stderr,
                        flush=True,
                    )
    rows = summarize(runs)
    print()
    print(table(rows))
    print(
        "\nseconds: median over the runs of the call alone (in a logged-in client process); "
        "ratio: official over ours; MB: highest peak RSS growth during the call; ours/low: "
        "our task.get_annotations() over tasks_api.retrieve_annotations, same process."
    )
    load_after = os.getloadavg()
    print(f"load average before/after: {load[0]:.2f} / {load_after[0]:.2f}")
    report = {
        "server": url,
        "server_version": version,
        "rounds": args.rounds,
        "data_params": DATA_PARAMS,
        "load_average": [load[0], load_after[0]],
        "seconds": round(time.perf_counter() - started, 1),
        "summary": rows,
        "runs": runs,
    }
    write_results(args.output, "highlevel_real", report)
    print(f"results in {args.output} (key highlevel_real)")
    return 1 if args.strict and not all(r["goal_met"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
