"""``pulumi-yc-websocket get CONNECTION_ID``: the lookup from a shell, for scripts and checks.

Exit codes: 0 found; 2 bad usage or invalid id; 3 not found; 4 credentials missing, conflicting
or rejected; 5 permission denied; 1 any other error. Errors go to stderr as one line.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from ._version import __version__
from .client import ConnectionsClient
from .errors import (
    AuthenticationError,
    ConfigurationError,
    ConnectionNotFoundError,
    CredentialsNotFoundError,
    InvalidConnectionIdError,
    PermissionDeniedError,
    YandexWebSocketError,
)
from .model import Connection

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_CREDENTIALS = 4
EXIT_PERMISSION = 5


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pulumi-yc-websocket",
        description="Look up Yandex Cloud API Gateway WebSocket connections.",
        epilog="Exit codes: 0 found, 2 usage/invalid id, 3 not found, 4 credentials, "
        "5 permission denied, 1 other errors.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    get = commands.add_parser(
        "get",
        help="look up one connection",
        description="Look up one connection (credentials and endpoints as in the README).",
    )
    get.add_argument("connection_id", metavar="CONNECTION_ID")
    get.add_argument(
        "--endpoint",
        metavar="URL",
        help="Connection service base URL (default: YC_APIGATEWAY_CONNECTIONS_ENDPOINT, "
        "or derived from YC_ENDPOINT)",
    )
    get.add_argument("--output", "-o", choices=("json", "table"), default="table")
    get.add_argument(
        "--timeout", type=float, default=30.0, metavar="SECONDS", help="deadline of the lookup"
    )
    return parser


def render_table(connection: Connection) -> str:
    """A readable two-column view of a connection."""
    rows = [
        ("id", connection.id),
        ("gateway id", connection.gateway_id),
        ("source ip", connection.identity.source_ip),
        ("user agent", connection.identity.user_agent),
        ("connected at", connection.connected_at.rfc3339() if connection.connected_at else ""),
        (
            "last active at",
            connection.last_active_at.rfc3339() if connection.last_active_at else "",
        ),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name.ljust(width)}  {value or '-'}" for name, value in rows)


def exit_code_for(error: YandexWebSocketError) -> int:
    """The documented exit code of an error."""
    if isinstance(error, InvalidConnectionIdError):
        return EXIT_USAGE
    if isinstance(error, ConnectionNotFoundError):
        return EXIT_NOT_FOUND
    if isinstance(error, PermissionDeniedError):
        return EXIT_PERMISSION
    if isinstance(error, AuthenticationError | CredentialsNotFoundError | ConfigurationError):
        return EXIT_CREDENTIALS
    return EXIT_ERROR


def main(
    argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the CLI; return the exit code."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    args = _parser().parse_args(argv)
    try:
        with ConnectionsClient(endpoint=args.endpoint, timeout=args.timeout) as client:
            connection = client.get(args.connection_id)
    except YandexWebSocketError as error:
        print(f"pulumi-yc-websocket: error: {error}", file=err)
        return exit_code_for(error)
    if args.output == "json":
        print(json.dumps(connection.model_dump(mode="json", by_alias=True), indent=2), file=out)
    else:
        print(render_table(connection), file=out)
    return EXIT_OK
