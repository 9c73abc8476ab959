"""An example stack, run offline from a virtualenv that holds only the installed wheel.

``.ci/check_package.py`` lays out a Pulumi project as a user has it (``connection-info/`` with
``Pulumi.yaml`` naming ``virtualenv: venv``, the wheel installed into ``connection-info/venv``),
copies this script and ``examples/offline.py`` beside the project and runs this script with
``connection-info/venv/bin/python`` from the project directory, with no ``PYTHONPATH``. It then:

* checks that this process imports ``pulumi_yc_websocket`` from the venv's site-packages (not the
  checkout, not an editable install) and that ``__version__`` is the installed distribution's;
* starts the bundled emulator (``pulumi_yc_websocket.emulator``, demo seed from the wheel) here;
* starts the real dynamic-provider server (``python -u -m pulumi.dynamic``) with the venv's
  interpreter, as the engine does, and runs ``pulumi preview`` then ``pulumi up`` of the stack
  through it (``pulumi_yc_websocket.testing``);
* checks the stack's outputs, that the provider was pickled by reference (the provider process
  had to import the package by name), and that the provider process imported the package from
  the venv's site-packages: an import probe (``YCWS_IMPORT_PROBE``, a ``sitecustomize`` on the
  provider's ``PYTHONPATH``) prints where it found the package.
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
PROBE_PREFIX = "ycws-import-probe: pulumi_yc_websocket from "


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
    project = Path.cwd().resolve()
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    check(Path(sys.prefix).resolve() == project / "venv", f"not run from {project}/venv")
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
    from pulumi_yc_websocket.testing import ProviderServer, Secret, StackState

    check(installed_here(DEMO_SEED_PATH, site, repo), f"demo seed at {DEMO_SEED_PATH}")
    seed = json.loads(DEMO_SEED_PATH.read_text(encoding="utf-8"))
    token = next(t["token"] for t in seed["iamTokens"] if "viewer" not in t["roles"])

    from offline import project_name, readable, run_example  # beside this script

    with EmulatorServer(EmulatorBackend.from_seed(DEMO_SEED_PATH)) as emulator:
        env = {
            "YC_APIGATEWAY_CONNECTIONS_ENDPOINT": emulator.url,
            "YC_IAM_ENDPOINT": emulator.url,
            "YC_METADATA_ADDR": f"127.0.0.1:{emulator.port}",
            "YC_IAM_TOKEN": token,
        }
        os.environ.update(env)  # the get_* functions look up in the program's process
        provider_env = {
            "PATH": os.environ.get("PATH", ""),
            **env,
            "PYTHONPATH": str(probe_dir),
            "YCWS_IMPORT_PROBE": "1",
        }
        python = project / "venv" / "bin" / "python"  # what the engine starts the provider with
        project_id = project_name(EXAMPLE)
        with ProviderServer(
            python=str(python), cwd=project, env=provider_env, inherit_env=False, project=project_id
        ) as server:
            state = StackState(project=project_id, stack="ci")
            config = {"connectionId": CONNECTION_ID}
            planned = run_example(EXAMPLE, server=server, state=state, config=config, preview=True)
            outputs = run_example(EXAMPLE, server=server, state=state, config=config, preview=False)
            stderr = server.stderr
        lookups = emulator.backend.count("connections", status=200)

    print("outputs:", json.dumps(readable(dict(outputs)), sort_keys=True))
    check(planned["gatewayId"] == GATEWAY_ID, f"preview planned {planned['gatewayId']!r}")
    check(outputs["gatewayId"] == GATEWAY_ID, f"up gave {outputs['gatewayId']!r}")
    check(outputs["found"] is True, "not found")
    check(outputs["sourceIp"] == Secret("203.0.113.42"), f"sourceIp {outputs['sourceIp']!r}")
    check(outputs["viaGet"]["gatewayId"] == GATEWAY_ID, "WebSocketConnection.get")
    check(outputs["viaFunction"]["gatewayId"] == GATEWAY_ID, "get_websocket_connection_output")
    check("203.0.113.42" not in state.to_json(), "the identity is in plain text in the state")
    check(lookups > 0, "the emulator answered no Connection.Get")

    # The provider is pickled by reference: the provider process imported it by name.
    raw = base64.b64decode(state.find("connection").inputs["__provider"])
    check(b"pulumi_yc_websocket.provider" in raw, "the provider is not pickled by reference")
    check(len(raw) < 300, f"the pickled provider is {len(raw)} bytes: pickled by value?")

    found = [line[len(PROBE_PREFIX) :] for line in stderr.splitlines() if PROBE_PREFIX in line]
    check(bool(found), f"the provider process never imported the package; stderr:\n{stderr}")
    for where in found:
        check(installed_here(where, site, repo), f"the provider process imported {where}")
    print(f"provider process: pulumi_yc_websocket from {found[0]} ({python})")
    print("wheel smoke test: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
