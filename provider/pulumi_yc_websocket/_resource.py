"""``WebSocketConnection``: a live API Gateway WebSocket connection as typed Pulumi outputs."""

from __future__ import annotations

import copy
from typing import Any

import pulumi
import pulumi.dynamic

from ._lookup import ALLOW_MISSING_ADVICE, Answer, look_up_in_program
from ._outputs import (
    FOUND,
    IDENTITY,
    IDENTITY_FIELDS,
    INVALID_INPUT,
    LOOKED_UP_FIELDS,
    LOOKUP_FAILURE,
    SECRET_ID,
    python_name,
    secret_paths,
    wire_name,
)
from .provider import WebSocketConnectionProvider

_PROVIDER = WebSocketConnectionProvider()


@pulumi.output_type
class WebSocketConnectionIdentity:
    """The caller that opened the connection, as API Gateway saw it."""

    def __init__(self, *, source_ip: str = "", user_agent: str = "") -> None:
        pulumi.set(self, "source_ip", source_ip)
        pulumi.set(self, "user_agent", user_agent)

    @property
    @pulumi.getter(name="sourceIp")
    def source_ip(self) -> str:
        """Source IP address of the caller (IPv4 or IPv6); ``""`` if unknown to the API."""
        return str(pulumi.get(self, "source_ip") or "")

    @property
    @pulumi.getter(name="userAgent")
    def user_agent(self) -> str:
        """User-Agent of the caller; ``""`` if the caller sent none."""
        return str(pulumi.get(self, "user_agent") or "")


class WebSocketConnection(
    pulumi.dynamic.Resource, module="yc-websocket", name="WebSocketConnection"
):
    """A read-only lookup of one API Gateway WebSocket connection (Connection.Get).

    The lookup starts in the program as soon as the id is known (many at once), so
    ``pulumi preview`` already shows the real values; ``pulumi refresh`` looks again;
    destroying the stack never touches the connection. A connection that has closed fails the
    deployment, unless ``allow_missing=True``: then ``found`` is ``False`` and the other outputs
    are empty (``""``, an empty identity), so every output keeps its type.
    """

    def __init__(
        self,
        resource_name: str,
        connection_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
        *,
        allow_missing: bool = False,
        secret_identity: bool = False,
        ignore_activity: bool = False,
    ) -> None:
        """Look up the connection ``connection_id``.

        :param resource_name: The Pulumi name of this lookup.
        :param connection_id: The connection's ID (at most 50 characters); may be an Output.
        :param opts: Resource options; ``additional_secret_outputs`` may name any output or part
            of the identity (``source_ip``...): those are kept encrypted in state.
        :param allow_missing: Read a closed connection as ``found=False`` instead of failing.
        :param secret_identity: Keep the identity (source IP, user agent) encrypted in state
            and mark the ``identity`` output secret, for stacks that treat it as personal data.
        :param ignore_activity: A new ``last_active_at`` alone is no change: the state keeps
            the value of the last update (so ``pulumi preview --expect-no-changes`` passes
            while the connection is in use).
        """
        opts = copy.copy(opts) if opts is not None else pulumi.ResourceOptions()
        requested = ([IDENTITY] if secret_identity else []) + list(
            opts.additional_secret_outputs or []
        )
        paths = secret_paths(requested)
        # The engine marks whole outputs secret; parts of the identity are marked here.
        opts.additional_secret_outputs = [python_name(p) for p in paths if "." not in p]
        reading = opts.id is not None
        what = (
            f"WebSocketConnection.get({resource_name!r})"
            if reading
            else f"WebSocketConnection {resource_name!r}"
        )

        source = pulumi.Output.from_input(connection_id)

        async def lookup(value: str) -> Answer:
            return await look_up_in_program(
                what,
                value,
                allow_missing=allow_missing,
                failures_raise=reading,
                missing_advice="" if reading else ALLOW_MISSING_ADVICE,
                secret_id=await source.is_secret(),
            )

        answer: pulumi.Output[Answer] = source.apply(lookup)
        looked_up = answer.apply(lambda a: a.inputs())
        props: dict[str, Any] = {
            # Python names; translate_input_property puts the API's names in state.
            "connection_id": answer.apply(lambda a: a.connection_id),
            "allow_missing": allow_missing,
            "ignore_activity": ignore_activity,
            "secret_fields": paths,
            "looked_up": True,
            "invalid_input": looked_up[INVALID_INPUT],
            "lookup_failure": looked_up[LOOKUP_FAILURE],
            "secret_id": looked_up[SECRET_ID],
            FOUND: looked_up[FOUND],
            **{python_name(name): looked_up[name] for name in LOOKED_UP_FIELDS},
        }
        secret_parts = {path.partition(".")[2] for path in paths if "." in path}
        if secret_parts:
            identity = looked_up[IDENTITY]
            props[IDENTITY] = {
                name: pulumi.Output.secret(identity[name])
                if name in secret_parts
                else identity[name]
                for name in IDENTITY_FIELDS
            }
        for path in paths:
            if "." not in path:
                props[python_name(path)] = pulumi.Output.secret(props[python_name(path)])
        super().__init__(_PROVIDER, resource_name, props, opts)

    @staticmethod
    def get(
        resource_name: str,
        id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
        *,
        secret_identity: bool = False,
    ) -> WebSocketConnection:
        """Read an existing connection by ID; one that does not exist fails the deployment.

        :param secret_identity: As for the constructor: keep the identity encrypted in state.
        """
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id))
        return WebSocketConnection(resource_name, id, opts, secret_identity=secret_identity)

    @property
    @pulumi.getter(name="connectionId")
    def connection_id(self) -> pulumi.Output[str]:
        """ID of the connection (also the resource's ID)."""
        return pulumi.get(self, "connection_id")  # type: ignore[no-any-return]

    @property
    @pulumi.getter
    def found(self) -> pulumi.Output[bool]:
        """Whether the connection exists; ``False`` only with ``allow_missing=True``."""
        return pulumi.get(self, "found")  # type: ignore[no-any-return]

    @property
    @pulumi.getter(name="gatewayId")
    def gateway_id(self) -> pulumi.Output[str]:
        """ID of the API Gateway the connection belongs to (``""`` when not found)."""
        return pulumi.get(self, "gateway_id")  # type: ignore[no-any-return]

    @property
    @pulumi.getter
    def identity(self) -> pulumi.Output[WebSocketConnectionIdentity]:
        """Who opened the connection: source IP and user agent (empty when not found)."""
        return pulumi.get(self, "identity")  # type: ignore[no-any-return]

    @property
    @pulumi.getter(name="connectedAt")
    def connected_at(self) -> pulumi.Output[str]:
        """When the connection was opened: RFC 3339 UTC with every fractional digit the API
        sent (``""`` when not found)."""
        return pulumi.get(self, "connected_at")  # type: ignore[no-any-return]

    @property
    @pulumi.getter(name="lastActiveAt")
    def last_active_at(self) -> pulumi.Output[str]:
        """When the connection was last used: RFC 3339 UTC, every fractional digit (``""``
        when not found; with ``ignore_activity=True``, as of the last update)."""
        return pulumi.get(self, "last_active_at")  # type: ignore[no-any-return]

    @property
    @pulumi.getter(name="allowMissing")
    def allow_missing(self) -> pulumi.Output[bool]:
        """Whether a closed connection reads as ``found=False`` instead of failing."""
        return pulumi.get(self, "allow_missing")  # type: ignore[no-any-return]

    @property
    @pulumi.getter(name="ignoreActivity")
    def ignore_activity(self) -> pulumi.Output[bool]:
        """Whether a new ``last_active_at`` alone is no change."""
        return pulumi.get(self, "ignore_activity")  # type: ignore[no-any-return]

    def translate_output_property(self, prop: str) -> str:
        """API name (``gatewayId``) to Python attribute name (``gateway_id``)."""
        return python_name(prop)

    def translate_input_property(self, prop: str) -> str:
        """Python attribute name (``gateway_id``) to API name (``gatewayId``)."""
        return wire_name(prop)
