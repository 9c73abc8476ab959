"""``pulumi package get-schema`` on the installed plugin: the CLI prints the schema the plugin
derives, and binds it (it fails on a schema that does not validate against Pulumi's)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pulumi_yc_websocket._schema import schema
from tools.pulumi_cli import Workspace

pytestmark = pytest.mark.pulumi_cli


def test_get_schema_prints_and_binds_it(workspace: Workspace, tmp_path: Path) -> None:
    plugin = Path(sys.executable).with_name("pulumi-resource-yc-websocket")
    result = subprocess.run(
        [str(workspace.cli), "package", "get-schema", str(plugin)],
        env=workspace.environment(None),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert json.loads(result.stdout) == schema()
