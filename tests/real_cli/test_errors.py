"""Errors as the user sees them in the real CLI's output: each is one line that names the
connection and says what to do, with no Python traceback, and the deployment fails."""

from __future__ import annotations

import json
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


def test_a_failed_refresh_is_one_line(project: Project, emulator: Any) -> None:
    project.pulumi("up", "--yes")
    unknown = "t1.NOTxKNOWNxTOKEN.xxxxxxxxxxxx"
    result = project.pulumi(
        "refresh", "--yes", "--skip-preview", check=False, env={"YC_IAM_TOKEN": unknown}
    )
    line = fails_with_one_line(result, "conn", CONNECTION_ID, "was rejected", "yc iam create-token")
    assert unknown not in result.output
    assert "LookupFailed" not in line


def test_a_failed_destroy_with_run_program_is_one_line(
    new_project: NewProject, emulator: Any
) -> None:
    # With --run-program the program runs, and its function lookups with it.
    emulator.add_connection(id=CONNECTION_ID, gateway_id="d5derrors00000000001")
    program = PROGRAM + (
        "from pulumi_yc_websocket import get_websocket_connection_output\n"
        "pulumi.export('viaFunction', get_websocket_connection_output(conn.connection_id))\n"
    )
    project = new_project(program=program)
    project.init_stack(config={"connectionId": CONNECTION_ID})
    project.pulumi("up", "--yes")
    emulator.backend.close_connection(CONNECTION_ID)
    result = project.pulumi("destroy", "--yes", "--run-program", check=False)
    assert result.returncode != 0
    assert "Traceback" not in result.output
    [line, engine_line] = result.diagnostics()["ycws-test-dev"]
    assert line.startswith(
        f"error: get_websocket_connection_output: Connection '{CONNECTION_ID}' was not found"
    )
    assert engine_line.startswith("error: an unhandled error occurred")


SECRET_ID = "SECRETLITERALxID99"
SECRET_PROGRAM = """
import pulumi
from pulumi_yc_websocket import WebSocketConnection, get_websocket_connection_output

connection_id = pulumi.Config().require_secret("connectionId")
conn = WebSocketConnection("conn", connection_id)
pulumi.export("gatewayId", conn.gateway_id)
if pulumi.Config().get_bool("function"):
    pulumi.export("viaFunction", get_websocket_connection_output(connection_id).gateway_id)
"""


@pytest.mark.parametrize("function", [False, True])
def test_a_secret_id_is_never_shown(new_project: NewProject, emulator: Any, function: bool) -> None:
    project = new_project(program=SECRET_PROGRAM)
    project.init_stack(config={"function": function}, secrets={"connectionId": SECRET_ID})
    result = project.pulumi("preview", check=False)
    assert result.returncode != 0
    assert "Traceback" not in result.output
    assert "was not found" in result.output
    assert SECRET_ID.lower() not in result.output.lower()


def test_a_secret_id_is_not_the_resource_id_in_state(
    new_project: NewProject, emulator: Any
) -> None:
    emulator.add_connection(id=SECRET_ID, gateway_id="d5dsecretidgateway01")
    project = new_project(program=SECRET_PROGRAM)
    project.init_stack(config={"function": True}, secrets={"connectionId": SECRET_ID})
    project.pulumi("up", "--yes")
    # What is derived from a secret is a secret.
    assert project.outputs() == {"gatewayId": "[secret]", "viaFunction": "[secret]"}
    assert project.outputs(show_secrets=True) == {
        "gatewayId": "d5dsecretidgateway01",
        "viaFunction": "d5dsecretidgateway01",
    }
    [resource] = [r for r in project.resources() if r["urn"].endswith("::conn")]
    assert resource["id"].startswith("secret-")
    assert SECRET_ID not in json.dumps(project.export())
    # Refresh finds the connection by the id in the encrypted state, not by the resource id.
    project.pulumi("refresh", "--yes", "--skip-preview", "--expect-no-changes")
    emulator.backend.close_connection(SECRET_ID)
    refreshed = project.pulumi("refresh", "--yes", "--skip-preview")
    assert SECRET_ID not in refreshed.output
    assert [r for r in project.resources() if r["urn"].endswith("::conn")] == []
