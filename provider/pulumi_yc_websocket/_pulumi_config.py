"""Pulumi config as settings layers: the provider's own keys (``yc-websocket:*``), and the keys
Yandex Cloud users already set (``yandex:token``, ``yandex:serviceAccountKeyFile``,
``yandex:endpoint``), with the config keys that are most likely typos of them.

The plugin is configured with its own namespace only; Python programs read both namespaces,
``yc-websocket:*`` first. Keys may also come in the engine's ``namespace:config:key`` form.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ._settings import Setting

PACKAGE_NAMESPACE = "yc-websocket"
YANDEX_NAMESPACE = "yandex"
PROVIDER_CONFIG: Mapping[str, str] = {
    "token": "token",
    "serviceAccountKeyFile": "service_account_key",
    "endpoint": "api_endpoint",
    "connectionsEndpoint": "connections_endpoint",
    "iamEndpoint": "iam_endpoint",
    "metadataAddr": "metadata_addr",
}
"""The provider's config keys (namespace ``yc-websocket``), and the setting each one holds."""
SECRET_CONFIG = frozenset({"token", "serviceAccountKeyFile"})
"""The provider's config keys that hold a credential."""
YANDEX_CONFIG: Mapping[str, str] = {
    key: PROVIDER_CONFIG[key] for key in ("token", "serviceAccountKeyFile", "endpoint")
}
"""The ``yandex:*`` keys (pulumi-yandex's, the Terraform provider's) Python programs read too."""
PROVIDER_INPUTS = frozenset({"version", "pluginDownloadURL"})
"""Keys the engine adds to every provider's inputs: never a typo."""
YANDEX_PROVIDER_KEYS = frozenset(
    {
        "cloudId",
        "endpoint",
        "folderId",
        "insecure",
        "maxRetries",
        "organizationId",
        "plaintext",
        "profile",
        "regionId",
        "serviceAccountKeyFile",
        "sharedCredentialsFile",
        "storageAccessKey",
        "storageEndpoint",
        "storageSecretKey",
        "token",
        "ymqAccessKey",
        "ymqEndpoint",
        "ymqSecretKey",
        "zone",
    }
)
"""The keys of pulumi-yandex's own ``yandex:*`` config: none of them is a typo of ours."""


def provider_layer(
    config: Mapping[str, object], *, origin: str = "Pulumi config"
) -> dict[str, Setting]:
    """The settings in the provider's own config (keys ``token``... or ``yc-websocket:token``)."""
    return _layer(config, PACKAGE_NAMESPACE, PROVIDER_CONFIG, origin, bare=True)


def program_layers(config: Mapping[str, object]) -> tuple[dict[str, Setting], dict[str, Setting]]:
    """A program's settings: its ``yc-websocket:*`` config, then its ``yandex:*`` config."""
    return (
        _layer(config, PACKAGE_NAMESPACE, PROVIDER_CONFIG, "Pulumi config"),
        _layer(config, YANDEX_NAMESPACE, YANDEX_CONFIG, "Pulumi config"),
    )


def program_config_keys() -> list[str]:
    """Every config key a Python program reads, ``namespace:key``."""
    return [
        *(f"{PACKAGE_NAMESPACE}:{key}" for key in PROVIDER_CONFIG),
        *(f"{YANDEX_NAMESPACE}:{key}" for key in YANDEX_CONFIG),
    ]


def _layer(
    config: Mapping[str, object],
    namespace: str,
    keys: Mapping[str, str],
    origin: str,
    *,
    bare: bool = False,
) -> dict[str, Setting]:
    """The settings of ``namespace``'s ``keys``; ``bare``: keys without a namespace are its."""
    layer: dict[str, Setting] = {}
    for given, value in config.items():
        found_namespace, name = _split(given, namespace if bare else "")
        setting = keys.get(name) if found_namespace == namespace else None
        if setting is not None and value is not None:
            layer[setting] = Setting(str(value), f"{origin} {namespace}:{name}")
    return layer


def _split(key: str, default_namespace: str) -> tuple[str, str]:
    """``ns:key`` / ``ns:config:key`` / ``key`` (in ``default_namespace``) as (ns, key)."""
    namespace, separator, name = key.partition(":")
    if not separator:
        return default_namespace, key
    return namespace, name.removeprefix("config:")


@dataclass(frozen=True)
class UnknownKey:
    """A config key this package does not read, and why it matters."""

    key: str
    """As the user wrote it, ``namespace:key``."""
    reason: str
    """One line: that it is not read, and the key most likely meant."""


def unknown_provider_keys(keys: Iterable[str]) -> list[UnknownKey]:
    """The keys of the provider's namespace (``yc-websocket:x``, or ``x`` alone) it does not
    read: a setting there would silently not be used."""
    found = []
    for given in keys:
        namespace, name = _split(given, PACKAGE_NAMESPACE)
        if namespace != PACKAGE_NAMESPACE or name in PROVIDER_CONFIG or name in PROVIDER_INPUTS:
            continue
        meant = _closest(name, PROVIDER_CONFIG)
        guess = f"did you mean {namespace}:{meant}? " if meant else ""
        known = ", ".join(PROVIDER_CONFIG)
        found.append(
            UnknownKey(
                f"{namespace}:{name}",
                f"{namespace}:{name} is not a config key of {PACKAGE_NAMESPACE}; {guess}"
                f"(its keys: {known})",
            )
        )
    return found


def mistyped_yandex_keys(keys: Iterable[str]) -> list[UnknownKey]:
    """The ``yandex:*`` keys that are no key of pulumi-yandex's but close to one this package
    reads (``yandex:tokn``): a credential set there would silently not be used."""
    found = []
    for given in keys:
        namespace, name = _split(given, "")
        if namespace != YANDEX_NAMESPACE or name in YANDEX_PROVIDER_KEYS:
            continue
        meant = _closest(name, YANDEX_CONFIG)
        if meant:
            found.append(
                UnknownKey(
                    f"{namespace}:{name}",
                    f"{namespace}:{name} is not a config key that pulumi-yandex or "
                    f"{PACKAGE_NAMESPACE} reads; did you mean {namespace}:{meant}?",
                )
            )
    return found


def _closest(name: str, candidates: Iterable[str]) -> str:
    folded = {candidate.lower(): candidate for candidate in candidates}
    match = difflib.get_close_matches(name.lower(), list(folded), n=1, cutoff=0.75)
    return folded[match[0]] if match else ""
