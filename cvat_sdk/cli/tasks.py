"""``cvat-cli task ...``: list, create, delete, frames, dataset export and import, backups."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from cvat_sdk.cli._base import CliError, Command, CommandGroup, Context, UsageError, doing
from cvat_sdk.cli._inputs import (
    check_share_files,
    existing_file,
    expand_local_resources,
    parse_labels,
    require_format,
    retrieve,
)
from cvat_sdk.cli._resource import (
    BackupCommand,
    CreateFromBackupCommand,
    DeleteCommand,
    ExportDatasetCommand,
    ImportDatasetCommand,
    ListCommand,
    add_status_check_period,
)

if TYPE_CHECKING:
    from cvat_sdk.core.proxies.tasks import Task

__all__ = ["COMMANDS"]

COMMANDS = CommandGroup("work with tasks")

SORTING_METHODS = ("lexicographical", "natural", "predefined", "random")
RESOURCE_TYPES = ("local", "share", "remote")


def _bug_tracker(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bug_tracker", "--bug", default=None, metavar="URL", help="bug tracker URL"
    )


# --- task commands ----------------------------------------------------------------------------
@COMMANDS.add("ls")
class TaskList(ListCommand):
    summary = "list tasks (ids, or --json for the server's objects)"


@COMMANDS.add("create")
class TaskCreate(Command):
    summary = "create a task from local files, files on the server's share, or URLs"
    description = (
        "Create a task and attach its data; prints the new task's id.\n\n"
        "Labels come from --labels (JSON text or a file) or from the project (--project_id).\n"
        "A local directory stands for the files under it. If attaching the data or importing\n"
        "--annotation_path fails, the task is deleted again."
    )

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("name", help="name of the task")
        parser.add_argument("resource_type", choices=RESOURCE_TYPES, help="where the files are")
        parser.add_argument(
            "resources", nargs="+", metavar="RESOURCE", help="local paths, share paths or URLs"
        )
        parser.add_argument(
            "--annotation_path", default="", metavar="FILE", help="annotations to import"
        )
        parser.add_argument(
            "--annotation_format",
            default="CVAT 1.1",
            metavar="FORMAT",
            help="format of --annotation_path (default: %(default)s)",
        )
        _bug_tracker(parser)
        parser.add_argument("--chunk_size", type=int, help="frames per chunk")
        add_status_check_period(parser)
        parser.add_argument(
            "--copy_data",
            action="store_true",
            help="copy files from the share into the task (share only)",
        )
        parser.add_argument("--frame_step", type=int, help="take every N-th frame")
        parser.add_argument(
            "--image_quality",
            type=int,
            default=70,
            help="quality of compressed images, 0-100 (default: %(default)s)",
        )
        parser.add_argument(
            "--labels",
            type=parse_labels,
            default=None,
            metavar="JSON|FILE",
            help='labels as JSON text or a JSON file, e.g. \'[{"name": "cat"}]\'',
        )
        parser.add_argument("--project_id", type=int, help="put the task in this project")
        parser.add_argument("--overlap", type=int, help="frames shared by adjacent segments")
        parser.add_argument("--segment_size", type=int, help="frames per segment (job)")
        parser.add_argument(
            "--sorting-method",
            dest="sorting_method",
            choices=SORTING_METHODS,
            default="lexicographical",
            help="order of the frames (default: %(default)s)",
        )
        parser.add_argument("--start_frame", type=int, help="first frame of a video to take")
        parser.add_argument("--stop_frame", type=int, help="last frame of a video to take")
        parser.add_argument("--use_cache", action="store_true", help="make chunks on demand")
        parser.add_argument(
            "--use_zip_chunks", action="store_true", help="send chunks as zip archives"
        )
        parser.add_argument(
            "--cloud_storage_id", type=int, help="take the share files from this cloud storage"
        )
        parser.add_argument(
            "--filename_pattern",
            metavar="PATTERN",
            help="take the files of the cloud storage's manifest that match (*, ?, [seq])",
        )

    def run(self, ctx: Context, args: argparse.Namespace) -> None:
        from cvat_sdk.core.proxies.tasks import ResourceType

        resource_type = ResourceType[args.resource_type.upper()]
        resources: list[Any] = list(args.resources)
        if resource_type is ResourceType.LOCAL:
            resources = expand_local_resources(resources)
        elif resource_type is ResourceType.REMOTE:
            for url in resources:
                if not url.startswith(("http://", "https://", "ftp://")):
                    raise UsageError(f"remote resource {url!r} is not an http(s) or ftp URL")
        if args.annotation_path:
            existing_file(args.annotation_path, "annotation file")
        for name in ("chunk_size", "frame_step", "segment_size"):
            value = getattr(args, name)
            if value is not None and value < 1:
                raise UsageError(f"--{name} must be at least 1, got {value}")
        if not 0 <= args.image_quality <= 100:
            raise UsageError(f"--image_quality must be 0-100, got {args.image_quality}")
        if args.labels is None and args.project_id is None:
            ctx.logger.warning("the task gets no labels: give --labels or --project_id")

        spec: dict[str, Any] = {"name": args.name}
        if args.labels is not None:
            spec["labels"] = args.labels
        elif args.project_id is None:
            spec["labels"] = []
        for name in ("bug_tracker", "overlap", "segment_size", "project_id"):
            if getattr(args, name) is not None:
                spec[name] = getattr(args, name)
        data: dict[str, Any] = {
            "image_quality": args.image_quality,
            "sorting_method": args.sorting_method,
            "use_cache": args.use_cache,
            "use_zip_chunks": args.use_zip_chunks,
            "copy_data": args.copy_data,
        }
        for name in ("chunk_size", "start_frame", "stop_frame", "cloud_storage_id"):
            if getattr(args, name) is not None:
                data[name] = getattr(args, name)
        if args.filename_pattern is not None:
            data["filename_pattern"] = args.filename_pattern
        if args.frame_step is not None:
            data["frame_filter"] = f"step={args.frame_step}"

        client = ctx.client
        if args.annotation_path:
            require_format(client, args.annotation_format, kind="import")
        if args.project_id is not None:
            retrieve(client.projects, "project", args.project_id)
        if resource_type is ResourceType.SHARE and args.cloud_storage_id is None:
            check_share_files(client, resources)
        with doing(f"creating task {args.name!r}"):
            task = client.tasks.create_from_data(
                spec,
                resources,
                resource_type=resource_type,
                data_params=data,
                annotation_path=args.annotation_path,
                annotation_format=args.annotation_format,
                status_check_period=args.status_check_period,
                pbar=ctx.progress("uploading"),
            )
        ctx.print(task.id)


@COMMANDS.add("delete")
class TaskDelete(DeleteCommand):
    summary = "delete tasks (all ids are checked first)"


@COMMANDS.add("frames")
class TaskFrames(Command):
    summary = "save frames of a task as task_<ID>_frame_<FRAME>.<ext>"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("task_id", type=int, help="task id")
        parser.add_argument("frame_ids", type=int, nargs="+", metavar="FRAME", help="frames")
        parser.add_argument(
            "--outdir", default="", metavar="DIR", help="where to save (default: here)"
        )
        parser.add_argument(
            "--quality",
            choices=("original", "compressed"),
            default="original",
            help="the uploaded files or the server's compressed images (default: %(default)s)",
        )

    def run(self, ctx: Context, args: argparse.Namespace) -> None:
        task: Task = retrieve(ctx.client.tasks, "task", args.task_id)
        size = int(task.size or 0)
        wrong = [f for f in args.frame_ids if not 0 <= f < size]
        if wrong:
            span = f"frames 0-{size - 1}" if size else "no frames"
            raise CliError(f"task {args.task_id} has {span}; no frame {', '.join(map(str, wrong))}")
        with doing(f"saving frames of task {args.task_id}"):
            paths = task.download_frames(
                args.frame_ids,
                outdir=args.outdir,
                quality=args.quality,
                filename_pattern=f"task_{args.task_id}_frame_{{frame_id:06d}}{{frame_ext}}",
                pbar=ctx.progress("frames", unit="frames"),
            )
        for path in paths:
            ctx.logger.info("saved %s", path)


@COMMANDS.add("export-dataset")
class TaskExportDataset(ExportDatasetCommand):
    summary = "export a task's annotations (and images) as a dataset file"


@COMMANDS.add("import-dataset")
class TaskImportDataset(ImportDatasetCommand):
    summary = "import annotations into a task from a dataset file"


@COMMANDS.add("backup")
class TaskBackup(BackupCommand):
    summary = "save a backup of a task to a file"


@COMMANDS.add("create-from-backup")
class TaskCreateFromBackup(CreateFromBackupCommand):
    summary = "restore a task from a backup file; prints the new task's id"


@COMMANDS.add("auto-annotate")
class TaskAutoAnnotate(Command):
    summary = "annotate a task with a detection function run on this machine"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("task_id", type=int, help="task id")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--function-module", metavar="MODULE", help="an importable module")
        source.add_argument("--function-file", metavar="FILE", help="a Python file")
        parser.add_argument(
            "-p",
            "--function-parameter",
            metavar="NAME=TYPE:VALUE",
            action="append",
            default=[],
            help="an argument of the module's create() (TYPE: str, int, float or bool)",
        )
        parser.add_argument(
            "--clear-existing", action="store_true", help="remove the task's annotations first"
        )
        parser.add_argument(
            "--allow-unmatched-labels",
            action="store_true",
            help="ignore the function's labels that the task does not have",
        )
        parser.add_argument(
            "--conf-threshold", type=float, default=None, help="the least confidence kept (0-1)"
        )
        parser.add_argument(
            "--conv-mask-to-poly", action="store_true", help="ask for polygons instead of masks"
        )

    def run(self, ctx: Context, args: argparse.Namespace) -> None:
        try:
            from cvat_sdk import auto_annotation as cvataa
        except ImportError as error:
            raise CliError(f"task auto-annotate needs the pytorch extra: {error}") from error
        if args.conf_threshold is not None and not 0 <= args.conf_threshold <= 1:
            raise UsageError(f"--conf-threshold must be between 0 and 1, not {args.conf_threshold}")
        if args.function_file:
            existing_file(args.function_file, "function file")
        try:
            parameters = dict(map(cvataa.parse_function_parameter, args.function_parameter))
        except ValueError as error:
            raise UsageError(str(error)) from None
        with doing("loading the detection function"):
            function = cvataa.load_function(
                function_module=args.function_module,
                function_file=args.function_file,
                parameters=parameters,
            )
        retrieve(ctx.client.tasks, "task", args.task_id)
        with doing(f"annotating task {args.task_id}"):
            cvataa.annotate_task(
                ctx.client,
                args.task_id,
                function,
                pbar=ctx.progress("annotating", unit="frame"),
                clear_existing=args.clear_existing,
                allow_unmatched_labels=args.allow_unmatched_labels,
                conf_threshold=args.conf_threshold,
                conv_mask_to_poly=args.conv_mask_to_poly,
            )
