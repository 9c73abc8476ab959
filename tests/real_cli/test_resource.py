"""``WebSocketConnection`` under the real CLI: typed outputs, updates and replacements, unknown
ids, ``.get()``, secret options, and where settings come from."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pulumi_yc_websocket.emulator import Delay
from tools.pulumi_cli import Project

from .conftest import NewProject

pytestmark = pytest.mark.pulumi_cli

CONNECTION = {
    "id": "ResourceConnection01",
    "gateway_id": "d5dresourcegateway01",
    "source_ip": "2001:db8:85a3::8a2e:370:7334",
    "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)",
    "connected_at": "2024-05-01T10:00:00.123456789+03:00",
    "last_active_at": "2024-05-01T07:09:59.000000001Z",
}
EXPORTING = """
import pulumi
from pulumi_yc_websocket import WebSocketConnection

conn = WebSocketConnection("conn", pulumi.Config().require("connectionId"){options})
pulumi.export("gatewayId", conn.gateway_id)
pulumi.export("sourceIp", conn.identity.source_ip)
pulumi.export("identityType", conn.identity.apply(lambda identity: type(identity).__name__))
pulumi.export("connectedAt", conn.connected_at)
pulumi.export("lastActiveAt", conn.last_active_at)
"""
LOOKUP = "pulumi-python:dynamic/yc-websocket:WebSocketConnection"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""How the engine writes a value not known until the update, in ``preview --json``."""


def exporting(options: str = "") -> str:
    return EXPORTING.format(options=options)


@pytest.fixture
def emu(emulator: Any) -> Any:
    emulator.add_connection(**CONNECTION)
    return emulator


def lookup_state(project: Project) -> dict[str, Any]:
    (resource,) = [r for r in project.resources() if r["type"] == LOOKUP]
    return resource


def test_typed_outputs_and_a_second_up_changes_nothing(new_project: NewProject, emu: Any) -> None:
    project = new_project(program=exporting())
    project.init_stack(config={"connectionId": CONNECTION["id"]})
    project.pulumi("up", "--yes")
    assert project.outputs() == {
        "gatewayId": CONNECTION["gateway_id"],
        "sourceIp": CONNECTION["source_ip"],
        "identityType": "WebSocketConnectionIdentity",
        "connectedAt": "2024-05-01T07:00:00.123456789Z",
        "lastActiveAt": CONNECTION["last_active_at"],
    }
    stored = lookup_state(project)
    assert stored["id"] == CONNECTION["id"]
    assert stored["outputs"]["identity"] == {
        "sourceIp": CONNECTION["source_ip"],
        "userAgent": CONNECTION["user_agent"],
    }
    assert [s.op for s in project.steps("up", "--yes", "--skip-preview") if s.type == LOOKUP] == [
        "same"
    ]


def test_changed_data_is_an_in_place_update(new_project: NewProject, emu: Any) -> None:
    project = new_project(program=exporting())
    project.init_stack(config={"connectionId": CONNECTION["id"]})
    project.pulumi("up", "--yes")
    emu.backend.update_connection(CONNECTION["id"], last_active_at="2024-05-01T07:12:00.5Z")
    plan = project.preview_json()
    (step,) = [s for s in plan["steps"] if s["urn"].endswith("::conn")]
    assert step["op"] == "update"
    assert step["newState"]["inputs"]["lastActiveAt"] == "2024-05-01T07:12:00.5Z"
    project.pulumi("up", "--yes")
    assert project.outputs()["lastActiveAt"] == "2024-05-01T07:12:00.5Z"


def test_a_new_id_replaces_create_before_delete(new_project: NewProject, emu: Any) -> None:
    project = new_project(program=exporting())
    project.init_stack(config={"connectionId": CONNECTION["id"]})
    project.pulumi("up", "--yes")
    emu.add_connection(id="SecondConnection0001", gateway_id="d5dsecondgateway0001")
    project.set_config("connectionId", "SecondConnection0001")
    ops = [s.op for s in project.steps("up", "--yes", "--skip-preview") if s.type == LOOKUP]
    assert ops == ["create-replacement", "replace", "delete-replaced"]
    assert project.outputs()["gatewayId"] == "d5dsecondgateway0001"
    assert lookup_state(project)["id"] == "SecondConnection0001"


UNKNOWN_ID = """
import pulumi
import pulumi.dynamic
from pulumi_yc_websocket import WebSocketConnection


class IdSourceProvider(pulumi.dynamic.ResourceProvider):
    def create(self, props):
        return pulumi.dynamic.CreateResult("source", {"value": props["seed"]})


class IdSource(pulumi.dynamic.Resource):
    value: pulumi.Output[str]

    def __init__(self, name, seed):
        # `value` is an output only: unknown in a preview of its creation.
        super().__init__(IdSourceProvider(), name, {"seed": seed, "value": None})


# The id is an output of a resource not created yet: unknown until `up` creates it.
source = IdSource("source", "ResourceConnection01")
conn = WebSocketConnection("conn", source.value)
pulumi.export("gatewayId", conn.gateway_id)
"""


def test_an_unknown_id_sends_no_request_in_preview(new_project: NewProject, emu: Any) -> None:
    project = new_project(program=UNKNOWN_ID)
    project.init_stack()
    plan = project.preview_json()
    (step,) = [s for s in plan["steps"] if s["urn"].endswith("::conn")]
    planned = step["newState"]["inputs"]
    assert planned["connectionId"] == planned["gatewayId"] == UNKNOWN  # known after up
    assert emu.count("connections") == 0
    project.pulumi("up", "--yes", "--skip-preview")
    assert project.outputs()["gatewayId"] == CONNECTION["gateway_id"]


MANY = """
import pulumi
from pulumi_yc_websocket import WebSocketConnection

for index in range(6):
    conn = WebSocketConnection(f"conn{index}", "ResourceConnection01")
    pulumi.export(f"gateway{index}", conn.gateway_id)
"""


def test_lookups_overlap_instead_of_waiting_in_line(new_project: NewProject, emu: Any) -> None:
    # Each answer comes 2 s after its request. Looked up one at a time (the engine's serial
    # Check), the sixth request would arrive 10 s after the first; overlapped, every request
    # is in before the first answer is out.
    answer_after_s = 2.0
    emu.faults.set_default("connections", Delay(answer_after_s))
    project = new_project(program=MANY)
    project.init_stack()
    plan = project.preview_json()
    planned = [s["newState"]["inputs"] for s in plan["steps"] if s["newState"]["type"] == LOOKUP]
    assert [inputs["gatewayId"] for inputs in planned] == [CONNECTION["gateway_id"]] * 6
    received = [request.received_at for request in emu.requests("connections")]
    assert len(received) == 6
    assert max(received) - min(received) < answer_after_s


def test_get_of_a_missing_connection_fails_the_deployment(
    new_project: NewProject, emu: Any
) -> None:
    project = new_project(
        program="""
from pulumi_yc_websocket import WebSocketConnection

WebSocketConnection.get("existing", "GoneConnection0001")
"""
    )
    project.init_stack()
    result = project.pulumi("preview", check=False)
    assert result.returncode != 0
    assert "GoneConnection0001" in result.output
    assert "not found" in result.output


def test_additional_secret_outputs_also_encrypt_the_inputs(
    new_project: NewProject, emu: Any
) -> None:
    options = ", opts=pulumi.ResourceOptions(additional_secret_outputs=['identity', 'gateway_id'])"
    project = new_project(program=exporting(options))
    project.init_stack(config={"connectionId": CONNECTION["id"]})
    project.pulumi("up", "--yes")
    exported = json.dumps(project.export())
    assert CONNECTION["source_ip"] not in exported
    assert CONNECTION["gateway_id"] not in exported
    assert project.outputs()["gatewayId"] == "[secret]"


def test_without_secret_options_the_identity_is_plain(new_project: NewProject, emu: Any) -> None:
    project = new_project(program=exporting())
    project.init_stack(config={"connectionId": CONNECTION["id"]})
    project.pulumi("up", "--yes")
    assert CONNECTION["source_ip"] in json.dumps(project.export())


def test_a_credential_in_stack_config_wins_over_the_environment(
    new_project: NewProject, emu: Any
) -> None:
    viewer = emu.backend.add_iam_token("t1.viewerOnly.c2lnbmF0dXJl", roles=["viewer"])
    project = new_project(program=exporting())
    project.workspace.env["YC_IAM_TOKEN"] = viewer
    project.init_stack(
        config={"connectionId": CONNECTION["id"]}, secrets={"yandex:token": emu.token}
    )
    project.pulumi("up", "--yes", "--skip-preview")
    assert project.outputs()["gatewayId"] == CONNECTION["gateway_id"]
    (request,) = emu.requests("connections")
    assert request.headers["authorization"] == f"Bearer {emu.token}"


def test_the_endpoint_from_package_config(new_project: NewProject, emu: Any) -> None:
    project = new_project(program=exporting())
    project.workspace.env.pop("YC_APIGATEWAY_CONNECTIONS_ENDPOINT")
    project.init_stack(
        config={"connectionId": CONNECTION["id"], "yc-websocket:connectionsEndpoint": emu.url}
    )
    project.pulumi("up", "--yes", "--skip-preview")
    assert project.outputs()["gatewayId"] == CONNECTION["gateway_id"]
