"""Clients built the two ways the package offers, for tests that build their own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_yc_websocket import ConnectionsClient, Credentials, HttpTransport, Settings
from pulumi_yc_websocket._pulumi_config import program_layers

TRANSPORT_OPTIONS = (
    "connect_timeout",
    "read_timeout",
    "max_connections",
    "max_body_bytes",
    "max_header_bytes",
    "environ",
)
"""Options of :class:`HttpTransport`, accepted by the builders below beside the client's."""


def _split(options: dict[str, Any]) -> dict[str, Any]:
    transport = {name: options.pop(name) for name in TRANSPORT_OPTIONS if name in options}
    if "transport" not in options:
        options["transport"] = HttpTransport(**transport)
    return options


def explicit_client(endpoint: str, credentials: Credentials, **options: Any) -> ConnectionsClient:
    """``ConnectionsClient(credentials, endpoint=endpoint)``; transport options (``environ``: its
    proxy settings) go to its transport."""
    return ConnectionsClient(credentials, endpoint=endpoint, **_split(options))


def environment_client(
    environ: Mapping[str, str] | None = None,
    config: Mapping[str, str] | None = None,
    **options: Any,
) -> ConnectionsClient:
    """A client from the settings of ``environ`` (default: ``os.environ``, which also holds the
    transport's proxy settings) under a stack's ``config``, as the Pulumi face resolves them."""
    layers = list(program_layers(config)) if config is not None else []
    settings = Settings.resolve(*layers, environ=environ)
    return ConnectionsClient.from_settings(settings, **_split({"environ": environ, **options}))
