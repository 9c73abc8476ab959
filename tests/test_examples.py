"""Every example stack, offline end to end: the real provider server against the emulator,
preview, up, then a second up after the emulator's data changed."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pulumi_yc_websocket.emulator import DEMO_SEED_PATH, EmulatorServer
from pulumi_yc_websocket.testing import ProviderServer, Secret, StackState, Unknown

Emulator = Any
TOKEN = "t1.9euelZqExamplesTestToken0.c2lnbmF0dXJlLW9mLWV4YW1wbGVzLXRlc3Q"
ROOT = Path(__file__).resolve().parents[1]

_spec = importlib.util.spec_from_file_location("examples_offline", ROOT / "examples" / "offline.py")
assert _spec is not None
assert _spec.loader is not None
offline = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(offline)

# Demo seed ids (pulumi_yc_websocket/emulator/demo_seed.json).
MOBILE_IPV4 = "EfKvQ47JSz6mjzNl3h9qBrAM"  # gateway d5dm1..., iPhone, 203.0.113.42, 8.75 min idle
DESKTOP_IPV6 = "AU4hJeXhnscm39jaerom3J-I"  # gateway d5dm1..., Chrome on Windows, 2001:db8:...
BOT = "NiLePaCcdvStdLdl3dJ5R6rT"  # gateway d5d9k..., Googlebot, 2a02:6b8:..., 58 min old, 9 idle
NO_USER_AGENT = "MiWH7AWbr9fxEbHBdI_iZCPh"  # gateway d5d9k..., 192.0.2.201
CLOSED = "QNrys_mcvsLgIdBMyCrxvYf8"
GATEWAY_A = "d5dm1lba80md4pmj2qke"
GATEWAY_B = "d5d9kq2v7n3r8s6t4u1b"


@pytest.fixture(scope="module")
def provider(emulator_server: EmulatorServer) -> Iterator[ProviderServer]:
    env = {"PATH": os.environ.get("PATH", ""), "YC_IAM_TOKEN": TOKEN, **emulator_server.env}
    with ProviderServer(env=env, inherit_env=False) as server:
        yield server


@pytest.fixture
def emu(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    emulator.backend.load_seed(DEMO_SEED_PATH)
    emulator.backend.add_iam_token(TOKEN, roles=["api-gateway.websocketWriter"])
    # The get_* functions run in the program's process: same environment as the provider.
    for name, value in {**emulator.env, "YC_IAM_TOKEN": TOKEN}.items():
        monkeypatch.setenv(name, value)
    return emulator


def run(
    example: str, provider: ProviderServer, state: StackState, *, preview: bool, **config: Any
) -> Any:
    return offline.run_example(
        example, server=provider, state=state, config=config, preview=preview
    )


def test_connection_info(provider: ProviderServer, emu: Emulator) -> None:
    state = StackState(stack="dev")
    planned = run("connection-info", provider, state, preview=True, connectionId=MOBILE_IPV4)
    assert planned["gatewayId"] == GATEWAY_A
    assert planned["sourceIp"] == Secret("203.0.113.42")

    out = run("connection-info", provider, state, preview=False, connectionId=MOBILE_IPV4)
    assert out["connectionId"] == MOBILE_IPV4
    assert out["found"] is True
    assert out["gatewayId"] == GATEWAY_A
    assert out["identity"] == Secret(
        {"sourceIp": "203.0.113.42", "userAgent": out["userAgent"].value}
    )
    assert "iPhone" in out["userAgent"].value
    assert out["connectedAt"].endswith("Z")
    assert len(out["lastActiveAt"].split(".")[1]) == 10  # 9 digits and the Z
    assert out["viaGet"] == {"gatewayId": GATEWAY_A, "lastActiveAt": out["lastActiveAt"]}
    assert out["viaFunction"]["gatewayId"] == GATEWAY_A
    assert out["viaFunction"]["connectedAt"] == out["connectedAt"]
    assert out["viaFunction"]["sourceIp"] == Secret("203.0.113.42")
    assert "203.0.113.42" not in state.to_json()

    emu.backend.update_connection(MOBILE_IPV4, last_active_at="2030-01-01T00:00:00.000000001Z")
    again = run("connection-info", provider, state, preview=False, connectionId=MOBILE_IPV4)
    assert again["lastActiveAt"] == "2030-01-01T00:00:00.000000001Z"
    assert again.ops("connection") == ["update"]


def test_monitoring(provider: ProviderServer, emu: Emulator) -> None:
    state = StackState(stack="dev")
    ids = [MOBILE_IPV4, DESKTOP_IPV6, BOT, NO_USER_AGENT, CLOSED]
    planned = run("monitoring", provider, state, preview=True, connectionIds=ids)
    assert planned["health"]["closed"] == [CLOSED]

    out = run("monitoring", provider, state, preview=False, connectionIds=ids)
    report = out["connections"]
    assert report[CLOSED] == {"status": "closed", "gatewayId": None}
    assert report[MOBILE_IPV4]["status"] == "healthy"
    assert report[DESKTOP_IPV6]["status"] == "idle-timeout-soon"  # 8.75 of 10 idle minutes
    assert report[BOT]["status"] == "idle-timeout-soon"  # 9 idle minutes, 58 min old
    assert report[NO_USER_AGENT]["status"] == "healthy"
    assert 520 < report[DESKTOP_IPV6]["idleSeconds"] < 600
    assert 3400 < report[BOT]["ageSeconds"] < 3600
    health = out["health"]
    assert health["closed"] == [CLOSED]
    assert health["gateways"][GATEWAY_A]["open"] == 2
    assert health["gateways"][GATEWAY_A]["aboutToDrop"] == [DESKTOP_IPV6]
    assert health["gateways"][GATEWAY_B]["open"] == 2
    assert health["gateways"][GATEWAY_B]["aboutToDrop"] == [BOT]

    # The desktop client sends a message; the mobile one goes away.
    emu.backend.update_connection(DESKTOP_IPV6, last_active_at={"secondsAgo": 1})
    emu.backend.close_connection(MOBILE_IPV4)
    again = run("monitoring", provider, state, preview=False, connectionIds=ids)
    assert again["connections"][DESKTOP_IPV6]["status"] == "healthy"
    assert again["connections"][MOBILE_IPV4]["status"] == "closed"
    assert again["health"]["closed"] == sorted([CLOSED, MOBILE_IPV4])
    assert again["health"]["gateways"][GATEWAY_A] == {
        "open": 1,
        "aboutToDrop": [],
        "maxIdleSeconds": again["connections"][DESKTOP_IPV6]["idleSeconds"],
    }


def test_routing(provider: ProviderServer, emu: Emulator) -> None:
    state = StackState(stack="dev")
    config = {
        "connectionIds": [MOBILE_IPV4, DESKTOP_IPV6, BOT, NO_USER_AGENT],
        "rules": [
            {"cidr": "203.0.113.0/24", "pool": "eu-edge"},
            {"cidr": "2001:db8::/32", "pool": "v6-lab"},
            {"cidr": "192.0.2.0/24", "pool": "partners"},
        ],
        "defaultPool": "public",
    }
    planned = run("routing", provider, state, preview=True, **config)
    assert set(planned["routingTable"]) == {GATEWAY_A, GATEWAY_B}

    out = run("routing", provider, state, preview=False, **config)
    assert out["routingTable"] == {
        GATEWAY_A: [
            {"connectionId": DESKTOP_IPV6, "pool": "v6-lab", "client": "desktop"},
            {"connectionId": MOBILE_IPV4, "pool": "eu-edge", "client": "mobile"},
        ],
        GATEWAY_B: [
            {"connectionId": NO_USER_AGENT, "pool": "partners", "client": "unknown"},
            {"connectionId": BOT, "pool": "public", "client": "bot"},
        ],
    }
    policy = state.find(f"policy-{MOBILE_IPV4}")
    assert policy.outputs.get("gatewayId") in (GATEWAY_A, None)

    emu.backend.update_connection(MOBILE_IPV4, source_ip="198.51.100.1", user_agent="curl/8.5.0")
    again = run("routing", provider, state, preview=False, **config)
    assert {"connectionId": MOBILE_IPV4, "pool": "public", "client": "bot"} in again[
        "routingTable"
    ][GATEWAY_A]


def test_unknown_outputs_render_readably() -> None:
    assert offline.readable({"a": Secret("x"), "b": [Unknown]}) == {
        "a": "[secret]",
        "b": ["(known after up)"],
    }
