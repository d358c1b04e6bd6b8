"""One documented high-level flow, runnable by this SDK and by the official one (each in its
own interpreter); prints the server state it ends in as JSON.

    python _flow.py HOST PORT USER PASSWORD WORKDIR NAME_PREFIX

Uses only what the documentation shows, so that both SDKs run it unchanged.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import sys
import zlib
from pathlib import Path
from typing import Any

from cvat_sdk import make_client, models
from cvat_sdk.core.proxies.tasks import ResourceType


def png(path: Path, width: int, height: int, seed: int) -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    rows = b"".join(
        b"\x00" + b"".join(bytes(((x + seed) % 256, (y * seed) % 256, 90)) for x in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return path


def state_of(task: Any) -> dict[str, Any]:
    annotations = task.get_annotations()
    return {
        "size": task.size,
        "frames": [f.name for f in task.get_meta().frames],
        "labels": sorted(label.name for label in task.get_labels()),
        "shapes": sorted((s.frame, str(s.type), list(s.points)) for s in annotations.shapes),
        "tags": len(annotations.tags),
        "jobs": sorted(str(j.stage) for j in task.get_jobs()),
    }


def media_of(task: Any, job: Any, files: list[Path]) -> dict[str, Any]:
    """Originals of the task and of its job (an explicit quality: the official
    Job.get_frame fails with its default), the preview and a chunk's member names."""
    chunk = io.BytesIO()
    task.download_chunk(0, chunk, quality="original")
    preview = task.get_preview().read()
    return {
        "task_frame_is_upload": task.get_frame(0, quality="original").read()
        == files[0].read_bytes(),
        "job_frame_is_upload": job.get_frame(2, quality="original").read() == files[2].read_bytes(),
        "preview": [preview[:3].hex(), hashlib.sha256(preview).hexdigest()],
        "chunk": sorted(__import__("zipfile").ZipFile(chunk).namelist()),
    }


def issues_of(client: Any, job: Any) -> None:
    """An issue with comments added, edited and removed, resolved; another one removed."""
    issue = client.issues.create(
        {"job": job.id, "frame": 1, "position": [1.0, 2.0, 5.0, 6.0], "message": "first"}
    )
    note = client.comments.create({"issue": issue.id, "message": "second"})
    note.update({"message": "edited"})
    client.comments.create({"issue": issue.id, "message": "to remove"}).remove()
    issue.update({"resolved": True})
    client.issues.create(
        {"job": job.id, "frame": 2, "position": [0.0, 0.0], "message": "gone"}
    ).remove()


def job_state(job: Any, user: str) -> list[Any]:
    assignee = job.assignee.username if job.assignee else None
    return [str(job.stage), str(job.state), assignee == user]


def main() -> None:
    host, port, user, password, workdir, prefix = sys.argv[1:7]
    work = Path(workdir)
    files = [
        png(work / name, 24, 16, seed) for seed, name in enumerate(["c.png", "a.png", "b.png"], 1)
    ]
    made: list[Any] = []
    result: dict[str, Any] = {}
    with make_client(host, port=int(port), credentials=(user, password)) as client:
        client.config.status_check_period = 0.5  # both SDKs read it at each wait
        try:
            project = client.projects.create(
                {"name": f"{prefix}-project", "labels": [{"name": "car"}, {"name": "bike"}]}
            )
            made.append(project)
            task = client.tasks.create_from_data(
                spec={"name": f"{prefix}-task", "project_id": project.id},
                resource_type=ResourceType.LOCAL,
                resources=[str(f) for f in files],
                data_params={"image_quality": 70, "sorting_method": "predefined"},
            )
            made.insert(0, task)
            label = next(lb for lb in task.get_labels() if lb.name == "car")
            task.set_annotations(
                models.LabeledDataRequest(
                    shapes=[
                        models.LabeledShapeRequest(
                            type="rectangle",
                            frame=f,
                            label_id=label.id,
                            points=[1.0, 2.0, 9.0, 8.0],
                        )
                        for f in range(3)
                    ],
                    tags=[models.LabeledImageRequest(frame=0, label_id=label.id)],
                )
            )
            job = task.get_jobs()[0]
            me = client.users.retrieve_current_user()
            job.update({"stage": "validation", "state": "in progress", "assignee": me.id})
            media = media_of(task, job, files)
            issues_of(client, job)
            task.export_dataset("CVAT for images 1.1", work / "export.zip", include_images=False)
            task.download_backup(work / "backup.zip")
            restored = client.tasks.create_from_backup(work / "backup.zip")
            made.insert(0, restored)
            task.download_frames(range(3), outdir=work / "frames", quality="original")
            result = {
                "task": state_of(task),
                "restored": state_of(restored),
                "project_tasks": len(project.get_tasks()),
                "job": job_state(client.jobs.retrieve(job.id), user),
                "issues": [
                    [
                        i.frame,
                        list(i.position),
                        i.resolved,
                        sorted(c.message for c in i.get_comments()),
                    ]
                    for i in job.get_issues()
                ],
                "media": media,
                "frame_files": sorted(p.name for p in (work / "frames").iterdir()),
                "export_names": sorted(
                    __import__("zipfile").ZipFile(work / "export.zip").namelist()
                ),
            }
        finally:
            for obj in made:
                try:
                    obj.remove()
                except Exception as error:  # report, but keep cleaning
                    result.setdefault("cleanup_errors", []).append(str(error)[:200])
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
