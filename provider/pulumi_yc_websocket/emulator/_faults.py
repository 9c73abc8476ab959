"""Fault plan of the emulator: which failure, if any, the next request to a service gets.

Per service ("connections", "iam", "metadata") the plan holds a FIFO queue of one-shot faults
and a background pattern cycled once the queue is empty. Everything is deterministic: a
"fault rate" is a pattern such as ``[Status(503, 14), None, None]`` (one request in three).
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias

Service: TypeAlias = Literal["connections", "iam", "metadata"]
SERVICES: tuple[Service, ...] = ("connections", "iam", "metadata")


@dataclass(frozen=True, slots=True)
class Status:
    """Answer with a google.rpc.Status error body (and Retry-After when given)."""

    http_status: int
    grpc_code: int
    message: str = "Injected fault"
    retry_after: str | None = None  # seconds ("1") or an HTTP date


@dataclass(frozen=True, slots=True)
class Delay:
    """Wait, then serve the request normally."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Drop:
    """Close the connection without an answer, or after the headers and part of the body."""

    after_headers: bool = False


@dataclass(frozen=True, slots=True)
class Truncated:
    """Answer 200 with the normal body cut in half (Content-Length of the cut body)."""


@dataclass(frozen=True, slots=True)
class NotJson:
    """Answer with an HTML page, as a proxy in front of the service would."""

    http_status: int = 502


@dataclass(frozen=True, slots=True)
class Oversized:
    """Answer 200 with a valid JSON object of exactly ``n_bytes`` bytes, streamed."""

    n_bytes: int

    def __post_init__(self) -> None:
        if self.n_bytes < 128:
            raise ValueError("Oversized.n_bytes must be at least 128")


@dataclass(frozen=True, slots=True)
class Redirect:
    """Answer with a redirect to ``location`` (usually another host)."""

    location: str
    http_status: int = 302


Fault: TypeAlias = Status | Delay | Drop | Truncated | NotJson | Oversized | Redirect


class FaultPlan:
    """Thread-safe per-service queue of one-shot faults plus a cycled background pattern."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[Service, deque[Fault]] = {s: deque() for s in SERVICES}
        self._patterns: dict[Service, Iterator[Fault | None] | None] = dict.fromkeys(SERVICES)

    def push(self, service: Service, fault: Fault, times: int = 1) -> None:
        """Queue ``fault`` for the next ``times`` requests (after those already queued)."""
        _check_service(service)
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._queues[service].extend([fault] * times)

    def push_pattern(self, service: Service, pattern: Sequence[Fault | None]) -> None:
        """Replace the background pattern: cycled forever once the queue is empty."""
        _check_service(service)
        if not pattern:
            raise ValueError("pattern must not be empty")
        with self._lock:
            self._patterns[service] = itertools.cycle(list(pattern))

    def set_default(self, service: Service, fault: Fault | None, *, every: int = 1) -> None:
        """Apply ``fault`` to every ``every``-th request when the queue is empty; None clears."""
        if every < 1:
            raise ValueError("every must be >= 1")
        if fault is None:
            _check_service(service)
            with self._lock:
                self._patterns[service] = None
            return
        # Requests every, 2*every, ... get the fault: the pattern ends with it.
        self.push_pattern(service, [*([None] * (every - 1)), fault])

    def next(self, service: Service) -> Fault | None:
        """Consume and return the fault for one request to ``service`` (None: serve normally)."""
        _check_service(service)
        with self._lock:
            queue = self._queues[service]
            if queue:
                return queue.popleft()
            pattern = self._patterns[service]
            return next(pattern) if pattern is not None else None

    def pending(self, service: Service) -> int:
        """Number of one-shot faults still queued for ``service``."""
        _check_service(service)
        with self._lock:
            return len(self._queues[service])

    def clear(self, service: Service | None = None) -> None:
        """Drop queued faults and the background pattern of one service, or of all."""
        with self._lock:
            for s in SERVICES if service is None else (service,):
                _check_service(s)
                self._queues[s].clear()
                self._patterns[s] = None


def _check_service(service: str) -> None:
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; expected one of {', '.join(SERVICES)}")
