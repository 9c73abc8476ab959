"""Retry policy: which failures to retry, how long to wait between tries, and the deadline."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from ._errors import YandexWebSocketError

T = TypeVar("T")


class Deadline:
    """A point in monotonic time by which a whole lookup must finish."""

    __slots__ = ("expires_at", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires_at = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left; never negative."""
        return max(0.0, self.expires_at - time.monotonic())

    def expired(self) -> bool:
        """True once no time is left."""
        return self.remaining() <= 0.0


def is_retryable(error: BaseException) -> bool:
    """What the error's class says (429, 5xx and network failures); never a passed deadline."""
    return isinstance(error, YandexWebSocketError) and error.retryable


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, honouring ``Retry-After``, bounded by attempts and deadline.

    ``run`` calls an attempt until it succeeds, fails with an error the predicate rejects, runs
    out of attempts, or the next wait would pass the deadline; the last error is then raised.
    """

    initial: float = 0.1
    """First backoff in seconds."""
    multiplier: float = 2.0
    """Growth of the backoff per retry."""
    maximum: float = 5.0
    """Longest backoff between two tries, in seconds."""
    max_attempts: int = 5
    """Tries in all, the first included."""
    predicate: Callable[[BaseException], bool] = is_retryable
    """Which errors are worth another try."""
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def backoff(self, retry: int) -> float:
        """Wait before retry ``retry`` (0-based): half fixed, half random ("equal jitter")."""
        ceiling = min(self.maximum, self.initial * self.multiplier**retry)
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def run(
        self,
        attempt: Callable[[], T],
        deadline: Deadline,
        on_retry: Callable[[BaseException, float], None] | None = None,
    ) -> T:
        """Run ``attempt`` under this policy; ``on_retry(error, wait)`` sees each retry."""
        retry = 0
        while True:
            try:
                return attempt()
            except Exception as error:
                if not self.predicate(error) or retry + 1 >= self.max_attempts:
                    raise
                wait = max(self.backoff(retry), getattr(error, "retry_after", None) or 0.0)
                if wait >= deadline.remaining():
                    raise
                if on_retry is not None:
                    on_retry(error, wait)
                self.sleep(wait)
                retry += 1


NO_RETRY = RetryPolicy(max_attempts=1)
"""A policy that tries once."""
