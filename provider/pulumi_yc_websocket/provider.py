"""The dynamic provider behind ``WebSocketConnection``: a read-only lookup, matched to the engine.

The lookup runs in ``check`` so ``pulumi preview`` shows real values (the engine plans a create
or update with the checked inputs); ``create``/``update`` return those checked values, ``read``
looks up again for refresh and ``.get()``, ``delete`` never calls the API. The instance holds no
state: it is pickled into every resource's state. Configuration and the shared client live in
the provider process.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown
from pulumi.runtime import rpc

from ._client import validate_connection_id
from ._errors import YandexWebSocketError
from ._lookup import look_up
from ._outputs import (
    ALLOW_MISSING,
    COMPARED_FIELDS,
    CONNECTION_ID,
    FOUND,
    SECRET_FIELDS,
    connection_properties,
)
from ._pulumi_config import CONFIG_KEYS, config_layer
from ._runtime import RUNTIME


def _plain(value: Any) -> Any:
    return rpc.unwrap_rpc_secret(value)


def _is_unknown(value: Any) -> bool:
    # The server hands unknown inputs to check/diff as ``pulumi.output.Unknown`` objects.
    value = _plain(value)
    return isinstance(value, Unknown) or (isinstance(value, str) and value == rpc.UNKNOWN)


def _as_secrets(properties: dict[str, Any], secret_fields: Any) -> dict[str, Any]:
    # The engine keeps a value the provider returns wrapped as a secret encrypted in state,
    # in the checked inputs as well as in the outputs.
    names = set(_plain(secret_fields) or ())
    return {
        key: rpc.wrap_rpc_secret(value) if key in names and value is not None else value
        for key, value in properties.items()
    }


class WebSocketConnectionProvider(ResourceProvider):
    """Looks up one API Gateway WebSocket connection; never changes it."""

    serialize_as_secret_always = False

    def configure(self, req: ConfigureRequest) -> None:
        """Keep the stack's ``yandex:*`` and ``yc-websocket:*`` config for this process."""
        RUNTIME.configure(config_layer({key: _plain(req.config.get(key)) for key in CONFIG_KEYS}))

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate the id and look the connection up, so preview shows the real values."""
        allow_missing = bool(_plain(news.get(ALLOW_MISSING)))
        secret_fields = list(_plain(news.get(SECRET_FIELDS)) or [])
        inputs: dict[str, Any] = {
            CONNECTION_ID: news.get(CONNECTION_ID),
            ALLOW_MISSING: allow_missing,
            SECRET_FIELDS: secret_fields,
        }
        connection_id = _plain(inputs[CONNECTION_ID])
        if _is_unknown(connection_id):
            # Not known yet (preview): no request, and the looked-up fields stay unknown.
            return CheckResult(inputs, [])
        try:
            validate_connection_id(connection_id)
            found = look_up(connection_id, RUNTIME.configured, allow_missing=allow_missing)
        except YandexWebSocketError as error:
            return CheckResult(inputs, [CheckFailure(CONNECTION_ID, str(error))])
        inputs.update(_as_secrets(connection_properties(found), secret_fields))
        return CheckResult(inputs, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """A new id replaces; changed data updates in place; ``__provider`` is never compared."""
        changed = [
            name
            for name in COMPARED_FIELDS
            if _is_unknown(news.get(name)) or _plain(olds.get(name)) != _plain(news.get(name))
        ]
        replaces = [CONNECTION_ID] if CONNECTION_ID in changed else []
        # Create-before-delete (the default): deleting a lookup is a no-op, and delete-before-
        # replace would force the replacement of every resource that depends on it.
        return DiffResult(changes=bool(changed), replaces=replaces)

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Record the values looked up in ``check``; nothing is created anywhere."""
        return CreateResult(str(_plain(props[CONNECTION_ID])), _outputs(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Record the values looked up in ``check`` (the default update would drop every output)."""
        return UpdateResult(_outputs(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Look up again: ``pulumi refresh`` (closed and not allowed missing: leaves the state)
        and ``WebSocketConnection.get`` (missing: an error)."""
        is_refresh = FOUND in props
        allow_missing = bool(_plain(props.get(ALLOW_MISSING)))
        try:
            found = look_up(id_, RUNTIME.configured, allow_missing=allow_missing or is_refresh)
        except YandexWebSocketError as error:
            raise LookupFailed(f"lookup of connection {id_!r} failed: {error}") from None
        if found is None and is_refresh and not allow_missing:
            return ReadResult("", {})
        base = {
            CONNECTION_ID: id_,
            ALLOW_MISSING: allow_missing,
            SECRET_FIELDS: list(_plain(props.get(SECRET_FIELDS)) or []),
        }
        state = {**base, **_as_secrets(connection_properties(found), base[SECRET_FIELDS])}
        return ReadResult(id_, state, state)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Forget the lookup; the connection itself is never touched."""


class LookupFailed(Exception):
    """A lookup in ``read`` failed; the message is the whole story."""


def _outputs(props: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in props.items() if key in COMPARED_FIELDS}
