"""One lookup for the Pulumi face, with ``allow_missing``: the provider's and the functions'."""

from __future__ import annotations

from ._errors import ConnectionNotFoundError
from ._model import Connection
from ._runtime import RUNTIME
from ._settings import SettingsLayer


def look_up(connection_id: str, *layers: SettingsLayer, allow_missing: bool) -> Connection | None:
    """The connection, through the shared client for ``layers``; ``None`` if it has closed and
    ``allow_missing`` (else :class:`ConnectionNotFoundError`)."""
    try:
        return RUNTIME.client(*layers).get(connection_id)
    except ConnectionNotFoundError:
        if allow_missing:
            return None
        raise
