"""Errors as the user sees them in the real CLI's output: each is one line that names the
connection and says what to do, with no Python traceback, and the deployment fails."""

from __future__ import annotations

from typing import Any

import pytest

from tools.pulumi_cli import Project

from .conftest import NewProject, fails_with_one_line

pytestmark = pytest.mark.pulumi_cli

PROGRAM = """
import pulumi
from pulumi_yc_websocket import WebSocketConnection

conn = WebSocketConnection("conn", pulumi.Config().require("connectionId"))
pulumi.export("gatewayId", conn.gateway_id)
"""
CONNECTION_ID = "errorsTestConnection01"


@pytest.fixture
def project(new_project: NewProject, emulator: Any) -> Project:
    emulator.add_connection(id=CONNECTION_ID, gateway_id="d5derrors00000000001")
    project = new_project(program=PROGRAM)
    project.init_stack(config={"connectionId": CONNECTION_ID})
    return project


@pytest.mark.parametrize("command", [("preview",), ("up", "--yes")])
def test_missing_connection(project: Project, emulator: Any, command: tuple[str, ...]) -> None:
    emulator.backend.close_connection(CONNECTION_ID)
    result = project.pulumi(*command, check=False)
    fails_with_one_line(result, "conn", CONNECTION_ID, "not found", "closed")


def test_permission_denied(project: Project, emulator: Any) -> None:
    viewer = emulator.backend.add_iam_token("t1.viewerOnly.c2lnbmF0dXJl", roles=["viewer"])
    result = project.pulumi("preview", check=False, env={"YC_IAM_TOKEN": viewer})
    fails_with_one_line(result, "conn", CONNECTION_ID, "api-gateway.websocketWriter")


def test_no_credentials(project: Project, emulator: Any, closed_port: int) -> None:
    # Nothing configured and no metadata service answering: not on a Yandex Cloud VM.
    env = {"YC_IAM_TOKEN": "", "YC_METADATA_ADDR": f"127.0.0.1:{closed_port}"}
    result = project.pulumi("preview", check=False, env=env)
    fails_with_one_line(result, "conn", CONNECTION_ID, "YC_IAM_TOKEN", "yandex:token")
    assert emulator.count("connections") == 0


@pytest.mark.parametrize("bad_id", ["..", "x" * 51])
def test_invalid_id(project: Project, emulator: Any, bad_id: str) -> None:
    project.set_config("connectionId", bad_id)
    result = project.pulumi("preview", check=False)
    fails_with_one_line(result, "conn", "connection id")
    assert emulator.count("connections") == 0


def test_unknown_config_key_of_the_package(project: Project, emulator: Any) -> None:
    project.set_config("yc-websocket:connectionsEndpont", emulator.url)
    result = project.pulumi("preview", check=False)
    fails_with_one_line(
        result,
        "conn",
        "yc-websocket:connectionsEndpont is not a config key of yc-websocket",
        "did you mean yc-websocket:connectionsEndpoint?",
    )
    assert emulator.count("connections") == 0


def test_a_likely_typo_of_a_yandex_key_is_a_warning(project: Project) -> None:
    project.set_config("yandex:tokn", "t1.typo.ignored", secret=True)
    result = project.pulumi("preview")
    warnings = [line for line in result.output.splitlines() if "yandex:tokn" in line]
    assert warnings, result.output
    assert all("did you mean yandex:token?" in line for line in warnings)
    assert "t1.typo.ignored" not in result.output
