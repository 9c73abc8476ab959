"""Lookups in the provider's Check, one at a time: the design before program-side lookups.

``SerialLookup(name, connection_id)`` registers the package's own provider with inputs that
carry no program answer (no ``lookedUp``), so ``check`` looks the connection up itself, as it
does for a program of an older version of this package. The engine calls Check one resource at
a time: a program of N of them pays N round trips in a row.
"""

from __future__ import annotations

from typing import Any

import pulumi.dynamic

from pulumi_yc_websocket._outputs import (
    ALLOW_MISSING,
    CONNECTION_ID,
    IGNORE_ACTIVITY,
    OUTPUT_FIELDS,
    SECRET_FIELDS,
)
from pulumi_yc_websocket.provider import WebSocketConnectionProvider


class SerialLookup(pulumi.dynamic.Resource, module="bench", name="SerialLookup"):
    """A lookup made in Check."""

    def __init__(self, resource_name: str, connection_id: str) -> None:
        props: dict[str, Any] = {name: None for name in OUTPUT_FIELDS}
        props.update(
            {CONNECTION_ID: connection_id, ALLOW_MISSING: False, IGNORE_ACTIVITY: False},
        )
        props[SECRET_FIELDS] = []
        super().__init__(WebSocketConnectionProvider(), resource_name, props)
