"""Checks of command-line input, made before anything is created on the server.

Local checks (files, labels, booleans) raise :class:`UsageError` (exit 2); checks that need
the server (formats it knows, objects that exist) raise :class:`CliError` (exit 1).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cvat_sdk.cli._base import CliError, UsageError

if TYPE_CHECKING:
    from cvat_sdk.core.client import Client

__all__ = [
    "check_share_files",
    "existing_file",
    "expand_local_resources",
    "parse_bool",
    "parse_labels",
    "require_format",
    "retrieve",
]

_TRUE = frozenset({"1", "true", "yes", "on", "y", "t"})
_FALSE = frozenset({"0", "false", "no", "off", "n", "f"})
#: Words ``--with-images`` may take as a separate argument (not digits: those are ids).
BOOL_WORDS = frozenset(w for w in _TRUE | _FALSE if not w.isdigit())


def parse_bool(text: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise argparse.ArgumentTypeError(f"not a yes/no value: {text!r} (use true or false)")


def parse_labels(text: str) -> list[Any]:
    """``--labels``: JSON text, or the name of a file holding it; a list of label objects
    each with a ``name``."""
    path = Path(text)
    source = f"--labels {text!r}"
    stripped = text.lstrip()
    if not stripped.startswith(("[", "{")):
        try:
            is_file = path.is_file()
        except OSError:  # a name too long for the file system: it is meant as JSON
            is_file = False
        if not is_file:
            raise argparse.ArgumentTypeError(f"{text!r} is neither JSON text nor an existing file")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise argparse.ArgumentTypeError(f"cannot read {path}: {error}") from None
        source = f"labels file {str(path)!r}"
    try:
        labels = json.loads(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{source} is not valid JSON: {error}") from None
    if not isinstance(labels, list):
        raise argparse.ArgumentTypeError(
            f'{source} must hold a JSON list of labels, e.g. [{{"name": "cat"}}]'
        )
    for index, label in enumerate(labels):
        if not isinstance(label, dict) or not isinstance(label.get("name"), str):
            raise argparse.ArgumentTypeError(
                f'{source}: label {index} must be an object with a "name" string'
            )
    return labels


def existing_file(path: str, what: str) -> Path:
    """``path`` if it names a readable regular file, else a usage error naming ``what``."""
    file = Path(path)
    if not file.is_file():
        state = "is a directory" if file.is_dir() else "does not exist"
        raise UsageError(f"{what} {path!r} {state}")
    return file


def expand_local_resources(resources: list[str]) -> list[Path]:
    """Local files as given, directories as the files under them (hidden ones left out),
    in path order: ``local dataset_1/images/`` sends the images in the directory."""
    files: list[Path] = []
    for resource in resources:
        path = Path(resource)
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                raise UsageError(f"directory {resource!r} holds no files")
            files += found
        else:
            raise UsageError(f"local file {resource!r} does not exist")
    names: dict[str, Path] = {}
    for file in files:
        other = names.setdefault(file.name, file)
        if other != file:
            raise UsageError(
                f"{str(other)!r} and {str(file)!r} have the same name: CVAT keeps a task's "
                "files by name"
            )
    return files


def _formats(client: Client) -> tuple[list[str], list[str]]:
    formats, _ = client.api_client.server_api.retrieve_annotation_formats()
    return [str(f.name) for f in formats.importers], [str(f.name) for f in formats.exporters]


def require_format(client: Client, name: str, *, kind: str) -> None:
    """Refuse a format the server cannot import (``kind="import"``) or export."""
    importers, exporters = _formats(client)
    known = importers if kind == "import" else exporters
    if name in known:
        return
    other = exporters if kind == "import" else importers
    opposite = "export" if kind == "import" else "import"
    hint = f" (it is an {opposite} format)" if name in other else ""
    first = name.lower().split()[0] if name.strip() else ""
    close = [n for n in known if n.lower().split()[0] == first]
    if close:
        hint += f"; did you mean {' or '.join(repr(n) for n in close[:4])}?"
    else:
        hint += f"; it knows {', '.join(repr(n) for n in known[:6])}..." if known else ""
    raise CliError(f"the server cannot {kind} the format {name!r}{hint}")


def check_share_files(client: Client, resources: list[str]) -> None:
    """Refuse share paths the server's share does not have, from its listing of each parent
    directory (paths are taken as CVAT takes them: ``//share/a.avi`` is ``share/a.avi``
    under the share root). A server that cannot list its share is left to decide."""
    import posixpath

    from cvat_sdk._runtime.exceptions import ApiException

    listings: dict[str, set[str] | None] = {}
    for resource in resources:
        path = posixpath.normpath(resource).lstrip("/")
        parent, name = posixpath.split(path)
        if not name or name == ".":
            continue  # the share root itself
        if parent not in listings:
            try:
                entries, _ = client.api_client.server_api.list_share(directory=f"/{parent}")
                listings[parent] = {str(entry.name) for entry in entries}
            except ApiException as error:
                body = (error.body or b"").decode("utf-8", "replace")
                missing = error.status == 400 and "invalid directory" in body
                if not missing:
                    return  # a server that does not list its share this way
                raise CliError(
                    f"share resource {resource!r}: the server's share has no directory "
                    f"{parent or '/'!r}"
                ) from None
        found = listings[parent]
        if found is not None and name not in found:
            raise CliError(
                f"share resource {resource!r}: the server's share has no {name!r} in "
                f"{parent or '/'!r}"
            )


def retrieve(repo: Any, kind: str, obj_id: int) -> Any:
    """The object, or an error saying it does not exist (or is not visible to this user)."""
    from cvat_sdk._runtime.exceptions import NotFoundException

    try:
        return repo.retrieve(obj_id)
    except NotFoundException:
        raise CliError(f"{kind} {obj_id} does not exist (or is not visible to you)") from None
