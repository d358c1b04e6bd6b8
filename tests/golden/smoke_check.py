"""Run by test_golden.py in a subprocess whose sys.path holds the golden package (argv[1]).

Imports the generated golden client and exercises each kind of model it declares: objects
from dicts with a ``to_dict()`` round trip, enums (plain, blank, null), enum unions, wrapper
aliases, ``oneOf``/``anyOf`` unions and the API classes. Prints ``ok`` when all hold.
"""

from __future__ import annotations

import datetime
import io
import sys
from pathlib import Path
from typing import Any


def main(site: Path) -> None:
    import cvat_sdk
    from cvat_sdk.api_client import ApiClient, Configuration, apis, exceptions, models

    assert Path(cvat_sdk.__file__).resolve().is_relative_to(site), cvat_sdk.__file__

    # an object from a dict, nested wrappers and enums converted, and back
    data: dict[str, Any] = {
        "title": "Dune",
        "subtitle": None,
        "genre": "fiction",
        "binding": "hardcover",
        "language": "",
        "published": datetime.date(1965, 8, 1),
        "pages": 412,
        "tags": ["classic"],
        "target_storage": {"location": "local", "cloud_storage_id": None},
        "source_storage": {"location": "cloud_storage", "cloud_storage_id": 3},
    }
    book = models.BookWriteRequest(**data)
    assert book.to_dict() == data, book.to_dict()
    assert isinstance(book.genre, models.GenreEnum) and book.genre.value == "fiction"
    assert isinstance(book.binding, models.BindingEnum)
    assert isinstance(book.language, models.BlankEnum) and book.language == ""
    assert isinstance(book.target_storage, models.BookWriteRequestTargetStorage)
    assert isinstance(book.target_storage, models.StorageRequest)
    assert isinstance(book.source_storage, models.BookWriteRequestSourceStorage)
    assert models.BookWriteRequest("Dune").title == "Dune"  # required field, positional
    try:
        models.BookWriteRequest(title="")
    except exceptions.ApiValueError:
        pass
    else:
        raise AssertionError("minLength not checked")

    # enums
    assert models.GenreEnum("poetry").value == "poetry"
    assert set(models.GenreEnum.allowed_values[("value",)].values()) == {
        "fiction",
        "non_fiction",
        "poetry",
    }
    assert models.NullEnum._values == (None,) and models.BlankEnum._values == ("",)
    try:
        models.GenreEnum("drama")
    except exceptions.ApiValueError:
        pass
    else:
        raise AssertionError("an unknown enum value was accepted")

    # enum unions (a oneOf of enums, nullable or with a blank member)
    assert isinstance(models.BookReadBinding("paperback"), models.BindingEnum)
    assert models.BookReadBinding(None) is None
    assert isinstance(models.BookReadLanguage("de"), models.LanguageEnum)
    assert isinstance(models.BookReadLanguage(""), models.BlankEnum)
    assert models.ShelfReadDefaultGenre(None) is None

    # a response: read-only fields, the deduplicated wrapper, maps, any
    wire = {
        "url": "http://localhost/api/books/1",
        "id": 1,
        "title": "Dune",
        "genre": "fiction",
        "binding": None,
        "language": "en",
        "owner": {"id": 2, "username": "frank"},
        "created_date": "2024-01-02T03:04:05Z",
        "chapters": {"1": {"title": "Arrakis", "first_page": 1}},
        "attributes": {"series": "Dune"},
        "extra": [1, {"x": None}],
        "ISBN": "978-0441013593",
        "coverUrl": None,
    }
    read = models.BookRead._from_wire(dict(wire))
    assert isinstance(read.owner, models.BookReadOwner) and read.owner.username == "frank"
    assert isinstance(read.chapters["1"], models.Chapter)
    assert read.created_date == datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    assert read.to_dict()["owner"] == {"id": 2, "username": "frank"}
    shelf = models.ShelfRead._from_wire({"name": "sf", "owner": {"username": "frank"}})
    assert type(shelf.owner) is models.BookReadOwner  # ShelfRead.owner reuses BookRead's wrapper
    page = models.PaginatedBookReadList._from_wire({"count": 1, "next": None, "results": [wire]})
    assert isinstance(page.results[0], models.BookRead)

    # unions: anyOf / oneOf of objects, a oneOf with a binary member, a single-member oneOf
    hit = models.SearchHit(name="sf", capacity=3)
    assert hit.to_dict() == {"name": "sf", "capacity": 3}
    featured = models.ShelfReadFeatured._from_wire({"title": "Arrakis", "first_page": 1})
    assert featured.first_page == 1
    assert "file" in models.BookExportRead._members
    restore = models.RestoreWriteRequest(archive=io.BytesIO(b"zip"))
    assert restore.archive.read() == b"zip"

    # the API classes, their endpoints and the client properties
    assert sorted(apis.__all__) == ["BooksApi", "ServerApi", "ShelvesApi"]
    spec = apis.BooksApi.list_endpoint
    assert (spec.http_method, spec.path) == ("GET", "/api/books")
    assert spec.params["_from"].wire == "from"
    assert spec.params["x_organization"].wire == "X-Organization"
    assert apis.BooksApi.retrieve_export_endpoint.responses == {
        "200": "BookExportRead",
        "201": None,
        "202": "RqId",
    }
    assert apis.ServerApi.retrieve_about_endpoint.auth == ()
    # Any: mypy sees the repository's client here, the subprocess runs the golden one
    client: Any
    with ApiClient(Configuration(host="http://localhost")) as client:
        assert isinstance(client.books_api, apis.BooksApi)
        assert isinstance(client.shelves_api, apis.ShelvesApi)
        assert isinstance(client.server_api, apis.ServerApi)
    print("ok")


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve())
