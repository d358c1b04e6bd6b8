"""``python -m bench.upload_throughput [--size-mib 1024]``: upload throughput and memory.

Uploads one large file (random bytes, made in a temporary directory) over loopback two ways:

* ``sdk``: ``upload_task_data`` (Upload-Start, TUS creation, ``TUS_CHUNK_SIZE`` PATCHes read
  from disk as they are sent, Upload-Finish), with ``wait=False``;
* ``raw``: the floor, a single urllib3 PATCH of the whole file (an open file as the body, so
  urllib3 streams it) to a TUS upload made beforehand; only that PATCH is timed.

Both go to the same two servers, in the same run: the FakeCvatServer (it writes every byte to
disk, as CVAT does) and a sink that speaks just enough of the upload protocol and discards the
bytes. The servers run in one process, each client run in a process of its own: nothing
competes for a GIL, and the client's memory is its own. Peak memory is the client process's
peak RSS (``VmHWM``, reset once the client is idle and ready) above its idle RSS.

Goals: sdk >= 0.7x the floor's throughput; sdk peak RSS above idle < 64 MB.
Needs ``PYTHONPATH`` to reach this repository (``cvat_sdk`` with its generated client).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from bench.real_upload_client import PeakRss

ROOT = Path(__file__).resolve().parent.parent
MiB = 1 << 20
USER, PASSWORD = "admin", "password"
RATIO_GOAL = 0.7
MEMORY_GOAL_MB = 64.0


# --- the discarding sink --------------------------------------------------------------------


class _Sink(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SinkHandler)
        self.offsets: dict[str, int] = {}
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client went away: fine
            super().handle_error(request, client_address)


class _SinkHandler(BaseHTTPRequestHandler):
    """Upload-Start, TUS creation, PATCH, HEAD, bulk and Upload-Finish; bodies are discarded."""

    protocol_version = "HTTP/1.1"
    server: _Sink

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = memoryview(bytearray(MiB))

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _discard(self) -> int:
        left = length = int(self.headers.get("Content-Length") or 0)
        while left > 0:
            count = self.rfile.readinto(self.buffer[: min(left, MiB)])
            if not count:
                raise ConnectionError("the client went away")
            left -= count
        return length

    def _reply(self, status: int, headers: dict[str, str], body: bytes = b"") -> None:
        self.send_response(status)
        for name, value in {**headers, "Tus-Resumable": "1.0.0"}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self._discard()
        if "Upload-Finish" in self.headers:
            body = json.dumps({"rq_id": "sink"}).encode()
            self._reply(202, {"Content-Type": "application/vnd.cvat+json"}, body)
        elif "Upload-Length" in self.headers:
            upload_id = str(uuid.uuid4())
            with self.server.lock:
                self.server.offsets[upload_id] = 0
            location = self.path.split("?")[0].rstrip("/") + "/" + upload_id
            self._reply(201, {"Location": location, "Upload-Filename": "file"})
        elif "Upload-Start" in self.headers:
            self._reply(202, {})
        else:
            self._reply(200, {})

    def do_PATCH(self) -> None:
        received = self._discard()
        upload_id = self.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        with self.server.lock:
            offset = self.server.offsets[upload_id] = int(self.headers["Upload-Offset"]) + received
        self._reply(204, {"Upload-Offset": str(offset)})

    def do_HEAD(self) -> None:
        upload_id = self.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        with self.server.lock:
            offset = self.server.offsets.get(upload_id, 0)
        self._reply(200, {"Upload-Offset": str(offset)})

    def do_GET(self) -> None:
        self._reply(200, {"Content-Type": "application/json"}, b"{}")


def serve() -> None:
    """The server process: a FakeCvatServer and a sink; prints their URLs, stops on EOF."""
    from cvat_sdk.testing import FakeCvatServer

    sink = _Sink()
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    with FakeCvatServer(polls_to_finish=1) as fake:
        print(json.dumps({"fake": fake.url, "sink": sink.url}), flush=True)
        sys.stdin.read()
    sink.shutdown()


# --- the measured clients -------------------------------------------------------------------


def _auth() -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}


def run_sdk(target: str, url: str, path: Path, chunk_mib: int | None) -> dict[str, Any]:
    from cvat_sdk._runtime import settings
    from cvat_sdk.api_client import ApiClient, Configuration
    from cvat_sdk.core.helpers import wait_for_request
    from cvat_sdk.core.uploading import upload_task_data

    if chunk_mib:
        settings.TUS_CHUNK_SIZE = chunk_mib * MiB
    settings.BULK_FILE_MAX = 0  # the file goes through TUS, whatever its size
    with ApiClient(Configuration(host=url, username=USER, password=PASSWORD)) as client:
        task_id = 1
        if target == "fake":
            task, _ = client.tasks_api.create({"name": "bench", "labels": [{"name": "a"}]})
            task_id = task.id
        else:
            client.server_api.retrieve_about(_parse_response=False)  # connect
        memory = PeakRss()
        memory.start()
        started = time.perf_counter()
        response = upload_task_data(client, task_id, [path], wait=False)
        seconds = time.perf_counter() - started
        peak = memory.stop()
        if target == "fake":  # not timed: frees the server's disk
            wait_for_request(client, json.loads(response.data)["rq_id"], poll_interval=0.01)
            client.tasks_api.destroy(task_id)
    return {"seconds": seconds, "peak_mb": peak, "exact_peak": memory.exact}


def run_raw(target: str, url: str, path: Path) -> dict[str, Any]:
    import urllib3

    http = urllib3.PoolManager(retries=False)
    headers = _auth()
    size = path.stat().st_size
    task_id = 1
    if target == "fake":
        created = http.request(
            "POST",
            f"{url}/api/tasks",
            json={"name": "bench", "labels": [{"name": "a"}]},
            headers=headers,
        )
        task_id = json.loads(created.data)["id"]
    collection = f"{url}/api/tasks/{task_id}/data/"
    http.request("POST", collection, headers={**headers, "Upload-Start": "true"})
    metadata = "filename " + base64.b64encode(path.name.encode()).decode()
    created = http.request(
        "POST",
        collection,
        headers={
            **headers,
            "Tus-Resumable": "1.0.0",
            "Upload-Length": str(size),
            "Upload-Metadata": metadata,
            "Origin": url,  # CVAT builds the upload's Location from it
        },
    )
    location = urljoin(collection, created.headers["Location"])
    memory = PeakRss()
    memory.start()
    started = time.perf_counter()
    with path.open("rb") as body:
        answer = http.request(
            "PATCH",
            location,
            body=body,
            headers={
                **headers,
                "Tus-Resumable": "1.0.0",
                "Upload-Offset": "0",
                "Content-Type": "application/offset+octet-stream",
                "Content-Length": str(size),
            },
        )
    seconds = time.perf_counter() - started
    peak = memory.stop()
    if answer.status != 204 or answer.headers.get("Upload-Offset") != str(size):
        raise RuntimeError(f"the raw upload failed: {answer.status} {answer.data[:200]!r}")
    if target == "fake":  # not timed: deleting the task frees the server's disk
        http.request("DELETE", f"{url}/api/tasks/{task_id}", headers=headers)
    return {"seconds": seconds, "peak_mb": peak, "exact_peak": memory.exact}


# --- the orchestrator -----------------------------------------------------------------------


def _pin(index: int) -> None:
    """Keeps this process on one CPU (the servers on the first, clients on the second), so
    that the two never share a core; nothing when there is a single CPU."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(cpus) >= 2:
        os.sched_setaffinity(0, {cpus[index % len(cpus)]})


def _env() -> dict[str, str]:
    paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def _make_file(path: Path, size: int) -> None:
    with path.open("wb") as out:
        left = size
        while left > 0:
            out.write(os.urandom(min(8 * MiB, left)))
            left -= 8 * MiB


def _measure(mode: str, target: str, url: str, path: Path, chunk_mib: int | None) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.upload_throughput", "--client", mode]
    command += ["--target", target, "--url", url, "--file", str(path)]
    if chunk_mib:
        command += ["--chunk-mib", str(chunk_mib)]
    done = subprocess.run(command, capture_output=True, text=True, env=_env(), check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} -> {target} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size-mib", type=int, default=1024, help="size of the file (1024)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each measurement (5)")
    parser.add_argument("--chunk-mib", type=int, help="TUS chunk size (default: the setting)")
    parser.add_argument(
        "--server-tmp",
        type=Path,
        default=Path("/dev/shm") if Path("/dev/shm").is_dir() else None,
        help="where the fake server keeps what it receives (default: /dev/shm, a tmpfs, "
        "so that disk writeback does not blur the figures; else the system's temp dir)",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--client", choices=("sdk", "raw"), help=argparse.SUPPRESS)
    parser.add_argument("--target", choices=("fake", "sink"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve:
        _pin(0)
        serve()
        return
    if args.client:
        _pin(1)
        if args.client == "sdk":
            result = run_sdk(args.target, args.url, args.file, args.chunk_mib)
        else:
            result = run_raw(args.target, args.url, args.file)
        print(json.dumps(result))
        return

    from cvat_sdk._runtime import settings

    size = args.size_mib * MiB
    chunk = (args.chunk_mib * MiB) if args.chunk_mib else settings.TUS_CHUNK_SIZE
    print(
        f"upload of {args.size_mib} MiB over loopback; TUS chunks of {chunk // MiB} MiB; "
        f"{args.repeat} runs each (median); {os.cpu_count()} CPUs; "
        f"Python {platform.python_version()}; the fake server writes to "
        f"{args.server_tmp or tempfile.gettempdir()}"
    )
    with tempfile.TemporaryDirectory(prefix="upload-bench-") as tmp:
        path = Path(tmp) / "upload.bin"
        started = time.perf_counter()
        _make_file(path, size)
        print(
            f"made {path.name} ({args.size_mib} MiB of random bytes) in "
            f"{time.perf_counter() - started:.1f} s"
        )
        server_env = _env()
        if args.server_tmp:
            server_env["TMPDIR"] = str(args.server_tmp)
        server = subprocess.Popen(
            [sys.executable, "-m", "bench.upload_throughput", "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=server_env,
        )
        try:
            assert server.stdout is not None
            urls = json.loads(server.stdout.readline())
            runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
            for run in range(args.repeat):  # interleaved, so that drift hits every figure alike
                for target in ("sink", "fake"):
                    for mode in ("raw", "sdk") if run % 2 == 0 else ("sdk", "raw"):
                        result = _measure(mode, target, urls[target], path, args.chunk_mib)
                        runs.setdefault((target, mode), []).append(result)
        finally:
            if server.stdin is not None:
                server.stdin.close()
            server.wait(timeout=60)
    report(runs, size)


def report(runs: dict[tuple[str, str], list[dict[str, Any]]], size: int) -> None:
    def speed(target: str, mode: str) -> float:
        return size / 1e6 / statistics.median(float(r["seconds"]) for r in runs[target, mode])

    def peak(target: str, mode: str) -> float:
        return max(float(r["peak_mb"]) for r in runs[target, mode])

    exact = all(r["exact_peak"] for results in runs.values() for r in results)
    print()
    for (target, mode), results in runs.items():
        figures = " ".join(f"{size / 1e6 / r['seconds']:.0f}" for r in results)
        print(f"{target} {mode} runs (MB/s): {figures}")
    print()
    print(
        f"{'server':<14}{'raw MB/s':>10}{'sdk MB/s':>10}{'ratio':>8}"
        f"{'raw peak MB':>13}{'sdk peak MB':>13}"
    )
    verdicts = []
    for target, label in (("sink", "discard sink"), ("fake", "FakeCvatServer")):
        raw, sdk = speed(target, "raw"), speed(target, "sdk")
        ratio = sdk / raw
        print(
            f"{label:<14}{raw:>10.0f}{sdk:>10.0f}{ratio:>7.2f}x"
            f"{peak(target, 'raw'):>13.1f}{peak(target, 'sdk'):>13.1f}"
        )
        verdicts.append((label, ratio, peak(target, "sdk")))
    print()
    print(
        f"peak = the client process's peak RSS above its idle RSS "
        f"({'kernel high-water mark' if exact else 'sampled every 2 ms'})"
    )
    for label, ratio, memory in verdicts:
        ok_ratio = "PASS" if ratio >= RATIO_GOAL else "FAIL"
        ok_memory = "PASS" if memory < MEMORY_GOAL_MB else "FAIL"
        print(
            f"{label}: throughput {ratio:.2f}x the floor (goal >= {RATIO_GOAL}x): "
            f"{ok_ratio}; peak {memory:.1f} MB (goal < {MEMORY_GOAL_MB:.0f} MB): {ok_memory}"
        )
    if speed("fake", "raw") < 0.8 * speed("sink", "raw"):
        print(
            "the FakeCvatServer is the bottleneck (it writes every byte to disk, in 1 MiB "
            "pieces): the discard sink's figures are the ones that compare the clients"
        )


if __name__ == "__main__":
    main()
