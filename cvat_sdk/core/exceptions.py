"""Errors of the multi-request helpers."""

from __future__ import annotations

from typing import Any

from cvat_sdk._runtime.exceptions import OpenApiException


class CvatSdkException(OpenApiException):
    """The base of the helpers' own errors."""


class BackgroundRequestFailed(CvatSdkException):
    """The server reported a background request (import, export, task creation) as failed."""

    def __init__(self, rq_id: str, message: str, request: Any = None) -> None:
        self.rq_id = rq_id
        self.message = message
        self.request = request
        super().__init__(f"background request {rq_id} failed: {message or 'no details given'}")


class BackgroundRequestTimeout(CvatSdkException, TimeoutError):
    """A background request did not finish within the time given."""

    def __init__(self, rq_id: str, timeout: float, last_status: str) -> None:
        self.rq_id = rq_id
        self.timeout = timeout
        self.last_status = last_status
        super().__init__(
            f"background request {rq_id} did not finish in {timeout:g} s (last status: "
            f"{last_status})"
        )


class UploadError(CvatSdkException):
    """An upload could not be completed (after the retries the settings allow)."""
