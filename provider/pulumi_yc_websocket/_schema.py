"""The Pulumi package schema of the ``yc-websocket`` provider plugin, derived from the model, the
state's property names and the settings table: no field list is written here.

Every Pulumi language reads the plugin through it: YAML at run time, the generated SDKs at
build time. ``pulumi package get-schema pulumi-resource-yc-websocket`` prints it.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic.fields import FieldInfo

from ._client import MAX_CONNECTION_ID_LENGTH
from ._model import Connection, Identity
from ._outputs import (
    ACTIVITY,
    ALLOW_MISSING,
    CONNECTION_ID,
    FOUND,
    IGNORE_ACTIVITY,
    wire_name,
)
from ._pulumi_config import PACKAGE_NAMESPACE, PROVIDER_CONFIG, SECRET_CONFIG
from ._settings import ENVIRONMENT_VARIABLES, SETTING_MEANINGS
from ._timestamps import Timestamp
from ._version import __version__

RESOURCE_TOKEN = f"{PACKAGE_NAMESPACE}:index:WebSocketConnection"
IDENTITY_TOKEN = f"{PACKAGE_NAMESPACE}:index:WebSocketConnectionIdentity"
FUNCTION_TOKEN = f"{PACKAGE_NAMESPACE}:index:getWebSocketConnection"

_NOT_FOUND = " Empty when the connection was not found."
_TIME = (
    " RFC 3339 in UTC, with every fractional digit the API sent (up to nanoseconds)." + _NOT_FOUND
)
_INPUTS: dict[str, dict[str, Any]] = {
    CONNECTION_ID: {
        "type": "string",
        "description": (
            "ID of the connection to look up, as API Gateway gave it (at most "
            f"{MAX_CONNECTION_ID_LENGTH} characters). It is also the resource's ID; a new one "
            "replaces the resource."
        ),
    },
    ALLOW_MISSING: {
        "type": "boolean",
        "default": False,
        "description": (
            f"Read a connection that has closed as `{FOUND}: false` with empty values, instead "
            "of failing. Connections close after 10 idle minutes and live at most 60."
        ),
    },
}
_IGNORE_ACTIVITY: dict[str, Any] = {
    "type": "boolean",
    "default": False,
    "description": (
        f"A refresh that finds only a new `{ACTIVITY}` reports no change (the state still gets "
        f"the new value), so `pulumi refresh --expect-no-changes` passes while the connection "
        "is in use."
    ),
}
_FOUND: dict[str, Any] = {
    "type": "boolean",
    "description": f"Whether the connection exists; `false` only with `{ALLOW_MISSING}`.",
}


def _field(name: str, field: FieldInfo) -> dict[str, Any]:
    """One model field as a schema property of the same wire name."""
    description = field.description or ""
    if field.annotation is Identity:
        return {"$ref": f"#/types/{IDENTITY_TOKEN}", "description": description + _NOT_FOUND}
    if field.annotation is str:
        return {"type": "string", "description": description + _NOT_FOUND}
    if field.annotation == Timestamp | None:
        return {"type": "string", "description": description + _TIME}
    raise TypeError(f"no schema type for {name}: {field.annotation}")  # a new model field


def _looked_up() -> dict[str, dict[str, Any]]:
    """Every Connection field but its id, by wire name."""
    return {
        wire_name(name): _field(name, field)
        for name, field in Connection.model_fields.items()
        if name != "id"
    }


def _result() -> dict[str, dict[str, Any]]:
    """What the resource and the function give: the id, ``found`` and the looked-up fields."""
    return (
        {CONNECTION_ID: {"type": "string", "description": "ID of the connection."}}
        | {FOUND: _FOUND}
        | _looked_up()
    )


def _config_variables() -> dict[str, dict[str, Any]]:
    variables = {}
    for key, setting in PROVIDER_CONFIG.items():
        meaning = SETTING_MEANINGS[setting]
        description = (
            f"{meaning[:1].upper()}{meaning[1:]}. Unset: the environment variable "
            f"`{ENVIRONMENT_VARIABLES[setting]}`."
        )
        variables[key] = {"type": "string", "description": description} | (
            {"secret": True} if key in SECRET_CONFIG else {}
        )
    return variables


def schema() -> dict[str, Any]:
    """The package schema, as a JSON-ready dict."""
    result = _result()
    identity = {
        wire_name(name): {"type": "string", "description": f"{field.description} Empty if unknown."}
        for name, field in Identity.model_fields.items()
    }
    config = _config_variables()
    return {
        "name": PACKAGE_NAMESPACE,
        "displayName": "Yandex Cloud API Gateway WebSocket connections",
        "version": __version__,
        "description": (
            "Look up live Yandex Cloud API Gateway WebSocket connections (Connection.Get): the "
            "gateway, the caller's source IP and user agent, when it connected and was last "
            "active. Read-only: it never sends to, disconnects or changes a connection."
        ),
        "keywords": ["pulumi", "yandex-cloud", "api-gateway", "websocket", "kind/native"],
        "license": "Apache-2.0",
        "config": {"variables": config},
        "provider": {
            "description": (
                "The yc-websocket provider: where to look connections up and with which "
                "credential. Unset values come from the environment (`YC_*`), then the VM "
                "metadata service."
            ),
            "inputProperties": config,
        },
        "types": {
            IDENTITY_TOKEN: {
                "type": "object",
                "description": Identity.__doc__,
                "properties": identity,
                "required": sorted(identity),
            }
        },
        "resources": {
            RESOURCE_TOKEN: {
                "description": (
                    "A read-only lookup of one API Gateway WebSocket connection. Create, "
                    "import and refresh read it (preview too); `pulumi up` changes nothing "
                    "unless the inputs change; destroy never touches the connection. The "
                    "identity is personal data: add `additionalSecretOutputs: [identity]` to "
                    "keep it encrypted in state."
                ),
                "inputProperties": _INPUTS | {IGNORE_ACTIVITY: _IGNORE_ACTIVITY},
                "requiredInputs": [CONNECTION_ID],
                "properties": result
                | {ALLOW_MISSING: _INPUTS[ALLOW_MISSING]}
                | {IGNORE_ACTIVITY: _IGNORE_ACTIVITY},
                "required": sorted([*result, ALLOW_MISSING, IGNORE_ACTIVITY]),
            }
        },
        "functions": {
            FUNCTION_TOKEN: {
                "description": (
                    "Look up one API Gateway WebSocket connection at every run; nothing goes "
                    "into state."
                ),
                "inputs": {
                    "properties": dict(_INPUTS),
                    "required": [CONNECTION_ID],
                },
                "outputs": {"properties": result, "required": sorted(result)},
            }
        },
    }


def schema_json() -> str:
    """The schema as the plugin serves it."""
    return json.dumps(schema(), indent=2, sort_keys=False)
