"""What ``pulumi stack export`` holds after an ``up``: no credential, by any route; a provider
serialized by reference; with ``secret_identity=True``, the identity encrypted everywhere."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from .conftest import NewProject

pytestmark = pytest.mark.pulumi_cli

CONNECTION_ID = "stateTestConnection001"
SOURCE_IP = "198.51.100.23"
USER_AGENT = "state-test-agent/1.0"
WRITER = ["api-gateway.websocketWriter"]
PROGRAM = """
import pulumi
from pulumi_yc_websocket import WebSocketConnection

conn = WebSocketConnection(
    "conn", pulumi.Config().require("connectionId"), secret_identity=True
)
pulumi.export("gatewayId", conn.gateway_id)
pulumi.export("sourceIp", conn.identity.source_ip)
"""
# How the engine marks an encrypted value in a deployment (resource.SecretSig).
SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}


def credential_settings(kind: str, emulator: Any) -> tuple[dict[str, str], dict[str, str]]:
    """(secret config, extra env) that configure a credential of ``kind``."""
    if kind == "iam token":
        return {}, {}  # the workspace's YC_IAM_TOKEN
    if kind == "oauth token":
        emulator.backend.add_oauth_token("y0_AgAAAAStateTestOAuthToken", roles=WRITER)
        return {"yandex:token": "y0_AgAAAAStateTestOAuthToken"}, {"YC_IAM_TOKEN": ""}
    key = emulator.backend.create_service_account_key(roles=WRITER)
    return {"yandex:serviceAccountKeyFile": json.dumps(key)}, {"YC_IAM_TOKEN": ""}


def secrets_held(kind: str, config: dict[str, str], emulator: Any) -> list[str]:
    """Every credential value the deployment had in hand, exchanged IAM tokens included."""
    held = [emulator.token] if kind == "iam token" else []
    for value in config.values():
        try:
            key = json.loads(value)
        except json.JSONDecodeError:
            held.append(value)
        else:
            # Each line of the private key's base64 body is secret material on its own.
            held += [line for line in key["private_key"].splitlines() if len(line) > 40]
    sent = {r.headers.get("authorization", "") for r in emulator.requests("connections")}
    held += [header.removeprefix("Bearer ") for header in sent if header]
    return held


@pytest.mark.parametrize("kind", ["iam token", "oauth token", "service account key"])
def test_no_credential_in_state(new_project: NewProject, emulator: Any, kind: str) -> None:
    emulator.add_connection(
        id=CONNECTION_ID, gateway_id="d5dstate000000000001", source_ip=SOURCE_IP
    )
    config, env = credential_settings(kind, emulator)
    project = new_project(program=PROGRAM)
    project.workspace.env.update(env)
    project.init_stack(config={"connectionId": CONNECTION_ID}, secrets=config)
    project.pulumi("up", "--yes")
    assert project.outputs()["gatewayId"] == "d5dstate000000000001"

    state = project.export()
    exported = json.dumps(state)
    pickled = b"".join(
        base64.b64decode(r["inputs"]["__provider"])
        for r in state["deployment"]["resources"]
        if "__provider" in r.get("inputs", {})
    )
    held = secrets_held(kind, config, emulator)
    assert len(held) >= 2  # the configured credential and the token the lookups carried
    for secret in held:
        assert secret not in exported
        assert secret.encode() not in pickled


def test_provider_is_pickled_by_reference(new_project: NewProject, emulator: Any) -> None:
    emulator.add_connection(id=CONNECTION_ID, gateway_id="d5dstate000000000001")
    project = new_project(program=PROGRAM)
    project.init_stack(config={"connectionId": CONNECTION_ID})
    project.pulumi("up", "--yes")
    (lookup,) = [r for r in project.resources() if r["type"].endswith(":WebSocketConnection")]
    pickled = base64.b64decode(lookup["inputs"]["__provider"])
    assert len(pickled) <= 300
    assert b"pulumi_yc_websocket.provider" in pickled
    assert b"WebSocketConnectionProvider" in pickled


def test_secret_identity_is_encrypted_in_inputs_and_outputs(
    new_project: NewProject, emulator: Any
) -> None:
    emulator.add_connection(
        id=CONNECTION_ID,
        gateway_id="d5dstate000000000001",
        source_ip=SOURCE_IP,
        user_agent=USER_AGENT,
    )
    project = new_project(program=PROGRAM)
    project.init_stack(config={"connectionId": CONNECTION_ID})
    project.pulumi("up", "--yes")

    state = project.export()
    exported = json.dumps(state)
    assert SOURCE_IP not in exported
    assert USER_AGENT not in exported
    (lookup,) = [
        r for r in state["deployment"]["resources"] if r["type"].endswith(":WebSocketConnection")
    ]
    for properties in (lookup["inputs"], lookup["outputs"]):
        identity = properties["identity"]
        assert {k: identity[k] for k in SECRET_SIG} == SECRET_SIG
        assert "ciphertext" in identity
    assert project.outputs(show_secrets=True)["sourceIp"] == SOURCE_IP
    assert project.outputs()["sourceIp"] == "[secret]"
