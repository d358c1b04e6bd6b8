"""A client library for the CVAT REST API.

``cvat_sdk.api_client`` is generated from a CVAT server schema at install time; the helpers in
``cvat_sdk.core`` build multi-request workflows on it, and ``cvat_sdk.testing`` offers an
in-memory CVAT-compatible server for tests.
"""
