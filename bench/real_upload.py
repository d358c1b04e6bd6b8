"""``python -m bench.real_upload [--real-server URL]``: task data uploads to a real CVAT.

Two cases, each uploaded by both SDKs to the same server in the same run, interleaved:

* ``bulk``: 200 JPEGs of about 1 MB (ours: Upload-Start, two bulk ``Upload-Multiple``
  requests, Upload-Finish);
* ``tus``: 10 JPEGs of about 9 MB, over 8 MiB each (the issue's name for the case; ours: one
  request carrying the files and the finish's fields, as files up to ``BULK_FILE_MAX`` go in
  bulk; ``--set BULK_FILE_MAX=8388608`` sends them through TUS).

Ours is ``tasks_api.create`` + ``upload_task_data(..., wait=True)``; the official cvat-sdk
2.24.0 is ``client.tasks.create_from_data(...)``, run from ``.oracle`` in its own process
(never imported here). Both log in first and then use a token, both poll every second.

Every client process talks to the server through a recording proxy (``bench.proxy``) in
this process, and the upload phase is timed there, the same way for both: from the first byte
of the Upload-Start request (or of a read of the server's requests sent beside it) to the last
byte of the answer to Upload-Finish (one request may carry both headers). Throughput is
the files' bytes over that time. The task's processing after the finish is reported apart.
Memory is the client process's peak RSS growth during the call (``VmHWM`` reset at start).

Goals: our upload phase >= 1.5x the official's throughput; our memory growth < 64 MB.
The JPEGs (random noise at quality 95, so they are large) are made once into a cache under
the system's temp dir. Every task gets a unique name and is deleted after its run.
Needs ``PYTHONPATH`` to reach this repository; the results go to ``bench/results.json``
(key ``real_upload``).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.proxy import Exchange, RecordingProxy
from bench.reporting import text_table, write_results
from tests.support.oracle import ORACLE_DIR, environment, python_environment

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results.json"
CLIENT = Path(__file__).resolve().parent / "real_upload_client.py"
CACHE = Path(tempfile.gettempdir()) / "cvat-sdk-bench" / "real-upload-images"
MiB = 1 << 20
RATIO_GOAL = 1.5
MEMORY_GOAL_MB = 64.0
POLL_INTERVAL = 1.0
#: processing on the server is not what is measured: chunks are made when first read
DATA_PARAMS = {"image_quality": 70, "use_cache": True}


# --- the JPEGs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    count: int
    target_bytes: int
    minimum_bytes: int  # each file at least this large (TUS: above our bulk limit)
    note: str


CASES = {
    "bulk": Case("bulk", 200, 1_000_000, 1, "200 JPEGs of ~1 MB"),
    "tus": Case("tus", 10, 9_000_000, 8 * MiB + 1, "10 JPEGs of ~9 MB (> 8 MiB)"),
}
BYTES_PER_PIXEL = 1.18  # random RGB noise at quality 95, measured with Pillow


def _jpeg(path: Path, side: int, seed: int) -> int:
    from PIL import Image

    noise = random.Random(seed).randbytes(side * side * 3)
    Image.frombytes("RGB", (side, side), noise).save(path, "JPEG", quality=95)
    return path.stat().st_size


def images(case: Case) -> list[Path]:
    """The case's JPEGs, made once into ``CACHE`` (a manifest says which are complete)."""
    folder = CACHE / f"{case.name}-{case.count}x{case.target_bytes}"
    manifest = folder / "manifest.json"
    if manifest.is_file():
        names = json.loads(manifest.read_text())
        paths = [folder / name for name in names]
        if all(p.is_file() and p.stat().st_size >= case.minimum_bytes for p in paths):
            return paths
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    side = int((case.target_bytes / BYTES_PER_PIXEL) ** 0.5)
    paths = []
    for index in range(case.count):
        path = folder / f"{case.name}_{index:03d}.jpg"
        seed = case.count * 100_000 + index
        while _jpeg(path, side, seed) < case.minimum_bytes:
            side += 16
        paths.append(path)
    manifest.write_text(json.dumps([p.name for p in paths]))
    total = sum(p.stat().st_size for p in paths)
    print(
        f"made {case.count} JPEGs ({total / 1e6:.0f} MB) in {folder} "
        f"in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return paths


# --- the server, seen from here ---------------------------------------------------------------


class Server:
    """Login, task deletion and cleanup on the real server, over plain urllib3."""

    def __init__(self, url: str, username: str, password: str) -> None:
        import urllib3

        self.url = url.rstrip("/")
        self.username, self.password = username, password
        self.http = urllib3.PoolManager(retries=False, timeout=60.0)
        # basic auth: slow (a password hash per request) but immune to a logout elsewhere,
        # which deletes the user's one token (other suites log admin in and out)
        credentials = base64.b64encode(f"{username}:{password}".encode()).decode()
        self.headers = {"Authorization": "Basic " + credentials}
        self._json("GET", "/api/users/self")  # the credentials work

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.http.request(method, self.url + path, headers=self.headers, **kwargs)
        if answer.status >= 400:
            raise RuntimeError(f"{method} {path}: {answer.status} {answer.data[:300]!r}")
        return json.loads(answer.data) if answer.data else None

    def version(self) -> str:
        return str(self._json("GET", "/api/server/about").get("version"))

    def delete_task(self, task_id: int) -> None:
        self._json("DELETE", f"/api/tasks/{task_id}")

    def add_user(self, username: str) -> tuple[str, int]:
        """Registers a user of the default role for the clients; returns (password, id).

        The clients log in and use a token, as the official SDK does; a user of their own
        keeps that token theirs: logging a user out (which other suites do to admin)
        deletes the user's one token, for every client that holds it.
        """
        password = secrets.token_urlsafe(18) + "a1!"
        self._json(
            "POST",
            "/api/auth/register",
            json={
                "username": username,
                "email": f"{username}@example.com",
                "password1": password,
                "password2": password,
                "first_name": "bench",
                "last_name": "upload",
            },
        )
        found = self._json("GET", "/api/users", fields={"search": username})["results"]
        return password, next(int(u["id"]) for u in found if u["username"] == username)

    def delete_user(self, user_id: int) -> None:
        self._json("DELETE", f"/api/users/{user_id}")

    def delete_tasks_named(self, prefix: str) -> int:
        """Deletes the tasks whose names start with ``prefix`` (what a failed run left)."""
        tasks = self._json("GET", "/api/tasks", fields={"search": prefix, "page_size": "100"})
        tasks = tasks["results"]
        found = [t["id"] for t in tasks if t["name"].startswith(prefix)]
        for task_id in found:
            self.delete_task(task_id)
        return len(found)


def _server_pid(port: int) -> int | None:
    """The pid of the process listening on ``port`` (its CPU time is sampled), if visible."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(parts[9])
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return int(entry.name)
        except OSError:
            continue
    return None


class CpuSampler:
    """Every 50 ms: the server process's CPU seconds and the machine's busy CPUs, so that a
    run's upload phase can be told apart as server-bound, client-bound or crowded out."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self.samples: list[tuple[float, float, float]] = []  # (monotonic, server cpu, busy)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._tick = os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> CpuSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _server_cpu(self) -> float:
        if self.pid is None:
            return 0.0
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / self._tick

    def _busy(self) -> float:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = values[3] + values[4]
        return (sum(values) - idle) / self._tick

    def _run(self) -> None:
        while True:
            self.samples.append((time.monotonic(), self._server_cpu(), self._busy()))
            if self._stop.wait(0.05):
                return

    def between(self, start: float, end: float) -> tuple[float, float]:
        """(server CPU seconds, busy CPU seconds of the whole machine) from start to end."""
        inside = [s for s in self.samples if start <= s[0] <= end]
        if len(inside) < 2:
            return 0.0, 0.0
        return inside[-1][1] - inside[0][1], inside[-1][2] - inside[0][2]


# --- one run --------------------------------------------------------------------------------


@dataclass
class Run:
    case: str
    client: str
    round: int
    file_bytes: int
    phase: float = 0.0  # seconds, Upload-Start arrives .. Upload-Finish answered
    before: float = 0.0  # seconds from the call to Upload-Start (task creation)
    processing: float = 0.0  # seconds from the finish's answer to the call's return
    peak_mb: float = 0.0
    exact_peak: bool = False  # the kernel's high-water mark (else a 5 ms sampling thread)
    client_cpu: float = 0.0  # seconds of CPU of the client process during the whole call
    server_cpu: float = 0.0  # seconds of CPU of the server process during the upload phase
    machine_busy: float = 0.0  # busy CPUs (of all) on average during the upload phase
    wire_bytes: int = 0  # request bodies during the phase (multipart framing, chunks)
    requests: dict[str, int] = field(default_factory=dict)
    sending: float = 0.0  # seconds: request first byte .. body passed on, summed
    server_wait: float = 0.0  # seconds: body passed on .. answer's head, summed
    idle: float = 0.0  # seconds of the phase with no request in flight
    #: kind -> [count, seconds sending, seconds of server wait] summed over the phase
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    #: every request of the call: kind, method, target, body bytes, status, and seconds from
    #: Upload-Start to its start, sending, server wait, answer
    exchanges: list[list[Any]] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        """MB (10**6 bytes) of files per second of the upload phase."""
        return self.file_bytes / 1e6 / self.phase

    def as_json(self) -> dict[str, Any]:
        return {**self.__dict__, "throughput_mb_s": self.throughput}


def _busy_time(exchanges: list[Exchange]) -> float:
    """Seconds covered by at least one exchange (they may overlap on several connections)."""
    total, reach = 0.0, float("-inf")
    for e in sorted(exchanges, key=lambda e: e.started):
        start = max(e.started, reach)
        if e.ended > start:
            total += e.ended - start
        reach = max(reach, e.ended)
    return total


def analyse(run: Run, result: dict[str, Any], exchanges: list[Exchange], cpu: CpuSampler) -> None:
    # one request carrying the files may be both the start and the finish
    starts = [e for e in exchanges if e.starts_upload]
    finishes = [e for e in exchanges if e.kind == "upload-finish"]
    if not starts or not finishes:
        raise RuntimeError(f"{run.client} {run.case}: no Upload-Start/Upload-Finish recorded")
    begin, end = starts[0].started, finishes[-1].ended
    # a read of the server's requests sent beside the start (ours) belongs to the upload
    reads = [e.started for e in exchanges if e.kind == "request" and e.started < begin]
    begin = min([begin, *reads])
    phase = [e for e in exchanges if begin <= e.started <= end]
    run.phase = end - begin
    run.before = begin - float(result["started"])
    run.processing = float(result["done"]) - end
    run.peak_mb = float(result["peak_mb"])
    run.exact_peak = bool(result["exact_peak"])
    run.client_cpu = float(result["cpu"])
    server_cpu, busy = cpu.between(begin, end)
    run.server_cpu, run.machine_busy = server_cpu, busy / run.phase
    run.wire_bytes = sum(e.request_bytes for e in phase)
    for e in phase:
        run.requests[e.kind] = run.requests.get(e.kind, 0) + 1
    run.sending = sum(e.sent - e.started for e in phase)
    run.server_wait = sum(e.answered - e.sent for e in phase)
    run.idle = run.phase - _busy_time(phase)
    run.exchanges = [
        [
            e.kind, e.method, e.target, e.request_bytes, e.status, round(e.started - begin, 4),
            round(e.sent - e.started, 4), round(e.answered - e.sent, 4),
            round(e.ended - e.answered, 4),
        ]
        for e in exchanges
    ]  # fmt: skip
    for e in phase:
        count, sending, waiting = run.by_kind.get(e.kind, [0, 0.0, 0.0])
        run.by_kind[e.kind] = [
            count + 1,
            sending + e.sent - e.started,
            waiting + e.answered - e.sent,
        ]


def run_client(sdk: str, config: dict[str, Any], server: Server, timeout: float) -> dict[str, Any]:
    """One client process; its task is deleted afterwards, whatever happened."""
    env = python_environment(ROOT) if sdk == "ours" else environment()
    cwd = ROOT if sdk == "ours" else ORACLE_DIR
    try:
        done = subprocess.run(
            [sys.executable, str(CLIENT), json.dumps({**config, "sdk": sdk})],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    finally:
        server.delete_tasks_named(config["task_name"])
    if done.returncode != 0:
        raise RuntimeError(f"{sdk} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# --- the report -----------------------------------------------------------------------------


def _median(runs: list[Run], name: str) -> float:
    return float(statistics.median(getattr(r, name) for r in runs))


def summarize(runs: list[Run], cases: list[str]) -> list[dict[str, Any]]:
    rows = []
    for case in cases:
        by_client: dict[str, list[Run]] = {}
        for r in runs:
            if r.case == case:
                by_client.setdefault(r.client, []).append(r)
        official = by_client.get("official")
        for client, mine in by_client.items():
            speed = statistics.median(r.throughput for r in mine)
            best = max(r.throughput for r in mine)
            ratio = best_ratio = paired = None
            if official and client != "official":
                ratio = speed / statistics.median(r.throughput for r in official)
                best_ratio = best / max(r.throughput for r in official)
                rounds = {r.round: r.throughput for r in official}
                paired = statistics.median(
                    r.throughput / rounds[r.round] for r in mine if r.round in rounds
                )
            peak = max(r.peak_mb for r in mine)
            ours = client.startswith("ours")
            rows.append(
                {
                    "case": case,
                    "client": client,
                    "runs": len(mine),
                    "phase_s": _median(mine, "phase"),
                    "throughput_mb_s": speed,
                    "all_mb_s": [round(r.throughput, 1) for r in mine],
                    "best_mb_s": best,
                    "ratio": ratio,
                    "best_ratio": best_ratio,
                    "paired_ratio": paired,
                    "ratio_pass": None if ratio is None or not ours else ratio >= RATIO_GOAL,
                    "peak_mb": peak,
                    "memory_pass": peak < MEMORY_GOAL_MB if ours else None,
                    "processing_s": _median(mine, "processing"),
                    "server_cpu_share": _median(mine, "server_cpu") / _median(mine, "phase"),
                    "client_cpu_s": _median(mine, "client_cpu"),
                    "machine_busy": _median(mine, "machine_busy"),
                    "sending_s": _median(mine, "sending"),
                    "server_wait_s": _median(mine, "server_wait"),
                    "idle_s": _median(mine, "idle"),
                    "requests": mine[0].requests,
                }
            )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    def verdict(value: bool | None) -> str:
        return {True: "PASS", False: "FAIL", None: "-"}[value]

    header = (
        "case", "client", "runs", "phase s", "MB/s", "ratio", "pass", "paired", "best",
        "b. ratio",
        "peak MB", "pass",
        "proc. s", "srv CPU", "send s", "srv wait s", "idle s", "requests",
    )  # fmt: skip
    lines = [header]
    for row in rows:
        ratio = "-" if row["ratio"] is None else f"{row['ratio']:.2f}x"
        best_ratio = "-" if row["best_ratio"] is None else f"{row['best_ratio']:.2f}x"
        paired = "-" if row["paired_ratio"] is None else f"{row['paired_ratio']:.2f}x"
        requests = " ".join(f"{k}:{v}" for k, v in sorted(row["requests"].items()))
        lines.append(
            (
                row["case"],
                row["client"],
                str(row["runs"]),
                f"{row['phase_s']:.2f}",
                f"{row['throughput_mb_s']:.1f}",
                ratio,
                verdict(row["ratio_pass"]),
                paired,
                f"{row['best_mb_s']:.1f}",
                best_ratio,
                f"{row['peak_mb']:.1f}",
                verdict(row["memory_pass"]),
                f"{row['processing_s']:.1f}",
                f"{row['server_cpu_share']:.0%}",
                f"{row['sending_s']:.2f}",
                f"{row['server_wait_s']:.2f}",
                f"{row['idle_s']:.2f}",
                requests,
            )
        )
    return text_table(lines)


# --- the orchestrator -----------------------------------------------------------------------


def _setting(text: str) -> tuple[str, int | float]:
    name, sep, value = text.partition("=")
    if not sep or not name.isupper():
        raise argparse.ArgumentTypeError(f"expected NAME=NUMBER, got {text!r}")
    number = float(value) if "." in value else int(value)
    return name, number


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.real_upload", description=__doc__)
    p.add_argument("--real-server", default="http://127.0.0.1:8080", help="CVAT's URL")
    p.add_argument("--user", default=os.environ.get("CVAT_LIVE_USER", "admin"))
    p.add_argument("--password", default=os.environ.get("CVAT_LIVE_PASSWORD", "Admin12345!"))
    p.add_argument("--rounds", type=int, default=5, help="runs of each client and case (5)")
    p.add_argument("--case", action="append", choices=list(CASES), help="only these cases")
    p.add_argument("--no-official", action="store_true", help="only our SDK")
    p.add_argument(
        "--basic-auth", action="store_true", help="also ours with basic auth on every request"
    )
    p.add_argument(
        "--set",
        dest="settings",
        action="append",
        type=_setting,
        default=[],
        metavar="NAME=VALUE",
        help="a cvat_sdk._runtime.settings value for an extra client, ours-set, measured "
        "beside ours with the defaults (e.g. BULK_FILE_MAX=33554432)",
    )
    p.add_argument("--timeout", type=float, default=900.0, help="seconds per client run")
    p.add_argument("--output", type=Path, default=RESULTS)
    p.add_argument("--strict", action="store_true", help="exit with 1 when a goal is missed")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from bench import oracle

    cases = args.case or list(CASES)
    clients = ["ours"] + (["ours-basic"] if args.basic_auth else [])
    clients += ["ours-set"] if args.settings else []
    if not args.no_official:
        if not oracle.ensure_installed():
            return 1
        clients.append("official")
    server = Server(args.real_server, args.user, args.password)
    version = server.version()
    files = {name: images(CASES[name]) for name in cases}
    upstream = urlsplit(server.url)
    port = upstream.port or 80
    prefix = f"bench-upload-{uuid.uuid4().hex[:8]}"
    password, user_id = server.add_user(prefix)
    ours_settings = {"POLL_INTERVAL": POLL_INTERVAL}
    variant = {**ours_settings, **dict(args.settings)}
    runs: list[Run] = []
    failures: list[str] = []
    load = os.getloadavg()
    started = time.perf_counter()
    print(
        f"CVAT {version} at {server.url}; cases: {', '.join(cases)}; clients: "
        f"{', '.join(clients)}; {args.rounds} rounds; user and tasks named {prefix}*",
        file=sys.stderr,
    )
    with (
        RecordingProxy((upstream.hostname or "127.0.0.1", port)) as proxy,
        CpuSampler(_server_pid(port)) as cpu,
    ):
        try:
            for number in range(args.rounds):
                for case in cases:
                    order = clients if number % 2 == 0 else clients[::-1]
                    for client in order:
                        paths = files[case]
                        config = {
                            "url": proxy.url,
                            "username": prefix,
                            "password": password,
                            "auth": "basic" if client == "ours-basic" else "token",
                            "task_name": f"{prefix}-{case}-{client}-{number}",
                            "files": [str(p) for p in paths],
                            "data_params": DATA_PARAMS,
                            "poll_interval": POLL_INTERVAL,
                            "settings": variant if client == "ours-set" else ours_settings,
                        }
                        os.sync()  # the last run's writes are not this one's to wait for
                        mark = proxy.mark()
                        sdk = "official" if client == "official" else "ours"
                        try:
                            result = run_client(sdk, config, server, args.timeout)
                        except RuntimeError as error:  # e.g. a logout elsewhere: once more
                            print(f"retrying once: {error}", file=sys.stderr)
                            failures.append(f"{case} {client} round {number}: {error}")
                            mark = proxy.mark()
                            result = run_client(sdk, config, server, args.timeout)
                        run = Run(case, client, number, sum(p.stat().st_size for p in paths))
                        analyse(run, result, proxy.since(mark), cpu)
                        runs.append(run)
                        print(
                            f"round {number} {case:<4} {client:<10} {run.phase:6.2f} s "
                            f"{run.throughput:6.1f} MB/s peak {run.peak_mb:6.1f} MB "
                            f"processing {run.processing:5.1f} s",
                            file=sys.stderr,
                            flush=True,
                        )
        finally:
            left = server.delete_tasks_named(prefix)
            if left:
                print(f"deleted {left} leftover tasks", file=sys.stderr)
            server.delete_user(user_id)
    rows = summarize(runs, cases)
    print()
    print(table(rows))
    print(
        "\nMB/s: files' bytes over the upload phase (Upload-Start's first byte .. "
        "Upload-Finish's answer, timed by the proxy), median of the runs; ratio: over the "
        "official's; paired: median over rounds of the ratio to the official's run of the same round; best: the fastest run (the least disturbed by other load); peak MB: highest peak RSS growth of the client process; proc. s: "
        "finish .. task ready (1 s polls); srv CPU: the server process's CPU over the phase; "
        "send/srv wait/idle: summed over the phase's requests (median run)."
    )
    load_after = os.getloadavg()
    print(f"load average before/after: {load[0]:.2f} / {load_after[0]:.2f}")
    report = {
        "server": server.url,
        "server_version": version,
        "rounds": args.rounds,
        "data_params": DATA_PARAMS,
        "ours_settings": ours_settings,
        "ours_set_settings": variant if args.settings else None,
        "goals": {"ratio_at_least": RATIO_GOAL, "memory_mb_below": MEMORY_GOAL_MB},
        "files": {
            c: {"count": len(p), "bytes": sum(x.stat().st_size for x in p)}
            for c, p in files.items()
        },
        "load_average": [load[0], load_after[0]],
        "seconds": round(time.perf_counter() - started, 1),
        "summary": rows,
        "retried": failures,
        "runs": [r.as_json() for r in runs],
    }
    write_results(args.output, "real_upload", report)
    print(f"results in {args.output} (key real_upload)")
    missed = [r for r in rows if r["ratio_pass"] is False or r["memory_pass"] is False]
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
