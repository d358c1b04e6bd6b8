"""``cvat-cli project ...``: list, create (optionally from a dataset), delete, datasets and
backups."""

from __future__ import annotations

import argparse
from typing import Any

from cvat_sdk.cli._base import Command, CommandGroup, Context, doing
from cvat_sdk.cli._inputs import existing_file, parse_labels, require_format
from cvat_sdk.cli._resource import (
    BackupCommand,
    CreateFromBackupCommand,
    DeleteCommand,
    ExportDatasetCommand,
    ImportDatasetCommand,
    ListCommand,
    add_status_check_period,
)

__all__ = ["COMMANDS"]

COMMANDS = CommandGroup("work with projects")


@COMMANDS.add("ls")
class ProjectList(ListCommand):
    kind = "project"
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
class ProjectDelete(DeleteCommand):
    kind = "project"
    summary = "delete projects and their tasks (all ids are checked first)"


@COMMANDS.add("backup")
class ProjectBackup(BackupCommand):
    summary = "save a backup of a project (with its tasks) to a file"
    kind = "project"


@COMMANDS.add("create-from-backup")
class ProjectCreateFromBackup(CreateFromBackupCommand):
    summary = "restore a project from a backup file; prints the new project's id"
    kind = "project"


@COMMANDS.add("export-dataset")
class ProjectExportDataset(ExportDatasetCommand):
    summary = "export a project's annotations (and images) as a dataset file"
    kind = "project"


@COMMANDS.add("import-dataset")
class ProjectImportDataset(ImportDatasetCommand):
    summary = "import a dataset file into a project (its tasks are created)"
    kind = "project"
    import_method = "import_dataset"
