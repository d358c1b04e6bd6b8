"""The common options, and the one place that turns them into a logged-in client."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from typing import TYPE_CHECKING

from cvat_sdk.cli._base import CliError

if TYPE_CHECKING:
    from cvat_sdk.core.client import Client

__all__ = ["TOKEN_ENV", "build_client", "configure_common_options", "resolve_auth"]

#: Environment variables: "token" holds a personal access token, used when ``--auth`` is
#: not given; "password" the password when ``--auth`` names only a user.
ENVIRONMENT = {"token": "CVAT_ACCESS_TOKEN", "password": "PASS"}
TOKEN_ENV, PASSWORD_ENV = ENVIRONMENT["token"], ENVIRONMENT["password"]
#: How often (at most) the CLI polls a background request, in seconds.
STATUS_CHECK_PERIOD = 2.0


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cvat-sdk")
    except PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
        return "unknown"


class _VersionAction(argparse.Action):
    """``--version``: the installed package's version (read only when asked)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(_version())
        parser.exit()


def _default_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in the environment nor the password database
        return ""


def configure_common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--version", action=_VersionAction)
    parser.add_argument(
        "--insecure", action="store_true", help="do not check the server's TLS certificate"
    )
    parser.add_argument(
        "--auth",
        metavar="USER[:PASS]",
        default=None,
        help=(
            "user and password; without ':PASS' the password is taken from the "
            f"{PASSWORD_ENV} environment variable, else asked for (default user: "
            f"{_default_user() or 'the current user'}; with no --auth, a token in "
            f"{TOKEN_ENV} is used if set)"
        ),
    )
    parser.add_argument(
        "--server-host",
        default="localhost",
        metavar="HOST",
        help=(
            "server host name, optionally with a scheme (http://...); without one, https "
            "is tried, then http (default: %(default)s)"
        ),
    )
    parser.add_argument(
        "--server-port",
        type=_port,
        default=None,
        metavar="PORT",
        help="server port (default: 443 for https, 80 for http)",
    )
    parser.add_argument(
        "--organization",
        "--org",
        metavar="SLUG",
        default=None,
        help=(
            "the organization to list and create in; '' for the personal workspace "
            "(default: list everything visible, create in the personal workspace)"
        ),
    )
    parser.add_argument(
        "--debug", action="store_true", help="log requests and show tracebacks of errors"
    )


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"not a TCP port number: {text!r}")
    return int(text)


Auth = tuple[str, str] | str  # (user, password), or an access token


def resolve_auth(auth: str | None) -> Auth:
    """Credentials from ``--auth``, ``CVAT_ACCESS_TOKEN``, ``PASS`` and a prompt, in that
    order of precedence."""
    if auth is None:
        token = os.environ.get(TOKEN_ENV)
        if token:
            return token
        auth = _default_user()
        if not auth:
            raise CliError("no user name: give one with --auth USER[:PASS]")
    user, colon, password = auth.partition(":")
    if not user:
        raise CliError("--auth needs a user name: --auth USER[:PASS]")
    if not (colon and password):
        password = os.environ.get(PASSWORD_ENV) or ""
    if not password:
        if not sys.stdin.isatty():
            raise CliError(
                f"no password for {user}: give it as --auth {user}:PASS or in the "
                f"{PASSWORD_ENV} environment variable (no terminal to ask on)"
            )
        password = getpass.getpass(f"Password for {user}: ")
    return user, password


def _use_token(client: Client, token: str) -> None:
    """``Client.use_access_token`` (a personal access token as ``Bearer`` where the schema
    has them, the login key as ``Token <key>`` on older servers such as CVAT 2.24); a value
    that names its scheme (``Token ...``, ``Bearer ...``) is sent as given."""
    token = token.strip()
    if token.split(" ", 1)[0] in ("Token", "Bearer"):
        client.api_client.set_default_header("Authorization", token)
    else:
        client.use_access_token(token)


def build_client(options: argparse.Namespace, logger: logging.Logger) -> Client:
    """Connect, authenticate and set the organization, as the common options say."""
    from cvat_sdk._runtime.exceptions import ApiException
    from cvat_sdk.cli._output import server_message
    from cvat_sdk.core.client import Client, Config

    auth = resolve_auth(options.auth)
    if options.insecure:  # asked for: not worth a warning on every connection
        import warnings

        from urllib3.exceptions import InsecureRequestWarning

        warnings.filterwarnings("ignore", category=InsecureRequestWarning)
    config = Config(verify_ssl=not options.insecure, status_check_period=STATUS_CHECK_PERIOD)
    address = str(options.server_host).strip().rstrip("/")
    if not address:
        raise CliError("--server-host is empty")
    if options.server_port is not None:
        address = f"{address}:{options.server_port}"
    client = Client(address, logger=logger, config=config, check_server_version=False)
    try:
        if isinstance(auth, str):
            _use_token(client, auth)
            who = f"the token in {TOKEN_ENV}"
        else:
            who = auth[0]
            try:
                client.login(auth)
            except ApiException as error:
                raise CliError(
                    f"cannot log in to {client.api_map.host} as {who}: {server_message(error)}"
                ) from error
        # a wrong token fails here rather than in the middle of a command
        try:
            client.api_client.users_api.retrieve_self()
        except ApiException as error:
            raise CliError(
                f"{client.api_map.host} does not accept {who}: {server_message(error)}"
            ) from error
        client.check_server_version(fail_if_unsupported=False)
        client.organization_slug = options.organization
    except BaseException:
        client.close()
        raise
    return client
