"""The on-disk cache of task data: one directory per server and task.

Layout under ``Config.cache_dir``::

    servers/<server>/tasks/<id>/task.json         the task as the server sent it
    servers/<server>/tasks/<id>/meta.json         its data meta
    servers/<server>/tasks/<id>/labels.json       its labels (a JSON list)
    servers/<server>/tasks/<id>/annotations.json  its annotations
    servers/<server>/tasks/<id>/manifest.json     which task version each file belongs to
    servers/<server>/tasks/<id>/chunks/<n>.zip    original-quality chunks (image tasks)
    servers/<server>/tasks/<id>/frames/<n>.png    original-quality frames (video tasks)

JSON files hold the bytes the server answered, so reading them back goes through the same
model readers as a fresh answer. Every file is written to a temporary name and renamed, so an
interrupted run leaves whole files or none.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

__all__ = ["TaskCache", "server_key", "write_atomic"]


def server_key(host: str) -> str:
    """A directory name for a server URL (``http://127.0.0.1:8080`` -> ``http_127.0.0.1_8080``)."""
    return re.sub(r"[^A-Za-z0-9.-]+", "_", host.rstrip("/")).strip("_") or "server"


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        Path(partial).replace(path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


class TaskCache:
    """The cached files of one task on one server."""

    def __init__(self, cache_dir: Path, host: str, task_id: int) -> None:
        self.root = Path(cache_dir) / "servers" / server_key(host) / "tasks" / str(task_id)
        self._lock = threading.Lock()  # parts are fetched in parallel; one manifest

    # --- JSON documents with the task version they were fetched for ----------------------
    def _manifest(self) -> dict[str, Any]:
        try:
            value = json.loads((self.root / "manifest.json").read_bytes())
        except (OSError, ValueError):
            return {}
        return value if isinstance(value, dict) else {}

    def version_of(self, name: str) -> str | None:
        """The task ``updated_date`` (or chunk date) the cached ``name`` was fetched for."""
        version = self._manifest().get(name)
        if isinstance(version, str) and (self.root / f"{name}.json").exists():
            return version
        return None

    def read(self, name: str) -> bytes | None:
        try:
            return (self.root / f"{name}.json").read_bytes()
        except OSError:
            return None

    def write(self, name: str, data: bytes, version: str) -> None:
        write_atomic(self.root / f"{name}.json", data)
        self.set_version(name, version)

    def set_version(self, name: str, version: str) -> None:
        with self._lock:
            manifest = self._manifest()
            manifest[name] = version
            write_atomic(self.root / "manifest.json", json.dumps(manifest).encode())

    def raw_version(self, name: str) -> str | None:
        """A manifest entry without a file of its own (the chunks' date)."""
        version = self._manifest().get(name)
        return version if isinstance(version, str) else None

    # --- media --------------------------------------------------------------------------
    def chunk_path(self, number: int) -> Path:
        return self.root / "chunks" / f"{number}.zip"

    def frame_path(self, index: int) -> Path:
        return self.root / "frames" / f"{index}.png"

    def drop_media(self) -> None:
        """Forget every chunk and frame (the server's media changed)."""
        for sub in ("chunks", "frames"):
            with contextlib.suppress(FileNotFoundError):
                shutil.rmtree(self.root / sub)
