"""``pulumi-yc-websocket get CONNECTION_ID``: the lookup from a shell, for scripts and checks.

The exit code is the error class's (:data:`EXIT_CODES` says what each means); errors go to
stderr as one line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from ._client import ConnectionsClient
from ._errors import (
    EXIT_CREDENTIALS,
    EXIT_ERROR,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_PERMISSION,
    EXIT_USAGE,
    YandexWebSocketError,
)
from ._model import Connection
from ._settings import Settings
from ._version import __version__

EXIT_CODES = {
    EXIT_OK: "found",
    EXIT_USAGE: "bad usage, an invalid id or invalid settings (endpoints, addresses)",
    EXIT_NOT_FOUND: "not found (closed)",
    EXIT_CREDENTIALS: "credentials missing, conflicting, unusable or rejected",
    EXIT_PERMISSION: "permission denied",
    EXIT_ERROR: "any other error (service unavailable, deadline, invalid answer)",
}
"""What each exit status means."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pulumi-yc-websocket",
        description="Look up Yandex Cloud API Gateway WebSocket connections.",
        epilog="Exit codes: "
        + "; ".join(f"{code} {meaning}" for code, meaning in sorted(EXIT_CODES.items()))
        + ".",
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
    return "\n".join(f"{name.ljust(width)}  {_printable(value) or '-'}" for name, value in rows)


def _printable(value: str) -> str:
    # A WebSocket client chooses its user agent: never let it send escape codes to a terminal.
    return "".join(char if char.isprintable() else f"\\x{ord(char):02x}" for char in value)


def main(
    argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the CLI; return the exit code."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    try:
        # argparse prints usage, --help and --version to sys.stdout/stderr and exits.
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = _parser().parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    try:
        settings = Settings.resolve(connections_endpoint=args.endpoint)
        with ConnectionsClient.from_settings(settings, timeout=args.timeout) as client:
            connection = client.get(args.connection_id)
    except YandexWebSocketError as error:
        print(f"pulumi-yc-websocket: error: {error}", file=err)
        return error.exit_code
    if args.output == "json":
        print(json.dumps(connection.model_dump(mode="json", by_alias=True), indent=2), file=out)
    else:
        print(render_table(connection), file=out)
    return EXIT_OK
