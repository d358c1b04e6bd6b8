"""Streaming downloads to disk with the client's credentials."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from urllib3.exceptions import HTTPError

from cvat_sdk._runtime import settings
from cvat_sdk._runtime.exceptions import ApiConnectionError, ApiValueError
from cvat_sdk.core._urls import on_host, same_host
from cvat_sdk.core.progress import NullProgress, ProgressReporter

if TYPE_CHECKING:
    from cvat_sdk._runtime.client import BaseApiClient

__all__ = ["download_file"]


def download_file(
    api_client: BaseApiClient,
    url_or_path: str,
    dest: str | os.PathLike[str],
    *,
    progress: ProgressReporter | None = None,
) -> Path:
    """Stream a server file (an export's ``result_url``, a chunk...) to ``dest``.

    The bytes go to a temporary file beside ``dest`` that replaces it only when complete, so a
    failed download leaves nothing behind. Credentials are sent only to the configured host: a
    URL of another host is refused, and one of the same host (e.g. ``http://`` from behind a
    TLS-terminating proxy) is fetched with the configured scheme.
    """
    reporter = progress or NullProgress()
    host = api_client.configuration.host
    parts = urlsplit(url_or_path)
    if parts.netloc and not same_host(url_or_path, host):
        raise ApiValueError(
            f"{parts.netloc} is not the configured server ({host}); credentials are not sent "
            "to other hosts",
            ["url_or_path"],
        )
    url = on_host(host, url_or_path)
    headers = api_client.get_common_headers()
    queries: list[tuple[str, str]] = []
    api_client.update_params_for_auth(headers, queries, method="GET")
    target = Path(dest)
    target.parent.mkdir(parents=True, exist_ok=True)
    response = api_client.request(
        "GET", url, query_params=queries, headers=headers, _parse_response=False
    )
    handle, partial_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    partial = Path(partial_name)
    try:
        length = response.headers.get("Content-Length")
        reporter.start(int(length) if length and length.isdigit() else None)
        with os.fdopen(handle, "wb") as out:
            try:
                while chunk := response.read(settings.DOWNLOAD_CHUNK_SIZE):
                    out.write(chunk)
                    reporter.advance(len(chunk))
            except (HTTPError, OSError) as error:
                raise ApiConnectionError("GET", url, error) from None
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        response.release_conn()
        reporter.finish()
    return target
