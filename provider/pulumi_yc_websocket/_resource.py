"""``WebSocketConnection``: a live API Gateway WebSocket connection as typed Pulumi outputs."""

from __future__ import annotations

import pulumi
import pulumi.dynamic

from ._outputs import python_name, wire_name
from .provider import WebSocketConnectionProvider

_PROVIDER = WebSocketConnectionProvider()


@pulumi.output_type
class WebSocketConnectionIdentity:
    """The caller that opened the connection, as API Gateway saw it."""

    def __init__(self, *, source_ip: str | None = None, user_agent: str | None = None) -> None:
        pulumi.set(self, "source_ip", source_ip)
        pulumi.set(self, "user_agent", user_agent)

    @property
    @pulumi.getter(name="sourceIp")
    def source_ip(self) -> str:
        """Source IP address of the caller (IPv4 or IPv6); empty if the API did not say."""
        return str(pulumi.get(self, "source_ip") or "")

    @property
    @pulumi.getter(name="userAgent")
    def user_agent(self) -> str:
        """User-Agent of the caller; empty if the API did not say."""
        return str(pulumi.get(self, "user_agent") or "")


def _secret_fields(opts: pulumi.ResourceOptions | None, secret_identity: bool) -> list[str]:
    names = {"identity"} if secret_identity else set()
    for name in (opts.additional_secret_outputs or []) if opts else []:
        names.add(wire_name(name))
    return sorted(names)


class WebSocketConnection(
    pulumi.dynamic.Resource, module="yc-websocket", name="WebSocketConnection"
):
    """A read-only lookup of one API Gateway WebSocket connection (Connection.Get).

    The lookup runs when Pulumi checks the resource, so ``pulumi preview`` already shows the
    real values; ``pulumi refresh`` looks again; destroying the stack never touches the
    connection. A connection that has closed is an error, unless ``allow_missing=True``: then
    ``found`` is ``False`` and the other outputs are ``None``.
    """

    connection_id: pulumi.Output[str]
    """ID of the connection (also the resource's ID)."""
    found: pulumi.Output[bool]
    """Whether the connection exists; ``False`` only with ``allow_missing=True``."""
    gateway_id: pulumi.Output[str | None]
    """ID of the API Gateway the connection belongs to."""
    identity: pulumi.Output[WebSocketConnectionIdentity | None]
    """Who opened the connection: source IP and user agent."""
    connected_at: pulumi.Output[str | None]
    """When the connection was opened: RFC 3339 UTC, every fractional digit the API sent."""
    last_active_at: pulumi.Output[str | None]
    """When the connection was last used: RFC 3339 UTC, every fractional digit the API sent."""
    allow_missing: pulumi.Output[bool]
    """Whether a closed connection reads as ``found=False`` instead of failing."""

    def __init__(
        self,
        resource_name: str,
        connection_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
        *,
        allow_missing: bool = False,
        secret_identity: bool = False,
    ) -> None:
        """Look up the connection ``connection_id``.

        :param resource_name: The Pulumi name of this lookup.
        :param connection_id: The connection's ID (at most 50 characters); may be an Output.
        :param opts: Resource options; ``additional_secret_outputs`` also encrypts those
            fields in the state's inputs.
        :param allow_missing: Read a closed connection as ``found=False`` instead of failing.
        :param secret_identity: Keep the identity (source IP, user agent) encrypted in state
            and mark the ``identity`` output secret, for stacks that treat it as personal data.
        """
        secret_fields = _secret_fields(opts, secret_identity)
        if secret_fields:
            extra = [python_name(name) for name in secret_fields]
            opts = pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(additional_secret_outputs=extra)
            )
        super().__init__(
            _PROVIDER,
            resource_name,
            {
                # Python names here; translate_input_property puts the API's names in state.
                "connection_id": connection_id,
                "allow_missing": allow_missing,
                "secret_fields": secret_fields,
                "found": None,
                "gateway_id": None,
                "identity": None,
                "connected_at": None,
                "last_active_at": None,
            },
            opts,
        )

    @staticmethod
    def get(
        resource_name: str,
        id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
        *,
        secret_identity: bool = False,
    ) -> WebSocketConnection:
        """Read an existing connection by ID; an error if it does not exist.

        :param secret_identity: As for the constructor: keep the identity encrypted in state.
        """
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id))
        return WebSocketConnection(resource_name, id, opts, secret_identity=secret_identity)

    def translate_output_property(self, prop: str) -> str:
        """API name (``gatewayId``) to Python attribute name (``gateway_id``)."""
        return python_name(prop)

    def translate_input_property(self, prop: str) -> str:
        """Python attribute name (``gateway_id``) to API name (``gatewayId``)."""
        return wire_name(prop)
