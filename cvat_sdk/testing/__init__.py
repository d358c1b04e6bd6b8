"""A fake CVAT 2.24 server for tests: in memory, on 127.0.0.1, in a background thread.

    from cvat_sdk.testing import FakeCvatServer

    with FakeCvatServer() as server:  # one user: "admin", password "password"
        ...  # point the client at server.url
        server.uploaded_files(task_id)  # what a task's data upload delivered, byte for byte
        server.faults.drop_connection_after(100_000, path_prefix="/api/tasks/1/data/")
        server.faults.fail_next(503, headers={"Upload-Finish": "true"})  # picks one request
        server.faults.drop_response_after(1000, path_prefix="/api/tasks/1/dataset")
        server.request_log  # every request received, e.g. to count re-sent chunks
        server.seed_tasks(10_000)  # a long list to page through, in milliseconds

    FakeCvatServer(public_url="http://backend:8080")  # names itself as behind a proxy

It answers the projects, tasks, jobs, labels, annotations, organizations, auth, upload (TUS and
bulk), import, export, backup and /api/requests endpoints as CVAT does, with bodies that follow
the 2.24 schema, and it refuses what a real CVAT 2.24 refuses: a bulk request without
image_quality, a TUS creation without Origin, a file name used twice, a second download of an
export... (docs/fake-server-fidelity.md lists the rules; tests/live/test_fidelity.py compares
them with a real server). What it does not do: decode media (each uploaded file is one frame),
convert annotation formats (exports hold the fake's own JSON layout, which it reads back on
import), or read files from cloud storage or a share (its share is empty).
"""

from __future__ import annotations

from ._faults import Faults
from ._server import FakeCvatServer, LoggedRequest

__all__ = ["FakeCvatServer", "Faults", "LoggedRequest"]
