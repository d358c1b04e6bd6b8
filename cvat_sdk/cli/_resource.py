"""Commands that tasks and projects share: each subclass names its ``kind`` ("task",
"project"), and the command finds the repository and words its messages from it."""

from __future__ import annotations

import argparse
import json
from typing import Any

from cvat_sdk.cli._base import Command, Context, doing
from cvat_sdk.cli._inputs import existing_file, parse_bool, require_format, retrieve

__all__ = [
    "BackupCommand",
    "CreateFromBackupCommand",
    "DeleteCommand",
    "ExportDatasetCommand",
    "ImportDatasetCommand",
    "ListCommand",
    "add_status_check_period",
    "add_with_images",
]


def add_status_check_period(parser: argparse.ArgumentParser) -> None:
    """The official CLI's ``--completion_verification_period``: the longest pause between
    two polls of a background request."""
    parser.add_argument(
        "--completion_verification_period",
        dest="status_check_period",
        type=float,
        default=None,
        metavar="SECONDS",
        help="longest pause between checks of the server's progress (default: 2)",
    )


def add_with_images(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--with-images",
        dest="include_images",
        type=parse_bool,
        nargs="?",
        const=True,
        default=False,
        metavar="BOOL",
        help="include the images in the file (--with-images, or --with-images true|false; "
        "default: false)",
    )


def _add_format(parser: argparse.ArgumentParser, verb: str, default: str) -> None:
    parser.add_argument(
        "--format",
        dest="fileformat",
        default=default,
        help=f"{verb} format (default: %(default)s)",
    )


class ResourceCommand(Command):
    """A command on one kind of server object."""

    kind: str = "task"

    def repo(self, ctx: Context) -> Any:
        return getattr(ctx.client, f"{self.kind}s")

    def add_id(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(f"{self.kind}_id", type=int, help=f"{self.kind} id")

    def entity(self, ctx: Context, args: argparse.Namespace) -> Any:
        return retrieve(self.repo(ctx), self.kind, self.object_id(args))

    def object_id(self, args: argparse.Namespace) -> int:
        return int(getattr(args, f"{self.kind}_id"))


class ListCommand(ResourceCommand):
    """``ls``: ids one a line, or with ``--json`` the server's objects as a JSON array."""

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--json", dest="use_json", action="store_true", help="print the objects as JSON"
        )

    def run(self, ctx: Context, args: argparse.Namespace) -> None:
        repo = self.repo(ctx)
        if args.use_json:
            ctx.print(json.dumps(repo.list(return_json=True), indent=2))
            return
        from cvat_sdk.core.helpers import iter_paginated_collection

        # ids as each page arrives, read from the JSON (no models made for a long list)
        for item in iter_paginated_collection(repo.api.list_endpoint, return_json=True):
            ctx.print(item["id"])


class DeleteCommand(ResourceCommand):
    """``delete``: every id is checked first, so a wrong one deletes nothing."""

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("ids", type=int, nargs="+", metavar="ID", help=f"{self.kind} ids")

    def run(self, ctx: Context, args: argparse.Namespace) -> None:
        repo = self.repo(ctx)
        ids = list(dict.fromkeys(args.ids))
        for obj_id in ids:
            retrieve(repo, self.kind, obj_id)
        for obj_id in ids:
            repo.api.destroy(obj_id)
            ctx.logger.info("%s %d deleted", self.kind, obj_id)


class BackupCommand(ResourceCommand):
    """``backup``: the server's backup of one object, written to a file."""

    def configure(self, parser: argparse.ArgumentParser) -> None:
        self.add_id(parser)
        parser.add_argument("filename", help="the file to write")
        add_status_check_period(parser)

    def run(self, ctx: Context, args: argparse.Namespace) -> None:
        entity = self.entity(ctx, args)
        with doing(f"backing up {self.kind} {self.object_id(args)}"):
            entity.download_backup(
                args.filename,
                status_check_period=args.status_check_period,
                pbar=ctx.progress("downloading"),
            )


class CreateFromBackupCommand(ResourceCommand):
    """``create-from-backup``: a new object restored from a backup file; prints its id."""

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("filename", help="the backup file")
        add_status_check_period(parser)

    def run(self, ctx: Context, args: argparse.Namespace) -> None:
        existing_file(args.filename, "backup file")
        with doing(f"restoring a {self.kind} from {args.filename!r}"):
            made = self.repo(ctx).create_from_backup(
                args.filename,
                status_check_period=args.status_check_period,
                pbar=ctx.progress("uploading"),
            )
        ctx.print(made.id)


class ExportDatasetCommand(ResourceCommand):
    """``export-dataset``: annotations (and, if asked, images) in a dataset format."""

    def configure(self, parser: argparse.ArgumentParser) -> None:
        self.add_id(parser)
        parser.add_argument("filename", help="the file to write")
        _add_format(parser, "export", "CVAT for images 1.1")
        add_with_images(parser)
        add_status_check_period(parser)

    def run(self, ctx: Context, args: argparse.Namespace) -> None:
        entity = self.entity(ctx, args)
        require_format(ctx.client, args.fileformat, kind="export")
        with doing(f"exporting {self.kind} {self.object_id(args)} as {args.fileformat!r}"):
            entity.export_dataset(
                args.fileformat,
                args.filename,
                include_images=args.include_images,
                status_check_period=args.status_check_period,
                pbar=ctx.progress("downloading"),
            )


class ImportDatasetCommand(ResourceCommand):
    """``import-dataset``: a dataset file imported through the entity's ``import_method``."""

    import_method: str = "import_annotations"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        self.add_id(parser)
        parser.add_argument("filename", help="the file to import")
        _add_format(parser, "import", "CVAT 1.1")
        add_status_check_period(parser)

    def run(self, ctx: Context, args: argparse.Namespace) -> None:
        existing_file(args.filename, "dataset file")
        entity = self.entity(ctx, args)
        require_format(ctx.client, args.fileformat, kind="import")
        with doing(f"importing {args.filename!r} into {self.kind} {self.object_id(args)}"):
            getattr(entity, self.import_method)(
                args.fileformat,
                args.filename,
                status_check_period=args.status_check_period,
                pbar=ctx.progress("uploading"),
            )
