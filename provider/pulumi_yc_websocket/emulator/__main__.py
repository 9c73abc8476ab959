"""Command line: run the emulator until Ctrl-C or SIGTERM; print the env that points at it."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any

from .backend import DEMO_SEED_PATH, EmulatorBackend, read_seed
from .server import EmulatorServer


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pulumi_yc_websocket.emulator",
        description=(
            "Local emulator of the Yandex Cloud API Gateway WebSocket Connection service "
            "(Connection.Get), the IAM token endpoint and the VM metadata token endpoint."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="IPv4 loopback address to bind")
    parser.add_argument(
        "--port", type=int, default=8080, help="port to listen on; 0 picks a free one"
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
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator; returns the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(message)s",
    )
    backend = EmulatorBackend()
    seeds: list[dict[str, Any]] = []
    try:
        for source in ([DEMO_SEED_PATH] if args.demo_seed else []) + args.seed:
            seed = read_seed(source)
            backend.load_seed(seed)
            seeds.append(seed)
        if args.no_auth:
            backend.require_auth = False
        server = EmulatorServer(backend, host=args.host, port=args.port)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    with server:
        print(f"Emulator listening on {server.url} (Ctrl-C to stop)")
        for name, value in server.env.items():
            print(f"export {name}={value}")
        token = _first_iam_token(seeds)
        if token is not None:
            print(f"export YC_IAM_TOKEN={token}")
        sys.stdout.flush()
        stop.wait()
    return 0


def _first_iam_token(seeds: Sequence[dict[str, Any]]) -> str | None:
    for seed in seeds:
        for item in seed.get("iamTokens") or []:
            token = item.get("token")
            if isinstance(token, str) and token:
                return token
    return None


if __name__ == "__main__":
    sys.exit(main())
