"""Helpers for the helpers' tests: files on disk, tasks, a progress recorder, a server process."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cvat_sdk.api_client import ApiClient

REPO = Path(__file__).resolve().parents[2]
MiB = 1 << 20


def write_random(path: Path, size: int, piece: int = 8 * MiB) -> Path:
    """A file of random bytes, written in pieces: never `size` bytes in memory at once."""
    with path.open("wb") as out:
        left = size
        while left > 0:
            out.write(os.urandom(min(piece, left)))
            left -= piece
    return path


def same_bytes(a: Path, b: Path, piece: int = 4 * MiB) -> bool:
    """Whether two files hold the same bytes, compared piece by piece."""
    if a.stat().st_size != b.stat().st_size:
        return False
    with a.open("rb") as fa, b.open("rb") as fb:
        while True:
            left, right = fa.read(piece), fb.read(piece)
            if left != right:
                return False
            if not left:
                return True


def create_task(client: ApiClient, name: str = "task", **fields: Any) -> int:
    body = {"name": name, "labels": [{"name": "cat"}, {"name": "dog"}], **fields}
    task, _ = client.tasks_api.create(body)
    return int(task.id)


class RecordingProgress:
    """A ProgressReporter that keeps every call, to check totals and order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int | None]] = []

    def start(self, total: int | None) -> None:
        self.events.append(("start", total))

    def advance(self, n: int) -> None:
        self.events.append(("advance", n))

    def finish(self) -> None:
        self.events.append(("finish", None))

    @property
    def advanced(self) -> int:
        return sum(n or 0 for kind, n in self.events if kind == "advance")

    def check(self, total: int) -> None:
        """start(total) first, finish() last and once, advances in between that add up."""
        kinds = [kind for kind, _ in self.events]
        assert self.events[0] == ("start", total), self.events[:3]
        assert kinds[-1] == "finish" and kinds.count("finish") == 1 and kinds.count("start") == 1
        assert all(n is not None and n > 0 for kind, n in self.events[1:-1]), self.events
        assert set(kinds[1:-1]) <= {"advance"}
        assert self.advanced == total


@contextlib.contextmanager
def server_process(tasks: int) -> Iterator[str]:
    """A FakeCvatServer with `tasks` seeded tasks in a process of its own (so that what the
    server allocates does not count in this process's tracemalloc figures); yields its URL."""
    code = (
        "import sys\n"
        "from cvat_sdk.testing import FakeCvatServer\n"
        "with FakeCvatServer() as server:\n"
        "    server.seed_tasks(int(sys.argv[1]))\n"
        "    print(server.url, flush=True)\n"
        "    sys.stdin.read()\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    with subprocess.Popen(
        [sys.executable, "-c", code, str(tasks)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    ) as process:
        assert process.stdout is not None and process.stdin is not None
        try:
            url = process.stdout.readline().strip()
            assert url.startswith("http://"), "the server process did not start"
            yield url
        finally:
            process.stdin.close()
            process.wait(timeout=30)
