"""Deterministic payloads shaped like CVAT 2.24.0 answers, so every run measures the same bytes.

The annotations follow the ``LabeledData`` schema (shapes, tracks with tracked shapes, attribute
values); floats carry full precision as a real server's do, which is what makes the JSON big.
"""

from __future__ import annotations

import json
import random
from typing import Any

JOB_ID = 1
USERNAME = "bench-user"
PASSWORD = "bench-password"  # a loopback test credential

SHAPES = 20_000
TRACKS = 200
SHAPES_PER_TRACK = 10
FRAMES = 500
LABELS = 12


def _points(rng: random.Random, count: int) -> list[float]:
    return [rng.uniform(0.0, 1920.0) for _ in range(count)]


def _attributes(rng: random.Random) -> list[dict[str, Any]]:
    return [
        {"spec_id": 1, "value": rng.choice(("true", "false"))},
        {"spec_id": 2, "value": str(rng.randrange(1000))},
    ]


def _shape(rng: random.Random, ident: int) -> dict[str, Any]:
    return {
        "type": "rectangle",
        "occluded": rng.random() < 0.1,
        "outside": False,
        "z_order": rng.randrange(4),
        "rotation": 0.0,
        "points": _points(rng, 4),
        "id": ident,
        "frame": rng.randrange(FRAMES),
        "label_id": rng.randrange(1, LABELS + 1),
        "group": 0,
        "source": "manual" if rng.random() < 0.8 else "auto",
        "attributes": _attributes(rng),
        "elements": [],
    }


def _tracked_shape(rng: random.Random, ident: int, frame: int) -> dict[str, Any]:
    return {
        "type": "rectangle",
        "occluded": False,
        "outside": False,
        "z_order": 0,
        "rotation": 0.0,
        "points": _points(rng, 4),
        "id": ident,
        "frame": frame,
        "attributes": [],
    }


def _track(rng: random.Random, ident: int, first_shape_id: int) -> dict[str, Any]:
    start = rng.randrange(FRAMES - SHAPES_PER_TRACK)
    return {
        "id": ident,
        "frame": start,
        "label_id": rng.randrange(1, LABELS + 1),
        "group": 0,
        "source": "manual",
        "shapes": [
            _tracked_shape(rng, first_shape_id + i, start + i) for i in range(SHAPES_PER_TRACK)
        ],
        "attributes": _attributes(rng),
        "elements": [],
    }


def labeled_data(shapes: int = SHAPES, tracks: int = TRACKS, seed: int = 2024) -> dict[str, Any]:
    """A job's annotations (``LabeledData``): ``shapes`` rectangles and ``tracks`` tracks."""
    rng = random.Random(seed)
    return {
        "version": 3,
        "tags": [],
        "shapes": [_shape(rng, 1 + i) for i in range(shapes)],
        "tracks": [_track(rng, 1 + i, 1 + i * SHAPES_PER_TRACK) for i in range(tracks)],
    }


def user() -> dict[str, Any]:
    """What ``GET /api/users/self`` answers (a ``User``)."""
    return {
        "url": "http://localhost/api/users/1",
        "id": 1,
        "username": USERNAME,
        "first_name": "Bench",
        "last_name": "User",
        "email": "bench@example.com",
        "groups": ["admin", "user"],
        "is_staff": True,
        "is_superuser": True,
        "is_active": True,
        "last_login": "2024-11-20T10:11:12.345678Z",
        "date_joined": "2023-01-02T03:04:05Z",
        "has_analytics_access": True,
    }


def encode(value: Any) -> bytes:
    """Compact UTF-8 JSON, as Django REST framework renders it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
