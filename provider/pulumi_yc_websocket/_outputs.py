"""The resource's properties, derived from the model: names in state and in Python, values, and
which of them are secret.

State holds the API's camelCase names (``gatewayId``), Python code the snake_case ones
(``gateway_id``); both come from the :class:`~._model.Connection` fields, written once there. A
lookup that found nothing has proto3's empty values (``""``, an empty identity) and
``found=False``, so every output has one type whether or not the connection exists.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable
from typing import Any

from pulumi.runtime import rpc
from pydantic.alias_generators import to_camel, to_snake

from ._model import Connection, Identity

CONNECTION_ID = "connectionId"
ALLOW_MISSING = "allowMissing"
IGNORE_ACTIVITY = "ignoreActivity"
SECRET_FIELDS = "secretFields"  # noqa: S105 - a property name
FOUND = "found"
LOOKED_UP = "lookedUp"
"""An input only: the program looked the connection up, the provider accepts its answer."""
INVALID_INPUT = "invalidInput"
"""An input only: what is wrong with the id (invalid, or the connection has closed)."""
LOOKUP_FAILURE = "lookupFailure"
"""An input only: why the lookup failed otherwise (the credential, a permission, the service)."""
SECRET_ID = "secretId"  # noqa: S105 - a property name
"""An input only: the connection id is a secret (the provider cannot tell: the engine gives
dynamic providers plain values), so it must not become the resource's id."""
ACTIVITY = "lastActiveAt"
"""The field that moves whenever the connection is used."""

IDENTITY = "identity"
LOOKED_UP_FIELDS = tuple(to_camel(name) for name in Connection.model_fields if name != "id")
"""What a lookup adds to the state: every Connection field but its id (``connectionId``)."""
IDENTITY_FIELDS = tuple(to_camel(name) for name in Identity.model_fields)
COMPARED_FIELDS = (CONNECTION_ID, ALLOW_MISSING, SECRET_FIELDS, FOUND, *LOOKED_UP_FIELDS)
"""The properties a diff compares (``__provider`` and the options are not among them)."""
OUTPUT_FIELDS = (*COMPARED_FIELDS, IGNORE_ACTIVITY)
"""What the resource records as outputs."""
SECRET_PATHS = (
    *(name for name in LOOKED_UP_FIELDS),
    *(f"{IDENTITY}.{name}" for name in IDENTITY_FIELDS),
)
"""What can be kept secret: a looked-up field, or one part of the identity."""


# Cached: the SDK translates every property name of every resource, each conversion a few
# regular expressions (5% of a program's CPU at 300 resources, measured).
@functools.cache
def python_name(wire_name: str) -> str:
    """``gatewayId`` to ``gateway_id``."""
    return to_snake(wire_name)


@functools.cache
def wire_name(name: str) -> str:
    """``gateway_id`` to ``gatewayId``; a name already in that form stays as it is.

    Older Pulumi SDKs (3.216) translate the keys of nested inputs too (``identity.sourceIp``),
    and pydantic 2.1 lowers an already camelCase one (``sourceip``).
    """
    return to_camel(name) if "_" in name else name


SECRET_ID_PREFIX = "secret-"  # noqa: S105 - not a password
"""The engine stores resource ids in clear: a secret connection id is never one. This prefix and
a random suffix are (the connection id stays in the encrypted ``connectionId`` property)."""


def resource_id(connection_id: str, *, secret: bool) -> str:
    """The resource's id for ``connection_id``: the id itself, unless it is a secret."""
    return f"{SECRET_ID_PREFIX}{uuid.uuid4().hex}" if secret else connection_id


def connection_properties(connection: Connection | None) -> dict[str, Any]:
    """The looked-up properties by wire name; proto3's empty values when not found."""
    found = connection is not None
    data = (connection or Connection()).model_dump(mode="json", by_alias=True)
    values = {name: data[name] if data[name] is not None else "" for name in LOOKED_UP_FIELDS}
    return {FOUND: found, **values}


def secret_paths(names: Iterable[str]) -> list[str]:
    """The state paths of the outputs ``names`` asks to keep secret, in any spelling users try:
    ``identity``, ``gateway_id``, ``gatewayId``, ``source_ip``, ``identity.sourceIp``...

    An unknown name is an error: a privacy option that silently does nothing is worse than none.
    """
    paths: set[str] = set()
    for name in names:
        path = _secret_path(name)
        if path is None:
            accepted = ", ".join(python_name(p.rsplit(".", 1)[-1]) for p in SECRET_PATHS)
            raise ValueError(
                f"{name!r} is not an output of WebSocketConnection that can be kept secret; "
                f"use one of: {accepted}"
            )
        paths.add(path)
    # A secret identity covers its parts.
    return sorted(p for p in paths if not (p.startswith(f"{IDENTITY}.") and IDENTITY in paths))


def _secret_path(name: str) -> str | None:
    parts = [wire_name(part) for part in name.strip().split(".")]
    candidate = ".".join(parts)
    if candidate in SECRET_PATHS:
        return candidate
    if len(parts) == 1 and parts[0] in IDENTITY_FIELDS:
        return f"{IDENTITY}.{parts[0]}"
    return None


def with_secrets(properties: dict[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    """``properties`` with the values at ``paths`` wrapped as secrets (the engine encrypts them
    in state, in the inputs as in the outputs)."""
    marked = dict(properties)
    for path in paths:
        head, _, part = path.partition(".")
        if head not in marked:
            continue
        if not part:
            marked[head] = rpc.wrap_rpc_secret(marked[head])
        elif isinstance(marked[head], dict) and part in marked[head]:
            marked[head] = {**marked[head], part: rpc.wrap_rpc_secret(marked[head][part])}
    return marked


def plain(value: Any) -> Any:
    """``value`` with every secret marker removed, however deep."""
    value = rpc.unwrap_rpc_secret(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value
