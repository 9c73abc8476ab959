"""Routing decisions per WebSocket connection, from its source IP and user agent.

Config:
- ``connectionIds``: connections to route;
- ``rules``: CIDR rules, first match wins, IPv4 and IPv6, e.g.
  ``[{"cidr": "10.0.0.0/8", "pool": "internal"}, {"cidr": "2001:db8::/32", "pool": "lab"}]``;
- ``defaultPool``: the pool when no rule matches (default ``public``).

The client class (bot, mobile, desktop, unknown) comes from the user agent. The routing table is
exported keyed by gateway, and each gateway's ID feeds a ``RoutingPolicy`` component as an
``Output``, so Pulumi tracks the dependency (as it would for any resource of a cloud provider).
"""

from __future__ import annotations

import ipaddress
import re

import pulumi

from pulumi_yc_websocket import WebSocketConnection, WebSocketConnectionIdentity

_BOT = re.compile(r"bot|crawler|spider|curl|wget|python-requests|httpclient", re.IGNORECASE)
_MOBILE = re.compile(r"mobile|android|iphone|ipad", re.IGNORECASE)

config = pulumi.Config()
connection_ids: list[str] = config.require_object("connectionIds")
rules: list[dict[str, str]] = config.get_object("rules") or []
default_pool = config.get("defaultPool") or "public"
networks = [(ipaddress.ip_network(rule["cidr"], strict=False), rule["pool"]) for rule in rules]


def client_class(user_agent: str) -> str:
    """bot, mobile, desktop, or unknown when the gateway saw no user agent."""
    if not user_agent:
        return "unknown"
    if _BOT.search(user_agent):
        return "bot"
    return "mobile" if _MOBILE.search(user_agent) else "desktop"


def pool_for(source_ip: str) -> str:
    """The pool of the first CIDR rule containing ``source_ip``."""
    try:
        address = ipaddress.ip_address(source_ip)
    except ValueError:
        return default_pool
    return next(
        (
            pool
            for network, pool in networks
            if address.version == network.version and address in network
        ),
        default_pool,
    )


def route(
    connection_id: str, gateway_id: str, identity: WebSocketConnectionIdentity
) -> dict[str, str]:
    """The routing decision for one connection."""
    return {
        "connectionId": connection_id,
        "gatewayId": gateway_id,
        "pool": pool_for(identity.source_ip),
        "client": client_class(identity.user_agent),
    }


class RoutingPolicy(pulumi.ComponentResource):
    """Stands for what would consume a gateway ID in a real stack (an API Gateway spec, an
    alert...): it takes the ID as an ``Input``, so the dependency stays visible to Pulumi."""

    gateway_id: pulumi.Output[str]

    def __init__(
        self, name: str, gateway_id: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("examples:routing:RoutingPolicy", name, None, opts)
        self.gateway_id = pulumi.Output.from_input(gateway_id)
        self.register_outputs({"gatewayId": self.gateway_id})


decisions: list[pulumi.Output[dict[str, str]]] = []
for connection_id in connection_ids:
    connection = WebSocketConnection(f"connection-{connection_id}", connection_id=connection_id)
    decisions.append(
        pulumi.Output.all(
            connection.connection_id, connection.gateway_id, connection.identity
        ).apply(lambda values: route(*values))
    )
    # The gateway ID flows as an Output into the resource that uses it.
    RoutingPolicy(
        f"policy-{connection_id}",
        gateway_id=connection.gateway_id,
        opts=pulumi.ResourceOptions(depends_on=[connection]),
    )


def by_gateway(items: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    """The routing table keyed by gateway ID."""
    table: dict[str, list[dict[str, str]]] = {}
    for item in sorted(items, key=lambda i: (i["gatewayId"], i["connectionId"])):
        entry = {k: v for k, v in item.items() if k != "gatewayId"}
        table.setdefault(item["gatewayId"], []).append(entry)
    return table


pulumi.export("routingTable", pulumi.Output.all(*decisions).apply(by_gateway))
