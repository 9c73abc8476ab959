"""Collects the rows of the tables printed after the session: fault runs and hostile servers."""

from __future__ import annotations

import statistics
import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class FaultRow:
    """What one run of lookups under one fault kind did."""

    kind: str
    threads: int
    lookups: int
    correct: int
    failures: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    requests: int = 0
    latencies: list[float] = field(default_factory=list, repr=False)
    wall: float = 0.0

    def percentile(self, fraction: float) -> float:
        """Latency percentile in milliseconds (nearest rank)."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
        return ordered[index] * 1000

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) * 1000 if self.latencies else 0.0


@dataclass(frozen=True)
class HostileRow:
    """One lookup against a hostile server: how it ended, and when, against its deadline."""

    case: str
    deadline: float
    elapsed: float
    outcome: str
    peak_bytes: int


_rows: list[FaultRow] = []
_hostile: list[HostileRow] = []
_lock = threading.Lock()
_notes: list[str] = []


def record(row: FaultRow) -> None:
    """Add a row to the end-of-session table."""
    with _lock:
        _rows.append(row)


def record_hostile(row: HostileRow) -> None:
    """Add a row to the end-of-session hostile-server table."""
    with _lock:
        _hostile.append(row)


def note(text: str) -> None:
    """Add a line printed under the table (e.g. why a part was skipped)."""
    with _lock:
        if text not in _notes:
            _notes.append(text)


def rows() -> list[FaultRow]:
    with _lock:
        return list(_rows)


def hostile_rows() -> list[HostileRow]:
    with _lock:
        return sorted(_hostile, key=lambda row: row.case)


def notes() -> list[str]:
    with _lock:
        return list(_notes)


_SHORT = {
    "ServiceUnavailableError": "Unavailable",
    "DeadlineExceededError": "Deadline",
    "ThrottledError": "Throttled",
    "InvalidResponseError": "InvalidResp",
    "AuthenticationError": "Auth",
    "PermissionDeniedError": "Permission",
    "ConnectionNotFoundError": "NotFound",
    "ApiError": "ApiError",
}


def render(rows: list[FaultRow]) -> list[str]:
    """The fault table as lines of text."""
    header = (
        "fault kind",
        "thr",
        "lookups",
        "correct",
        "typed failures",
        "retries",
        "requests",
        "p50 ms",
        "p99 ms",
        "wall s",
    )
    body = [
        (
            row.kind,
            str(row.threads),
            str(row.lookups),
            str(row.correct),
            ", ".join(
                f"{_SHORT.get(name, name)}={count}" for name, count in sorted(row.failures.items())
            )
            or "-",
            str(row.retries),
            str(row.requests),
            f"{row.p50:.1f}",
            f"{row.percentile(0.99):.1f}",
            f"{row.wall:.2f}",
        )
        for row in rows
    ]
    return _table(header, body, numeric={1, 2, 3, 5, 6, 7, 8, 9})


def render_hostile(rows: list[HostileRow]) -> list[str]:
    """The hostile-server table as lines of text."""
    header = ("hostile server", "outcome", "deadline s", "took s", "x deadline", "peak MB")
    body = [
        (
            row.case,
            _SHORT.get(row.outcome, row.outcome),
            f"{row.deadline:g}",
            f"{row.elapsed:.3f}",
            f"{row.elapsed / row.deadline:.2f}",
            f"{row.peak_bytes / 1e6:.2f}",
        )
        for row in rows
    ]
    return _table(header, body, numeric={2, 3, 4, 5})


def _table(header: tuple[str, ...], body: list[tuple[str, ...]], numeric: set[int]) -> list[str]:
    widths = [max(len(cells[i]) for cells in [header, *body]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return [line(header), rule, *(line(cells) for cells in body)]
