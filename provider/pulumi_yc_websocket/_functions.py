"""``get_websocket_connection`` / ``get_websocket_connection_output``: lookups without state.

Dynamic providers cannot serve invokes, so these look up in the program's own process, with the
program's config (``yandex:*``, ``yc-websocket:*``) and environment. Nothing goes into state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from typing import Any

import pulumi
import pulumi.runtime

from ._lookup import look_up
from ._model import Connection
from ._outputs import python_name
from ._pulumi_config import CONFIG_KEYS, config_layer
from ._resource import WebSocketConnectionIdentity


@pulumi.output_type
class GetWebSocketConnectionResult:
    """A collection of values returned by get_websocket_connection."""

    def __init__(
        self,
        connection_id: str | None = None,
        found: bool | None = None,
        gateway_id: str | None = None,
        identity: WebSocketConnectionIdentity | None = None,
        connected_at: str | None = None,
        last_active_at: str | None = None,
    ) -> None:
        pulumi.set(self, "connection_id", connection_id)
        pulumi.set(self, "found", found)
        pulumi.set(self, "gateway_id", gateway_id)
        pulumi.set(self, "identity", identity)
        pulumi.set(self, "connected_at", connected_at)
        pulumi.set(self, "last_active_at", last_active_at)

    @property
    @pulumi.getter(name="connectionId")
    def connection_id(self) -> str:
        """ID of the connection."""
        return str(pulumi.get(self, "connection_id"))

    @property
    @pulumi.getter
    def found(self) -> bool:
        """Whether the connection exists; ``False`` only with ``allow_missing=True``."""
        return bool(pulumi.get(self, "found"))

    @property
    @pulumi.getter(name="gatewayId")
    def gateway_id(self) -> str | None:
        """ID of the API Gateway the connection belongs to."""
        value: str | None = pulumi.get(self, "gateway_id")
        return value

    @property
    @pulumi.getter
    def identity(self) -> WebSocketConnectionIdentity | None:
        """Who opened the connection: source IP and user agent."""
        value: WebSocketConnectionIdentity | None = pulumi.get(self, "identity")
        return value

    @property
    @pulumi.getter(name="connectedAt")
    def connected_at(self) -> str | None:
        """When the connection was opened: RFC 3339 UTC, every digit the API sent."""
        value: str | None = pulumi.get(self, "connected_at")
        return value

    @property
    @pulumi.getter(name="lastActiveAt")
    def last_active_at(self) -> str | None:
        """When the connection was last used: RFC 3339 UTC, every digit the API sent."""
        value: str | None = pulumi.get(self, "last_active_at")
        return value


class AwaitableGetWebSocketConnectionResult(GetWebSocketConnectionResult):
    """A ``GetWebSocketConnectionResult`` that can also be awaited."""

    def __await__(self) -> Generator[Any, None, GetWebSocketConnectionResult]:
        if False:
            yield self
        return GetWebSocketConnectionResult(
            connection_id=self.connection_id,
            found=self.found,
            gateway_id=self.gateway_id,
            identity=self.identity,
            connected_at=self.connected_at,
            last_active_at=self.last_active_at,
        )


def _program_config() -> dict[str, object]:
    # Raw values (secrets included) without Config.get's secret warnings; only keys we read.
    return {key: pulumi.runtime.get_config(key) for key in CONFIG_KEYS}


def _result(
    connection_id: str, connection: Connection | None
) -> AwaitableGetWebSocketConnectionResult:
    if connection is None:
        return AwaitableGetWebSocketConnectionResult(connection_id=connection_id, found=False)
    looked_up = {
        python_name(name): value
        for name, value in connection.model_dump(mode="json", by_alias=True).items()
        if name != "id"
    }
    identity = {python_name(name): value for name, value in looked_up.pop("identity").items()}
    return AwaitableGetWebSocketConnectionResult(
        connection_id=connection_id,
        found=True,
        identity=WebSocketConnectionIdentity(**identity),
        **looked_up,
    )


def get_websocket_connection(
    connection_id: str,
    allow_missing: bool = False,
    opts: pulumi.InvokeOptions | None = None,
) -> AwaitableGetWebSocketConnectionResult:
    """Look up one WebSocket connection now; a closed one raises unless ``allow_missing``.

    :param connection_id: The connection's ID.
    :param allow_missing: Return ``found=False`` instead of raising when it has closed.
    :param opts: Accepted for the generated-SDK shape; the lookup runs in this process.
    """
    layer = config_layer(_program_config())
    return _result(connection_id, look_up(connection_id, layer, allow_missing=allow_missing))


def get_websocket_connection_output(
    connection_id: pulumi.Input[str],
    allow_missing: pulumi.Input[bool] = False,
    opts: pulumi.InvokeOptions | None = None,
) -> pulumi.Output[GetWebSocketConnectionResult]:
    """Look up one WebSocket connection once ``connection_id`` is known, as an ``Output``.

    While the id is unknown (e.g. in preview, from a resource not created yet) the result is
    unknown and no request is sent.
    """

    async def lookup(args: list[Any]) -> GetWebSocketConnectionResult:
        result = await asyncio.to_thread(get_websocket_connection, args[0], bool(args[1]))
        return await result

    return pulumi.Output.all(connection_id, allow_missing).apply(lookup)
