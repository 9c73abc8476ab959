"""The peer: a gRPC server built from the official SDK's generated servicer.

Run as ``python -m bench._grpc_peer [CPU]``. Implements ``ConnectionService.Get`` over the
same connections as the emulator, checks the bearer token, and can sleep before answering
(``delay`` command) to model server latency.
"""

from __future__ import annotations

import sys
import time
from concurrent import futures
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from yandex.cloud.serverless.apigateway.websocket.v1 import (
    connection_pb2,
    connection_service_pb2,
    connection_service_pb2_grpc,
)

from ._common import JSON, pin_to, serve_commands
from ._emulator_proc import IAM_TOKEN, connection_data, connection_ids


def _timestamp(text: str) -> Timestamp:
    stamp = Timestamp()
    stamp.FromJsonString(text)
    return stamp


class ConnectionService(connection_service_pb2_grpc.ConnectionServiceServicer):
    """Get from an in-memory table; UNAUTHENTICATED without the bench token."""

    def __init__(self) -> None:
        self.delay = 0.0
        self._table: dict[str, dict[str, Any]] = {i: connection_data(i) for i in connection_ids()}

    def Get(
        self, request: connection_service_pb2.GetConnectionRequest, context: grpc.ServicerContext
    ) -> connection_pb2.Connection:
        """Connection.Get."""
        if self.delay:
            time.sleep(self.delay)
        metadata = dict(context.invocation_metadata())
        if metadata.get("authorization") != f"Bearer {IAM_TOKEN}":
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "The token is invalid")
        data = self._table.get(request.connection_id)
        if data is None:
            context.abort(
                grpc.StatusCode.NOT_FOUND, f"Connection {request.connection_id} not found"
            )
            return connection_pb2.Connection()  # not reached: abort raises
        return connection_pb2.Connection(
            id=data["id"],
            gateway_id=data["gatewayId"],
            identity=connection_pb2.Identity(
                source_ip=data["identity"]["sourceIp"], user_agent=data["identity"]["userAgent"]
            ),
            connected_at=_timestamp(data["connectedAt"]),
            last_active_at=_timestamp(data["lastActiveAt"]),
        )

    def Send(self, request: Any, context: grpc.ServicerContext) -> Any:
        """Not part of the benchmark."""
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "read-only peer")

    def Disconnect(self, request: Any, context: grpc.ServicerContext) -> Any:
        """Not part of the benchmark."""
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "read-only peer")


def main() -> None:
    """Start the gRPC server on 127.0.0.1, print its address, serve commands."""
    pin_to(int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] != "-" else None)
    service = ConnectionService()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32))
    connection_service_pb2_grpc.add_ConnectionServiceServicer_to_server(service, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()

    def delay(seconds: float | None) -> JSON:
        service.delay = seconds or 0.0
        return {}

    try:
        serve_commands(
            {"delay": delay, "stats": lambda: {"cpu": time.process_time()}},
            {"address": f"127.0.0.1:{port}", "ids": connection_ids()},
        )
    finally:
        server.stop(0)


if __name__ == "__main__":
    main()
