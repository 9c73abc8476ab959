"""WebSocketConnection through the real provider server (``python -m pulumi.dynamic``), driven
the way the engine drives it, against the emulator."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterator
from typing import Any

import pulumi
import pytest

from pulumi_yc_websocket import WebSocketConnection, WebSocketConnectionIdentity
from pulumi_yc_websocket.emulator import EmulatorServer
from pulumi_yc_websocket.testing import (
    CheckFailedError,
    ProviderError,
    ProviderServer,
    Secret,
    StackState,
    Unknown,
    destroy,
    preview,
    refresh,
    up,
)

WRITER_TOKEN = "t1.9euelZqResourceTestWriter.c2lnbmF0dXJlLW9mLXJlc291cmNlLXRlc3Q"
Emulator = Any  # the ``emulator`` fixture's handle (tests/conftest.py)

CONNECTION = {
    "id": "EfKvQ47JSz6mjzNl3h9qBrAM",
    "gateway_id": "d5dm1lba80md4pmj2qke",
    "source_ip": "2001:db8:85a3::8a2e:370:7334",
    "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)",
    "connected_at": "2024-05-01T10:00:00.123456789+03:00",
    "last_active_at": "2024-05-01T07:09:59.000000001Z",
}
EXPECTED = {
    "connectionId": "EfKvQ47JSz6mjzNl3h9qBrAM",
    "found": True,
    "gatewayId": "d5dm1lba80md4pmj2qke",
    "sourceIp": "2001:db8:85a3::8a2e:370:7334",
    "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)",
    "connectedAt": "2024-05-01T07:00:00.123456789Z",
    "lastActiveAt": "2024-05-01T07:09:59.000000001Z",
}


def _provider_env(server: EmulatorServer, **extra: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), **server.env, **extra}


@pytest.fixture(scope="module")
def provider(emulator_server: EmulatorServer) -> Iterator[ProviderServer]:
    """The provider process, credentials and endpoints from its environment."""
    env = _provider_env(emulator_server, YC_IAM_TOKEN=WRITER_TOKEN)
    with ProviderServer(env=env, inherit_env=False, project="test") as server:
        yield server


@pytest.fixture
def state() -> StackState:
    return StackState(project="test", stack="dev")


@pytest.fixture
def emu(emulator: Emulator) -> Emulator:
    emulator.backend.add_iam_token(WRITER_TOKEN, roles=["api-gateway.websocketWriter"])
    emulator.add_connection(**CONNECTION)
    return emulator


def exporting(connection_id: str = CONNECTION["id"], **kwargs: Any) -> Callable[[], None]:
    """A program that looks one connection up and exports every output."""

    def program() -> None:
        conn = WebSocketConnection("conn", connection_id=connection_id, **kwargs)
        pulumi.export("connectionId", conn.connection_id)
        pulumi.export("found", conn.found)
        pulumi.export("gatewayId", conn.gateway_id)
        pulumi.export("sourceIp", conn.identity.apply(lambda i: i.source_ip if i else None))
        pulumi.export("userAgent", conn.identity.apply(lambda i: i.user_agent if i else None))
        pulumi.export("connectedAt", conn.connected_at)
        pulumi.export("lastActiveAt", conn.last_active_at)

    return program


def lookups(emu: Emulator) -> int:
    return emu.count("connections")


def test_preview_with_a_known_id_shows_the_looked_up_values(
    provider: ProviderServer, state: StackState, emu: Emulator
) -> None:
    planned = preview(exporting(), server=provider, state=state)
    assert dict(planned) == EXPECTED
    assert planned.ops("conn") == ["create"]
    assert len(state) == 0
    assert lookups(emu) == 1


def test_preview_with_an_unknown_id_sends_no_request(
    provider: ProviderServer, state: StackState, emu: Emulator
) -> None:
    def program() -> None:
        # An id that only exists once another resource is created: unknown in preview.
        source = pulumi.CustomResource("test:index:IdSource", "source", {"value": None})
        conn = WebSocketConnection("conn", connection_id=source.value)  # type: ignore[attr-defined]
        pulumi.export("gatewayId", conn.gateway_id)
        pulumi.export("identity", conn.identity)

    planned = preview(program, server=provider, state=state)
    assert planned["gatewayId"] is Unknown
    assert planned["identity"] is Unknown
    assert lookups(emu) == 0


def test_up_records_typed_outputs_and_a_second_up_changes_nothing(
    provider: ProviderServer, state: StackState, emu: Emulator
) -> None:
    seen: dict[str, Any] = {}

    def program() -> None:
        exporting()()
        conn = WebSocketConnection("typed", connection_id=CONNECTION["id"])
        conn.identity.apply(lambda value: seen.setdefault("identity", value))
        conn.found.apply(lambda value: seen.setdefault("found", value))

    out = up(program, server=provider, state=state)
    assert {k: out[k] for k in EXPECTED} == EXPECTED
    assert out.ops("conn") == ["create"]
    assert isinstance(seen["identity"], WebSocketConnectionIdentity)
    assert seen["identity"].source_ip == CONNECTION["source_ip"]
    assert seen["identity"].user_agent == CONNECTION["user_agent"]
    assert seen["found"] is True
    stored = state.find("conn")
    assert stored.id == CONNECTION["id"]
    assert stored.outputs["identity"] == {
        "sourceIp": CONNECTION["source_ip"],
        "userAgent": CONNECTION["user_agent"],
    }
    assert stored.outputs["gatewayId"] == CONNECTION["gateway_id"]

    again = up(program, server=provider, state=state)
    assert again.ops("conn") == ["same"]
    assert dict(again) == dict(out)


def test_changed_data_is_an_in_place_update(
    provider: ProviderServer, state: StackState, emu: Emulator
) -> None:
    up(exporting(), server=provider, state=state)
    emu.backend.update_connection(CONNECTION["id"], last_active_at="2024-05-01T07:12:00.5Z")
    planned = preview(exporting(), server=provider, state=state)
    assert planned.ops("conn") == ["update"]
    assert planned["lastActiveAt"] == "2024-05-01T07:12:00.5Z"
    out = up(exporting(), server=provider, state=state)
    assert out.ops("conn") == ["update"]
    assert out["lastActiveAt"] == "2024-05-01T07:12:00.5Z"
    assert state.find("conn").outputs["lastActiveAt"] == "2024-05-01T07:12:00.5Z"
    assert state.find("conn").outputs["gatewayId"] == CONNECTION["gateway_id"]


def test_a_new_id_replaces(provider: ProviderServer, state: StackState, emu: Emulator) -> None:
    up(exporting(), server=provider, state=state)
    emu.add_connection(id="SecondConnection0001", gateway_id="d5dsecondgateway0001")
    out = up(exporting("SecondConnection0001"), server=provider, state=state)
    assert out.ops("conn") == ["replace", "delete-replaced"]  # create-before-delete
    assert out["gatewayId"] == "d5dsecondgateway0001"
    assert state.find("conn").id == "SecondConnection0001"


def test_refresh_drops_a_closed_connection(
    provider: ProviderServer, state: StackState, emu: Emulator
) -> None:
    up(exporting(), server=provider, state=state)
    emu.backend.close_connection(CONNECTION["id"])
    steps = refresh(server=provider, state=state)
    assert [step.op for step in steps] == ["discard"]
    assert len(state) == 0


def test_refresh_with_allow_missing_reads_found_false(
    provider: ProviderServer, state: StackState, emu: Emulator
) -> None:
    up(exporting(allow_missing=True), server=provider, state=state)
    emu.backend.close_connection(CONNECTION["id"])
    refresh(server=provider, state=state)
    outputs = state.find("conn").outputs
    assert outputs["found"] is False
    assert "gatewayId" not in outputs or outputs["gatewayId"] is None


def test_refresh_of_an_open_connection_records_new_data(
    provider: ProviderServer, state: StackState, emu: Emulator
) -> None:
    up(exporting(), server=provider, state=state)
    emu.backend.update_connection(CONNECTION["id"], last_active_at="2024-05-01T07:30:00Z")
    steps = refresh(server=provider, state=state)
    assert [(step.op, step.detail) for step in steps] == [("refresh", "update")]
    assert state.find("conn").outputs["lastActiveAt"] == "2024-05-01T07:30:00Z"
    assert up(exporting(), server=provider, state=state).ops("conn") == ["same"]


def test_get_reads_an_existing_connection(
    provider: ProviderServer, state: StackState, emu: Emulator
) -> None:
    def program() -> None:
        conn = WebSocketConnection.get("existing", CONNECTION["id"])
        pulumi.export("gatewayId", conn.gateway_id)
        pulumi.export("lastActiveAt", conn.last_active_at)

    assert dict(preview(program, server=provider, state=state)) == {
        "gatewayId": CONNECTION["gateway_id"],
        "lastActiveAt": CONNECTION["last_active_at"],
    }
    out = up(program, server=provider, state=state)
    assert out.ops("existing") == ["read"]
    assert out["gatewayId"] == CONNECTION["gateway_id"]


def test_get_of_a_missing_connection_is_an_error(
    provider: ProviderServer, state: StackState, emu: Emulator
) -> None:
    def program() -> None:
        WebSocketConnection.get("existing", "NoSuchConnection")

    with pytest.raises(ProviderError) as info:
        up(program, server=provider, state=state)
    last_line = info.value.details.strip().splitlines()[-1]
    assert "Connection 'NoSuchConnection' was not found at" in last_line
    assert emu.url in last_line


def test_destroy_sends_no_request(
    provider: ProviderServer, state: StackState, emu: Emulator
) -> None:
    up(exporting(), server=provider, state=state)
    before = emu.requests()
    steps = destroy(server=provider, state=state)
    assert [step.op for step in steps] == ["delete"]
    assert emu.requests() == before
    assert len(state) == 0


def test_allow_missing_reads_a_closed_connection_as_not_found(
    provider: ProviderServer, state: StackState, emu: Emulator
) -> None:
    out = up(exporting("GoneConnection", allow_missing=True), server=provider, state=state)
    assert out["found"] is False
    assert out["connectionId"] == "GoneConnection"
    for name in ("gatewayId", "sourceIp", "userAgent", "connectedAt", "lastActiveAt"):
        assert out.get(name) is None, name  # None outputs are not exported at all


def test_not_found_fails_with_one_actionable_line(
    provider: ProviderServer, state: StackState, emu: Emulator
) -> None:
    with pytest.raises(CheckFailedError) as info:
        up(exporting("GoneConnection"), server=provider, state=state)
    [failure] = info.value.failures
    assert failure.property == "connectionId"
    assert "\n" not in failure.reason
    assert failure.reason.startswith(f"Connection 'GoneConnection' was not found at {emu.url}.")
    assert "closed" in failure.reason
    assert "Traceback" not in failure.reason
    assert len(state) == 0


@pytest.mark.parametrize(
    ("connection_id", "reason"),
    [("", "empty"), ("x" * 51, "at most 50"), ("bad\nid", "control character"), ("..", "..")],
)
def test_check_rejects_an_invalid_id_before_any_request(
    provider: ProviderServer, state: StackState, emu: Emulator, connection_id: str, reason: str
) -> None:
    with pytest.raises(CheckFailedError) as info:
        preview(exporting(connection_id), server=provider, state=state)
    [failure] = info.value.failures
    assert failure.property == "connectionId"
    assert reason in failure.reason
    assert emu.count() == 0


def test_permission_denied_names_the_role(
    provider: ProviderServer, state: StackState, emu: Emulator
) -> None:
    emu.backend.faults.push("connections", _status(403, 7, "Permission denied"))
    with pytest.raises(CheckFailedError) as info:
        up(exporting(), server=provider, state=state)
    assert "api-gateway.websocketWriter" in info.value.failures[0].reason


def _status(http: int, code: int, message: str) -> Any:
    from pulumi_yc_websocket.emulator import Status

    return Status(http, code, message)


def test_secret_identity_is_encrypted_in_inputs_and_outputs(
    provider: ProviderServer, state: StackState, emu: Emulator
) -> None:
    out = up(exporting(secret_identity=True), server=provider, state=state)
    assert out["sourceIp"] == Secret(CONNECTION["source_ip"])
    stored = state.find("conn")
    assert isinstance(stored.inputs["identity"], Secret)
    assert isinstance(stored.outputs["identity"], Secret)
    checkpoint = state.to_json()
    assert CONNECTION["source_ip"] not in checkpoint
    assert CONNECTION["user_agent"] not in checkpoint
    assert CONNECTION["gateway_id"] in checkpoint  # only what was asked for is secret


def test_additional_secret_outputs_also_encrypt_the_inputs(
    provider: ProviderServer, state: StackState, emu: Emulator
) -> None:
    def with_identity_secret() -> None:
        conn = WebSocketConnection(
            "conn",
            connection_id=CONNECTION["id"],
            opts=pulumi.ResourceOptions(additional_secret_outputs=["identity", "gateway_id"]),
        )
        pulumi.export("gatewayId", conn.gateway_id)

    out = up(with_identity_secret, server=provider, state=state)
    assert out["gatewayId"] == Secret(CONNECTION["gateway_id"])
    checkpoint = state.to_json()
    assert CONNECTION["source_ip"] not in checkpoint
    assert CONNECTION["gateway_id"] not in checkpoint


def test_without_secret_options_the_identity_is_plain(
    provider: ProviderServer, state: StackState, emu: Emulator
) -> None:
    up(exporting(), server=provider, state=state)
    assert CONNECTION["source_ip"] in state.to_json()


def test_serialized_provider_is_small_and_holds_no_credential(
    provider: ProviderServer, state: StackState, emu: Emulator
) -> None:
    up(exporting(), server=provider, state=state)
    serialized = state.find("conn").inputs["__provider"]
    assert isinstance(serialized, str)  # not a secret: nothing secret is captured
    assert len(serialized) <= 300
    raw = base64.b64decode(serialized)
    assert WRITER_TOKEN.encode() not in raw
    assert b"pulumi_yc_websocket.provider" in raw  # pickled by reference
    assert WRITER_TOKEN not in state.to_json()


def test_settings_from_configure_win_over_the_environment(
    emulator_server: EmulatorServer, state: StackState, emu: Emulator
) -> None:
    # No credential in the provider's environment: it must come from the stack config.
    with ProviderServer(
        env=_provider_env(emulator_server), inherit_env=False, project="test"
    ) as server:
        out = up(
            exporting(),
            server=server,
            state=state,
            stack_config={"yandex:token": WRITER_TOKEN, "test:unrelated": "x"},
            secret_config_keys={"yandex:token"},
        )
    assert out["gatewayId"] == CONNECTION["gateway_id"]
    [request] = emu.requests("connections")
    assert request.headers["authorization"] == f"Bearer {WRITER_TOKEN}"
    assert WRITER_TOKEN not in state.to_json()


def test_endpoint_from_package_config(
    emulator_server: EmulatorServer, state: StackState, emu: Emulator
) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "YC_IAM_TOKEN": WRITER_TOKEN,
        "YC_METADATA_ADDR": f"127.0.0.1:{emulator_server.port}",
    }
    with ProviderServer(env=env, inherit_env=False, project="test") as server:
        out = up(
            exporting(),
            server=server,
            state=state,
            stack_config={"yc-websocket:connectionsEndpoint": emulator_server.url},
        )
    assert out["gatewayId"] == CONNECTION["gateway_id"]


def test_no_credential_anywhere_is_one_actionable_line(
    emulator_server: EmulatorServer, state: StackState, emu: Emulator
) -> None:
    emu.backend.set_metadata_roles(None)  # not a VM with a service account
    with (
        ProviderServer(
            env=_provider_env(emulator_server), inherit_env=False, project="test"
        ) as server,
        pytest.raises(CheckFailedError) as info,
    ):
        up(exporting(), server=server, state=state)
    reason = info.value.failures[0].reason
    assert "\n" not in reason
    assert "YC_IAM_TOKEN" in reason
    assert "yandex:token" in reason
