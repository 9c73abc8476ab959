"""The demo: the bundled emulator, seeded with realistic connections, looked up from the CLI
and by the three example stacks.

Run with ``make demo``. Nothing here reaches Yandex Cloud: every request goes to 127.0.0.1. The
stacks run offline through the real provider server driven by the engine stand-in
(``pulumi_yc_websocket.testing``); where the ``pulumi`` CLI is installed, the real
``pulumi preview`` runs instead, with a throwaway local file backend.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

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


STACK_CONFIG: dict[str, dict[str, Any]] = {
    "connection-info": {"connectionId": "EfKvQ47JSz6mjzNl3h9qBrAM"},
    "monitoring": {
        "connectionIds": [
            "EfKvQ47JSz6mjzNl3h9qBrAM",
            "AU4hJeXhnscm39jaerom3J-I",
            "NiLePaCcdvStdLdl3dJ5R6rT",
            "MiWH7AWbr9fxEbHBdI_iZCPh",
            "QNrys_mcvsLgIdBMyCrxvYf8",
        ]
    },
    "routing": {
        "connectionIds": [
            "EfKvQ47JSz6mjzNl3h9qBrAM",
            "AU4hJeXhnscm39jaerom3J-I",
            "NiLePaCcdvStdLdl3dJ5R6rT",
            "MiWH7AWbr9fxEbHBdI_iZCPh",
        ],
        "rules": [
            {"cidr": "203.0.113.0/24", "pool": "eu-edge"},
            {"cidr": "2001:db8::/32", "pool": "v6-lab"},
        ],
    },
}


def _stacks(env: dict[str, str]) -> None:
    """Each example stack against the emulator: the real ``pulumi preview`` where the CLI is
    installed, else preview and up offline through the engine stand-in."""
    from offline import EXAMPLES, readable, run_example

    from pulumi_yc_websocket.testing import ProviderServer, StackState

    if shutil.which("pulumi"):
        for example in EXAMPLES:
            _real_preview(example, STACK_CONFIG[example], env)
        return
    os.environ.update(env)  # the get_* functions look up in this (the program's) process
    with ProviderServer(env=env) as server:
        for example in EXAMPLES:
            state = StackState(stack="demo")
            config = STACK_CONFIG[example]
            _banner(f"Stack examples/{example}: pulumi preview (offline engine stand-in)")
            planned = run_example(example, server=server, state=state, config=config, preview=True)
            print(f"plan: {_plan(planned)}")
            _banner(f"Stack examples/{example}: pulumi up")
            outputs = run_example(example, server=server, state=state, config=config, preview=False)
            print(f"steps: {_plan(outputs)}")
            print("outputs:", json.dumps(readable(dict(outputs)), indent=2, sort_keys=True))


def _plan(outputs: Any) -> str:
    counts: dict[str, int] = {}
    for step in outputs.steps:
        counts[step.op] = counts.get(step.op, 0) + 1
    return ", ".join(f"{count} {op}" for op, count in sorted(counts.items())) or "no changes"


def _real_preview(example: str, config: dict[str, Any], env: dict[str, str]) -> None:
    """The real ``pulumi preview`` against the emulator, with a throwaway local backend."""
    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch) / example
        shutil.copytree(Path(__file__).parent / example, project)
        pulumi_yaml = project / "Pulumi.yaml"
        pulumi_yaml.write_text(
            pulumi_yaml.read_text(encoding="utf-8").replace(
                "virtualenv: venv", f"virtualenv: {sys.prefix}"
            ),
            encoding="utf-8",
        )
        cli_env = {
            **env,
            "PULUMI_BACKEND_URL": f"file://{scratch}",
            "PULUMI_CONFIG_PASSPHRASE": "demo-only",
        }

        def pulumi(*args: str) -> None:
            subprocess.run(
                ["pulumi", *args, "--non-interactive"], cwd=project, env=cli_env, check=True
            )

        _banner(f"Stack examples/{example}: the real `pulumi preview`")
        pulumi("stack", "init", "demo")
        for key, value in config.items():
            text = value if isinstance(value, str) else json.dumps(value)
            pulumi("config", "set", key, text)
        pulumi("preview")


def main() -> int:
    """Start the emulator, look up a few connections, show the error cases."""
    backend = EmulatorBackend.demo()
    with EmulatorServer(backend) as server:
        seed = json.loads(DEMO_SEED_PATH.read_text(encoding="utf-8"))
        token = next(t["token"] for t in seed["iamTokens"] if "viewer" not in t["roles"])
        env = {**os.environ, **server.env, "YC_IAM_TOKEN": token}
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
        _stacks(env)
        _banner("Next")
        print("Your own emulator:  .venv/bin/python -m pulumi_yc_websocket.emulator --demo-seed")
        print("Every test:         make test")
        print("The stacks:         examples/*/README.md (preview/up against Yandex Cloud)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
