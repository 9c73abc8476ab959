"""The dynamic provider behind ``WebSocketConnection``: a read-only lookup, matched to the engine.

The program looks each connection up as soon as its id is known, many at once, and hands the
answer over as the resource's inputs; ``check`` only accepts it (the engine checks resources one
at a time, so a lookup there would wait in line), or reports what is wrong with the input.
``create``/``update`` record the checked values, ``read`` looks up again for ``pulumi refresh``,
``delete`` never calls the API. The instance holds no state: it is pickled into every
resource's state. Configuration and the shared client live in the process's runtime.

This module's path is part of every stack's state (``__provider`` pickles the class by
reference): it stays ``pulumi_yc_websocket.provider``.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any, ParamSpec, TypeVar

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
from pydantic import ValidationError

from ._client import validate_connection_id
from ._errors import YandexWebSocketError
from ._lookup import look_up, shown_id
from ._model import Connection
from ._outputs import (
    ACTIVITY,
    ALLOW_MISSING,
    COMPARED_FIELDS,
    CONNECTION_ID,
    FOUND,
    IGNORE_ACTIVITY,
    INVALID_INPUT,
    LOOKED_UP,
    LOOKED_UP_FIELDS,
    LOOKUP_FAILURE,
    OUTPUT_FIELDS,
    SECRET_FIELDS,
    SECRET_ID,
    connection_properties,
    plain,
    resource_id,
    with_secrets,
)
from ._pulumi_config import program_config_keys, program_layers
from ._runtime import RUNTIME

__all__ = ["WebSocketConnectionProvider"]

_P = ParamSpec("_P")
_R = TypeVar("_R")

_ACCEPTED_INPUTS = (*OUTPUT_FIELDS, LOOKED_UP, SECRET_ID)
"""What ``check`` keeps of the program's inputs (not the failures it reports)."""


def _is_unknown(value: Any) -> bool:
    # The server hands unknown inputs to check/diff as ``pulumi.output.Unknown`` objects.
    value = rpc.unwrap_rpc_secret(value)
    return isinstance(value, Unknown) or (isinstance(value, str) and value == rpc.UNKNOWN)


class LookupFailed(Exception):
    """A call of this provider failed (a lookup in ``read``, or a bug); the message is the
    whole story."""


def _in_one_line(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """``method`` failing with one line: an unexpected error too (a bug) is a
    :class:`LookupFailed` naming the method and the error."""

    @functools.wraps(method)
    def call(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except LookupFailed:
            raise
        except Exception as error:
            raise LookupFailed(
                f"pulumi-yc-websocket's provider failed unexpectedly in {method.__name__}: "
                f"{error!r}"
            ) from None

    return call


class WebSocketConnectionProvider(ResourceProvider):
    """Looks up one API Gateway WebSocket connection; never changes it."""

    serialize_as_secret_always = False

    @_in_one_line
    def configure(self, req: ConfigureRequest) -> None:
        """Keep the stack's ``yc-websocket:*`` and ``yandex:*`` config for this process."""
        config = {key: rpc.unwrap_rpc_secret(req.config.get(key)) for key in program_config_keys()}
        RUNTIME.configure(*program_layers(config))

    @_in_one_line
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Accept the program's lookup, or report what is wrong with the input."""
        inputs = {key: news[key] for key in _ACCEPTED_INPUTS if key in news}
        if any(_is_unknown(news.get(key)) for key in (CONNECTION_ID, FOUND)):
            # The id is not known yet (preview): nothing was looked up, and nothing is known.
            return CheckResult(inputs, [])
        invalid = plain(news.get(INVALID_INPUT)) or _record_problem(news)
        if invalid:
            return CheckResult(inputs, [CheckFailure(CONNECTION_ID, invalid)])
        failure = plain(news.get(LOOKUP_FAILURE))
        if failure:
            # Not the input's fault: reported on the resource, not on a property.
            return CheckResult(inputs, [CheckFailure("", failure)])
        if plain(news.get(LOOKED_UP)) is not True:
            # A program that did not look up (an older version of this package): look up here.
            return self._check_by_looking_up(inputs)
        return CheckResult(inputs, [])

    def _check_by_looking_up(self, inputs: dict[str, Any]) -> CheckResult:
        connection_id = plain(inputs.get(CONNECTION_ID))
        allow_missing = bool(plain(inputs.get(ALLOW_MISSING)))
        try:
            validate_connection_id(connection_id)
            found = look_up(connection_id, *RUNTIME.configured, allow_missing=allow_missing)
        except YandexWebSocketError as error:
            return CheckResult(inputs, [CheckFailure(CONNECTION_ID, str(error))])
        paths = plain(inputs.get(SECRET_FIELDS)) or []
        inputs.update(with_secrets(connection_properties(found), paths))
        return CheckResult(inputs, [])

    @_in_one_line
    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """A new id replaces; changed data updates in place (a new ``lastActiveAt`` alone not
        with ``ignoreActivity``); ``__provider`` is never compared."""
        compared = [
            name
            for name in COMPARED_FIELDS
            if not (name == ACTIVITY and plain(news.get(IGNORE_ACTIVITY)) is True)
        ]
        changed = [
            name
            for name in compared
            if _is_unknown(news.get(name)) or plain(olds.get(name)) != plain(news.get(name))
        ]
        replaces = [CONNECTION_ID] if CONNECTION_ID in changed else []
        # Create-before-delete (the default): deleting a lookup is a no-op, and delete-before-
        # replace would force the replacement of every resource that depends on it.
        return DiffResult(changes=bool(changed), replaces=replaces)

    @_in_one_line
    def create(self, props: dict[str, Any]) -> CreateResult:
        """Record the checked values; nothing is created anywhere."""
        secret = plain(props.get(SECRET_ID)) is True
        connection_id = str(plain(props[CONNECTION_ID]))
        return CreateResult(resource_id(connection_id, secret=secret), _outputs(props))

    @_in_one_line
    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Record the checked values (the default update would drop every output)."""
        return UpdateResult(_outputs(news))

    @_in_one_line
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """``WebSocketConnection.get``: accept the program's lookup. ``pulumi refresh``: look up
        again; a closed connection leaves the state (or reads ``found=False`` with
        ``allowMissing``)."""
        if plain(props.get(LOOKED_UP)) is True:
            state = _outputs(props)
            return ReadResult(id_, state, state)
        is_refresh = FOUND in props  # refresh passes the outputs; an old program's get, inputs
        allow_missing = bool(plain(props.get(ALLOW_MISSING)))
        # A secret connection id is not the resource's id: it is in the (encrypted) state.
        given = props.get(CONNECTION_ID, id_)
        connection_id = str(plain(given))
        shown = shown_id(connection_id, secret=connection_id != id_)
        try:
            found = look_up(
                connection_id, *RUNTIME.configured, allow_missing=allow_missing or is_refresh
            )
        except YandexWebSocketError as error:
            raise LookupFailed(f"the lookup of connection {shown!r} failed: {error}") from None
        if found is None and is_refresh and not allow_missing:
            return ReadResult("", {})
        paths = plain(props.get(SECRET_FIELDS)) or []
        state = {
            CONNECTION_ID: given,
            ALLOW_MISSING: allow_missing,
            IGNORE_ACTIVITY: bool(plain(props.get(IGNORE_ACTIVITY))),
            SECRET_FIELDS: list(paths),
            **with_secrets(connection_properties(found), paths),
        }
        return ReadResult(id_, state, state)

    @_in_one_line
    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Forget the lookup; the connection itself is never touched."""


class _OneLineTraceback:
    """The ``traceback`` module as Pulumi's dynamic-provider server sees it: the same, except
    that ``format_exc()`` of a :class:`LookupFailed` is its message alone."""

    def __init__(self, module: ModuleType) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)

    def format_exc(self, limit: int | None = None, chain: bool = True) -> str:
        error = sys.exc_info()[1]
        if isinstance(error, LookupFailed):
            return str(error)
        formatted: str = self._module.format_exc(limit, chain)
        return formatted


def _one_line_errors() -> None:
    """Pulumi's dynamic-provider server (3.260+) answers every failed call with
    ``traceback.format_exc()``, which the CLI prints as it is: a Python traceback per
    resource. In that server's process, this provider's own failures become their message."""
    server = sys.modules.get("__main__")
    spec = getattr(server, "__spec__", None)
    module = getattr(server, "traceback", None)
    if spec is not None and spec.name == "pulumi.dynamic.__main__" and module is not None:
        server.traceback = _OneLineTraceback(module)  # type: ignore[union-attr]


_one_line_errors()


def _outputs(props: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in props.items() if key in OUTPUT_FIELDS}


def _record_problem(news: Mapping[str, Any]) -> str:
    """What is wrong with the looked-up values the program handed over, if anything: they must
    have the model's shape (a mismatch means the program and this provider disagree)."""
    if plain(news.get(LOOKED_UP)) is not True:
        return ""
    values = {name: plain(news.get(name)) for name in LOOKED_UP_FIELDS}
    present = {name: value for name, value in values.items() if value != ""}  # "" is absent
    try:
        Connection.model_validate(present)
    except ValidationError:
        well_formed = False
    else:
        well_formed = isinstance(plain(news.get(FOUND)), bool)
    if well_formed:
        return ""
    return (
        "the program handed over looked-up values that are not a Connection; install the same "
        "version of pulumi-yc-websocket for the program and the provider (one virtualenv)"
    )
