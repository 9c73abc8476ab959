"""``pulumi_yc_websocket.testing.LookupMocks``: a user's program under Pulumi's own mocks, each
``WebSocketConnection`` answered by the real provider code against the emulator."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi.runtime
import pytest

from pulumi_yc_websocket import WebSocketConnection
from pulumi_yc_websocket.testing import RESOURCE_TYPE, CheckFailedError, LookupMocks
from tests.support.programs import lookup_mocks, run

RECORD = {
    "id": "mocksConnection000001",
    "gatewayId": "d5dmocks000000000001",
    "identity": {"sourceIp": "203.0.113.7", "userAgent": "mocks-test/1.0"},
    "connectedAt": "2024-05-01T10:00:00.123456789Z",
    "lastActiveAt": "2024-05-01T10:05:00.987654321Z",
}


def looked_up(connection_id: str = RECORD["id"], **kwargs: Any) -> dict[str, Any]:
    conn = WebSocketConnection("conn", connection_id, **kwargs)
    return {
        "found": conn.found,
        "gatewayId": conn.gateway_id,
        "sourceIp": conn.identity.source_ip,
        "lastActiveAt": conn.last_active_at,
    }


def test_records_given_to_the_mocks_are_what_the_program_sees() -> None:
    mocks = LookupMocks([RECORD])
    try:
        pulumi.runtime.set_mocks(mocks, project="test", stack="dev", preview=False)
        values = run(looked_up)
    finally:
        mocks.close()
        pulumi.runtime.set_all_config({})
    assert values == {
        "found": True,
        "gatewayId": "d5dmocks000000000001",
        "sourceIp": "203.0.113.7",
        "lastActiveAt": "2024-05-01T10:05:00.987654321Z",
    }
    assert mocks.outputs["conn"]["gatewayId"] == "d5dmocks000000000001"


def test_preview_plans_the_looked_up_values(emulator: Any) -> None:
    emulator.backend.add_connection(RECORD)
    with lookup_mocks(emulator.server, preview=True):
        values = run(looked_up)
    assert values["gatewayId"] == "d5dmocks000000000001"
    assert emulator.count("connections") == 1


def test_a_missing_connection_fails_as_the_engine_reports_it(emulator: Any) -> None:
    with lookup_mocks(emulator.server), pytest.raises(CheckFailedError) as caught:
        run(looked_up)
    assert str(caught.value).startswith("resource 'conn': property connectionId has a problem: ")
    assert "was not found" in str(caught.value)


def test_allow_missing_reads_found_false(emulator: Any) -> None:
    def program() -> dict[str, Any]:
        conn = WebSocketConnection("conn", "gone", allow_missing=True)
        return {"found": conn.found, "connectionId": conn.connection_id}

    with lookup_mocks(emulator.server):
        assert run(program) == {"found": False, "connectionId": "gone"}


def test_get_reads_an_existing_connection(emulator: Any) -> None:
    emulator.backend.add_connection(RECORD)

    def program() -> dict[str, Any]:
        existing = WebSocketConnection.get("existing", RECORD["id"])
        return {"gatewayId": existing.gateway_id}

    with lookup_mocks(emulator.server) as mocks:
        assert run(program) == {"gatewayId": "d5dmocks000000000001"}
    assert "existing" in mocks.outputs


def test_other_resources_get_their_inputs_as_outputs(emulator: Any) -> None:
    def program() -> dict[str, Any]:
        other = pulumi.CustomResource("test:index:Other", "other", {"value": "kept"})
        return {"value": other.value}  # type: ignore[attr-defined]

    with lookup_mocks(emulator.server):
        assert run(program) == {"value": "kept"}


def test_the_resource_type_is_the_one_pulumi_registers() -> None:
    assert RESOURCE_TYPE == "pulumi-python:dynamic/yc-websocket:WebSocketConnection"
