"""Counting what clients do, through their event hooks."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable


class Events:
    """Counts the events of the clients it is hooked into (``event_hooks=events.hooks``)."""

    def __init__(self) -> None:
        self.retries = 0
        self.exchanges = 0
        self.requests: Counter[str] = Counter()
        """Attempts by service name."""
        self._lock = threading.Lock()

    @property
    def hooks(self) -> dict[str, list[Callable[..., object]]]:
        """``event_hooks`` for a ``ConnectionsClient``."""
        return {"retry": [self._retry], "exchange": [self._exchange], "request": [self._request]}

    def _retry(self, error: BaseException, wait: float) -> None:
        with self._lock:
            self.retries += 1

    def _exchange(self, service: str) -> None:
        with self._lock:
            self.exchanges += 1

    def _request(self, service: str, method: str, url: str) -> None:
        with self._lock:
            self.requests[service] += 1
