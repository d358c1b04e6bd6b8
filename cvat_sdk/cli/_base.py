"""The command table's parts: a command, a group of commands, deprecated aliases, and the
context a command runs in (common options, a client built on first use, output streams).

A command declares its arguments next to its action (:meth:`Command.configure` and
:meth:`Command.run`); the client is made only when a command asks for it, so input that can
be checked locally (files, labels, numbers) is refused before anything talks to the server.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TextIO

if TYPE_CHECKING:
    from cvat_sdk.core.client import Client
    from cvat_sdk.core.progress import ProgressReporter

__all__ = [
    "CliError",
    "Command",
    "CommandGroup",
    "Context",
    "DeprecatedAlias",
    "UsageError",
    "doing",
]


class CliError(Exception):
    """A failure the command explains itself; printed as one line, exit status 1."""

    exit_code: ClassVar[int] = 1


class UsageError(CliError):
    """The command line itself is wrong (a missing file, labels that are not JSON...):
    exit status 2, like argparse's own usage errors."""

    exit_code = 2


@contextlib.contextmanager
def doing(what: str) -> Iterator[None]:
    """Name the step in the error of what fails inside (``exporting task 5 as 'COCO 1.0':
    ...``); the original error stays the cause, for ``--debug``."""
    try:
        yield
    except CliError:
        raise
    except Exception as error:
        from cvat_sdk.cli._output import describe_error

        raise CliError(f"{what}: {describe_error(error)}") from error


@dataclass
class Context:
    """What a command runs with: the parsed common options, the output streams, and a
    client made from the options when first asked for (see :mod:`cvat_sdk.cli._connect`)."""

    options: argparse.Namespace
    stdout: TextIO
    stderr: TextIO
    logger: logging.Logger
    _client: Client | None = field(default=None, repr=False)

    @property
    def client(self) -> Client:
        if self._client is None:
            from cvat_sdk.cli._connect import build_client

            self._client = build_client(self.options, self.logger)
        return self._client

    def progress(self, what: str, unit: str = "B") -> ProgressReporter:
        """A progress bar on stderr when it is a terminal, else nothing."""
        from cvat_sdk.cli._output import progress_for

        return progress_for(self.stderr, what, unit)

    def print(self, text: object) -> None:
        """One line of the command's result on stdout."""
        print(text, file=self.stdout)

    def close(self) -> None:
        """Release the connections, without logging out (as the official CLI does not):
        CVAT's logout also deletes the user's one API token, which would cut off every
        other client of the same user that authenticates with it (scripts, SDK sessions,
        other CLI runs). The session expires on the server by itself."""
        if self._client is not None:
            client, self._client = self._client, None
            client.api_client.close()


class Command:
    """One action: ``configure`` adds its arguments, ``run`` does it."""

    #: The first line of ``--help`` and the summary in the group's list.
    summary: ClassVar[str] = ""
    #: More text for ``--help`` (defaults to the summary).
    description: ClassVar[str] = ""

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Add the command's own arguments."""

    def run(self, ctx: Context, args: argparse.Namespace) -> None:
        raise NotImplementedError


class CommandGroup:
    """Named commands under one word (``task``, ``project``), as subcommands."""

    def __init__(self, summary: str) -> None:
        self.summary = summary
        self.commands: dict[str, Command] = {}

    def add(self, name: str) -> Any:
        """A class decorator registering one instance of the command under ``name``."""

        def register(cls: type[Command]) -> type[Command]:
            self.commands[name] = cls()
            return cls

        return register

    def configure(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(metavar="ACTION", required=True)
        for name, command in self.commands.items():
            add_command_parser(sub, name, command)


class DeprecatedAlias(Command):
    """An old top-level name (``cvat-cli ls``) for a task command: the same arguments and
    action, with a note on stderr naming the replacement."""

    def __init__(self, command: Command, replacement: str) -> None:
        self.command = command
        self.replacement = replacement

    @property
    def summary(self) -> str:  # type: ignore[override]
        return f"deprecated: use '{self.replacement}'"

    @property
    def description(self) -> str:  # type: ignore[override]
        text = self.command.description or self.command.summary
        return f"{text}\n\nDeprecated: use '{self.replacement}' instead."

    def configure(self, parser: argparse.ArgumentParser) -> None:
        self.command.configure(parser)

    def run(self, ctx: Context, args: argparse.Namespace) -> None:
        ctx.logger.warning(
            "this command is deprecated and will be removed; use 'cvat-cli %s' instead",
            self.replacement,
        )
        self.command.run(ctx, args)


def add_command_parser(sub: Any, name: str, command: Command) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=command.summary,
        description=command.description or command.summary,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(_command=command)
    command.configure(parser)
    return parser
