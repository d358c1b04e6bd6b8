"""Where the helpers send requests for URLs the server gave: the configured host."""

from __future__ import annotations

import pytest

from cvat_sdk.core._urls import on_host, same_host


@pytest.mark.parametrize(
    ("host", "url", "base", "expected"),
    [
        # a TUS Location of another host and scheme (a proxy's view of the server)
        (
            "https://cvat.example",
            "http://backend:8080/api/x/1?a=b",
            None,
            "https://cvat.example/api/x/1?a=b",
        ),
        # a relative Location (TUS allows it), resolved against the creation URL
        (
            "https://cvat.example",
            "abc",
            "https://cvat.example/api/tasks/1/data/",
            "https://cvat.example/api/tasks/1/data/abc",
        ),
        (
            "https://cvat.example",
            "/api/tasks/1/data/abc",
            "https://cvat.example/api/tasks/1/data/",
            "https://cvat.example/api/tasks/1/data/abc",
        ),
        # a host with a path prefix: added when missing, kept when there
        ("https://e.org/cvat", "http://backend/api/f", None, "https://e.org/cvat/api/f"),
        ("https://e.org/cvat", "https://e.org/cvat/api/f", None, "https://e.org/cvat/api/f"),
        (
            "https://e.org/cvat",
            "data/abc",
            "https://e.org/cvat/api/tasks/1/data/",
            "https://e.org/cvat/api/tasks/1/data/data/abc",
        ),
        ("https://e.org/cvat", "https://e.org/cvatx/api", None, "https://e.org/cvat/cvatx/api"),
    ],
)
def test_on_host(host: str, url: str, base: str | None, expected: str) -> None:
    assert on_host(host, url, base) == expected


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("http://h.example/x", "https://h.example", True),  # behind a TLS-terminating proxy
        ("http://H.Example:80/x", "http://h.example", True),
        ("https://h.example:443", "http://h.example", True),
        ("http://h.example:8080", "https://h.example", False),
        ("http://other.example", "http://h.example", False),
        ("http://h.example:bad", "http://h.example", False),
    ],
)
def test_same_host(a: str, b: str, same: bool) -> None:
    assert same_host(a, b) is same
