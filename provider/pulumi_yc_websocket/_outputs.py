"""The resource's properties, derived from the model: names in state and in Python, and values.

State holds the API's camelCase names (``gatewayId``), Python code the snake_case ones
(``gateway_id``); both come from the :class:`~.model.Connection` fields, written once there.
"""

from __future__ import annotations

from typing import Any

from pydantic.alias_generators import to_camel, to_snake

from ._model import Connection, Identity

CONNECTION_ID = "connectionId"
ALLOW_MISSING = "allowMissing"
SECRET_FIELDS = "secretFields"  # noqa: S105 - a property name
FOUND = "found"
LOOKED_UP_FIELDS = tuple(to_camel(name) for name in Connection.model_fields if name != "id")
"""What a lookup adds to the state: every Connection field but its id (``connectionId``)."""
IDENTITY_FIELDS = tuple(to_camel(name) for name in Identity.model_fields)
COMPARED_FIELDS = (CONNECTION_ID, ALLOW_MISSING, SECRET_FIELDS, FOUND, *LOOKED_UP_FIELDS)
"""The properties a diff compares (``__provider`` is not one)."""


def python_name(wire_name: str) -> str:
    """``gatewayId`` to ``gateway_id``."""
    return to_snake(wire_name)


def wire_name(python_name: str) -> str:
    """``gateway_id`` to ``gatewayId``."""
    return to_camel(python_name)


def connection_properties(connection: Connection | None) -> dict[str, Any]:
    """The looked-up properties by wire name; all ``None`` when not found."""
    if connection is None:
        return {FOUND: False, **dict.fromkeys(LOOKED_UP_FIELDS)}
    data = connection.model_dump(mode="json", by_alias=True)
    return {FOUND: True, **{name: data[name] for name in LOOKED_UP_FIELDS}}
