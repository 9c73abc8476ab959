"""One ``ConnectionsClient`` per configuration, shared by every lookup in the process.

The provider process serves all resources of a deployment from up to four worker threads; they
share one pooled client (and through it one token exchange) instead of each building its own.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from .client import ConnectionsClient
from .settings import Settings

_clients: dict[tuple[tuple[str, str], ...], ConnectionsClient] = {}
_lock = threading.Lock()


def client_for(config: Mapping[str, str]) -> ConnectionsClient:
    """The shared client for this config mapping (plus the process environment)."""
    key = tuple(sorted(config.items()))
    client = _clients.get(key)
    if client is None:
        with _lock:
            client = _clients.get(key)
            if client is None:
                client = ConnectionsClient(settings=Settings.resolve(config=config))
                _clients[key] = client
    return client


def reset() -> None:
    """Close and forget every shared client (tests; environment changes)."""
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
