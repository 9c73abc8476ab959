"""RFC 3339 timestamps that keep every fractional digit the API sent.

Python's ``datetime`` holds microseconds; the API sends up to nanoseconds. :class:`Timestamp` is a
timezone-aware UTC ``datetime`` that also remembers the received fraction, so it reads like any
``datetime`` and still writes back exactly what came in.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any

# re.ASCII: RFC 3339 digits are ASCII; without it \d also matches e.g. Arabic-Indic digits.
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)


class Timestamp(datetime):
    """A UTC ``datetime`` carrying the nanoseconds and the fraction digits it was parsed from.

    Comparisons take the nanoseconds into account between two ``Timestamp`` values; arithmetic
    (``+``/``-`` a ``timedelta``, ``replace``) works at ``datetime``'s microsecond precision and
    gives a ``Timestamp``; ``astimezone`` gives a plain ``datetime`` in the zone asked for.
    """

    _fraction: str = ""

    def __new__(cls, value: datetime | int, *args: Any, **kwargs: Any) -> Timestamp:
        """Build from an aware ``datetime`` (converted to UTC) and the fraction digits to keep.

        The ``datetime`` constructor form, ``Timestamp(2024, 5, 1, tzinfo=UTC)``, works too:
        ``datetime`` arithmetic builds subclass instances that way.
        """
        if isinstance(value, int):
            return cls._from_datetime(datetime(value, *args, **kwargs))
        return cls._from_datetime(value, *args, **kwargs)

    @classmethod
    def _from_datetime(cls, value: datetime, fraction: str = "") -> Timestamp:
        if value.tzinfo is None:
            raise ValueError("a timestamp needs a UTC offset")
        utc = value.astimezone(UTC)
        if fraction and int(fraction.ljust(9, "0")[:6]) != utc.microsecond:
            raise ValueError("fraction digits disagree with the datetime's microseconds")
        self = datetime.__new__(
            cls,
            utc.year,
            utc.month,
            utc.day,
            utc.hour,
            utc.minute,
            utc.second,
            utc.microsecond,
            UTC,
        )
        self._fraction = fraction
        return self

    @property
    def nanosecond(self) -> int:
        """Nanoseconds within the second (0 to 999,999,999)."""
        digits = self.fraction_digits
        return int(digits.ljust(9, "0")) if digits else 0

    @property
    def fraction_digits(self) -> str:
        """The fractional-second digits exactly as received (may be empty)."""
        return self._fraction or (f"{self.microsecond:06d}" if self.microsecond else "")

    def rfc3339(self) -> str:
        """RFC 3339 in UTC with a ``Z`` and every fractional digit that was received."""
        base = f"{self.year:04d}-{self.month:02d}-{self.day:02d}T"
        base += f"{self.hour:02d}:{self.minute:02d}:{self.second:02d}"
        digits = self.fraction_digits
        return f"{base}.{digits}Z" if digits else f"{base}Z"

    def replace(self, *args: Any, **kwargs: Any) -> Timestamp:
        """Like ``datetime.replace``; keeps the received digits unless the microseconds change."""
        changed = self._plain().replace(*args, **kwargs)
        keep = changed.microsecond == self.microsecond
        return Timestamp(changed, self._fraction if keep else "")

    def astimezone(self, tz: tzinfo | None = None) -> Any:
        """The instant in ``tz``: ``self`` for UTC, else a plain ``datetime`` (microseconds)."""
        if tz is UTC:
            return self
        return self._plain().astimezone(tz)

    def _plain(self) -> datetime:
        return datetime(*self.timetuple()[:6], self.microsecond, tzinfo=UTC)

    def _key(self) -> tuple[datetime, int]:
        return (datetime(*self.timetuple()[:6], tzinfo=UTC), self.nanosecond)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Timestamp):
            return self._key() == other._key()
        return super().__eq__(other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __lt__(self, other: date) -> bool:
        if isinstance(other, Timestamp):
            return self._key() < other._key()
        if isinstance(other, datetime):
            return datetime.__lt__(self, other)
        return NotImplemented

    def __le__(self, other: date) -> bool:
        return self == other or self < other

    def __gt__(self, other: date) -> bool:
        if isinstance(other, Timestamp):
            return self._key() > other._key()
        if isinstance(other, datetime):
            return datetime.__gt__(self, other)
        return NotImplemented

    def __ge__(self, other: date) -> bool:
        return self == other or self > other

    __hash__ = datetime.__hash__

    def __repr__(self) -> str:
        return f"Timestamp({self.rfc3339()!r})"

    def __str__(self) -> str:
        return self.rfc3339()

    def __reduce__(self) -> tuple[Any, ...]:
        return (parse_timestamp, (self.rfc3339(),))

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        return self.__reduce__()


def parse_timestamp(text: str) -> Timestamp:
    """Parse RFC 3339 (0-9 fraction digits, any offset) within 0001-01-01 .. 9999-12-31 UTC."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError(
            f"{text[:64]!r} is not an RFC 3339 timestamp "
            "(expected e.g. 2024-05-01T12:00:00.123456789Z)"
        )
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction = match.group(7) or ""
    if match.group(8):
        offset: timezone = UTC
    else:
        sign = -1 if match.group(9) == "-" else 1
        off_hours, off_minutes = int(match.group(10)), int(match.group(11))
        if off_hours > 23 or off_minutes > 59:
            raise ValueError(f"{text[:64]!r} has an invalid UTC offset")
        offset = timezone(sign * timedelta(hours=off_hours, minutes=off_minutes))
    micro = int(fraction.ljust(6, "0")[:6]) if fraction else 0
    try:
        local = datetime(year, month, day, hour, minute, second, micro, tzinfo=offset)
        return Timestamp(local, fraction)
    except (ValueError, OverflowError) as exc:
        raise ValueError(
            f"{text[:64]!r} is not a valid timestamp between 0001-01-01T00:00:00Z and "
            f"9999-12-31T23:59:59.999999999Z ({exc})"
        ) from None


def as_timestamp(value: object) -> Timestamp:
    """Coerce an RFC 3339 string, a ``Timestamp`` or an aware ``datetime``."""
    if isinstance(value, Timestamp):
        return value
    if isinstance(value, datetime):
        return Timestamp(value)
    if isinstance(value, str):
        return parse_timestamp(value)
    raise ValueError(f"expected an RFC 3339 string, got {type(value).__name__}")
