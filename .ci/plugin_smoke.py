"""The provider plugin from an installed wheel, by each install route the README gives, under
the real Pulumi CLI and Pulumi YAML's language host: the ``yaml-routing`` example stack.

    <python> plugin_smoke.py ROUTE PROJECT_DIR PLUGIN_SITE

``.ci/check_package.py`` installs the wheel and runs this script (from a virtualenv that holds
the wheel, beside a copy of the repository's ``tools/``) once per route:

* ``pip``: the wheel in the project's ``venv``; ``Pulumi.yaml`` names ``venv/bin`` under
  ``plugins: providers:``;
* ``pipx``: the wheel installed by ``pipx install`` (a tool install); the ``plugins:`` entry
  removed from ``Pulumi.yaml``, the tool's ``bin`` on ``PATH``: the engine finds the plugin there.

It starts the bundled emulator (demo seed), runs ``pulumi preview`` and ``pulumi up``, checks
the looked-up outputs, and that the plugin that ran is the route's own installation: for ``pip``
an import probe (a ``sitecustomize`` on the CLI's ``PYTHONPATH``) shows the plugin process
imported the package from ``PLUGIN_SITE``; a pipx script runs ``python -E``, which ignores
``PYTHONPATH``, so for ``pipx`` the plugin the engine finds first on ``PATH`` (nothing else
names one: no ``plugins:`` entry, a new ``PULUMI_HOME``) must be the tool's, under
``PLUGIN_SITE``'s environment.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

CONNECTION_ID = "EfKvQ47JSz6mjzNl3h9qBrAM"  # demo seed: gateway d5dm1..., iPhone, 203.0.113.42
FALLBACK_ID = "NiLePaCcdvStdLdl3dJ5R6rT"  # demo seed: gateway d5d9k..., Googlebot
GATEWAY_ID = "d5dm1lba80md4pmj2qke"
SOURCE_IP = "203.0.113.42"
PLUGIN_ENTRY = "plugins:\n  providers:\n"


def fail(message: str) -> None:
    sys.exit(f"plugin smoke test: {message}")


def check(condition: bool, message: str) -> None:
    if not condition:
        fail(message)


def main(route: str, project_dir: Path, plugin_site: Path) -> int:
    cli = Path(os.environ["YCWS_PULUMI_CLI"])
    probe_dir = Path(os.environ["YCWS_PROBE_DIR"]).resolve()
    settings = (project_dir / "Pulumi.yaml").read_text("utf-8")
    check(("path: venv/bin" in settings) == (route == "pip"), f"Pulumi.yaml for {route}")

    from pulumi_yc_websocket.emulator import DEMO_SEED_PATH, EmulatorBackend, EmulatorServer
    from tools.pulumi_cli import Project, Workspace  # beside this script

    seed = json.loads(DEMO_SEED_PATH.read_text(encoding="utf-8"))
    token = next(t["token"] for t in seed["iamTokens"] if "viewer" not in t["roles"])
    imports = project_dir.parent / f"imports-{route}.log"
    with EmulatorServer(EmulatorBackend.from_seed(DEMO_SEED_PATH)) as emulator:
        env = {
            **emulator.env,
            "YC_IAM_TOKEN": token,
            "PYTHONPATH": str(probe_dir),
            "YCWS_IMPORT_PROBE": str(imports),
        }
        workspace = Workspace(project_dir.parent / f"pulumi-{route}", cli=cli, env=env)
        project = Project(workspace, project_dir)
        check(project.runtime == "yaml", "not a YAML project")
        project.init_stack(
            "ci", config={"connectionId": CONNECTION_ID, "fallbackConnectionId": FALLBACK_ID}
        )
        printed = project.pulumi("preview").printed_outputs()
        project.pulumi("up", "--yes")
        outputs = project.outputs(show_secrets=True)
        state = json.dumps(project.export())
        lookups = emulator.backend.count("connections", status=200)

    check(printed.get("gatewayId") == GATEWAY_ID, f"preview printed {printed}")
    print("outputs:", json.dumps({k: outputs[k] for k in ("gatewayId", "fallbackFound")}))
    check(outputs["gatewayId"] == GATEWAY_ID, f"up gave {outputs['gatewayId']!r}")
    check(outputs["sourceIp"] == SOURCE_IP, f"sourceIp {outputs['sourceIp']!r}")
    check(outputs["fallbackFound"] is True, "the function found nothing")
    check(SOURCE_IP not in state, "the identity is in plain text in the state")
    check(lookups > 0, "the emulator answered no Connection.Get")
    if route == "pip":
        lines = imports.read_text("utf-8").splitlines() if imports.exists() else []
        found = [line.split(" ", 1)[1] for line in lines]
        check(bool(found), "no process imported pulumi_yc_websocket through the probe")
        for where in found:
            check(Path(where).resolve().is_relative_to(plugin_site), f"a process imported {where}")
    else:
        on_path = shutil.which("pulumi-resource-yc-websocket")
        check(on_path is not None, "no pulumi-resource-yc-websocket on PATH")
        tool = Path(str(on_path)).resolve()
        check(plugin_site.is_relative_to(tool.parent.parent), f"PATH finds {tool} first")
    print(f"{route}: the plugin ran from {plugin_site}; plugin smoke test: passed")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], Path(sys.argv[2]).resolve(), Path(sys.argv[3]).resolve()))
