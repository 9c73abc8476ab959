"""The engine's floor for a resource of the package's shape: every property, nothing looked up.

``ShapedNoLookup(name, connection_id)`` registers the inputs a ``WebSocketConnection`` sends
(the program's answer included, as constants of a found connection) with a provider that accepts
them as they are. The engine and the SDK serialize, diff and record those properties whatever
they hold, so the difference between a program of these and one of ``WebSocketConnection`` is
the lookup alone: the requests and the program's own work to start them and wait.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi.dynamic
from pulumi.dynamic import CheckResult, CreateResult, ResourceProvider

from pulumi_yc_websocket._outputs import (
    ALLOW_MISSING,
    CONNECTION_ID,
    FOUND,
    IDENTITY,
    IDENTITY_FIELDS,
    IGNORE_ACTIVITY,
    INVALID_INPUT,
    LOOKED_UP,
    LOOKED_UP_FIELDS,
    LOOKUP_FAILURE,
    SECRET_FIELDS,
    SECRET_ID,
)

INPUT_ONLY = (LOOKED_UP, INVALID_INPUT, LOOKUP_FAILURE, SECRET_ID)
A_TIME = "2024-05-01T10:00:00.123456789Z"


class ShapedNoLookupProvider(ResourceProvider):
    """Accepts the inputs as they are; creates nothing anywhere."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """The inputs without the program's input-only properties."""
        return CheckResult({k: v for k, v in news.items() if k not in INPUT_ONLY}, [])

    def create(self, props: dict[str, Any]) -> CreateResult:
        """The inputs as outputs; the connection id as the resource id."""
        return CreateResult(str(props[CONNECTION_ID]), props)


def shaped_inputs(connection_id: str) -> dict[str, Any]:
    """What ``WebSocketConnection`` sends for a found connection, every value a constant."""
    values: dict[str, Any] = {name: A_TIME for name in LOOKED_UP_FIELDS}
    values["gatewayId"] = "d5dbenchgateway00001"
    values[IDENTITY] = {name: "203.0.113.7" for name in IDENTITY_FIELDS}
    return {
        CONNECTION_ID: connection_id,
        ALLOW_MISSING: False,
        IGNORE_ACTIVITY: False,
        SECRET_FIELDS: [],
        LOOKED_UP: True,
        INVALID_INPUT: "",
        LOOKUP_FAILURE: "",
        SECRET_ID: False,
        FOUND: True,
        **values,
    }


class ShapedNoLookup(pulumi.dynamic.Resource, module="bench", name="ShapedNoLookup"):
    """A resource with a lookup's properties, without the lookup."""

    def __init__(self, resource_name: str, connection_id: str) -> None:
        super().__init__(ShapedNoLookupProvider(), resource_name, shaped_inputs(connection_id))
