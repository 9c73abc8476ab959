"""Lookups for the Pulumi face: in the provider process (refresh), and in the program's process
(resources, ``.get()`` and the functions), each through the shared client of its settings.

In the program, lookups start as soon as a resource's id is known, many at once, so the engine's
one-at-a-time Check no longer waits on the network: Check only accepts the answer.
"""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.runtime
from pulumi.runtime import config as pulumi_config

from ._client import validate_connection_id
from ._errors import (
    ConfigurationError,
    ConnectionNotFoundError,
    InvalidConnectionIdError,
    YandexWebSocketError,
)
from ._model import Connection
from ._outputs import INVALID_INPUT, LOOKUP_FAILURE, SECRET_ID, connection_properties
from ._pulumi_config import (
    mistyped_yandex_keys,
    program_config_keys,
    program_layers,
    unknown_provider_keys,
)
from ._redaction import REDACTED
from ._runtime import RUNTIME
from ._settings import SettingsLayer
from ._transport import DEFAULT_MAX_CONNECTIONS

_SHOWN_ID_CHARS = 80
_PROGRAM_LOOKUPS = ThreadPoolExecutor(DEFAULT_MAX_CONNECTIONS, "yc-websocket-lookup")
"""The program's lookups, as many at once as the shared client keeps connections. Not the
event loop's default executor: Pulumi's registration calls wait there, each until the engine is
done with its resource, and lookups queued behind them would wait for the engine too."""


def look_up(connection_id: str, *layers: SettingsLayer, allow_missing: bool) -> Connection | None:
    """The connection, through the shared client for ``layers``; ``None`` if it has closed and
    ``allow_missing`` (else :class:`ConnectionNotFoundError`)."""
    try:
        return RUNTIME.client(*layers).get(connection_id)
    except ConnectionNotFoundError:
        if allow_missing:
            return None
        raise


class LookupFailedError(pulumi.RunError):
    """A lookup in the program failed for a reason other than its input; the message is one
    line that names the resource and says what to do (Pulumi shows it without a traceback)."""


def program_settings() -> tuple[SettingsLayer, ...]:
    """The settings in the program's stack config (secrets included, as the provider gets them).

    A ``yc-websocket:*`` key the package does not read is an error, a ``yandex:*`` key that is
    likely a typo of one it reads a warning (once): either would be silently ignored.
    """
    keys = _program_config_keys()
    unknown = unknown_provider_keys(keys)
    if unknown:
        raise ConfigurationError(unknown[0].reason)
    for mistyped in mistyped_yandex_keys(keys):
        if mistyped.key not in _WARNED:
            _WARNED.add(mistyped.key)
            pulumi.log.warn(mistyped.reason)
    return program_layers({key: pulumi.runtime.get_config(key) for key in program_config_keys()})


_WARNED: set[str] = set()


def _program_config_keys() -> set[str]:
    """Every key of the program's stack config."""
    return {*pulumi_config.CONFIG.get(), *pulumi_config.get_config_env()}


@dataclass(frozen=True)
class Answer:
    """What a lookup in the program found, or why it found nothing, for the provider's check to
    report on the resource: what is wrong with the id (invalid, or the connection has closed),
    or why the lookup failed otherwise."""

    connection_id: str
    """The id to register: as given, or escaped (the engine echoes it in a check failure)."""
    properties: dict[str, Any]
    invalid_input: str = ""
    lookup_failure: str = ""
    secret_id: bool = False
    """The id is a secret: the provider must not make it the resource's id."""

    def inputs(self) -> dict[str, Any]:
        """The looked-up properties and the reasons, by wire name."""
        return {
            **self.properties,
            INVALID_INPUT: self.invalid_input,
            LOOKUP_FAILURE: self.lookup_failure,
            SECRET_ID: self.secret_id,
        }


ALLOW_MISSING_ADVICE = "pass allow_missing=True to read it as found=False"
"""What to do about a closed connection where the caller has ``allow_missing``."""


async def look_up_in_program(
    what: str,
    connection_id: Any,
    *,
    allow_missing: bool,
    failures_raise: bool = False,
    missing_advice: str = ALLOW_MISSING_ADVICE,
    secret_id: bool = False,
) -> Answer:
    """Look ``connection_id`` up off the event loop; ``what`` names the caller in errors,
    ``missing_advice`` (if any) is added to a not-found error; a ``secret_id`` is never shown.

    A failure comes back in the :class:`Answer`, or raises :class:`LookupFailedError` (one line
    that names ``what``) with ``failures_raise``: for reads and functions, which have no check.
    """
    shown = shown_id(connection_id, secret=secret_id)  # masked before any message is made
    try:
        valid_id = validate_connection_id(connection_id)
    except InvalidConnectionIdError as error:
        failure: YandexWebSocketError = error
    else:
        try:
            lookup = functools.partial(
                look_up, valid_id, *program_settings(), allow_missing=allow_missing
            )
            found = await asyncio.get_running_loop().run_in_executor(_PROGRAM_LOOKUPS, lookup)
        except ConnectionNotFoundError as error:
            failure = error.with_hint(missing_advice) if missing_advice else error
        except YandexWebSocketError as error:
            failure = error
        else:
            return Answer(valid_id, connection_properties(found), secret_id=secret_id)
    if failures_raise:
        raise LookupFailedError(f"{what}: {failure}")
    # The id to register: a secret one as it is (its Output is a secret, which the engine masks).
    registered = connection_id if secret_id else shown
    if isinstance(failure, InvalidConnectionIdError | ConnectionNotFoundError):
        return Answer(registered, connection_properties(None), str(failure), secret_id=secret_id)
    reason = f"the lookup of connection {shown!r} failed: {failure}"
    return Answer(
        registered, connection_properties(None), lookup_failure=reason, secret_id=secret_id
    )


def shown_id(connection_id: Any, *, secret: bool = False) -> str:
    """An id as a message shows it: one line, control characters escaped (``\\n``), capped; a
    secret one masked, here and wherever a server quotes it back."""
    if secret:
        if isinstance(connection_id, str):
            RUNTIME.secrets.hold(connection_id, RUNTIME, shortest=1)
        return REDACTED
    text = connection_id if isinstance(connection_id, str) else str(connection_id)
    if not text.isprintable():
        text = repr(text)[1:-1]
    return text if len(text) <= _SHOWN_ID_CHARS else text[: _SHOWN_ID_CHARS - 1] + "\u2026"
