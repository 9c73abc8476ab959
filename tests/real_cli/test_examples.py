"""Each example stack through its whole life under the real CLI, against the emulator's demo data:
``pulumi preview`` shows the looked-up values, ``up`` records them, a second preview finds no
change, a changed record reaches the outputs on the next ``up``, ``refresh`` notices a connection
that closed, and ``destroy`` sends no request to the API."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import pytest

from tests.support.demo import (
    BOT,
    CLOSED,
    DESKTOP_IPV6,
    GATEWAY_A,
    GATEWAY_B,
    MOBILE_IPV4,
    NO_USER_AGENT,
)
from tools.pulumi_cli import Project

from .conftest import NewProject

pytestmark = pytest.mark.pulumi_cli

LOOKUP = "pulumi-python:dynamic/yc-websocket:WebSocketConnection"
# pulumi 3.260 exports an output-type object under its wire names; before, its Python names.
EXPORTS_WIRE_NAMES = tuple(int(part) for part in version("pulumi").split(".")[:2]) >= (3, 260)


def planned_inputs(plan: dict[str, Any], name: str) -> dict[str, Any]:
    """The checked inputs ``pulumi preview --json`` plans for the resource ``name``."""
    step = next(s for s in plan["steps"] if s["urn"].endswith(f"::{name}"))
    inputs: dict[str, Any] = step["newState"]["inputs"]
    return inputs


def lookups_in_state(project: Project) -> dict[str, dict[str, Any]]:
    """The lookup resources in the stack's state, by name: their outputs."""
    return {
        resource["urn"].rsplit("::", 1)[-1]: resource.get("outputs", {})
        for resource in project.resources()
        if resource["type"] == LOOKUP
    }


def destroy_sends_no_request(project: Project, emulator: Any) -> None:
    before = emulator.count("connections")
    project.pulumi("destroy", "--yes")
    assert emulator.count("connections") == before
    assert lookups_in_state(project) == {}


def test_connection_info(new_project: NewProject, demo: Any) -> None:
    record = demo.backend.get_connection(MOBILE_IPV4)
    project = new_project(example="connection-info")
    project.init_stack(config={"connectionId": MOBILE_IPV4})

    planned = planned_inputs(project.preview_json(), "connection")
    assert planned["found"] is True
    assert planned["gatewayId"] == GATEWAY_A
    assert planned["lastActiveAt"] == record["lastActiveAt"]
    assert planned["identity"] == "[secret]"  # secret_identity=True: encrypted even in the plan

    project.pulumi("up", "--yes")
    identity = record["identity"]
    exported_identity = (
        identity
        if EXPORTS_WIRE_NAMES
        else {"source_ip": identity["sourceIp"], "user_agent": identity["userAgent"]}
    )
    assert project.outputs(show_secrets=True) == {
        "connectionId": MOBILE_IPV4,
        "found": True,
        "gatewayId": GATEWAY_A,
        "identity": exported_identity,
        "sourceIp": identity["sourceIp"],
        "userAgent": identity["userAgent"],
        "connectedAt": record["connectedAt"],
        "lastActiveAt": record["lastActiveAt"],
        "viaGet": {"gatewayId": GATEWAY_A, "lastActiveAt": record["lastActiveAt"]},
        "viaFunction": {
            "gatewayId": GATEWAY_A,
            "connectedAt": record["connectedAt"],
            "sourceIp": identity["sourceIp"],
        },
    }
    project.pulumi("preview", "--expect-no-changes")

    demo.backend.update_connection(MOBILE_IPV4, last_active_at="2030-01-01T00:00:00.000000001Z")
    update = project.pulumi("up", "--yes")
    assert "~ 1 updated" in update.stdout
    outputs = project.outputs()
    assert outputs["lastActiveAt"] == "2030-01-01T00:00:00.000000001Z"
    assert outputs["viaGet"]["lastActiveAt"] == "2030-01-01T00:00:00.000000001Z"

    demo.backend.close_connection(MOBILE_IPV4)
    project.pulumi("refresh", "--yes")
    # Closed and not allow_missing: refresh drops both lookups from the state.
    assert lookups_in_state(project) == {}

    destroy_sends_no_request(project, demo)


def test_monitoring(new_project: NewProject, demo: Any) -> None:
    ids = [MOBILE_IPV4, DESKTOP_IPV6, BOT, NO_USER_AGENT, CLOSED]
    project = new_project(example="monitoring")
    project.init_stack(config={"connectionIds": ids})

    plan = project.preview_json()
    assert planned_inputs(plan, f"connection-{CLOSED}")["found"] is False
    assert planned_inputs(plan, f"connection-{BOT}")["gatewayId"] == GATEWAY_B

    project.pulumi("up", "--yes")
    outputs = project.outputs()
    report = outputs["connections"]
    assert report[CLOSED] == {"status": "closed", "gatewayId": None}
    assert report[MOBILE_IPV4]["status"] == "healthy"
    assert report[DESKTOP_IPV6]["status"] == "idle-timeout-soon"
    assert report[BOT]["status"] == "idle-timeout-soon"
    assert outputs["health"]["closed"] == [CLOSED]
    assert outputs["health"]["gateways"][GATEWAY_A]["aboutToDrop"] == [DESKTOP_IPV6]
    assert outputs["health"]["gateways"][GATEWAY_B]["aboutToDrop"] == [BOT]
    # The outputs are measured now and move with the clock; the resources do not.
    project.pulumi("preview", "--expect-no-changes")

    # The desktop client sends a message; the mobile one goes away.
    demo.backend.update_connection(DESKTOP_IPV6, last_active_at={"secondsAgo": 1})
    demo.backend.close_connection(MOBILE_IPV4)
    project.pulumi("up", "--yes")
    report = project.outputs()["connections"]
    assert report[DESKTOP_IPV6]["status"] == "healthy"
    assert report[MOBILE_IPV4]["status"] == "closed"

    demo.backend.close_connection(BOT)
    project.pulumi("refresh", "--yes")
    # allow_missing=True: refresh keeps a closed connection, as found=false.
    state = lookups_in_state(project)
    assert state[f"connection-{BOT}"]["found"] is False
    assert state[f"connection-{BOT}"]["gatewayId"] == ""  # proto3's empty value: one type
    assert state[f"connection-{NO_USER_AGENT}"]["found"] is True

    destroy_sends_no_request(project, demo)


def test_routing(new_project: NewProject, demo: Any) -> None:
    config = {
        "connectionIds": [MOBILE_IPV4, DESKTOP_IPV6, BOT, NO_USER_AGENT],
        "rules": [
            {"cidr": "203.0.113.0/24", "pool": "eu-edge"},
            {"cidr": "2001:db8::/32", "pool": "v6-lab"},
            {"cidr": "192.0.2.0/24", "pool": "partners"},
        ],
    }
    project = new_project(example="routing")
    project.init_stack(config=config)

    plan = project.preview_json()
    # The API leaves an empty user agent out (proto3 JSON); the state has it as "".
    assert planned_inputs(plan, f"connection-{NO_USER_AGENT}")["identity"] == {
        "sourceIp": "192.0.2.201",
        "userAgent": "",
    }

    project.pulumi("up", "--yes")
    assert project.outputs()["routingTable"] == {
        GATEWAY_A: [
            {"connectionId": DESKTOP_IPV6, "pool": "v6-lab", "client": "desktop"},
            {"connectionId": MOBILE_IPV4, "pool": "eu-edge", "client": "mobile"},
        ],
        GATEWAY_B: [
            {"connectionId": NO_USER_AGENT, "pool": "partners", "client": "unknown"},
            {"connectionId": BOT, "pool": "public", "client": "bot"},
        ],
    }
    project.pulumi("preview", "--expect-no-changes")

    demo.backend.update_connection(MOBILE_IPV4, source_ip="198.51.100.1", user_agent="curl/8.5.0")
    project.pulumi("up", "--yes")
    table = project.outputs()["routingTable"]
    assert {"connectionId": MOBILE_IPV4, "pool": "public", "client": "bot"} in table[GATEWAY_A]

    demo.backend.close_connection(BOT)
    project.pulumi("refresh", "--yes")
    assert f"connection-{BOT}" not in lookups_in_state(project)
    assert f"connection-{MOBILE_IPV4}" in lookups_in_state(project)

    destroy_sends_no_request(project, demo)
