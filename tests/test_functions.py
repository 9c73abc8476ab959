"""get_websocket_connection / get_websocket_connection_output: lookups in the program's process,
with the program's config and environment, nothing in state."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pulumi
import pytest

from pulumi_yc_websocket import (
    ConnectionNotFoundError,
    GetWebSocketConnectionResult,
    get_websocket_connection,
    get_websocket_connection_output,
)
from pulumi_yc_websocket.emulator import EmulatorServer
from pulumi_yc_websocket.testing import ProviderServer, StackState, Unknown, preview, up

Emulator = Any
TOKEN = "t1.9euelZqFunctionsTestToken.c2lnbmF0dXJlLW9mLWZ1bmN0aW9ucy10ZXN0"
CONNECTION = {
    "id": "FnTestConnection0001",
    "gateway_id": "d5dfunctionsgateway1",
    "source_ip": "203.0.113.42",
    "user_agent": "curl/8.5.0",
    "connected_at": "2024-05-01T10:00:00.5+03:00",
    "last_active_at": "2024-05-01T07:01:00.000000009Z",
}


@pytest.fixture(scope="module")
def provider(emulator_server: EmulatorServer) -> Iterator[ProviderServer]:
    # The functions never use the provider process; the stand-in needs one to run programs.
    env = {
        "PATH": os.environ.get("PATH", ""),
        "YC_METADATA_ADDR": f"127.0.0.1:{emulator_server.port}",
    }
    with ProviderServer(env=env, inherit_env=False, project="test") as server:
        yield server


@pytest.fixture
def emu(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    emulator.backend.add_iam_token(TOKEN, roles=["api-gateway.websocketWriter"])
    emulator.add_connection(**CONNECTION)
    for name, value in emulator.env.items():
        monkeypatch.setenv(name, value)
    return emulator


def exporting(connection_id: pulumi.Input[str] = CONNECTION["id"], **kwargs: Any) -> Any:
    def program() -> None:
        result = get_websocket_connection_output(connection_id, **kwargs)
        pulumi.export("connectionId", result.connection_id)
        pulumi.export("found", result.found)
        pulumi.export("gatewayId", result.gateway_id)
        pulumi.export("sourceIp", result.identity.apply(lambda i: i.source_ip if i else None))
        pulumi.export("connectedAt", result.connected_at)
        pulumi.export("lastActiveAt", result.last_active_at)
        result.apply(lambda r: pulumi.export("resultType", type(r).__name__))

    return program


EXPECTED = {
    "connectionId": CONNECTION["id"],
    "found": True,
    "gatewayId": CONNECTION["gateway_id"],
    "sourceIp": CONNECTION["source_ip"],
    "connectedAt": "2024-05-01T07:00:00.5Z",
    "lastActiveAt": "2024-05-01T07:01:00.000000009Z",
}


def test_output_form_is_known_in_preview_and_stores_nothing(
    provider: ProviderServer, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YC_IAM_TOKEN", TOKEN)
    state = StackState(project="test", stack="dev")
    planned = preview(exporting(), server=provider, state=state)
    assert {k: planned[k] for k in EXPECTED} == EXPECTED
    out = up(exporting(), server=provider, state=state)
    assert {k: out[k] for k in EXPECTED} == EXPECTED
    assert [r for r in state.resources if r.custom] == []


def test_credentials_come_from_the_program_config(provider: ProviderServer, emu: Emulator) -> None:
    state = StackState(project="test", stack="dev")
    out = up(
        exporting(),
        server=provider,
        state=state,
        stack_config={"yandex:token": TOKEN},
        secret_config_keys={"yandex:token"},
    )
    assert out["gatewayId"] == CONNECTION["gateway_id"]
    [request] = emu.requests("connections")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


def test_unknown_id_sends_no_request(provider: ProviderServer, emu: Emulator) -> None:
    def program() -> None:
        source = pulumi.CustomResource("test:index:IdSource", "source", {"value": None})
        result = get_websocket_connection_output(source.value)  # type: ignore[attr-defined]
        pulumi.export("gatewayId", result.gateway_id)

    state = StackState(project="test", stack="dev")
    planned = preview(program, server=provider, state=state, stack_config={"yandex:token": TOKEN})
    assert planned["gatewayId"] is Unknown
    assert emu.count("connections") == 0


def test_allow_missing(provider: ProviderServer, emu: Emulator) -> None:
    state = StackState(project="test", stack="dev")
    out = up(
        exporting("GoneConnection", allow_missing=True),
        server=provider,
        state=state,
        stack_config={"yandex:token": TOKEN},
    )
    assert out["found"] is False
    assert out["connectionId"] == "GoneConnection"
    assert out.get("gatewayId") is None


def test_direct_call_returns_an_awaitable_typed_result(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YC_IAM_TOKEN", TOKEN)
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
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YC_IAM_TOKEN", TOKEN)
    with pytest.raises(ConnectionNotFoundError, match="'GoneConnection' was not found"):
        get_websocket_connection("GoneConnection")
