"""The demo: the bundled emulator, seeded with realistic connections, looked up from the CLI,
by the three Python example stacks (the dynamic provider) and by the Pulumi YAML stack (the
provider plugin).

Run with ``make demo``, which builds the Pulumi CLI and the YAML language host first where Go is
installed. Nothing here reaches Yandex Cloud: every request goes to 127.0.0.1. The stacks run
under the real Pulumi CLI (``.tools/pulumi/bin`` from ``make pulumi-cli``, or ``pulumi`` on
PATH) with a throwaway local file backend: preview, up, a second up with nothing changed, a
changed record, refresh after a connection closed, destroy; for the YAML stack also ``pulumi
import``. Without a CLI each Python program runs in this process under Pulumi's mocks
(``pulumi_yc_websocket.testing``), its lookups made by the real provider code; the YAML stack
needs the CLI.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pulumi_yc_websocket.emulator import DEMO_SEED_PATH, EmulatorBackend, EmulatorServer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the repository's tools/: the real-CLI driver

from tools.pulumi_cli import Project, Workspace, find_cli  # noqa: E402


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
    "yaml-routing": {
        "connectionId": "EfKvQ47JSz6mjzNl3h9qBrAM",
        "fallbackConnectionId": "NiLePaCcdvStdLdl3dJ5R6rT",
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


def _stacks(server: EmulatorServer, env: dict[str, str]) -> None:
    """Each example stack against the emulator: under the real CLI where there is one, else
    each program's lookups under Pulumi's mocks."""
    backend = server.backend
    cli = find_cli()
    if cli is None:
        print(
            "\n(no pulumi CLI: `make pulumi-cli` builds one, with Go; the Python programs run "
            "under mocks, the YAML stack needs the CLI)"
        )
        _mocked_stacks(server)
        return
    with tempfile.TemporaryDirectory() as scratch:
        workspace = Workspace(Path(scratch), cli=cli, env=env)
        _banner(f"The real Pulumi CLI ({cli}), a local file backend in {scratch}")
        for example in ("monitoring", "routing"):
            _banner(f"examples/{example}: pulumi up")
            _show(_project(workspace, example), "up", "--yes", "--skip-preview")
        _yaml_lifecycle(_project(workspace, "yaml-routing"), backend)
        # Last: it changes and closes a connection the other stacks use.
        _lifecycle(_project(workspace, "connection-info"), backend)
        for example in (*EXAMPLES, "yaml-routing"):
            _banner(f"examples/{example}: pulumi destroy (sends no request to the API)")
            before = backend.count("connections")
            project = Project(workspace, workspace.root / example)
            _show(project, "destroy", "--yes", "--skip-preview")
            sent = backend.count("connections") - before
            print(f"requests to Connection.Get during destroy: {sent}")


EXAMPLES = ("connection-info", "monitoring", "routing")


def _project(workspace: Workspace, example: str) -> Project:
    directory = workspace.root / example
    shutil.copytree(Path(__file__).parent / example, directory)
    (directory / "venv").symlink_to(sys.prefix, target_is_directory=True)
    project = Project(workspace, directory)
    project.init_stack("demo", config=STACK_CONFIG[example])
    return project


def _show(project: Project, *args: str) -> None:
    print(f"$ pulumi {' '.join(args)}")
    project.pulumi(*args, capture=False)


def _lifecycle(project: Project, backend: EmulatorBackend) -> None:
    """preview, up, up with nothing changed, up after a change, refresh after the close."""
    example = project.directory.name
    connection_id = STACK_CONFIG[example]["connectionId"]
    _banner(f"examples/{example}: pulumi preview (the planned values are the looked-up ones)")
    _show(project, "preview")
    _banner(f"examples/{example}: pulumi up")
    _show(project, "up", "--yes", "--skip-preview")
    _banner(f"examples/{example}: pulumi up again, nothing changed")
    _show(project, "up", "--yes", "--skip-preview")
    _banner(f"examples/{example}: the client sent a message (lastActiveAt moved): pulumi up")
    backend.update_connection(connection_id, last_active_at={"secondsAgo": 0})
    _show(project, "up", "--yes", "--skip-preview")
    _banner(f"examples/{example}: the connection closed: pulumi refresh drops it from the state")
    backend.close_connection(connection_id)
    _show(project, "refresh", "--yes", "--skip-preview")


def _yaml_lifecycle(project: Project, backend: EmulatorBackend) -> None:
    """The plugin from Pulumi YAML: preview, up, import, a changed record, refresh."""
    example = project.directory.name
    connection_id = STACK_CONFIG[example]["connectionId"]
    _banner(f"examples/{example}: Pulumi YAML and the yc-websocket plugin: pulumi preview")
    _show(project, "preview")
    _banner(f"examples/{example}: pulumi up")
    _show(project, "up", "--yes", "--skip-preview")
    other = "AU4hJeXhnscm39jaerom3J-I"
    _banner(f"examples/{example}: pulumi import of a live connection, by its id (unprotected)")
    resource_type = "yc-websocket:index:WebSocketConnection"
    _show(project, "import", resource_type, "desktop", other, "--yes", "--protect=false")
    _banner(f"examples/{example}: the user agent changed: pulumi refresh reports it")
    backend.update_connection(connection_id, user_agent="curl/8.5.0")
    _show(project, "refresh", "--yes", "--skip-preview")
    _banner(f"examples/{example}: the program's outputs follow on the next up")
    _show(project, "up", "--yes", "--skip-preview")
    _show(project, "stack", "output", "--show-secrets")


def _execute(example: str) -> None:
    """Run the example's ``__main__.py`` as a module that stays importable: Pulumi resolves the
    program's classes after it has run."""
    name = "example_" + example.replace("-", "_")
    spec = importlib.util.spec_from_file_location(
        name, Path(__file__).parent / example / "__main__.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


def _mocked_stacks(server: EmulatorServer) -> None:
    """Each example's program in this process under Pulumi's mocks (``LookupMocks``): the
    lookups the real provider code makes against the emulator, without an engine."""
    import pulumi
    import pulumi.runtime

    from pulumi_yc_websocket.testing import LookupMocks

    for example in EXAMPLES:
        _banner(f"examples/{example}: its lookups under Pulumi's mocks (no CLI)")
        mocks = LookupMocks(emulator=server)
        pulumi.runtime.set_mocks(mocks, project=example, stack="demo", preview=False)
        project_config = {
            f"{example}:{key}": value if isinstance(value, str) else json.dumps(value)
            for key, value in STACK_CONFIG[example].items()
        }
        pulumi.runtime.set_all_config({**mocks.config, **project_config})
        # pulumi.runtime.test runs the program and waits for every lookup.
        run: Callable[[], None] = pulumi.runtime.test(  # type: ignore[no-untyped-call]
            lambda example=example: _execute(example)
        )
        run()
        for name, outputs in mocks.outputs.items():
            looked_up = {key: outputs.get(key) for key in ("found", "gatewayId", "lastActiveAt")}
            print(f"{name}: {json.dumps(looked_up)}")
        mocks.close()


def main() -> int:
    """Start the emulator, look up a few connections, show the error cases."""
    backend = EmulatorBackend.demo()
    with EmulatorServer(backend) as server:
        seed = json.loads(DEMO_SEED_PATH.read_text(encoding="utf-8"))
        token = next(t["token"] for t in seed["iamTokens"] if "viewer" not in t["roles"])
        # The emulator's endpoints and token only: none of the shell's YC_* credentials.
        service_env = {**server.env, "YC_IAM_TOKEN": token}
        shell = {key: value for key, value in os.environ.items() if not key.startswith("YC_")}
        env = {**shell, **service_env}
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
        _stacks(server, service_env)
        _banner("Next")
        print("Your own emulator:  .venv/bin/python -m pulumi_yc_websocket.emulator --demo-seed")
        print("Every test:         make test")
        print("The stacks:         examples/*/README.md (preview/up against Yandex Cloud)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
