"""What the live tests share: the server from the environment, unique names, cleanup, images."""

from __future__ import annotations

import contextlib
import os
import struct
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cvat_sdk.api_client import ApiClient, Configuration, exceptions

ENV_URL, ENV_USER, ENV_PASSWORD = "CVAT_LIVE_URL", "CVAT_LIVE_USER", "CVAT_LIVE_PASSWORD"
MiB = 1 << 20


@dataclass(frozen=True)
class LiveServer:
    url: str
    user: str
    password: str

    def configuration(self, **options: Any) -> Configuration:
        return Configuration(host=self.url, username=self.user, password=self.password, **options)

    def client(self, **options: Any) -> ApiClient:
        return ApiClient(self.configuration(**options))


@contextlib.contextmanager
def throwaway_user(live: LiveServer, prefix: str) -> Iterator[tuple[str, str]]:
    """A new user (name, password) for one test: CVAT keeps one REST token per user and any
    logout deletes it, so token-based clients need a user nobody else logs in and out as.
    Deleted at the end, with the tasks and projects it still owns."""
    name = f"{prefix}{uuid.uuid4().hex[:10]}"
    password = f"Quiet-Harbor-{uuid.uuid4().hex[:6]}!"
    # registering opens a session of the new user: on a client of its own
    with ApiClient(Configuration(host=live.url)) as anonymous:
        anonymous.auth_api.create_register(
            {
                "username": name,
                "email": f"{name}@example.com",
                "password1": password,
                "password2": password,
                "first_name": prefix,
                "last_name": "test",
            }
        )
    with live.client() as admin:
        try:
            yield name, password
        finally:
            for kind in ("tasks", "projects"):
                api = getattr(admin, f"{kind}_api")
                for item in api.list(owner=name, page_size=100)[0].results:
                    api.destroy(item.id)
            (user,) = admin.users_api.list(username=name)[0].results
            admin.users_api.destroy(user.id)


def connect_live_server() -> LiveServer:
    url = os.environ.get(ENV_URL, "").rstrip("/")
    if not url:
        pytest.fail(
            f"{ENV_URL} is not set: the live suite needs a real CVAT server. "
            "`bash scripts/test.sh` brings one up (../shared/cvat-server) and sets it; "
            f"to use another, set {ENV_URL}, {ENV_USER} and {ENV_PASSWORD}.",
            pytrace=False,
        )
    server = LiveServer(
        url, os.environ.get(ENV_USER, "admin"), os.environ.get(ENV_PASSWORD, "Admin12345!")
    )
    try:
        with server.client() as api_client:
            about, _ = api_client.server_api.retrieve_about()
            api_client.users_api.retrieve_self()
    except exceptions.ApiException as error:
        pytest.fail(f"the live server at {url} does not answer as CVAT: {error}", pytrace=False)
    except Exception as error:
        pytest.fail(f"the live server at {url} cannot be reached: {error}", pytrace=False)
    if not str(about.version).startswith("2.24"):
        pytest.fail(f"the live suite is written for CVAT 2.24; {url} is {about.version}")
    return server


@dataclass
class Trash:
    """Unique names for one test's objects; what was made is deleted by :meth:`empty`."""

    live: LiveServer
    test_name: str
    _made: list[tuple[str, int]] = field(default_factory=list)

    def name(self, what: str = "") -> str:
        base = self.test_name.replace("[", "-").replace("]", "")[:60]
        return f"live-{base}{'-' + what if what else ''}-{uuid.uuid4().hex[:8]}"

    def add(self, kind: str, object_id: int) -> int:
        """Remember ``kind`` ("tasks", "projects", ...) ``object_id`` for deletion."""
        self._made.append((kind, int(object_id)))
        return int(object_id)

    def task(self, client: ApiClient, **fields: Any) -> int:
        body = {"name": self.name("task"), **fields}
        if "project_id" not in body:
            body.setdefault("labels", [{"name": "cat"}, {"name": "dog"}])
        task, _ = client.tasks_api.create(body)
        return self.add("tasks", task.id)

    def project(self, client: ApiClient, **fields: Any) -> int:
        body = {"name": self.name("project"), "labels": [{"name": "cat"}, {"name": "dog"}]}
        project, _ = client.projects_api.create({**body, **fields})
        return self.add("projects", project.id)

    def empty(self) -> None:
        """Delete in reverse order (tasks before their projects); a 404 is fine."""
        with self.live.client() as api_client:
            for kind, object_id in reversed(self._made):
                api = getattr(api_client, f"{kind}_api")
                with contextlib.suppress(exceptions.NotFoundException):
                    api.destroy(object_id)
        self._made.clear()


def png(path: Path, width: int, height: int, *, seed: int = 0, noise: bool = False) -> Path:
    """An RGB PNG written without an imaging library: a gradient, or random noise (which
    does not compress: ``noise=True`` makes files of about ``3 * width * height`` bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    if noise:
        rows = b"".join(b"\x00" + os.urandom(3 * width) for _ in range(height))
        level = 0
    else:
        rows = b"".join(
            b"\x00"
            + b"".join(
                bytes(((x + seed) % 256, (y + 2 * seed) % 256, (7 * seed) % 256))
                for x in range(width)
            )
            for y in range(height)
        )
        level = 6
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, level))
        + chunk(b"IEND", b"")
    )
    return path
