"""``cvat-cli project ...``: list, create (optionally from a dataset), delete, datasets and
backups."""

from __future__ import annotations

import argparse
from typing import Any

from cvat_sdk.cli._base import Command, CommandGroup, Context, doing
from cvat_sdk.cli._inputs import existing_file, parse_labels, require_format, retrieve
from cvat_sdk.cli.tasks import (
    DeleteCommand,
    ListCommand,
    add_status_check_period,
    add_with_images,
)

__all__ = ["COMMANDS"]

COMMANDS = CommandGroup("work with projects")


class _ProjectRepo:
    kind = "project"

    def repo(self, ctx: Context) -> Any:
        return ctx.client.projects


@COMMANDS.add("ls")
class ProjectList(_ProjectRepo, ListCommand):
    summary = "list projects (ids, or --json for the server's objects)"


@COMMANDS.add("create")
class ProjectCreate(Command):
    summary = "create a project, optionally from a dataset file; prints the new project's id"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("name", help="name of the project")
        parser.add_argument(
            "--bug_tracker", "--bug", default=None, metavar="URL", help="bug tracker URL"
        )
        parser.add_argument(
            "--labels",
            type=parse_labels,
            default=None,
            metavar="JSON|FILE",
            help='labels as JSON text or a JSON file, e.g. \'[{"name": "cat"}]\'',
        )
        parser.add_argument(
            "--dataset_file",
            "--dataset_path",
            dest="dataset_file",
            default="",
            metavar="FILE",
            help="a dataset to import into the new project",
        )
        parser.add_argument(
            "--dataset_format",
            default="CVAT 1.1",
            metavar="FORMAT",
            help="format of --dataset_file (default: %(default)s)",
        )
        add_status_check_period(parser)

    def run(self, ctx: Context, args: argparse.Namespace) -> None:
        if args.dataset_file:
            existing_file(args.dataset_file, "dataset file")
        spec: dict[str, Any] = {"name": args.name, "labels": args.labels or []}
        if args.bug_tracker is not None:
            spec["bug_tracker"] = args.bug_tracker
        client = ctx.client
        if args.dataset_file:
            require_format(client, args.dataset_format, kind="import")
        with doing(f"creating project {args.name!r}"):
            project = client.projects.create_from_dataset(
                spec,
                dataset_path=args.dataset_file,
                dataset_format=args.dataset_format,
                status_check_period=args.status_check_period,
                pbar=ctx.progress("uploading"),
            )
        ctx.print(project.id)


@COMMANDS.add("delete")
class ProjectDelete(_ProjectRepo, DeleteCommand):
    summary = "delete projects and their tasks (all ids are checked first)"


@COMMANDS.add("backup")
class ProjectBackup(Command):
    summary = "save a backup of a project (with its tasks) to a file"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("project_id", type=int, help="project id")
        parser.add_argument("filename", help="the file to write")
        add_status_check_period(parser)

    def run(self, ctx: Context, args: argparse.Namespace) -> None:
        project = retrieve(ctx.client.projects, "project", args.project_id)
        with doing(f"backing up project {args.project_id}"):
            project.download_backup(
                args.filename,
                status_check_period=args.status_check_period,
                pbar=ctx.progress("downloading"),
            )


@COMMANDS.add("create-from-backup")
class ProjectCreateFromBackup(Command):
    summary = "restore a project from a backup file; prints the new project's id"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("filename", help="the backup file")
        add_status_check_period(parser)

    def run(self, ctx: Context, args: argparse.Namespace) -> None:
        existing_file(args.filename, "backup file")
        with doing(f"restoring a project from {args.filename!r}"):
            project = ctx.client.projects.create_from_backup(
                args.filename,
                status_check_period=args.status_check_period,
                pbar=ctx.progress("uploading"),
            )
        ctx.print(project.id)


@COMMANDS.add("export-dataset")
class ProjectExportDataset(Command):
    summary = "export a project's annotations (and images) as a dataset file"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("project_id", type=int, help="project id")
        parser.add_argument("filename", help="the file to write")
        parser.add_argument(
            "--format",
            dest="fileformat",
            default="CVAT for images 1.1",
            help="export format (default: %(default)s)",
        )
        add_with_images(parser)
        add_status_check_period(parser)

    def run(self, ctx: Context, args: argparse.Namespace) -> None:
        project = retrieve(ctx.client.projects, "project", args.project_id)
        require_format(ctx.client, args.fileformat, kind="export")
        with doing(f"exporting project {args.project_id} as {args.fileformat!r}"):
            project.export_dataset(
                args.fileformat,
                args.filename,
                include_images=args.include_images,
                status_check_period=args.status_check_period,
                pbar=ctx.progress("downloading"),
            )


@COMMANDS.add("import-dataset")
class ProjectImportDataset(Command):
    summary = "import a dataset file into a project (its tasks are created)"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("project_id", type=int, help="project id")
        parser.add_argument("filename", help="the file to import")
        parser.add_argument(
            "--format",
            dest="fileformat",
            default="CVAT 1.1",
            help="import format (default: %(default)s)",
        )
        add_status_check_period(parser)

    def run(self, ctx: Context, args: argparse.Namespace) -> None:
        existing_file(args.filename, "dataset file")
        project = retrieve(ctx.client.projects, "project", args.project_id)
        require_format(ctx.client, args.fileformat, kind="import")
        with doing(f"importing {args.filename!r} into project {args.project_id}"):
            project.import_dataset(
                args.fileformat,
                args.filename,
                status_check_period=args.status_check_period,
                pbar=ctx.progress("uploading"),
            )
