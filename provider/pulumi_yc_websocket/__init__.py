"""Look up live Yandex Cloud API Gateway WebSocket connections, as typed Pulumi outputs.

The lookup core (``ConnectionsClient``, the model, errors and settings) works without Pulumi;
the Pulumi parts (``WebSocketConnection``, ``get_websocket_connection``...) import ``pulumi``
on first use only, so the provider process and plain scripts start fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .client import ConnectionsClient, validate_connection_id
from .errors import (
    ApiError,
    AuthenticationError,
    ConfigurationError,
    ConflictingCredentialsError,
    ConnectionNotFoundError,
    CredentialsNotFoundError,
    DeadlineExceededError,
    InsecureEndpointError,
    InsecureProxyError,
    InvalidConnectionIdError,
    InvalidResponseError,
    PermissionDeniedError,
    ServiceUnavailableError,
    ThrottledError,
    YandexWebSocketError,
)
from .model import Connection, Identity
from .retry import RetryPolicy
from .settings import Settings
from .timestamps import Timestamp, parse_timestamp

if TYPE_CHECKING:
    from .functions import (
        AwaitableGetWebSocketConnectionResult,
        GetWebSocketConnectionResult,
        get_websocket_connection,
        get_websocket_connection_output,
    )
    from .resource import WebSocketConnection, WebSocketConnectionIdentity

_PULUMI_EXPORTS = {
    "WebSocketConnection": ".resource",
    "WebSocketConnectionIdentity": ".resource",
    "GetWebSocketConnectionResult": ".functions",
    "AwaitableGetWebSocketConnectionResult": ".functions",
    "get_websocket_connection": ".functions",
    "get_websocket_connection_output": ".functions",
}


def __getattr__(name: str) -> Any:
    module = _PULUMI_EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "ApiError",
    "AuthenticationError",
    "AwaitableGetWebSocketConnectionResult",
    "ConfigurationError",
    "ConflictingCredentialsError",
    "Connection",
    "ConnectionNotFoundError",
    "ConnectionsClient",
    "CredentialsNotFoundError",
    "DeadlineExceededError",
    "GetWebSocketConnectionResult",
    "Identity",
    "InsecureEndpointError",
    "InsecureProxyError",
    "InvalidConnectionIdError",
    "InvalidResponseError",
    "PermissionDeniedError",
    "RetryPolicy",
    "ServiceUnavailableError",
    "Settings",
    "ThrottledError",
    "Timestamp",
    "WebSocketConnection",
    "WebSocketConnectionIdentity",
    "YandexWebSocketError",
    "__version__",
    "get_websocket_connection",
    "get_websocket_connection_output",
    "parse_timestamp",
    "validate_connection_id",
]
