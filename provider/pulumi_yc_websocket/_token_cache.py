"""Exchanged IAM tokens, cached per credential and renewed shortly before they expire.

Concurrent callers that find no valid token wait for one exchange instead of each starting
their own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ._errors import DeadlineExceededError
from ._retry import Deadline


@dataclass(frozen=True)
class _CachedToken:
    token: str
    renew_at: float


class TokenCache:
    """Exchanged tokens by credential fingerprint, renewed shortly before they expire."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._tokens: dict[str, _CachedToken] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: str, deadline: Deadline, fetch: Callable[[], tuple[str, float]]) -> str:
        """The cached token for ``key``, or the result of one ``fetch`` shared by all waiters.

        ``fetch`` returns the token and its lifetime in seconds.
        """
        cached = self._tokens.get(key)
        if cached is not None and self._clock() < cached.renew_at:
            return cached.token
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        if not lock.acquire(timeout=max(deadline.remaining(), 0.001)):
            raise DeadlineExceededError(
                f"the lookup's deadline of {deadline.seconds:g}s passed waiting for a token",
                service="iam",
            )
        try:
            cached = self._tokens.get(key)
            if cached is not None and self._clock() < cached.renew_at:
                return cached.token
            token, lifetime = fetch()
            # Renew early: 10% of the lifetime, at most 5 minutes before expiry.
            margin = min(300.0, lifetime * 0.1)
            self._tokens[key] = _CachedToken(token, self._clock() + lifetime - margin)
            return token
        finally:
            lock.release()

    def invalidate(self, key: str, token: str) -> None:
        """Drop ``token`` if it is still the cached one (another thread may have renewed it)."""
        with self._guard:
            cached = self._tokens.get(key)
            if cached is not None and cached.token == token:
                del self._tokens[key]

    def clear(self) -> None:
        """Forget every token."""
        with self._guard:
            self._tokens.clear()


PROCESS_TOKEN_CACHE = TokenCache()
"""The process-wide cache: what clients built from settings share."""
