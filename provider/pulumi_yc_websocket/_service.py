"""How requests to one Yandex Cloud service are made and read: a small profile per service."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ._errors import ApiError


@dataclass(frozen=True)
class Service:
    """The name a service goes by in messages, and its quirks."""

    name: str
    headers: Mapping[str, str] = field(default_factory=dict)
    """Headers every request to it carries."""
    connect_timeout: float | None = None
    """Seconds to connect; ``None``: the transport's."""
    max_attempts: int | None = None
    """Tries per request; ``None``: the client's retry policy's."""
    status_errors: Mapping[int, type[ApiError]] = field(default_factory=dict)
    """Errors its HTTP statuses stand for, over the common table."""
