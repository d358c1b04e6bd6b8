"""Generating the client from a schema a server serves at ``/api/schema/``, as CVAT does."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.contract import _schema, _tools
from tests.contract.conftest import Contract

VERSION = "2.24.0"


class SchemaServer(ThreadingHTTPServer):
    """Serves one schema as JSON at /api/schema/ and records the requests' Accept headers."""

    def __init__(self, body: bytes) -> None:
        super().__init__(("127.0.0.1", 0), SchemaHandler)
        self.body = body
        self.accepts: list[str] = []


class SchemaHandler(BaseHTTPRequestHandler):
    server: SchemaServer

    def do_GET(self) -> None:
        if self.path.split("?")[0] != "/api/schema/":
            self.send_error(404)
            return
        self.server.accepts.append(self.headers.get("Accept", ""))
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.oai.openapi+json")
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def schema_server() -> Iterator[SchemaServer]:
    document = _schema.load(_schema.SCHEMA_FILES[VERSION])
    server = SchemaServer(json.dumps(document).encode())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_generate_from_url(contract: Contract, schema_server: SchemaServer, tmp_path: Path) -> None:
    port = schema_server.server_address[1]
    url = f"http://127.0.0.1:{port}/api/schema/"
    site = tmp_path / "site"
    output = _tools.finish(_tools.start_generation(url, site), f"python -m gen --schema {url}")
    assert VERSION in output
    assert schema_server.accepts, "the generator did not download the schema"
    assert "json" in schema_server.accepts[0]

    # the same package as from the schema file, byte for byte
    from_url = _tree(site / "cvat_sdk" / "api_client")
    from_file = _tree(contract.site(VERSION) / "cvat_sdk" / "api_client")
    assert sorted(from_url) == sorted(from_file)
    differing = [name for name in from_url if from_url[name] != from_file[name]]
    assert not differing, f"generated files differ from the file-based build: {differing[:10]}"

    # and it imports, with one endpoint per operation of the schema
    probe = (
        "import importlib, pkgutil\n"
        "from cvat_sdk.api_client import SCHEMA_VERSION, apis\n"
        "count = 0\n"
        "for info in pkgutil.iter_modules(apis.__path__):\n"
        "    module = importlib.import_module(apis.__name__ + '.' + info.name)\n"
        "    for cls in vars(module).values():\n"
        "        if isinstance(cls, type) and cls.__module__ == module.__name__:\n"
        "            count += sum(n.endswith('_endpoint') for n in vars(cls))\n"
        "print(SCHEMA_VERSION, count)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    operations = len(_schema.operations(_schema.load(_schema.SCHEMA_FILES[VERSION])))
    assert done.stdout.split() == [VERSION, str(operations)]
