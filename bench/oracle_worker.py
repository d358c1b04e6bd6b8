"""Measures the official cvat-sdk 2.24.0 against the floor, in a process of its own.

Run by ``bench.oracle`` as ``python bench/oracle_worker.py CONFIG_JSON`` with only the
``.oracle`` directory on ``PYTHONPATH``: the official package is also named ``cvat_sdk``, so it
must never share an interpreter with ours. Prints one JSON object with the samples.
"""

from __future__ import annotations

import json
import sys
from typing import Any

# beside this file, not via the bench package: /work/main must stay off sys.path here
from floor import (  # type: ignore[import-not-found]
    Floor,
    interleave,
    retained_bytes,
    timed,
    timed_loop,
)


def _client(url: str, username: str, password: str) -> Any:
    import cvat_sdk
    from cvat_sdk.api_client import ApiClient, Configuration

    if "/.oracle/" not in (cvat_sdk.__file__ or ""):
        raise RuntimeError(f"not the official SDK: {cvat_sdk.__file__}")
    return ApiClient(Configuration(host=url, username=username, password=password))


def run(config: dict[str, Any]) -> dict[str, Any]:
    scenario = config["scenario"]
    floor = Floor(config["url"], config["authorization"])
    client = _client(config["url"], config["username"], config["password"])
    jobs, users = client.jobs_api, client.users_api
    rounds = config["rounds"]
    if scenario == "get_annotations":
        samples = interleave(
            {
                "floor": lambda: timed(floor.get_annotations),
                "official": lambda: timed(lambda: jobs.retrieve_annotations(1)[0]),
            },
            rounds,
        )
    elif scenario == "put_annotations":
        payload = floor.get_annotations()

        def official_put() -> Any:
            _, response = jobs.update_annotations(1, job_annotations_update_request=payload)
            return json.loads(response.data)

        samples = interleave(
            {
                "floor": lambda: timed(lambda: floor.put_annotations(payload)),
                "official": lambda: timed(official_put),
            },
            rounds,
        )
    elif scenario == "get_self":
        calls = config["calls"]
        floor.get_self()
        users.retrieve_self()
        samples = interleave(
            {
                "floor": lambda: timed_loop(floor.get_self, calls),
                "official": lambda: timed_loop(users.retrieve_self, calls),
            },
            rounds,
        )
    elif scenario == "memory":
        import cvat_sdk.api_client.models  # noqa: F401 (up front: not the payload's cost)

        samples = {
            "floor": [float(retained_bytes(floor.get_annotations))],
            "official": [float(retained_bytes(lambda: jobs.retrieve_annotations(1)[0]))],
        }
    else:
        raise SystemExit(f"unknown scenario {scenario!r}")
    return {"scenario": scenario, "samples": samples}


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))))
