"""The same provider plugin driven from a Python program, as any language's SDK drives it: a
resource by its type token (``pulumi.CustomResource``) and the function by ``pulumi.runtime
.invoke``, beside the dynamic-provider face in the same program."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_yc_websocket._schema import FUNCTION_TOKEN, RESOURCE_TOKEN
from tests.support.demo import BOT, CLOSED, GATEWAY_A, GATEWAY_B, MOBILE_IPV4

from .conftest import NewProject, fails_with_one_line

pytestmark = pytest.mark.pulumi_cli

PROGRAM = f"""
import pulumi
import pulumi.runtime
from pulumi_yc_websocket import WebSocketConnection

config = pulumi.Config()
outputs = ["found", "gatewayId", "identity", "connectedAt", "lastActiveAt"]
conn = pulumi.CustomResource(
    "{RESOURCE_TOKEN}",
    "conn",
    {{"connectionId": config.require("connectionId"), **dict.fromkeys(outputs)}},
)
info = pulumi.runtime.invoke(
    "{FUNCTION_TOKEN}",
    {{"connectionId": config.require("otherId"), "allowMissing": True}},
).value
dynamic = WebSocketConnection("dynamic", config.require("connectionId"))

pulumi.export("gatewayId", conn.gatewayId)
pulumi.export("sourceIp", conn.identity.apply(lambda identity: identity["sourceIp"]))
pulumi.export("lastActiveAt", conn.lastActiveAt)
pulumi.export("function", info)
pulumi.export("dynamicGatewayId", dynamic.gateway_id)
"""


def test_resource_and_function_from_python(new_project: NewProject, demo: Any) -> None:
    mobile = demo.backend.get_connection(MOBILE_IPV4)
    bot = demo.backend.get_connection(BOT)
    project = new_project(program=PROGRAM, plugin=True)
    project.init_stack(config={"connectionId": MOBILE_IPV4, "otherId": BOT})

    printed = project.pulumi("preview").printed_outputs()
    assert printed["gatewayId"] == GATEWAY_A
    assert printed["sourceIp"] == mobile["identity"]["sourceIp"]
    assert printed["lastActiveAt"] == mobile["lastActiveAt"]

    project.pulumi("up", "--yes")
    assert project.outputs() == {
        "gatewayId": GATEWAY_A,
        "sourceIp": mobile["identity"]["sourceIp"],
        "lastActiveAt": mobile["lastActiveAt"],
        "function": {
            "connectionId": BOT,
            "found": True,
            "gatewayId": GATEWAY_B,
            "identity": bot["identity"],
            "connectedAt": bot["connectedAt"],
            "lastActiveAt": bot["lastActiveAt"],
        },
        "dynamicGatewayId": GATEWAY_A,
    }
    project.pulumi("preview", "--expect-no-changes")

    demo.backend.close_connection(BOT)
    project.pulumi("up", "--yes")
    assert project.outputs()["function"]["found"] is False

    project.set_config("connectionId", CLOSED)
    failed = project.pulumi("up", "--yes", check=False)
    fails_with_one_line(failed, "conn", f"Connection '{CLOSED}' was not found", "allowMissing")

    before = demo.count("connections")
    project.pulumi("destroy", "--yes")
    assert demo.count("connections") == before
