"""The comparison itself: it must see the differences it is there to find."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from tests.equivalence import _compare, _deliberate
from tests.equivalence._compare import Difference
from tests.support.loopback import Recorded

BOUNDARY = "b0undary"


def _form(*parts: tuple[str, str | None, bytes]) -> bytes:
    chunks = []
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"'
        if filename:
            disposition += f'; filename="{filename}"'
        head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        chunks.append(head + content + b"\r\n")
    return b"".join(chunks) + f"--{BOUNDARY}--\r\n".encode()


def _request(target: str, body: bytes = b"", content_type: str = "") -> Recorded:
    path, _, query = target.partition("?")
    headers = {"Authorization": "Basic x"}
    if content_type:
        headers["Content-Type"] = content_type
    return Recorded("POST", path, parse_qsl(query, keep_blank_values=True), headers, body)


def _context(**overrides: object) -> _deliberate.Context:
    values: dict[str, object] = {
        "own_type": False,
        "ours": {},
        "official": {},
        "bodies_empty": False,
        "answer_body": b"",
    }
    values.update(overrides)
    return _deliberate.Context(**values)  # type: ignore[arg-type]


def test_json_bodies_are_compared_as_data() -> None:
    ours = _compare.request_view(_request("/a", b'{"x": 1, "y": [1]}', "application/json"))
    same = _compare.request_view(_request("/a", b'{"y": [1],"x": 1}', "application/json"))
    other = _compare.request_view(_request("/a", b'{"x": 1.0, "y": [true]}', "application/json"))
    assert _compare.differences(ours, same, "r") == []
    found = {d.where for d in _compare.differences(ours, other, "r")}
    assert found == {"r.body.json.x", "r.body.json.y[0]"}  # 1 is not 1.0, nor True


def test_query_values_keep_their_order_per_name() -> None:
    ours = _compare.request_view(_request("/a?b=2&a=1&a=2"))
    reordered = _compare.request_view(_request("/a?a=1&b=2&a=2"))
    swapped = _compare.request_view(_request("/a?a=2&a=1&b=2"))
    assert _compare.differences(ours, reordered, "r") == []
    assert {d.where for d in _compare.differences(ours, swapped, "r")} == {
        "r.query.a[0]",
        "r.query.a[1]",
    }


def test_multipart_forms_are_compared_by_field_name_filename_and_content() -> None:
    content_type = f"multipart/form-data; boundary={BOUNDARY}"
    ours = _form(("n", None, b"1"), ("f[0]", "a.txt", b"AAA"), ("f[1]", "b.txt", b"BBB"))
    reordered = _form(("f[0]", "a.txt", b"AAA"), ("f[1]", "b.txt", b"BBB"), ("n", None, b"1"))
    renamed = _form(("n", None, b"1"), ("f", "a.txt", b"AAA"), ("f", "b.txt", b"BBB"))
    other_file = _form(("n", None, b"1"), ("f[0]", "a.txt", b"AAB"), ("f[1]", "b.txt", b"BBB"))
    view = _compare.request_view(_request("/a", ours, content_type))
    assert view["body"]["parts"]["f[0]"] == [{"filename": "a.txt", "value": "AAA"}]
    for body, expected in ((reordered, set()), (renamed, {"r.body.parts"}), (other_file, None)):
        found = _compare.differences(
            view, _compare.request_view(_request("/a", body, content_type)), "r"
        )
        if expected is None:
            assert [d.where for d in found] == ["r.body.parts.f[0][0].value"]
        else:
            assert {d.where.rsplit(".", 1)[0] for d in found} == expected


def test_rules_match_only_what_they_describe() -> None:
    booleans = next(r for r in _deliberate.RULES if r.key == "json-booleans")
    assert booleans.applies(Difference("q.a[0]", "true", "True"), _context())
    assert not booleans.applies(Difference("q.a[0]", "1", "True"), _context())
    csrf = next(r for r in _deliberate.RULES if r.key == "csrf-token-sent")
    both = "csrftoken=c; sessionid=s"
    assert csrf.applies(Difference("r.cookie", both, "sessionid=s"), _context())
    assert not csrf.applies(Difference("r.cookie", both, "sessionid=t"), _context())
    assert not csrf.applies(Difference("r.cookie", "sessionid=s; x=1", "sessionid=s"), _context())
    raw = b'"text"'
    as_received = {"data": {"$binary": "InRleHQi"}}
    binary = next(r for r in _deliberate.RULES if r.key == "bytes-as-received")
    assert json.loads(raw) == "text"
    assert binary.applies(
        Difference("result.data.$binary", "InRleHQi", "dGV4dA=="),
        _context(ours=as_received, answer_body=raw),
    )
    assert not binary.applies(
        Difference("result.data.$binary", "InRleHQi", "dGV4dA=="),
        _context(ours=as_received, answer_body=b"text"),
    )
    numbers = next(r for r in _deliberate.RULES if r.key == "numbers-as-decoded")
    assert numbers.applies(Difference("result.data.x", 2, 2.0), _context())
    assert not numbers.applies(Difference("result.data.x", 2, 2.5), _context())
    assert not numbers.applies(Difference("request.body.json.x", 2, 2.0), _context())
