"""Look up live Yandex Cloud API Gateway WebSocket connections, as typed Pulumi outputs.

The Pulumi face: ``WebSocketConnection`` (a read-only dynamic resource) and the
``get_websocket_connection`` / ``get_websocket_connection_output`` functions. The lookup core
works without Pulumi: ``ConnectionsClient`` with its credentials, settings, model and typed
errors. The Pulumi names import ``pulumi`` on first use only, so the provider process and plain
scripts start fast. ``pulumi_yc_websocket.emulator`` is a local emulator of the service, and
``pulumi_yc_websocket.testing`` plugs lookups into Pulumi's unit-test mocks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._auth import Credentials, IamToken, MetadataCredentials, OAuthToken, ServiceAccountKey
from ._client import ConnectionsClient
from ._errors import (
    ApiError,
    AuthenticationError,
    ConfigurationError,
    ConflictingCredentialsError,
    ConnectionNotFoundError,
    CredentialsError,
    CredentialsNotFoundError,
    DeadlineExceededError,
    InsecureEndpointError,
    InsecureProxyError,
    InvalidConnectionIdError,
    InvalidCredentialsError,
    InvalidResponseError,
    PermissionDeniedError,
    ServiceUnavailableError,
    ThrottledError,
    YandexWebSocketError,
)
from ._model import Connection, Identity
from ._retry import RetryPolicy
from ._settings import Settings
from ._timestamps import Timestamp, parse_timestamp
from ._transport import HttpTransport
from ._version import __version__

if TYPE_CHECKING:
    from ._functions import (
        AwaitableGetWebSocketConnectionResult,
        GetWebSocketConnectionResult,
        get_websocket_connection,
        get_websocket_connection_output,
    )
    from ._resource import WebSocketConnection, WebSocketConnectionIdentity

_PULUMI_EXPORTS = {
    "WebSocketConnection": "._resource",
    "WebSocketConnectionIdentity": "._resource",
    "GetWebSocketConnectionResult": "._functions",
    "AwaitableGetWebSocketConnectionResult": "._functions",
    "get_websocket_connection": "._functions",
    "get_websocket_connection_output": "._functions",
}


def __getattr__(name: str) -> Any:
    module = _PULUMI_EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    # The Pulumi names are loaded on first use: list them anyway, for dir(), help() and IDEs.
    return sorted({*globals(), *_PULUMI_EXPORTS})


__all__ = [
    "ApiError",
    "AuthenticationError",
    "AwaitableGetWebSocketConnectionResult",
    "ConfigurationError",
    "ConflictingCredentialsError",
    "Connection",
    "ConnectionNotFoundError",
    "ConnectionsClient",
    "Credentials",
    "CredentialsError",
    "CredentialsNotFoundError",
    "DeadlineExceededError",
    "GetWebSocketConnectionResult",
    "HttpTransport",
    "IamToken",
    "Identity",
    "InsecureEndpointError",
    "InsecureProxyError",
    "InvalidConnectionIdError",
    "InvalidCredentialsError",
    "InvalidResponseError",
    "MetadataCredentials",
    "OAuthToken",
    "PermissionDeniedError",
    "RetryPolicy",
    "ServiceAccountKey",
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
]

# Public names go by the package's name (in reprs, tracebacks and pickles), not by the private
# module that defines them; the Pulumi names keep theirs, which Pulumi resolves annotations in.
for _name in __all__:
    if _name not in _PULUMI_EXPORTS and not _name.startswith("__"):
        globals()[_name].__module__ = __name__
del _name
