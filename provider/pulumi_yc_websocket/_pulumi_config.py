"""Pulumi stack config as a settings layer: the keys Yandex Cloud users already set, and ours.

``yandex:token`` (IAM or OAuth token), ``yandex:serviceAccountKeyFile`` (a key file's path or
its JSON), ``yandex:endpoint`` (API root), ``yc-websocket:connectionsEndpoint``,
``yc-websocket:iamEndpoint`` (full base URLs), ``yc-websocket:metadataAddr`` (``host[:port]``).
Keys may also come in the engine's ``namespace:config:key`` form.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._settings import Setting

PACKAGE_NAMESPACE = "yc-websocket"
CONFIG_KEYS: Mapping[str, str] = {
    "yandex:token": "token",
    "yandex:serviceAccountKeyFile": "service_account_key",
    "yandex:endpoint": "api_endpoint",
    f"{PACKAGE_NAMESPACE}:connectionsEndpoint": "connections_endpoint",
    f"{PACKAGE_NAMESPACE}:iamEndpoint": "iam_endpoint",
    f"{PACKAGE_NAMESPACE}:metadataAddr": "metadata_addr",
}
"""Each config key this package reads, and the setting it holds."""


def config_layer(config: Mapping[str, object]) -> dict[str, Setting]:
    """The settings in a stack's config; other keys are ignored, values kept as given."""
    layer: dict[str, Setting] = {}
    for key, value in config.items():
        namespace, _, name = key.partition(":")
        key = f"{namespace}:{name.removeprefix('config:')}"
        setting = CONFIG_KEYS.get(key)
        if setting is not None and value is not None:
            layer[setting] = Setting(str(value), f"Pulumi config {key}")
    return layer
