"""``cvat-cli``: CVAT tasks and projects from the command line, on the high-level layer.

    cvat-cli [common options] {task,project} ACTION [options]

Results go to stdout (ids one a line, JSON with ``--json``); logs, warnings and progress
bars to stderr. Errors are one line on stderr with exit status 1, 2 for a wrong command
line, 130 for Ctrl-C; ``--debug`` adds tracebacks and request logs.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Sequence
from typing import TextIO

from cvat_sdk.cli import projects, tasks
from cvat_sdk.cli._base import CliError, Context, DeprecatedAlias, add_command_parser
from cvat_sdk.cli._connect import configure_common_options
from cvat_sdk.cli._inputs import BOOL_WORDS

__all__ = ["build_parser", "main"]

PROG = "cvat-cli"

#: The top-level names older CLIs had, and the task action each one now is.
LEGACY_ALIASES = {
    "create": "create",
    "ls": "ls",
    "delete": "delete",
    "frames": "frames",
    "dump": "export-dataset",
    "upload": "import-dataset",
    "export": "backup",
    "import": "create-from-backup",
    "auto-annotate": "auto-annotate",
}

#: Options that take an optional yes/no word (``--with-images`` or ``--with-images true``).
_OPTIONAL_BOOL_OPTIONS = ("--with-images",)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Work with tasks and projects on a CVAT server.",
        epilog="Run '%(prog)s RESOURCE --help' or '%(prog)s RESOURCE ACTION --help' for more.",
    )
    configure_common_options(parser)
    sub = parser.add_subparsers(metavar="RESOURCE", required=True)
    for name, group in (("project", projects.COMMANDS), ("task", tasks.COMMANDS)):
        group_parser = sub.add_parser(name, help=group.summary, description=group.summary)
        group.configure(group_parser)
    for old, new in LEGACY_ALIASES.items():
        add_command_parser(sub, old, DeprecatedAlias(tasks.COMMANDS.commands[new], f"task {new}"))
    return parser


def _normalize(argv: Sequence[str]) -> list[str]:
    """``--with-images`` alone before positional arguments becomes ``--with-images=true``,
    so the flag form and the documented ``--with-images BOOL`` form both parse."""
    out = list(argv)
    for index, arg in enumerate(out):
        if arg in _OPTIONAL_BOOL_OPTIONS:
            following = out[index + 1] if index + 1 < len(out) else None
            if following is None or following.lower() not in BOOL_WORDS:
                out[index] = f"{arg}=true"
    return out


def _logger(stderr: TextIO, debug: bool) -> logging.Logger:
    """Logs of the CLI and the SDK on stderr; warnings (e.g. server version) as log lines."""
    handler = logging.StreamHandler(stderr)
    handler.setFormatter(logging.Formatter(f"{PROG}: %(levelname)s: %(message)s"))
    root = logging.getLogger("cvat_sdk")
    root.handlers[:] = [handler]
    root.propagate = False
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    if not debug:  # the request loop's debug lines only with --debug
        logging.getLogger("cvat_sdk._runtime").setLevel(logging.WARNING)
    logger = logging.getLogger("cvat_sdk.cli")

    def show(message: Warning | str, *_: object, **__: object) -> None:
        logger.warning("%s", message)

    warnings.showwarning = show
    return logger


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status (0 done, 1 failed, 2 usage, 130 Ctrl-C)."""
    stdout, stderr = sys.stdout, sys.stderr
    args_in = _normalize(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(args_in)
    except SystemExit as done:  # --help, --version, usage errors: argparse printed them
        return done.code if isinstance(done.code, int) else 2
    except KeyboardInterrupt:
        return 130
    logger = _logger(stderr, args.debug)
    ctx = Context(options=args, stdout=stdout, stderr=stderr, logger=logger)
    failure: BaseException | None = None
    try:
        args._command.run(ctx, args)
        stdout.flush()
    except BrokenPipeError:  # `cvat-cli task ls | head`: the reader left; not an error
        _silence(stdout)
    except (Exception, KeyboardInterrupt) as error:
        failure = error
    try:
        ctx.close()  # before the error, so that it stays the last line
    except Exception:  # closing the session must not hide the command's outcome
        if args.debug:
            logger.exception("closing the session failed")
    except KeyboardInterrupt:
        failure = failure or KeyboardInterrupt()
    if isinstance(failure, KeyboardInterrupt):
        print(f"{PROG}: interrupted", file=stderr)
        return 130
    if failure is not None:
        _report(stderr, failure, args.debug)
        return failure.exit_code if isinstance(failure, CliError) else 1
    return 0


def _silence(stream: TextIO) -> None:
    """Point a closed pipe's descriptor at /dev/null, so that flushing it at exit does not
    print an error of its own."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # not a real file (tests pass StringIO)
        pass


def _report(stderr: TextIO, error: BaseException, debug: bool) -> None:
    from cvat_sdk.cli._output import describe_error

    if debug:
        import traceback

        traceback.print_exception(type(error), error, error.__traceback__, file=stderr)
    print(f"{PROG}: error: {describe_error(error)}", file=stderr)
