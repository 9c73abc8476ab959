"""An example stack under the real Pulumi CLI, from a virtualenv holding only the installed wheel.

``.ci/check_package.py`` lays out a Pulumi project as a user has it (``connection-info/`` with
``Pulumi.yaml`` naming ``virtualenv: venv``, the wheel installed into ``connection-info/venv``),
copies this script and the repository's ``tools/`` (the CLI driver) beside the project and runs
this script with ``connection-info/venv/bin/python`` from the project directory, with no
``PYTHONPATH``. It then:

* checks that this process imports ``pulumi_yc_websocket`` from the venv's site-packages (not the
  checkout, not an editable install) and that ``__version__`` is the installed distribution's;
* starts the bundled emulator (``pulumi_yc_websocket.emulator``, demo seed from the wheel) here;
* runs ``pulumi preview`` and ``pulumi up`` of the stack with the real CLI (``YCWS_PULUMI_CLI``)
  on a local file backend; the engine starts the dynamic provider with the venv's interpreter;
* checks the plan and the stack's outputs, that the provider was pickled by reference, and that
  every process of the run (the program's and the provider's) imported the package from the
  venv's site-packages: an import probe (a ``sitecustomize`` on ``PYTHONPATH`` of the CLI's
  environment) appends ``PID ORIGIN`` to the file ``YCWS_IMPORT_PROBE`` names.
"""

from __future__ import annotations

import base64
import importlib.metadata
import json
import os
import sys
import sysconfig
from pathlib import Path

EXAMPLE = "connection-info"
CONNECTION_ID = "EfKvQ47JSz6mjzNl3h9qBrAM"  # demo seed: gateway d5dm1..., iPhone, 203.0.113.42
GATEWAY_ID = "d5dm1lba80md4pmj2qke"
SOURCE_IP = "203.0.113.42"


def fail(message: str) -> None:
    sys.exit(f"wheel smoke test: {message}")


def check(condition: bool, message: str) -> None:
    if not condition:
        fail(message)


def installed_here(path: str | os.PathLike[str], site: Path, repo: Path) -> bool:
    resolved = Path(path).resolve()
    return resolved.is_relative_to(site) and not resolved.is_relative_to(repo)


def main() -> int:
    repo = Path(os.environ["YCWS_REPO"]).resolve()
    probe_dir = Path(os.environ["YCWS_PROBE_DIR"]).resolve()
    cli = Path(os.environ["YCWS_PULUMI_CLI"])
    project_dir = Path.cwd().resolve()
    work = project_dir.parent
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    check(Path(sys.prefix).resolve() == project_dir / "venv", f"not run from {project_dir}/venv")
    check(not os.environ.get("PYTHONPATH"), "PYTHONPATH is set")

    import pulumi_yc_websocket

    origin = pulumi_yc_websocket.__file__
    check(origin is not None and installed_here(origin, site, repo), f"imported {origin}")
    dist = importlib.metadata.distribution("pulumi-yc-websocket")
    check(pulumi_yc_websocket.__version__ == dist.version, "__version__ != installed version")
    direct_url = json.loads(dist.read_text("direct_url.json") or "{}")
    check(not direct_url.get("dir_info", {}).get("editable"), "an editable install")
    check(
        str(direct_url.get("url", "")).endswith(".whl"), f"not installed from a wheel: {direct_url}"
    )
    print(f"program: pulumi_yc_websocket {dist.version} from {origin}")

    from pulumi_yc_websocket.emulator import DEMO_SEED_PATH, EmulatorBackend, EmulatorServer
    from tools.pulumi_cli import Project, Workspace  # beside this script

    check(installed_here(DEMO_SEED_PATH, site, repo), f"demo seed at {DEMO_SEED_PATH}")
    seed = json.loads(DEMO_SEED_PATH.read_text(encoding="utf-8"))
    token = next(t["token"] for t in seed["iamTokens"] if "viewer" not in t["roles"])
    imports = work / "imports.log"

    with EmulatorServer(EmulatorBackend.from_seed(DEMO_SEED_PATH)) as emulator:
        env = {
            **emulator.env,
            "YC_IAM_TOKEN": token,
            "PYTHONPATH": str(probe_dir),
            "YCWS_IMPORT_PROBE": str(imports),
        }
        project = Project(Workspace(work / "pulumi", cli=cli, env=env), project_dir)
        check(project.python == project_dir / "venv" / "bin" / "python", "not the venv's python")
        project.init_stack("ci", config={"connectionId": CONNECTION_ID})
        plan = project.preview_json()
        project.pulumi("up", "--yes")
        outputs = project.outputs(show_secrets=True)
        state = project.export()
        lookups = emulator.backend.count("connections", status=200)

    (planned,) = [
        s["newState"]["inputs"] for s in plan["steps"] if s["urn"].endswith("::connection")
    ]
    check(planned["gatewayId"] == GATEWAY_ID, f"preview planned {planned['gatewayId']!r}")
    print("outputs:", json.dumps({k: outputs[k] for k in ("gatewayId", "found", "sourceIp")}))
    check(outputs["gatewayId"] == GATEWAY_ID, f"up gave {outputs['gatewayId']!r}")
    check(outputs["found"] is True, "not found")
    check(outputs["sourceIp"] == SOURCE_IP, f"sourceIp {outputs['sourceIp']!r}")
    check(outputs["viaGet"]["gatewayId"] == GATEWAY_ID, "WebSocketConnection.get")
    check(outputs["viaFunction"]["gatewayId"] == GATEWAY_ID, "get_websocket_connection_output")
    check(SOURCE_IP not in json.dumps(state), "the identity is in plain text in the state")
    check(lookups > 0, "the emulator answered no Connection.Get")

    # The provider is pickled by reference: the provider process imported it by name.
    (lookup,) = [r for r in state["deployment"]["resources"] if r["urn"].endswith("::connection")]
    raw = base64.b64decode(lookup["inputs"]["__provider"])
    check(b"pulumi_yc_websocket.provider" in raw, "the provider is not pickled by reference")
    check(len(raw) < 300, f"the pickled provider is {len(raw)} bytes: pickled by value?")

    found = [line.split(" ", 1) for line in imports.read_text("utf-8").splitlines()]
    processes = {pid for pid, _ in found}
    # The program's process (the inline host) and at least one provider process, preview's.
    check(len(processes) >= 2, f"only {len(processes)} process(es) imported the package")
    for _pid, where in found:
        check(installed_here(where, site, repo), f"a process of the run imported {where}")
    print(f"{len(processes)} processes imported pulumi_yc_websocket from {found[0][1]}")
    print("wheel smoke test: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
