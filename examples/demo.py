"""The demo: the bundled emulator, seeded with realistic connections, looked up from the CLI.

Run with ``make demo``. Nothing here reaches Yandex Cloud: every request goes to 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from pulumi_yc_websocket.emulator import DEMO_SEED_PATH, EmulatorBackend, EmulatorServer


def _banner(text: str) -> None:
    print(f"\n=== {text}")


def _cli(args: list[str], env: dict[str, str]) -> int:
    command = [sys.executable, "-m", "pulumi_yc_websocket", *args]
    print("$ pulumi-yc-websocket " + " ".join(args))
    result = subprocess.run(command, env=env, check=False, capture_output=True, text=True)
    print((result.stdout + result.stderr).rstrip())
    print(f"(exit code {result.returncode})")
    return result.returncode


def main() -> int:
    """Start the emulator, look up a few connections, show the error cases."""
    backend = EmulatorBackend.demo()
    with EmulatorServer(backend) as server:
        seed = json.loads(DEMO_SEED_PATH.read_text(encoding="utf-8"))
        token = next(t["token"] for t in seed["iamTokens"] if "viewer" not in t["roles"])
        env = {
            **os.environ,
            "YC_APIGATEWAY_CONNECTIONS_ENDPOINT": server.url,
            "YC_IAM_ENDPOINT": server.url,
            "YC_METADATA_ADDR": f"127.0.0.1:{server.port}",
            "YC_IAM_TOKEN": token,
        }
        _banner(f"Emulator running at {server.url} (Connection.Get, IAM tokens, VM metadata)")
        open_connections = backend.connections()
        gateways = {c["gatewayId"] for c in open_connections}
        print(f"seeded: {len(open_connections)} open connections on {len(gateways)} gateways")
        first, second = open_connections[0]["id"], open_connections[1]["id"]
        _banner("Look up a connection (table)")
        _cli(["get", first], env)
        _banner("The same lookup as JSON (what scripts consume)")
        _cli(["get", second, "--output", "json"], env)
        _banner("A closed connection: exit code 3")
        open_ids = {c["id"] for c in open_connections}
        closed = next(
            c["id"] for c in backend.connections(include_closed=True) if c["id"] not in open_ids
        )
        _cli(["get", closed], env)
        _banner("An invalid id is refused before any request: exit code 2")
        _cli(["get", "x" * 60], env)
        _banner("Next")
        print("Your own emulator:  .venv/bin/python -m pulumi_yc_websocket.emulator --demo-seed")
        print("Every test:         make test")
    return 0


if __name__ == "__main__":
    sys.exit(main())
