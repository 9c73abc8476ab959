"""``get_websocket_connection`` / ``get_websocket_connection_output``: lookups without state.

Dynamic providers cannot serve invokes, so these look up in the program's own process, with the
program's config (``yandex:*``, ``yc-websocket:*``) and environment, through the same shared
client as the resources. Nothing goes into state.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pulumi

from ._client import validate_connection_id
from ._lookup import look_up, look_up_in_program, program_settings
from ._outputs import FOUND, IDENTITY, connection_properties, python_name
from ._resource import WebSocketConnectionIdentity


@pulumi.output_type
class GetWebSocketConnectionResult:
    """A collection of values returned by get_websocket_connection."""

    def __init__(
        self,
        connection_id: str = "",
        found: bool = False,
        gateway_id: str = "",
        identity: WebSocketConnectionIdentity | None = None,
        connected_at: str = "",
        last_active_at: str = "",
    ) -> None:
        pulumi.set(self, "connection_id", connection_id)
        pulumi.set(self, "found", found)
        pulumi.set(self, "gateway_id", gateway_id)
        pulumi.set(self, "identity", identity or WebSocketConnectionIdentity())
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
    def gateway_id(self) -> str:
        """ID of the API Gateway the connection belongs to (``""`` when not found)."""
        return str(pulumi.get(self, "gateway_id") or "")

    @property
    @pulumi.getter
    def identity(self) -> WebSocketConnectionIdentity:
        """Who opened the connection: source IP and user agent (empty when not found)."""
        value: WebSocketConnectionIdentity = pulumi.get(self, "identity")
        return value

    @property
    @pulumi.getter(name="connectedAt")
    def connected_at(self) -> str:
        """When the connection was opened: RFC 3339 UTC, every digit the API sent."""
        return str(pulumi.get(self, "connected_at") or "")

    @property
    @pulumi.getter(name="lastActiveAt")
    def last_active_at(self) -> str:
        """When the connection was last used: RFC 3339 UTC, every digit the API sent."""
        return str(pulumi.get(self, "last_active_at") or "")


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


def _result(
    connection_id: str, properties: dict[str, Any]
) -> AwaitableGetWebSocketConnectionResult:
    """The result for the looked-up properties (wire names, as in state)."""
    values = {python_name(name): value for name, value in properties.items() if name != FOUND}
    identity = values.pop(IDENTITY)
    return AwaitableGetWebSocketConnectionResult(
        connection_id=connection_id,
        found=properties[FOUND],
        identity=WebSocketConnectionIdentity(
            **{python_name(name): value for name, value in identity.items()}
        ),
        **values,
    )


def get_websocket_connection(
    connection_id: str, allow_missing: bool = False
) -> AwaitableGetWebSocketConnectionResult:
    """Look up one WebSocket connection now; a closed one raises unless ``allow_missing``.

    :param connection_id: The connection's ID.
    :param allow_missing: Return ``found=False`` instead of raising when it has closed.

    The values are plain Python values, never secrets; to keep the identity encrypted in
    everything derived from it, use ``get_websocket_connection_output(secret_identity=True)``.
    Errors are this package's typed errors (``ConnectionNotFoundError``...).
    """
    found = look_up(
        validate_connection_id(connection_id), *program_settings(), allow_missing=allow_missing
    )
    return _result(connection_id, connection_properties(found))


def get_websocket_connection_output(
    connection_id: pulumi.Input[str],
    allow_missing: pulumi.Input[bool] = False,
    *,
    secret_identity: bool = False,
) -> pulumi.Output[GetWebSocketConnectionResult]:
    """Look up one WebSocket connection once ``connection_id`` is known, as an ``Output``.

    While the id is unknown (e.g. in preview, from a resource not created yet) the result is
    unknown and no request is sent. A failed lookup fails the deployment with one line.

    :param secret_identity: Make the result a secret, so the identity (and everything else of
        the result: Pulumi keeps one secret flag per Output) is encrypted wherever it goes.
    """

    source = pulumi.Output.from_input(connection_id)

    async def lookup(args: list[Any]) -> GetWebSocketConnectionResult:
        answer = await look_up_in_program(
            "get_websocket_connection_output",
            args[0],
            allow_missing=bool(args[1]),
            failures_raise=True,
            secret_id=await source.is_secret(),
        )
        return _result(answer.connection_id, answer.properties)

    result: pulumi.Output[GetWebSocketConnectionResult] = pulumi.Output.all(
        source, allow_missing
    ).apply(lookup)
    return pulumi.Output.secret(result) if secret_identity else result
