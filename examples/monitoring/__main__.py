"""Health of a set of WebSocket connections against API Gateway's documented limits.

API Gateway drops a connection after 10 idle minutes and at most 60 minutes after it opened.
For each connection in config ``connectionIds`` this stack computes idle time and age at the
time of the deployment, flags the ones about to be dropped (within ``warnMinutes``, default 2),
reports closed ones as closed (not as a failure), and exports a health summary per gateway.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pulumi

from pulumi_yc_websocket import Timestamp, WebSocketConnection, parse_timestamp

IDLE_LIMIT_SECONDS = 10 * 60
LIFETIME_LIMIT_SECONDS = 60 * 60

config = pulumi.Config()
connection_ids: list[str] = config.require_object("connectionIds")
warn_seconds = float(config.get_float("warnMinutes") or 2.0) * 60


def health(found: bool, gateway_id: str, connected_at: str, last_active_at: str) -> dict[str, Any]:
    """Idle time, age and status of one connection, measured now."""
    if not found:
        return {"status": "closed", "gatewayId": None}
    now = Timestamp.from_datetime(datetime.now(UTC))
    idle = (now - parse_timestamp(last_active_at)).total_seconds() if last_active_at else 0.0
    age = (now - parse_timestamp(connected_at)).total_seconds() if connected_at else 0.0
    idle_left = IDLE_LIMIT_SECONDS - idle
    lifetime_left = LIFETIME_LIMIT_SECONDS - age
    if min(idle_left, lifetime_left) <= 0:
        status = "overdue"
    elif idle_left <= warn_seconds:
        status = "idle-timeout-soon"
    elif lifetime_left <= warn_seconds:
        status = "lifetime-limit-soon"
    else:
        status = "healthy"
    return {
        "status": status,
        "gatewayId": gateway_id,
        "idleSeconds": round(idle, 1),
        "ageSeconds": round(age, 1),
        "secondsUntilDrop": round(max(0.0, min(idle_left, lifetime_left)), 1),
    }


def summary(report: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per gateway: open connections, those about to be dropped; closed ones listed apart."""
    gateways: dict[str, dict[str, Any]] = {}
    for connection_id, item in sorted(report.items()):
        if item["status"] == "closed":
            continue
        gateway = gateways.setdefault(
            item["gatewayId"], {"open": 0, "aboutToDrop": [], "maxIdleSeconds": 0.0}
        )
        gateway["open"] += 1
        gateway["maxIdleSeconds"] = max(gateway["maxIdleSeconds"], item["idleSeconds"])
        if item["status"] != "healthy":
            gateway["aboutToDrop"].append(connection_id)
    closed = sorted(cid for cid, item in report.items() if item["status"] == "closed")
    return {"gateways": gateways, "closed": closed}


def connection_health(connection: WebSocketConnection) -> pulumi.Output[dict[str, Any]]:
    """Health of one looked-up connection; a closed one is known as closed even in preview."""

    def measure(found: bool) -> pulumi.Input[dict[str, Any]]:
        if not found:
            return health(False, "", "", "")
        return pulumi.Output.all(
            connection.gateway_id, connection.connected_at, connection.last_active_at
        ).apply(lambda values: health(True, *values))

    return connection.found.apply(measure)


reports: dict[str, pulumi.Output[dict[str, Any]]] = {}
for connection_id in connection_ids:
    connection = WebSocketConnection(
        f"connection-{connection_id}", connection_id=connection_id, allow_missing=True
    )
    reports[connection_id] = connection_health(connection)

report = pulumi.Output.all(**reports)
pulumi.export("connections", report)
pulumi.export("health", report.apply(summary))
