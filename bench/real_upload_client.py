"""One measured upload to a real CVAT: ours or the official SDK, in a process of its own.

Run by ``bench.real_upload`` as ``python bench/real_upload_client.py CONFIG_JSON`` with either
this repository or only ``.oracle`` on ``PYTHONPATH`` (both packages are named ``cvat_sdk``, so
they never share an interpreter). Only the standard library and the SDK under test are
imported, the same way for both, so the memory figures compare the SDKs and nothing else.

It logs in, creates a task and uploads the files the way a user of that SDK would, waiting
for the task to be ready; it prints one JSON object: the task id, the monotonic times around
the call, the client's CPU seconds and its peak RSS growth during the call.
"""

from __future__ import annotations

import json
import resource
import sys
import threading
import time
from typing import Any


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


class PeakRss:
    """Peak RSS above the RSS at ``start()``: the kernel's high-water mark (``VmHWM``), reset
    at start through ``/proc/self/clear_refs``; where that is refused, the highest RSS that a
    5 ms sampling thread saw."""

    def start(self) -> None:
        self.idle_kb = self.sampled_kb = _status_kb("VmRSS")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        try:
            with open("/proc/self/clear_refs", "w") as refs:
                refs.write("5")
            self.exact = True
        except OSError:
            self.exact = False
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.sampled_kb = max(self.sampled_kb, _status_kb("VmRSS"))

    def stop(self) -> float:
        """MB (10**6 bytes) above the RSS at start."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        peak = _status_kb("VmHWM") if self.exact else self.sampled_kb
        return max(0, peak - self.idle_kb) * 1024 / 1e6


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _spec(config: dict[str, Any]) -> dict[str, Any]:
    return {"name": config["task_name"], "labels": [{"name": "object"}]}


def run_ours(config: dict[str, Any], meter: PeakRss) -> dict[str, Any]:
    import cvat_sdk
    from cvat_sdk._runtime import settings
    from cvat_sdk.api_client import ApiClient, Configuration
    from cvat_sdk.core.uploading import upload_task_data

    if "/.oracle/" in (cvat_sdk.__file__ or ""):
        raise RuntimeError(f"not this repository's SDK: {cvat_sdk.__file__}")
    for name, value in config.get("settings", {}).items():
        if not hasattr(settings, name):
            raise SystemExit(f"no setting {name!r} in cvat_sdk._runtime.settings")
        setattr(settings, name, value)
    url, user, password = config["url"], config["username"], config["password"]
    if config["auth"] == "basic":
        client = ApiClient(Configuration(host=url, username=user, password=password))
    else:  # what the official SDK's login does: one password check, then a token
        with ApiClient(Configuration(host=url)) as anonymous:
            token, _ = anonymous.auth_api.create_login({"username": user, "password": password})
        client = ApiClient(Configuration(host=url, api_key={"tokenAuth": f"Token {token.key}"}))
    with client:
        client.users_api.retrieve_self()  # connected, authenticated, code paths warm
        meter.start()
        cpu, started = _cpu(), time.monotonic()
        task, _ = client.tasks_api.create(_spec(config))
        try:
            upload_task_data(client, task.id, config["files"], data_params=config["data_params"])
        finally:
            done, cpu = time.monotonic(), _cpu() - cpu
            peak = meter.stop()
            print(json.dumps({"task_id": task.id}), file=sys.stderr, flush=True)
    return {"task_id": task.id, "started": started, "done": done, "cpu": cpu, "peak_mb": peak}


def run_official(config: dict[str, Any], meter: PeakRss) -> dict[str, Any]:
    import cvat_sdk
    from cvat_sdk import make_client

    if "/.oracle/" not in (cvat_sdk.__file__ or ""):
        raise RuntimeError(f"not the official SDK: {cvat_sdk.__file__}")
    if config["auth"] != "token":
        raise SystemExit("the official SDK's client always logs in (token)")
    credentials = (config["username"], config["password"])
    with make_client(config["url"], credentials=credentials) as client:
        client.users.retrieve_current_user()
        meter.start()
        cpu, started = _cpu(), time.monotonic()
        task = client.tasks.create_from_data(
            spec=_spec(config),
            resources=config["files"],
            data_params=config["data_params"],
            status_check_period=config["poll_interval"],
        )
        done, cpu = time.monotonic(), _cpu() - cpu
        peak = meter.stop()
    return {"task_id": task.id, "started": started, "done": done, "cpu": cpu, "peak_mb": peak}


def main() -> None:
    config = json.loads(sys.argv[1])
    meter = PeakRss()
    run = run_ours if config["sdk"] == "ours" else run_official
    result = run(config, meter)
    result["exact_peak"] = meter.exact
    result["idle_mb"] = meter.idle_kb * 1024 / 1e6
    print(json.dumps(result))


if __name__ == "__main__":
    main()
