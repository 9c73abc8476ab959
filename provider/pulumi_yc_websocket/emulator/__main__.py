"""Command line: run the emulator until Ctrl-C or SIGTERM; print the env that points at it.

The metadata address is printed only with ``--print-metadata-addr``: exported, it would make a
lookup without a credential succeed through the emulator's metadata service.

Every error is one line on stderr and exit status 2; no traceback.
"""

from __future__ import annotations

import argparse
import errno
import logging
import signal
import sys
import textwrap
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import NoReturn

from ._admin import ADMIN_PREFIX, ROUTES
from ._backend import MAX_LOGGED_BODY_BYTES, MAX_LOGGED_HEADER_BYTES, EmulatorBackend
from ._seed import DEMO_SEED_PATH, Seed, SeedError, SeedSource, load_seed
from ._server import (
    MAX_BODY_BYTES,
    MAX_HEADER_BYTES,
    MAX_REQUEST_LINE_BYTES,
    EmulatorServer,
)

PROG = "python -m pulumi_yc_websocket.emulator"
USAGE_ERROR = 2
# A command-line emulator runs for as long as the developer leaves it: its log must not grow.
LOG_LIMIT = 1000
METADATA_ADDR_VARIABLE = "YC_METADATA_ADDR"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints the usage block first; one line that says what to do is enough.
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see --help)\n")


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a port number: use 0-65535 (0 picks a free port)"
        )
    return port


def _admin_epilog() -> str:
    lines = [f"  {r.method:<6} {ADMIN_PREFIX}{r.path:<17} {r.summary}" for r in ROUTES]
    rules = textwrap.fill(
        "Requests must name the emulator as Host (127.0.0.1:PORT or localhost:PORT; the "
        "metadata route also takes 169.254.169.254). Admin requests from web pages (another "
        "Origin) are refused; admin POST and PATCH requests need Content-Type: "
        "application/json (a DELETE without a body needs none), e.g.:",
        width=79,
    )
    example = (
        "  curl -H 'Content-Type: application/json' -d '{\"advanceSeconds\": 600}' \\\n"
        f"       http://127.0.0.1:8080{ADMIN_PREFIX}clock"
    )
    heading = "admin interface, while it runs (loopback only, no credentials):"
    return "\n".join([heading, *lines, rules, example])


def _limits_epilog() -> str:
    return textwrap.fill(
        f"limits: the request log keeps the last {LOG_LIMIT} requests, and of each at most "
        f"{MAX_LOGGED_BODY_BYTES >> 10} KiB of body and {MAX_LOGGED_HEADER_BYTES >> 10} KiB of "
        f"headers. Refused before being read whole: bodies over {MAX_BODY_BYTES >> 20} MiB "
        f"(413), header lines over {MAX_HEADER_BYTES >> 10} KiB in all (431), request lines "
        f"over {MAX_REQUEST_LINE_BYTES >> 10} KiB (414).",
        width=79,
    )


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description=(
            "Local emulator of the Yandex Cloud API Gateway WebSocket Connection service "
            "(Connection.Get), the IAM token endpoint and the VM metadata token endpoint. "
            "Connections close after 10 idle minutes or 60 in all, as on the service."
        ),
        epilog=f"{_admin_epilog()}\n\n{_limits_epilog()}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="IPv4 loopback address to bind")
    parser.add_argument(
        "--port", type=_port, default=8080, help="port to listen on; 0 picks a free one"
    )
    parser.add_argument(
        "--seed", metavar="PATH", action="append", default=[], help="JSON seed file (repeatable)"
    )
    parser.add_argument(
        "--demo-seed", action="store_true", help="load the bundled demo connections and tokens"
    )
    parser.add_argument(
        "--no-auth", action="store_true", help="accept requests with any or no credentials"
    )
    parser.add_argument(
        "--print-metadata-addr",
        action="store_true",
        help=(
            f"also print export {METADATA_ADDR_VARIABLE}=..., so that a lookup without a "
            "credential uses the emulator's VM metadata service; without it, a missing or "
            "mistyped credential fails as in production"
        ),
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    return parser


def _fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return USAGE_ERROR


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator; returns the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(message)s",
    )
    sources: list[SeedSource] = [DEMO_SEED_PATH] if args.demo_seed else []
    sources += [Path(path) for path in args.seed]
    if args.no_auth:
        sources.append({"requireAuth": False})  # after the seeds: the flag wins
    try:
        seeds = [load_seed(source) for source in sources]
        backend = EmulatorBackend.from_seed(*seeds, log_limit=LOG_LIMIT)
        server = EmulatorServer(backend, host=args.host, port=args.port)
    except SeedError as exc:
        return _fail(str(exc))
    except ValueError as exc:
        return _fail(f"--host: {exc}")
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return _fail(
                f"port {args.port} on {args.host} is already in use (another emulator?): "
                "stop what holds it, or pass --port 0 to pick a free port"
            )
        return _fail(str(exc))

    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    with server:
        print(f"Emulator listening on {server.url} (Ctrl-C to stop)")
        for name, value in server.env.items():
            # Printed, the metadata address would stand in for any credential a user forgot.
            if name != METADATA_ADDR_VARIABLE or args.print_metadata_addr:
                print(f"export {name}={value}")
        token = _first_iam_token(seeds)
        if token is not None:
            print(f"export YC_IAM_TOKEN={token}")
        print(f"# admin interface: {server.url}{ADMIN_PREFIX}connections and more (see --help)")
        sys.stdout.flush()
        stop.wait()
    return 0


def _first_iam_token(seeds: Sequence[Seed]) -> str | None:
    return next((token.token for seed in seeds for token in seed.iam_tokens), None)


if __name__ == "__main__":
    sys.exit(main())
