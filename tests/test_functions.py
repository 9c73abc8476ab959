"""get_websocket_connection / get_websocket_connection_output: lookups in the program's process,
with the program's config and environment, nothing in state (under Pulumi's mocks)."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from pulumi_yc_websocket import (
    ConnectionNotFoundError,
    GetWebSocketConnectionResult,
    get_websocket_connection,
    get_websocket_connection_output,
)
from tests.support.programs import lookup_mocks, run

CONNECTION = {
    "id": "FnTestConnection0001",
    "gateway_id": "d5dfunctionsgateway1",
    "source_ip": "203.0.113.42",
    "user_agent": "curl/8.5.0",
    "connected_at": "2024-05-01T10:00:00.5+03:00",
    "last_active_at": "2024-05-01T07:01:00.000000009Z",
}
EXPECTED = {
    "connectionId": CONNECTION["id"],
    "found": True,
    "gatewayId": CONNECTION["gateway_id"],
    "sourceIp": CONNECTION["source_ip"],
    "connectedAt": "2024-05-01T07:00:00.5Z",
    "lastActiveAt": "2024-05-01T07:01:00.000000009Z",
}


@pytest.fixture
def emu(emulator: Any) -> Any:
    emulator.add_connection(**CONNECTION)
    return emulator


def exporting(connection_id: pulumi.Input[str] = CONNECTION["id"], **kwargs: Any) -> Any:
    def program() -> dict[str, Any]:
        result = get_websocket_connection_output(connection_id, **kwargs)
        return {
            "connectionId": result.connection_id,
            "found": result.found,
            "gatewayId": result.gateway_id,
            "sourceIp": result.identity.apply(lambda i: i.source_ip if i else None),
            "connectedAt": result.connected_at,
            "lastActiveAt": result.last_active_at,
        }

    return program


@pytest.mark.parametrize("preview", [True, False])
def test_output_form_looks_up_in_preview_and_up(emu: Any, preview: bool) -> None:
    with lookup_mocks(emu.server, preview=preview) as mocks:
        assert run(exporting()) == EXPECTED
    assert mocks.outputs == {}  # no resource: nothing in state
    assert emu.count("connections") == 1


def test_credentials_come_from_the_program_config(emu: Any) -> None:
    with lookup_mocks(emu.server) as mocks:
        run(exporting())
    [request] = emu.requests("connections")
    assert request.headers["authorization"] == f"Bearer {mocks.config['yandex:token']}"


def test_unknown_id_sends_no_request(emu: Any) -> None:
    def program() -> dict[str, Any]:
        source = pulumi.CustomResource("test:index:IdSource", "source", {"value": None})
        result = get_websocket_connection_output(source.value)  # type: ignore[attr-defined]
        return {"known": pulumi.Output.from_input(result.gateway_id).is_known()}

    with lookup_mocks(emu.server, preview=True):
        assert run(program) == {"known": False}
    assert emu.count("connections") == 0


def test_allow_missing(emu: Any) -> None:
    with lookup_mocks(emu.server):
        values = run(exporting("GoneConnection", allow_missing=True))
    assert values["found"] is False
    assert values["connectionId"] == "GoneConnection"
    assert values["gatewayId"] == ""
    assert values["sourceIp"] == ""


def test_direct_call_returns_an_awaitable_typed_result(
    emu: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YC_IAM_TOKEN", emu.token)
    monkeypatch.setenv("YC_APIGATEWAY_CONNECTIONS_ENDPOINT", emu.url)
    result = get_websocket_connection(CONNECTION["id"])
    assert isinstance(result, GetWebSocketConnectionResult)
    assert result.gateway_id == CONNECTION["gateway_id"]
    assert result.identity is not None
    assert result.identity.source_ip == CONNECTION["source_ip"]
    assert result.identity.user_agent == CONNECTION["user_agent"]
    assert result.connected_at == "2024-05-01T07:00:00.5Z"
    awaited = result.__await__()
    with pytest.raises(StopIteration) as stop:
        next(awaited)
    assert stop.value.value.last_active_at == CONNECTION["last_active_at"]


def test_direct_call_of_a_closed_connection_raises(
    emu: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YC_IAM_TOKEN", emu.token)
    monkeypatch.setenv("YC_APIGATEWAY_CONNECTIONS_ENDPOINT", emu.url)
    with pytest.raises(ConnectionNotFoundError, match="'GoneConnection' was not found"):
        get_websocket_connection("GoneConnection")
