"""Where to send lookups and with which credential, resolved from layers of settings.

A layer maps setting names (:data:`SETTING_NAMES`) to values and says where each came from.
:meth:`Settings.resolve` reads the layers it is given in order, then the environment, then falls
back to the VM metadata service; the first layer that sets a value wins, and two credentials in
one layer are an error. Explicit arguments are the first layer; the Pulumi face adds the stack
config as the next one.

The environment's names (:data:`ENVIRONMENT_VARIABLES`) are the Terraform provider's and the
yc CLI's. Settings only one kind of credential uses are checked when it is used: the metadata
address only when the metadata service is the credential.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from ._errors import (
    ConfigurationError,
    ConflictingCredentialsError,
    InsecureEndpointError,
    InvalidCredentialsError,
)
from ._redaction import SECRETS, holds_any
from ._urls import service_url, validate_endpoint, validate_metadata_addr

DEFAULT_API_ENDPOINT = "api.cloud.yandex.net:443"
DEFAULT_METADATA_ADDR = "169.254.169.254"
CONNECTIONS_SERVICE_PREFIX = "apigateway-connections"
IAM_SERVICE_PREFIX = "iam"
IAM_TOKENS_PATH = "/iam/v1/tokens"
"""The IAM token exchange's path under the IAM endpoint."""

CredentialKind = Literal["iam_token", "oauth_token", "service_account_key", "metadata"]

CREDENTIAL_SETTINGS: Mapping[str, CredentialKind | None] = {
    "iam_token": "iam_token",
    "token": None,  # an IAM token or an OAuth token, told apart by its shape
    "service_account_key": "service_account_key",
}
"""The settings that hold a credential, and the kind each one holds."""
ENDPOINT_SETTINGS = ("api_endpoint", "connections_endpoint", "iam_endpoint", "metadata_addr")
SETTING_NAMES = (*CREDENTIAL_SETTINGS, *ENDPOINT_SETTINGS)
"""Every setting a layer may hold."""
ENVIRONMENT_VARIABLES: Mapping[str, str] = {
    "iam_token": "YC_IAM_TOKEN",
    "token": "YC_TOKEN",
    "service_account_key": "YC_SERVICE_ACCOUNT_KEY_FILE",
    "api_endpoint": "YC_ENDPOINT",
    "connections_endpoint": "YC_APIGATEWAY_CONNECTIONS_ENDPOINT",
    "iam_endpoint": "YC_IAM_ENDPOINT",
    "metadata_addr": "YC_METADATA_ADDR",
}
"""The environment variable of each setting."""

SETTING_MEANINGS: Mapping[str, str] = {
    "iam_token": "IAM token, sent as is (`yc iam create-token`)",
    "token": "IAM or OAuth token (told apart by its shape)",
    "service_account_key": "service-account key: its file's path, or its JSON",
    "api_endpoint": f"API root host[:port] (default {DEFAULT_API_ENDPOINT})",
    "connections_endpoint": "Connection service base URL (e.g. an emulator)",
    "iam_endpoint": "IAM token service base URL",
    "metadata_addr": f"VM metadata host[:port] (default {DEFAULT_METADATA_ADDR})",
}
"""What each setting holds, in a few words (for ``--help``)."""

CONFIGURE_CREDENTIAL_HELP = (
    "set YC_IAM_TOKEN (e.g. `export YC_IAM_TOKEN=$(yc iam create-token)`), YC_TOKEN (OAuth) or "
    "YC_SERVICE_ACCOUNT_KEY_FILE, or Pulumi config yc-websocket:token / "
    "yc-websocket:serviceAccountKeyFile (`pulumi config set --secret yc-websocket:token ...`; "
    "Python programs also read yandex:token / yandex:serviceAccountKeyFile)"
)
"""How to configure a credential, as the end of a sentence."""
CREDENTIAL_HELP = (
    f"{CONFIGURE_CREDENTIAL_HELP}, or run on a Yandex Cloud VM with a service account attached"
)
"""Every way to provide a credential, as the end of a sentence."""

_IAM_TOKEN_SHAPE = re.compile(r"t1\.[^.\s]+\.[^.\s]+")


@dataclass(frozen=True)
class Setting:
    """One configured value and where it came from (the value of a credential is never shown)."""

    value: str = field(repr=False)
    origin: str
    """Where it was set, for messages: ``YC_TOKEN``, ``Pulumi config yandex:token``..."""


SettingsLayer = Mapping[str, Setting]
"""Settings by name (:data:`SETTING_NAMES`), as one source sets them."""


def arguments_layer(**values: str | None) -> dict[str, Setting]:
    """The settings given as arguments (``None``: not given)."""
    unknown = set(values) - set(SETTING_NAMES)
    if unknown:
        raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
    return {
        name: Setting(value, f"the {name} argument")
        for name, value in values.items()
        if value is not None
    }


def environment_layer(environ: Mapping[str, str] | None = None) -> dict[str, Setting]:
    """The settings of the environment (``os.environ`` by default); empty variables are unset."""
    env = os.environ if environ is None else environ
    return {
        name: Setting(env[variable], variable)
        for name, variable in ENVIRONMENT_VARIABLES.items()
        if env.get(variable, "").strip()
    }


@dataclass(frozen=True)
class CredentialSource:
    """One configured credential: its kind, where it was found, and its secret (never shown)."""

    kind: CredentialKind
    origin: str
    secret: str = field(default="", repr=False)

    def __str__(self) -> str:
        return f"{self.kind.replace('_', ' ')} from {self.origin}"


@dataclass(frozen=True)
class Settings:
    """Resolved endpoints and credential for the lookup client."""

    connections_endpoint: str
    iam_endpoint: str
    metadata_addr: str
    """``host[:port]`` of the metadata service; checked only when it is the credential (and by
    :class:`~._auth.MetadataCredentials`), so a bad one fails only the lookups that use it."""
    credential: CredentialSource | None
    """The configured credential; ``None`` when resolved without one."""

    @classmethod
    def resolve(
        cls,
        *layers: SettingsLayer,
        environ: Mapping[str, str] | None = None,
        resolve_credential: bool = True,
        **arguments: str | None,
    ) -> Settings:
        """Resolve from ``arguments``, then ``layers`` in order, then the environment.

        ``environ`` defaults to ``os.environ``. ``resolve_credential=False`` skips the
        credential (the caller has its own): credentials anywhere are neither used nor checked.
        """
        ordered = (arguments_layer(**arguments), *layers, environment_layer(environ))
        credentials = _credential_settings(ordered)
        for given in credentials:  # masked in every message from here on
            SECRETS.note(given.value.strip())

        def first(name: str) -> Setting | None:
            found = next((layer[name] for layer in ordered if name in layer), None)
            if found is not None and name in ENDPOINT_SETTINGS:
                _refuse_credential_values(found, credentials)
            return found

        api_root = first("api_endpoint") or Setting(DEFAULT_API_ENDPOINT, "")

        def endpoint(name: str, what: str, prefix: str, allowed_path: str = "") -> str:
            given = first(name)
            if given is None:
                return service_url(prefix, api_root.value, origin=api_root.origin)
            return validate_endpoint(
                given.value, what, origin=given.origin, allowed_path=allowed_path
            )

        connections = endpoint(
            "connections_endpoint", "connections endpoint", CONNECTIONS_SERVICE_PREFIX
        )
        iam = endpoint("iam_endpoint", "IAM endpoint", IAM_SERVICE_PREFIX, IAM_TOKENS_PATH)
        credential = _resolve_credential(ordered) if resolve_credential else None
        metadata = first("metadata_addr") or Setting(DEFAULT_METADATA_ADDR, "")
        metadata_addr = metadata.value.strip()
        if credential is not None and credential.kind == "metadata":
            # Checked only when used: a stale YC_METADATA_ADDR does not fail a lookup that
            # has its own credential. MetadataCredentials checks the address it is given.
            try:
                metadata_addr = validate_metadata_addr(metadata.value, origin=metadata.origin)
            except ConfigurationError as error:
                problem = str(error)
            else:
                problem = ""
            if problem:
                raise ConfigurationError(
                    f"{problem}; it is used because no credential is set: fix or unset it, "
                    f"or {CONFIGURE_CREDENTIAL_HELP}"
                )
        return cls(
            connections_endpoint=connections,
            iam_endpoint=iam,
            metadata_addr=metadata_addr,
            credential=credential,
        )


def _credential_settings(layers: tuple[SettingsLayer, ...]) -> list[Setting]:
    """Every credential set in ``layers``, used or not."""
    return [layer[name] for layer in layers for name in CREDENTIAL_SETTINGS if name in layer]


def _refuse_credential_values(setting: Setting, credentials: list[Setting]) -> None:
    """An endpoint or address holding a credential (pasted into the wrong variable) is never
    shown, and never dialled: its host name would carry the credential to a DNS server."""
    for credential in credentials:
        if holds_any(setting.value, [credential.value.strip()]):
            raise InsecureEndpointError(
                f"{setting.origin} holds the credential set in {credential.origin}; set it to "
                "an endpoint (and check that the credential did not go anywhere else)"
            )


def looks_like_iam_token(token: str) -> bool:
    """IAM tokens start with ``t1.`` and have two dots; anything else is taken as OAuth."""
    return _IAM_TOKEN_SHAPE.fullmatch(token.strip()) is not None


def _credentials_in(layer: SettingsLayer) -> list[CredentialSource]:
    found = []
    for name, kind in CREDENTIAL_SETTINGS.items():
        setting = layer.get(name)
        if setting is None:
            continue
        secret = setting.value.strip()
        if not secret:
            raise InvalidCredentialsError(
                f"{setting.origin} is set but empty; give the credential or unset it"
            )
        if kind is None:
            kind = "iam_token" if looks_like_iam_token(secret) else "oauth_token"
        found.append(CredentialSource(kind, setting.origin, secret))
    return found


def _resolve_credential(layers: tuple[SettingsLayer, ...]) -> CredentialSource:
    for layer in layers:
        found = _credentials_in(layer)
        if len(found) > 1:
            origins = [source.origin for source in found]
            names = (
                f"both {origins[0]} and {origins[1]} are set"
                if len(origins) == 2
                else f"{', '.join(origins[:-1])} and {origins[-1]} are all set"
            )
            raise ConflictingCredentialsError(
                f"conflicting credentials: {names}; keep only one of them"
            )
        if found:
            return found[0]
    return CredentialSource("metadata", "the VM metadata service (no other credential is set)")
