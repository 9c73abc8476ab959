"""The package's process-wide state in one object: exchanged tokens, shared clients, the
settings the process was configured with, and the secrets to mask in what it shows.

The Pulumi provider process serves every resource of a deployment from several threads; they
share one pooled client (and through it one token exchange) per configuration instead of each
building its own. :meth:`Runtime.reset` returns the process to a fresh state.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import MappingProxyType

from ._client import EVENTS, ConnectionsClient
from ._redaction import SECRETS
from ._settings import Settings, SettingsLayer
from ._token_cache import PROCESS_TOKEN_CACHE

_LayersKey = tuple[tuple[tuple[str, str, str], ...], ...]


def _key(layers: tuple[SettingsLayer, ...]) -> _LayersKey:
    return tuple(
        tuple(sorted((name, s.value, s.origin) for name, s in layer.items())) for layer in layers
    )


class Runtime:
    """Exchanged tokens, the shared clients, the configured settings and the event hooks."""

    def __init__(self) -> None:
        self.token_cache = PROCESS_TOKEN_CACHE
        self.secrets = SECRETS
        """What every message of the process masks (see :mod:`._redaction`)."""
        self.event_hooks: dict[str, list[Callable[..., object]]] = {e: [] for e in EVENTS}
        """Hooks every shared client calls (see :data:`~._client.EVENTS`); add to the lists."""
        self._clients: dict[_LayersKey, ConnectionsClient] = {}
        self._configured: tuple[SettingsLayer, ...] = ()
        self._lock = threading.Lock()

    def configure(self, *layers: SettingsLayer) -> None:
        """The settings this process was configured with (a provider's config), first first."""
        with self._lock:
            self._configured = tuple(MappingProxyType(dict(layer)) for layer in layers)

    @property
    def configured(self) -> tuple[SettingsLayer, ...]:
        """What :meth:`configure` was last given."""
        return self._configured

    def client(self, *layers: SettingsLayer) -> ConnectionsClient:
        """The shared client for these settings layers (then the process environment)."""
        key = _key(layers)
        client = self._clients.get(key)
        if client is None:
            with self._lock:
                client = self._clients.get(key)
                if client is None:
                    client = ConnectionsClient.from_settings(
                        Settings.resolve(*layers),
                        token_cache=self.token_cache,
                        event_hooks=self.event_hooks,
                    )
                    self._clients[key] = client
        return client

    def reset(self) -> None:
        """Forget every token, client, configured setting, hook and secret (tests; a new
        environment)."""
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()
            self._configured = ()
            for hooks in self.event_hooks.values():
                hooks.clear()
        self.token_cache.clear()
        self.secrets.clear()


RUNTIME = Runtime()
"""The process's runtime."""
