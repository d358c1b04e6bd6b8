"""Helpers for work that takes more than one request: listing everything, uploads, downloads
and background requests, on top of :mod:`cvat_sdk.api_client`."""
