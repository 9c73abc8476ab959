"""The package's emulator in its own process (``python -m bench._emulator_proc [CPU]``).

Seeds an IAM token, an OAuth token and a set of connections, requires auth, and answers JSON
commands on stdin: ``delay`` (default fault of services), ``slow_once`` (the next answer of a
service only after N s), ``stats``, ``arrivals`` (when the logged requests to a service came),
``clear``.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from pulumi_yc_websocket.emulator import Delay, EmulatorBackend, EmulatorServer, Service

from ._common import JSON, pin_to, serve_commands

IAM_TOKEN = "t1.benchToken9euelZqRkZ.YmVuY2gtdG9rZW4tZm9yLWxvb2t1cHM"
OAUTH_TOKEN = "y0_benchOAuthTokenAgAAAAAbcdefghijklmnopqrstuv"
N_CONNECTIONS = 64


def connection_ids() -> list[str]:
    """Ids of the seeded connections (also used by the gRPC peer)."""
    return [f"bench{i:04d}Kv47JSz6mjzNl3h9q" for i in range(N_CONNECTIONS)]


def connection_data(connection_id: str) -> dict[str, Any]:
    """API-shaped data of one seeded connection (also served by the gRPC peer)."""
    number = int(connection_id[5:9])
    return {
        "id": connection_id,
        "gatewayId": "d5dm1lba80md4pmj2qke",
        "identity": {
            "sourceIp": f"203.0.113.{number % 250 + 1}",
            "userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari",
        },
        "connectedAt": "2024-05-01T10:00:00.123456789Z",
        "lastActiveAt": f"2024-05-01T10:{number % 60:02d}:30.987654321Z",
    }


def main() -> None:
    """Start the emulator, print its URL and credentials, serve commands."""
    pin_to(int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] != "-" else None)
    backend = EmulatorBackend(require_auth=True)
    backend.add_iam_token(IAM_TOKEN, roles=["api-gateway.websocketWriter"])
    backend.add_oauth_token(OAUTH_TOKEN, roles=["api-gateway.websocketWriter"])
    for connection_id in connection_ids():
        backend.add_connection(connection_data(connection_id))
    server = EmulatorServer(backend).start()

    def delay(services: list[Service], seconds: float | None) -> JSON:
        for service in services:
            backend.faults.set_default(service, Delay(seconds) if seconds else None)
        return {}

    def slow_once(service: Service, seconds: float) -> JSON:
        backend.faults.push(service, Delay(seconds))
        return {}

    def stats() -> JSON:
        return {
            "cpu": time.process_time(),
            "accepted": server.accepted_connections,
            "iam": backend.count("iam"),
            "connections": backend.count("connections"),
            "connections_ok": backend.count("connections", status=200),
        }

    def arrivals(service: str, window: float) -> JSON:
        """The logged requests to ``service``: how many, over how long from the first to the last
        received, and the most received within any ``window`` s: with every answer delayed by
        ``window``, the most that were being answered at once."""
        times = sorted(r.received_at for r in backend.requests() if r.service == service)
        peak = low = 0
        for high, received in enumerate(times):
            while times[low] <= received - window:
                low += 1
            peak = max(peak, high - low + 1)
        span = times[-1] - times[0] if times else 0.0
        return {"count": len(times), "span_s": span, "peak_in_flight": peak}

    def clear() -> JSON:
        backend.clear_requests()
        return {}

    try:
        serve_commands(
            {
                "delay": delay,
                "slow_once": slow_once,
                "stats": stats,
                "arrivals": arrivals,
                "clear": clear,
            },
            {
                "url": server.url,
                "iam_token": IAM_TOKEN,
                "oauth_token": OAUTH_TOKEN,
                "ids": connection_ids(),
            },
        )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
