"""What is compared between the two SDKs' requests and results, as plain data."""

from __future__ import annotations

import base64
import email.parser
import email.policy
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from tests.support.loopback import Recorded

#: The headers compared (lower case); the rest (User-Agent, Accept-Encoding...) may differ.
COMPARED_HEADERS = ("authorization", "accept", "cookie", "x-csrftoken")


def request_view(request: Recorded) -> dict[str, Any]:
    """Method, path, query (values per name, in order), the compared headers, and the body as
    data: JSON parsed, multipart forms as their parts, anything else as bytes."""
    query: dict[str, list[str]] = {}
    for name, value in request.query:
        query.setdefault(name, []).append(value)
    headers = {k.lower(): v for k, v in request.headers.items()}
    content_type = headers.get("content-type", "")
    media = content_type.split(";")[0].strip().lower()
    view: dict[str, Any] = {
        "method": request.method,
        "path": unquote(request.path),
        "query": query,
        "content-type": media or None,
    }
    for name in COMPARED_HEADERS:
        view[name] = headers.get(name)
    view["body"] = body_view(media, content_type, request.body)
    return view


def body_view(media: str, content_type: str, body: bytes) -> Any:
    if not body:
        return None
    if media.endswith("json"):
        try:
            return {"json": json.loads(body)}
        except ValueError:
            pass
    if media == "multipart/form-data":
        return {"parts": multipart_parts(content_type, body)}
    return {"bytes": base64.b64encode(body).decode()}


def multipart_parts(content_type: str, body: bytes) -> dict[str, list[dict[str, Any]]]:
    """The parts per field name, in the order sent (the order between names carries no
    meaning in a form); each with its filename and content, JSON parts parsed."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    parts: dict[str, list[dict[str, Any]]] = {}
    for part in message.iter_parts():
        content = part.get_payload(decode=True) or b""
        media = part.get_content_type() if part.get("Content-Type") else None
        value: Any
        if media and media.endswith("json"):
            value = {"json": json.loads(content)}
        else:
            try:
                value = content.decode("utf-8")
            except UnicodeDecodeError:
                value = {"bytes": base64.b64encode(content).decode()}
        name = str(part.get_param("name", header="content-disposition"))
        parts.setdefault(name, []).append({"filename": part.get_filename(), "value": value})
    return parts


@dataclass(frozen=True)
class Difference:
    """One place where the two SDKs disagree; ``MISSING`` where one side has nothing."""

    where: str
    ours: Any
    official: Any

    def __str__(self) -> str:
        return f"{self.where}: ours {_short(self.ours)}, official {_short(self.official)}"


MISSING = "<missing>"


def differences(ours: Any, official: Any, where: str) -> list[Difference]:
    """Every leaf where two JSON-like values differ (a bool is not an int, 0 is not 0.0)."""
    if isinstance(ours, dict) and isinstance(official, dict):
        found = []
        for key in dict.fromkeys([*ours, *official]):
            left, right = ours.get(key, MISSING), official.get(key, MISSING)
            found += differences(left, right, f"{where}.{key}")
        return found
    if isinstance(ours, list) and isinstance(official, list) and len(ours) == len(official):
        found = []
        for index, (left, right) in enumerate(zip(ours, official, strict=True)):
            found += differences(left, right, f"{where}[{index}]")
        return found
    if ours == official and type(ours) is type(official):
        return []
    return [Difference(where, ours, official)]


def _short(value: Any) -> str:
    text = json.dumps(value, default=repr)
    return text if len(text) <= 160 else text[:157] + "..."
