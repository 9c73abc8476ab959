"""``pulumi preview`` / ``pulumi up`` with the real CLI against the emulator (local file backend).

Runs only where the ``pulumi`` CLI is on PATH; skipped with that reason elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pulumi_yc_websocket.emulator import EmulatorBackend, EmulatorServer

pytestmark = [
    pytest.mark.pulumi_cli,
    pytest.mark.skipif(
        shutil.which("pulumi") is None,
        reason="the pulumi CLI is not on PATH (it cannot be installed on this machine)",
    ),
]

PROGRAM = """
import pulumi
from pulumi_yc_websocket import WebSocketConnection

conn = WebSocketConnection("conn", connection_id=pulumi.Config().require("connectionId"))
pulumi.export("gatewayId", conn.gateway_id)
pulumi.export("sourceIp", conn.identity.source_ip)
pulumi.export("lastActiveAt", conn.last_active_at)
"""


def _pulumi(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        ["pulumi", *args, "--non-interactive"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_preview_and_up_against_the_emulator(tmp_path: Path) -> None:
    backend = EmulatorBackend(require_auth=True)
    backend.add_iam_token("t1.cli-integration.token", roles=["api-gateway.websocketWriter"])
    backend.add_connection(
        id="cliTestConnection1",
        gateway_id="d5dclitest0000000001",
        source_ip="198.51.100.7",
        user_agent="pytest",
        connected_at="2024-05-01T10:00:00.123456789Z",
        last_active_at="2024-05-01T10:05:00.987654321Z",
    )
    project = tmp_path / "stack"
    project.mkdir()
    (project / "__main__.py").write_text(textwrap.dedent(PROGRAM), encoding="utf-8")
    (project / "Pulumi.yaml").write_text(
        "name: ycws-cli-test\n"
        "runtime:\n  name: python\n  options:\n"
        f"    virtualenv: {Path(sys.prefix)}\n",
        encoding="utf-8",
    )
    with EmulatorServer(backend) as server:
        env = {
            **os.environ,
            "PULUMI_BACKEND_URL": f"file://{tmp_path / 'state'}",
            "PULUMI_CONFIG_PASSPHRASE": "test-only-passphrase",
            "YC_IAM_TOKEN": "t1.cli-integration.token",
            **server.env,
        }
        (tmp_path / "state").mkdir()
        _pulumi(["stack", "init", "dev"], project, env)
        _pulumi(["config", "set", "connectionId", "cliTestConnection1"], project, env)
        preview = _pulumi(["preview", "--json"], project, env)
        assert "d5dclitest0000000001" in preview
        _pulumi(["up", "--yes", "--skip-preview"], project, env)
        outputs = json.loads(_pulumi(["stack", "output", "--json"], project, env))
        assert outputs == {
            "gatewayId": "d5dclitest0000000001",
            "sourceIp": "198.51.100.7",
            "lastActiveAt": "2024-05-01T10:05:00.987654321Z",
        }
        requests_before_destroy = backend.count("connections")
        _pulumi(["destroy", "--yes", "--skip-preview"], project, env)
        assert backend.count("connections") == requests_before_destroy
