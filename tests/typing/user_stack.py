"""A user's Pulumi program, for ``mypy --strict`` only (never run, never collected by pytest).

CI type-checks it against the installed wheel (``.ci/check_package.py``) and the checkout
(``.ci/typecheck.sh``): the public API's types must be what a user sees in their editor. With
``warn_unused_ignores`` (part of ``--strict``), each ``type: ignore`` below also proves that mypy
rejects that call.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import assert_type

import pulumi

from pulumi_yc_websocket import (
    AwaitableGetWebSocketConnectionResult,
    Connection,
    ConnectionsClient,
    GetWebSocketConnectionResult,
    IamToken,
    Timestamp,
    WebSocketConnection,
    WebSocketConnectionIdentity,
    __version__,
    get_websocket_connection,
    get_websocket_connection_output,
    parse_timestamp,
)

assert_type(__version__, str)

config = pulumi.Config()
connection_id: pulumi.Output[str] = config.require_secret("connectionId")

# The resource: every output typed, inputs accept plain values and Outputs.
connection = WebSocketConnection("client", connection_id=connection_id, secret_identity=True)
assert_type(connection.connection_id, pulumi.Output[str])
assert_type(connection.found, pulumi.Output[bool])
assert_type(connection.gateway_id, pulumi.Output[str])
assert_type(connection.identity, pulumi.Output[WebSocketConnectionIdentity])
assert_type(connection.connected_at, pulumi.Output[str])
assert_type(connection.last_active_at, pulumi.Output[str])
assert_type(connection.allow_missing, pulumi.Output[bool])
assert_type(connection.ignore_activity, pulumi.Output[bool])
assert_type(connection.id, pulumi.Output[str])

source_ip = connection.identity.apply(lambda identity: identity.source_ip)
assert_type(source_ip, pulumi.Output[str])
pulumi.export("sourceIp", source_ip)


class Alert(pulumi.ComponentResource):
    """A user's own resource that takes a gateway id: an ``Input[str]``, never ``str | None``."""

    def __init__(self, name: str, gateway_id: pulumi.Input[str]) -> None:
        super().__init__("user:index:Alert", name)
        self.gateway_id = pulumi.Output.from_input(gateway_id)


Alert("alert", connection.gateway_id)

existing = WebSocketConnection.get("existing", "EfKvQ47JSz6mjzNl3h9qBrAM")
assert_type(existing, WebSocketConnection)
assert_type(existing.gateway_id, pulumi.Output[str])

# A missing connection keeps every output's type: "" and an empty identity, found=False.
missing = WebSocketConnection(
    "missing-ok",
    "EfKvQ47JSz6mjzNl3h9qBrAM",
    pulumi.ResourceOptions(additional_secret_outputs=["source_ip"]),
    allow_missing=True,
    ignore_activity=True,
)
pulumi.export("missingIp", missing.identity.source_ip)
WebSocketConnection("wrong", connection_id=42)  # type: ignore[arg-type]
WebSocketConnection("wrong", "id", allow_missing="yes")  # type: ignore[arg-type]

# The functions.
result = get_websocket_connection("EfKvQ47JSz6mjzNl3h9qBrAM", allow_missing=True)
assert_type(result, AwaitableGetWebSocketConnectionResult)
assert_type(result.found, bool)
assert_type(result.gateway_id, str)
assert_type(result.identity, WebSocketConnectionIdentity)
assert_type(result.identity.user_agent, str)

info = get_websocket_connection_output(connection.connection_id, secret_identity=True)
assert_type(info, pulumi.Output[GetWebSocketConnectionResult])
assert_type(info.apply(lambda i: i.gateway_id), pulumi.Output[str])
assert_type(info.apply(lambda i: i.last_active_at), pulumi.Output[str])
get_websocket_connection_output(42)  # type: ignore[arg-type]


async def awaited() -> None:
    """``await get_websocket_connection(...)`` gives the plain result."""
    plain = await get_websocket_connection("EfKvQ47JSz6mjzNl3h9qBrAM")
    assert_type(plain, GetWebSocketConnectionResult)


# The client, without Pulumi: from the environment's settings, or with explicit credentials.
ConnectionsClient(IamToken("t1.abc.def"), endpoint="https://apigateway-connections.example")
ConnectionsClient()  # type: ignore[call-arg]
with ConnectionsClient.from_settings() as client:
    looked_up = client.get("EfKvQ47JSz6mjzNl3h9qBrAM")
    assert_type(looked_up, Connection)
    assert_type(looked_up.gateway_id, str)
    assert_type(looked_up.identity.source_ip, str)
    assert_type(looked_up.last_active_at, Timestamp | None)
    if looked_up.last_active_at is not None:
        assert_type(looked_up.last_active_at.nanosecond, int)
        assert_type(looked_up.last_active_at.rfc3339(), str)
assert_type(parse_timestamp("2026-11-29T16:34:05.989247652Z"), Timestamp)

# Timestamp: a value of its own, not a datetime; mixed comparisons and arithmetic are rejected.
stamp = Timestamp("2026-11-29T16:34:05.989247652Z")
now = datetime.now(UTC)
assert_type(stamp.datetime, datetime)
assert_type(stamp.epoch_nanoseconds, int)
assert_type(stamp.fraction_digits, str)
assert_type(Timestamp.from_datetime(now) - stamp, timedelta)
assert_type(stamp < Timestamp.from_datetime(now), bool)
mixed = stamp < now  # type: ignore[operator]
gap = now - stamp  # type: ignore[operator]
micros = stamp.microsecond  # type: ignore[attr-defined]
stamp.tzinfo = UTC  # type: ignore[attr-defined]
