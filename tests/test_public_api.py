"""The public surface: ``__all__`` is the one public list, every name in it is documented and
visible to ``dir()``/``help()`` (the Pulumi names too, loaded on first use), and every module
but the public ones is private."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pulumi_yc_websocket

PUBLIC = {
    # The lookup core.
    "ConnectionsClient",
    "Settings",
    "HttpTransport",
    "RetryPolicy",
    "Credentials",
    "IamToken",
    "OAuthToken",
    "ServiceAccountKey",
    "MetadataCredentials",
    "Connection",
    "Identity",
    "Timestamp",
    "parse_timestamp",
    # Errors.
    "YandexWebSocketError",
    "ConfigurationError",
    "InsecureEndpointError",
    "InsecureProxyError",
    "CredentialsError",
    "CredentialsNotFoundError",
    "ConflictingCredentialsError",
    "InvalidCredentialsError",
    "InvalidConnectionIdError",
    "ApiError",
    "AuthenticationError",
    "PermissionDeniedError",
    "ConnectionNotFoundError",
    "ThrottledError",
    "ServiceUnavailableError",
    "DeadlineExceededError",
    "InvalidResponseError",
    # The Pulumi face.
    "WebSocketConnection",
    "WebSocketConnectionIdentity",
    "GetWebSocketConnectionResult",
    "AwaitableGetWebSocketConnectionResult",
    "get_websocket_connection",
    "get_websocket_connection_output",
    "__version__",
}
PUBLIC_MODULES = {"__init__", "__main__", "provider", "testing"}
"""``provider``: its class is pickled by reference into every stack's state by that path."""


def test_all_is_the_public_list() -> None:
    assert set(pulumi_yc_websocket.__all__) == PUBLIC
    assert len(pulumi_yc_websocket.__all__) == len(PUBLIC)


def test_the_testing_module_exports_the_mocks_alone() -> None:
    import pulumi_yc_websocket.testing as testing

    assert sorted(testing.__all__) == ["CheckFailedError", "LookupMocks", "RESOURCE_TYPE"]
    for cls in (testing.CheckFailedError, testing.LookupMocks):
        assert cls.__doc__, cls


def test_the_provider_module_exports_the_provider_alone() -> None:
    import pulumi_yc_websocket.provider as provider

    assert provider.__all__ == ["WebSocketConnectionProvider"]
    assert provider.WebSocketConnectionProvider.__module__ == "pulumi_yc_websocket.provider"


def test_every_public_name_is_documented_and_in_dir() -> None:
    listed = dir(pulumi_yc_websocket)
    for name in PUBLIC - {"__version__"}:
        value = getattr(pulumi_yc_websocket, name)
        assert inspect.getdoc(value), name
        assert name in listed, name


def test_core_names_go_by_the_package_name() -> None:
    assert pulumi_yc_websocket.ConnectionNotFoundError.__module__ == "pulumi_yc_websocket"
    assert repr(pulumi_yc_websocket.Timestamp) == "<class 'pulumi_yc_websocket.Timestamp'>"


def test_implementation_modules_are_private() -> None:
    package = Path(pulumi_yc_websocket.__file__).parent
    modules = {path.stem for path in package.glob("*.py")}
    assert {m for m in modules if not m.startswith("_")} <= PUBLIC_MODULES | {"provider"}
    assert {p.name for p in package.iterdir() if p.is_dir() and p.name != "__pycache__"} == {
        "emulator"
    }


def test_help_shows_the_pulumi_api_without_pulumi_loaded_first() -> None:
    # Lazy names are visible to help() in a fresh process, and help() is not a wall of
    # inherited methods.
    script = (
        "import pydoc, pulumi_yc_websocket as p; "
        "text = pydoc.render_doc(p, renderer=pydoc.plaintext); "
        "print(len(text.splitlines())); "
        "assert 'WebSocketConnection' in text and 'get_websocket_connection_output' in text"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert int(done.stdout.split()[-1]) > 0


def test_help_of_the_resource_documents_each_output() -> None:
    import pydoc

    text = pydoc.render_doc(pulumi_yc_websocket.WebSocketConnection, renderer=pydoc.plaintext)
    for documented in (
        "gateway_id\n",
        "ID of the API Gateway the connection belongs to",
        "last_active_at\n",
        "ignore_activity",
        "allow_missing",
        "secret_identity",
    ):
        assert documented in text, documented
