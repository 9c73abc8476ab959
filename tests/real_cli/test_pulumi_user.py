"""What a Pulumi user meets with programs of their own, judged in the real CLI's output: a
missing connection never crashes, errors name their real cause in one line, activity alone can
be no change, and every privacy option does what it says."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tools.pulumi_cli import Project, Result

from .conftest import NewProject

pytestmark = pytest.mark.pulumi_cli

CONNECTION_ID = "userConnection000001"
SOURCE_IP = "198.51.100.77"
USER_AGENT = "user-agent-under-test/2.0"


@pytest.fixture
def emu(emulator: Any) -> Any:
    emulator.add_connection(
        id=CONNECTION_ID,
        gateway_id="d5duser0000000000001",
        source_ip=SOURCE_IP,
        user_agent=USER_AGENT,
        last_active_at="2024-05-01T10:00:00.000000001Z",
    )
    return emulator


def program(body: str) -> str:
    return "import pulumi\nfrom pulumi_yc_websocket import *  # noqa: F403\n" + body


def stack(new_project: NewProject, body: str, **config: Any) -> Project:
    project = new_project(program=program(body))
    project.init_stack(config=config)
    return project


def no_traceback(result: Result) -> None:
    assert result.returncode != 0, result.output
    assert "Traceback" not in result.output, result.output


# -- 1. a missing connection with allow_missing, and the README's nested outputs ---------------


def test_allow_missing_with_nested_outputs_does_not_crash(
    new_project: NewProject, emu: Any
) -> None:
    project = stack(
        new_project,
        """
conn = WebSocketConnection("m", "closedConnection0001", allow_missing=True)
pulumi.export("found", conn.found)
pulumi.export("ip", conn.identity.source_ip)
pulumi.export("gateway", conn.gateway_id)
""",
    )
    project.pulumi("up", "--yes")
    assert project.outputs() == {"found": False, "ip": "", "gateway": ""}


# -- 2. errors blamed on what really is wrong ---------------------------------------------------


def test_a_credential_problem_is_reported_on_the_resource_not_the_id(
    new_project: NewProject, emu: Any
) -> None:
    project = stack(new_project, 'WebSocketConnection("conn", "userConnection000001")\n')
    result = project.pulumi("preview", check=False, env={"YC_TOKEN": "y0_also-set-oauth"})
    no_traceback(result)
    (line,) = result.diagnostics()["conn"]
    assert "resource 'conn' has a problem: the lookup of connection" in line
    assert "conflicting credentials: both YC_IAM_TOKEN and YC_TOKEN are set" in line
    assert "property connectionId" not in line
    assert emu.count("connections") == 0


def test_a_closed_connection_is_a_problem_of_the_id(new_project: NewProject, emu: Any) -> None:
    project = stack(new_project, 'WebSocketConnection("conn", "closedConnection0001")\n')
    result = project.pulumi("preview", check=False)
    no_traceback(result)
    (line,) = result.diagnostics()["conn"]
    assert "property connectionId value {closedConnection0001} has a problem:" in line
    assert "was not found" in line


def test_an_id_with_a_newline_stays_on_one_line(new_project: NewProject, emu: Any) -> None:
    project = stack(
        new_project,
        'WebSocketConnection("conn", pulumi.Config().require("connectionId"))\n',
        connectionId="abc\ndef",
    )
    result = project.pulumi("preview", check=False)
    no_traceback(result)
    (line,) = result.diagnostics()["conn"]
    assert "property connectionId value {abc\\ndef} has a problem:" in line
    assert "control character (U+000A) at position 3" in line
    assert emu.count("connections") == 0


# -- 3. .get() fails in one line, its id checked in the program first ---------------------------


@pytest.mark.parametrize("connection_id", ["goneConnection000001", ".."])
def test_get_fails_in_one_line_without_a_traceback(
    new_project: NewProject, emu: Any, connection_id: str
) -> None:
    project = stack(new_project, f'WebSocketConnection.get("existing", {connection_id!r})\n')
    result = project.pulumi("preview", check=False)
    no_traceback(result)
    errors = [line for line in result.diagnostics().values() for line in line if "error:" in line]
    ours = [line for line in errors if "WebSocketConnection.get('existing')" in line]
    assert len(ours) == 1, result.output
    if connection_id == "..":
        assert "is not a valid id" in ours[0]
        assert emu.count("connections") == 0  # refused in the program, never sent
    else:
        assert "was not found" in ours[0]


# -- 4. activity alone as no change ----------------------------------------------------------


ACTIVE = """
conn = WebSocketConnection("conn", "userConnection000001"{options})
pulumi.export("lastActiveAt", conn.last_active_at)
"""


def test_by_default_new_activity_is_an_update_naming_the_field(
    new_project: NewProject, emu: Any
) -> None:
    project = stack(new_project, ACTIVE.format(options=""))
    project.pulumi("up", "--yes")
    emu.backend.update_connection(CONNECTION_ID, last_active_at="2024-05-01T10:09:00Z")
    (step,) = [s for s in project.preview_json()["steps"] if s["urn"].endswith("::conn")]
    assert step["op"] == "update"
    preview = project.pulumi("preview")
    (row,) = [line for line in preview.stdout.splitlines() if "WebSocketConnection conn" in line]
    assert row.rstrip().endswith("update [diff: ~lastActiveAt]")
    assert project.pulumi("preview", "--expect-no-changes", check=False).returncode != 0


def test_ignore_activity_makes_activity_alone_no_change(new_project: NewProject, emu: Any) -> None:
    project = stack(new_project, ACTIVE.format(options=", ignore_activity=True"))
    project.pulumi("up", "--yes")
    emu.backend.update_connection(CONNECTION_ID, last_active_at="2024-05-01T10:09:00Z")
    project.pulumi("preview", "--expect-no-changes")
    project.pulumi("up", "--yes")
    assert project.outputs()["lastActiveAt"] == "2024-05-01T10:00:00.000000001Z"
    # Anything else that changes is an update, and brings the activity along.
    emu.backend.update_connection(CONNECTION_ID, gateway_id="d5duser0000000000002")
    project.pulumi("up", "--yes")
    assert project.outputs()["lastActiveAt"] == "2024-05-01T10:09:00Z"


# -- 5. secret parts of the identity -----------------------------------------------------------


@pytest.mark.parametrize("name", ["source_ip", "sourceIp", "identity.sourceIp"])
def test_additional_secret_outputs_name_parts_of_the_identity(
    new_project: NewProject, emu: Any, name: str
) -> None:
    project = stack(
        new_project,
        f"""
conn = WebSocketConnection(
    "conn",
    "userConnection000001",
    opts=pulumi.ResourceOptions(additional_secret_outputs=[{name!r}]),
)
pulumi.export("sourceIp", conn.identity.source_ip)
""",
    )
    project.pulumi("up", "--yes")
    exported = json.dumps(project.export())
    assert SOURCE_IP not in exported
    assert USER_AGENT in exported  # only what was asked for is secret
    assert project.outputs()["sourceIp"] == "[secret]"


# -- 7. the functions' privacy option -----------------------------------------------------------


def test_get_output_with_secret_identity_keeps_it_secret(new_project: NewProject, emu: Any) -> None:
    project = stack(
        new_project,
        """
info = get_websocket_connection_output("userConnection000001", secret_identity=True)
pulumi.export("sourceIp", info.identity.source_ip)
""",
    )
    project.pulumi("up", "--yes")
    assert project.outputs()["sourceIp"] == "[secret]"
    assert project.outputs(show_secrets=True)["sourceIp"] == SOURCE_IP
    assert SOURCE_IP not in json.dumps(project.export())
