"""Look up one WebSocket connection and export every typed field.

Three ways side by side: the ``WebSocketConnection`` resource (values in state, refreshed by
``pulumi refresh``), ``WebSocketConnection.get`` (read an existing connection by ID), and the
``get_websocket_connection_output`` function (nothing in state). Config: ``connectionId``.
"""

import pulumi

from pulumi_yc_websocket import WebSocketConnection, get_websocket_connection_output

config = pulumi.Config()
connection_id = config.require("connectionId")

# The identity (source IP, user agent) may be personal data: keep it encrypted in state.
connection = WebSocketConnection("connection", connection_id=connection_id, secret_identity=True)

pulumi.export("connectionId", connection.connection_id)
pulumi.export("found", connection.found)
pulumi.export("gatewayId", connection.gateway_id)
pulumi.export("identity", connection.identity)
pulumi.export("sourceIp", connection.identity.source_ip)
pulumi.export("userAgent", connection.identity.user_agent)
pulumi.export("connectedAt", connection.connected_at)
pulumi.export("lastActiveAt", connection.last_active_at)

# Read the same connection as an existing resource: a missing one fails the deployment.
existing = WebSocketConnection.get("existing", connection_id, secret_identity=True)
pulumi.export("viaGet", {"gatewayId": existing.gateway_id, "lastActiveAt": existing.last_active_at})

# The function form: looked up in the program's process, nothing goes into state.
info = get_websocket_connection_output(connection_id)
pulumi.export(
    "viaFunction",
    {
        "gatewayId": info.gateway_id,
        "connectedAt": info.connected_at,
        "sourceIp": pulumi.Output.secret(info.identity.source_ip),
    },
)
