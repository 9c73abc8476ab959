"""Errors raised by the offline engine stand-in."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Sequence

    import grpc  # type: ignore[import-untyped,unused-ignore]

__all__ = ["CheckFailedError", "CheckFailure", "EngineError", "ProviderError"]


class CheckFailure(NamedTuple):
    """One validation failure reported by a provider's ``check``."""

    property: str
    reason: str


class ProviderError(Exception):
    """A provider RPC failed; ``details`` is the gRPC status details string.

    For the Python dynamic provider server an exception raised by a provider method arrives as
    status ``UNKNOWN`` whose details hold the full Python traceback (what the CLI prints).
    """

    def __init__(self, method: str, code: grpc.StatusCode, details: str) -> None:
        super().__init__(f"{method} failed with {code.name}: {details}")
        self.method = method
        self.code = code
        self.details = details


class EngineError(Exception):
    """The engine would fail the operation (e.g. an empty id from ``create``)."""


class CheckFailedError(EngineError):
    """``check`` returned failures: the engine reports the resource as invalid."""

    def __init__(self, urn: str, failures: Sequence[CheckFailure]) -> None:
        listed = "; ".join(f"{f.property or '<resource>'}: {f.reason}" for f in failures)
        super().__init__(f"resource {urn} is invalid: {listed}")
        self.urn = urn
        self.failures = list(failures)
