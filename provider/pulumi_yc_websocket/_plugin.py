"""``pulumi-resource-yc-websocket``: the provider plugin that every Pulumi language uses.

The engine starts it once per deployment (no language host) and calls it over gRPC:

- ``GetSchema``: the package schema (:mod:`._schema`).
- ``CheckConfig`` reports ``yc-websocket:*`` keys it does not read; ``Configure`` keeps the
  settings (then the environment, then the VM metadata service, as everywhere in the package).
- ``Check`` validates the inputs and sends nothing: the engine checks one resource at a time.
- ``Diff`` compares the inputs and sends nothing; when it follows a refresh's ``Read`` of the
  same resource, it compares the looked-up values too (that is what a refresh reports).
- ``Create`` (in preview too), ``Update``, ``Read`` (refresh, import, ``get``) and ``Invoke``
  (``getWebSocketConnection``) look up, on threads, as many at once as the engine runs steps,
  through one pooled client and one token exchange per process. ``Delete`` sends nothing.

Every error reaches the user as one line that names the connection and says what to do.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import sys
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import grpc.aio
from pulumi.provider.experimental.property_value import Computed, PropertyValue
from pulumi.provider.experimental.provider import (
    CheckFailure,
    CheckRequest,
    CheckResponse,
    ConfigureRequest,
    ConfigureResponse,
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    DiffRequest,
    DiffResponse,
    GetSchemaRequest,
    GetSchemaResponse,
    InvokeRequest,
    InvokeResponse,
    PropertyDiff,
    PropertyDiffKind,
    Provider,
    ReadRequest,
    ReadResponse,
    UpdateRequest,
    UpdateResponse,
)
from pulumi.provider.experimental.server import ProviderServicer
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2_grpc

from ._client import validate_connection_id
from ._errors import ConnectionNotFoundError, InvalidConnectionIdError, YandexWebSocketError
from ._lookup import look_up, shown_id
from ._model import Connection
from ._outputs import (
    ACTIVITY,
    ALLOW_MISSING,
    CONNECTION_ID,
    FOUND,
    IGNORE_ACTIVITY,
    LOOKED_UP_FIELDS,
    connection_properties,
    resource_id,
)
from ._pulumi_config import provider_layer, unknown_provider_keys
from ._runtime import RUNTIME
from ._schema import FUNCTION_TOKEN, RESOURCE_TOKEN, schema_json
from ._transport import DEFAULT_MAX_CONNECTIONS
from ._version import __version__

_FLAGS = (ALLOW_MISSING, IGNORE_ACTIVITY)
"""The resource's boolean inputs, each ``false`` unless given."""
_INPUTS = (CONNECTION_ID, *_FLAGS)
_REFRESHED = (FOUND, *LOOKED_UP_FIELDS)
"""What a refresh compares: the looked-up values."""


class ShownError(Exception):
    """A failure whose message is what the user sees: one line, no traceback."""

    def __init__(self, message: str, *, about_the_id: bool = False) -> None:
        super().__init__(message)
        self.about_the_id = about_the_id
        """The id is at fault (invalid, or the connection has closed), not the settings."""


class WebSocketConnectionProvider(Provider):
    """The ``yc-websocket`` provider: one resource, one function, read-only lookups."""

    def __init__(self) -> None:
        self._lookups = ThreadPoolExecutor(DEFAULT_MAX_CONNECTIONS, "yc-websocket-lookup")
        """Lookups block; the server runs every call on one event loop."""
        self._before_refresh: dict[str, dict[str, Any]] = {}
        """The looked-up values a refresh's ``Read`` replaced, by URN, for the ``Diff`` the
        engine calls next for that resource (``RefreshStep.Apply``, same process)."""

    async def get_schema(self, request: GetSchemaRequest) -> GetSchemaResponse:
        """The package schema."""
        return GetSchemaResponse(schema_json())

    async def check_config(self, request: CheckRequest) -> CheckResponse:
        """Refuse ``yc-websocket:*`` keys the provider does not read, naming the likely one."""
        failures = [
            CheckFailure(unknown.key.partition(":")[2], unknown.reason)
            for unknown in unknown_provider_keys(request.new_inputs)
        ]
        return CheckResponse(inputs=request.new_inputs, failures=failures)

    async def configure(self, request: ConfigureRequest) -> ConfigureResponse:
        """Keep the provider's config for every lookup of this process."""
        config = {key: _plain(value) for key, value in request.args.items()}
        if not config:  # an engine that sends the config as variables only
            config = dict(request.variables)
        RUNTIME.configure(provider_layer(config))
        return ConfigureResponse(accept_secrets=True, supports_preview=True)

    async def check(self, request: CheckRequest) -> CheckResponse:
        """Validate the inputs (an invalid id before any request) and fill in the defaults."""
        news = request.new_inputs
        inputs = {key: news[key] for key in _INPUTS if key in news}
        failures = [
            CheckFailure(
                key, f"{key} is not an input of {RESOURCE_TOKEN}; its inputs: {', '.join(_INPUTS)}"
            )
            for key in news
            if key not in _INPUTS and not key.startswith("__")
        ]
        for key in _FLAGS:
            value = news.get(key)
            if value is None or value.value is None:
                inputs[key] = PropertyValue(False)
            elif not _is_unknown(value) and not isinstance(value.value, bool):
                failures.append(CheckFailure(key, f"{key} must be true or false"))
        connection_id = news.get(CONNECTION_ID)
        if connection_id is None or not _is_unknown(connection_id):
            try:
                validate_connection_id(_plain(connection_id))
            except InvalidConnectionIdError as error:
                failures.append(_id_failure(_plain(connection_id), error))
        return CheckResponse(inputs=inputs, failures=failures)

    async def diff(self, request: DiffRequest) -> DiffResponse:
        """Changed inputs (a new id replaces); after a refresh, changed looked-up values."""
        olds, news = request.old_state, request.new_inputs
        changed = [
            key
            for key in _INPUTS
            if _is_unknown(news.get(key)) or _input(olds, key) != _input(news, key)
        ]
        before = self._before_refresh.pop(request.urn, None)
        if before is not None:
            ignored = {ACTIVITY} if _input(news, IGNORE_ACTIVITY) else set()
            changed += [
                key
                for key in _REFRESHED
                if key not in ignored and before.get(key) != _plain(olds.get(key))
            ]
        replaces = [CONNECTION_ID] if CONNECTION_ID in changed else []
        return DiffResponse(
            changes=bool(changed),
            replaces=replaces,
            diffs=changed,
            detailed_diff={
                key: PropertyDiff(
                    PropertyDiffKind.UPDATE_REPLACE if key in replaces else PropertyDiffKind.UPDATE,
                    input_diff=key in _INPUTS,
                )
                for key in changed
            },
        )

    async def create(self, request: CreateRequest) -> CreateResponse:
        """Look the connection up (in preview too, so that preview shows its values)."""
        inputs = request.properties
        if _is_unknown(inputs.get(CONNECTION_ID)):
            return CreateResponse("", dict(inputs))  # preview: known once the id is
        found = await self._look_up(inputs[CONNECTION_ID], _input(inputs, ALLOW_MISSING))
        return CreateResponse(_resource_id(inputs[CONNECTION_ID]), _outputs(inputs, found))

    async def update(self, request: UpdateRequest) -> UpdateResponse:
        """Changed ``allowMissing``/``ignoreActivity``: look up again with them."""
        news = request.news
        found = await self._look_up(news[CONNECTION_ID], _input(news, ALLOW_MISSING))
        return UpdateResponse(_outputs(news, found))

    async def read(self, request: ReadRequest) -> ReadResponse:
        """Refresh (a closed connection leaves the state, or reads ``found: false`` with
        ``allowMissing``), or ``pulumi import`` and ``get`` (a closed connection fails)."""
        state, given = request.properties, request.inputs
        refreshing = bool(state)
        connection_id = state.get(CONNECTION_ID) or given.get(CONNECTION_ID)
        if connection_id is None:
            connection_id = PropertyValue(request.resource_id)
        inputs = {
            CONNECTION_ID: connection_id,
            **{key: PropertyValue(_input(given, key) or _input(state, key)) for key in _FLAGS},
        }
        allow_missing = _input(inputs, ALLOW_MISSING)
        found = await self._look_up(connection_id, allow_missing or refreshing)
        if found is None and not allow_missing:
            return ReadResponse(None)  # refresh of a closed connection: it leaves the state
        if refreshing:
            self._before_refresh[request.urn] = {key: _plain(state.get(key)) for key in _REFRESHED}
        return ReadResponse(request.resource_id, _outputs(inputs, found), inputs)

    async def delete(self, request: DeleteRequest) -> None:
        """Forget the lookup; the connection itself is never touched."""

    async def invoke(self, request: InvokeRequest) -> InvokeResponse:
        """``getWebSocketConnection``: look up at every call; nothing goes into state."""
        if request.tok != FUNCTION_TOKEN:
            raise ShownError(
                f"{request.tok} is not a function of this provider; it has {FUNCTION_TOKEN}"
            )
        args = dict(request.args)
        args.setdefault(ALLOW_MISSING, PropertyValue(False))
        try:
            validate_connection_id(_plain(args.get(CONNECTION_ID)))
        except InvalidConnectionIdError as error:
            return InvokeResponse(failures=[CheckFailure(CONNECTION_ID, str(error))])
        try:
            found = await self._look_up(args[CONNECTION_ID], _input(args, ALLOW_MISSING))
        except ShownError as error:
            if not error.about_the_id:
                raise
            return InvokeResponse(failures=[CheckFailure(CONNECTION_ID, str(error))])
        outputs = _outputs(args, found)
        return InvokeResponse({key: outputs[key] for key in (CONNECTION_ID, *_REFRESHED)})

    async def _look_up(
        self, connection_id: PropertyValue, allow_missing: bool
    ) -> Connection | None:
        plain_id = _plain(connection_id)
        shown = shown_id(plain_id, secret=connection_id.is_secret)  # masked before any message
        lookup = functools.partial(
            look_up, plain_id, *RUNTIME.configured, allow_missing=allow_missing
        )
        try:
            return await asyncio.get_running_loop().run_in_executor(self._lookups, lookup)
        except InvalidConnectionIdError as error:
            raise ShownError(str(error), about_the_id=True) from None
        except ConnectionNotFoundError as error:
            advice = f"set {ALLOW_MISSING} to read it as {FOUND}: false"
            raise ShownError(str(error.with_hint(advice)), about_the_id=True) from None
        except YandexWebSocketError as error:
            raise ShownError(f"the lookup of connection {shown!r} failed: {error}") from None


def _outputs(
    inputs: Mapping[str, PropertyValue], found: Connection | None
) -> dict[str, PropertyValue]:
    """The inputs, and what the lookup of their connection found (``None``: not found)."""
    return {
        CONNECTION_ID: inputs[CONNECTION_ID],
        **{key: PropertyValue(_input(inputs, key)) for key in _FLAGS},
        **{key: _value(value) for key, value in connection_properties(found).items()},
    }


def _id_failure(connection_id: Any, error: InvalidConnectionIdError) -> CheckFailure:
    """The failure on ``connectionId``; on the resource for an id that would break the line (the
    engine echoes a property's value in its message)."""
    if isinstance(connection_id, str) and not connection_id.isprintable():
        return CheckFailure("", f"{CONNECTION_ID}: {error}")
    return CheckFailure(CONNECTION_ID, str(error))


def _is_unknown(value: PropertyValue | None) -> bool:
    return value is not None and (isinstance(value.value, Computed) or value.value == rpc.UNKNOWN)


def _plain(value: PropertyValue | None) -> Any:
    """The Python value, secrets and all, without the wrapping."""
    if value is None:
        return None
    inner = value.value
    if isinstance(inner, Mapping):
        return {key: _plain(item) for key, item in inner.items()}
    if isinstance(inner, tuple):
        return [_plain(item) for item in inner]
    return inner


def _value(plain: Any) -> PropertyValue:
    if isinstance(plain, dict):
        return PropertyValue({key: _value(item) for key, item in plain.items()})
    return PropertyValue(plain)


def _input(values: Mapping[str, PropertyValue], key: str) -> Any:
    """An input as compared: a flag ``false`` when absent, an id as given."""
    plain = _plain(values.get(key))
    return bool(plain) if key in _FLAGS else plain


def _resource_id(connection_id: PropertyValue) -> str:
    return resource_id(str(connection_id.value), secret=connection_id.is_secret)


# -- the gRPC server ---------------------------------------------------------------------------

_SERVED = (
    "GetSchema",
    "CheckConfig",
    "Configure",
    "Check",
    "Diff",
    "Create",
    "Update",
    "Read",
    "Delete",
    "Invoke",
)


def _one_line(
    method: Callable[[Any, Any, Any], Awaitable[Any]],
) -> Callable[[Any, Any, Any], Awaitable[Any]]:
    """``method`` failing with the error's own message: no Python traceback in the CLI."""

    async def call(self: Any, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        try:
            return await method(self, request, context)
        except Exception as raised:
            # Pulumi's servicer (3.260+) raises a plain Exception with its traceback in the
            # message; what our code raised is that exception's context.
            wrapped = type(raised) is Exception and raised.__context__ is not None
            error = raised.__context__ if wrapped else raised
            message = (
                str(error)
                if isinstance(error, ShownError)
                else f"pulumi-resource-yc-websocket failed unexpectedly: {error!r}"
            )
            await context.abort(grpc.StatusCode.UNKNOWN, message)

    return call


class _Servicer(ProviderServicer):
    """Pulumi's provider servicer, with errors shaped for the user."""


for _name in _SERVED:
    setattr(_Servicer, _name, _one_line(getattr(ProviderServicer, _name)))


def main(argv: list[str] | None = None, provider: Provider | None = None) -> None:
    """Serve ``provider`` (default: :class:`WebSocketConnectionProvider`); print the port for
    the engine as the first line of stdout."""
    parser = argparse.ArgumentParser(
        prog="pulumi-resource-yc-websocket",
        description="The yc-websocket Pulumi provider plugin (the engine starts it).",
    )
    parser.add_argument("engine", help="the Pulumi engine's address")
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument("--logtostderr", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--logflow", action="store_true", help=argparse.SUPPRESS)
    arguments, _ = parser.parse_known_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(arguments.engine, provider or WebSocketConnectionProvider()))


async def _serve(engine: str, provider: Provider) -> None:
    server = grpc.aio.server()
    servicer = _Servicer(sys.argv[1:], __version__, provider, engine)
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    await server.wait_for_termination()
