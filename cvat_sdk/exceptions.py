"""The errors of the generated client and of the helpers, under one documented name."""

from __future__ import annotations

from cvat_sdk._runtime.exceptions import (
    ApiAttributeError,
    ApiConnectionError,
    ApiException,
    ApiKeyError,
    ApiResponseError,
    ApiTimeoutError,
    ApiTypeError,
    ApiValueError,
    BadRequestException,
    ConflictException,
    ForbiddenException,
    NotFoundException,
    OpenApiException,
    RedirectError,
    ServiceException,
    UnauthorizedException,
)
from cvat_sdk.core.exceptions import (
    BackgroundRequestFailed,
    BackgroundRequestTimeout,
    CvatSdkException,
    UploadError,
)

__all__ = [
    "ApiAttributeError",
    "ApiConnectionError",
    "ApiException",
    "ApiKeyError",
    "ApiResponseError",
    "ApiTimeoutError",
    "ApiTypeError",
    "ApiValueError",
    "BackgroundRequestFailed",
    "BackgroundRequestTimeout",
    "BadRequestException",
    "ConflictException",
    "CvatSdkException",
    "ForbiddenException",
    "NotFoundException",
    "OpenApiException",
    "RedirectError",
    "ServiceException",
    "UnauthorizedException",
    "UploadError",
]
