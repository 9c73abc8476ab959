"""RFC 3339 timestamps that keep every fractional digit the API sent.

``datetime`` holds microseconds; the API sends up to nanoseconds. :class:`Timestamp` is a small
immutable value (like protobuf's ``Timestamp``): the instant as integer nanoseconds since the Unix
epoch, plus the fraction digits as received, used only to write it back. As with
``decimal.Decimal``, ``12:00:00.1Z`` and ``12:00:00.100Z`` are equal and hash alike, and each
is written back with the digits it came with.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any, final

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
    from pydantic.json_schema import JsonSchemaValue
    from pydantic_core import CoreSchema

# re.ASCII: RFC 3339 digits are ASCII; without it \d also matches e.g. Arabic-Indic digits.
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_SECOND = dt.timedelta(seconds=1)
_MICROSECOND = dt.timedelta(microseconds=1)
_NS_PER_SECOND = 1_000_000_000
# 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999999Z, in nanoseconds since the epoch.
_MIN_NS = (dt.datetime.min.replace(tzinfo=dt.UTC) - _EPOCH) // _SECOND * _NS_PER_SECOND
_MAX_NS = (dt.datetime.max.replace(tzinfo=dt.UTC) - _EPOCH) // _SECOND * _NS_PER_SECOND + (
    _NS_PER_SECOND - 1
)
_RANGE = "between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999999Z"


@final
class Timestamp:
    """An instant in UTC to the nanosecond, and the fraction digits it was written with.

    ``Timestamp(text)`` parses RFC 3339, like :func:`parse_timestamp`. Equality, hashing and
    ordering are by the instant alone and only between ``Timestamp`` values: a ``Timestamp``
    never equals a ``datetime`` (use ``.datetime`` or :meth:`from_datetime` to compare).
    ``a - b`` gives the ``timedelta`` between two of them, at microsecond precision.
    """

    __slots__ = ("_digits", "_ns")
    _ns: int
    _digits: str

    def __new__(cls, text: str) -> Timestamp:
        """Parse RFC 3339 text (0-9 fraction digits, any UTC offset)."""
        return cls._make(*_parse(text))

    @classmethod
    def _make(cls, ns: int, digits: str) -> Timestamp:
        self = object.__new__(cls)
        object.__setattr__(self, "_ns", ns)
        object.__setattr__(self, "_digits", digits)
        return self

    @classmethod
    def from_datetime(cls, value: dt.datetime) -> Timestamp:
        """The instant of an aware ``datetime``; its UTC microseconds are its fraction digits."""
        if not isinstance(value, dt.datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.utcoffset() is None:
            raise ValueError("a timestamp needs a UTC offset: got a naive datetime")
        micros = (value - _EPOCH) // _MICROSECOND
        ns = micros * 1000
        if not _MIN_NS <= ns <= _MAX_NS:
            raise ValueError(f"{value.isoformat()} is not {_RANGE} in UTC")
        fraction = micros % 1_000_000
        return cls._make(ns, f"{fraction:06d}" if fraction else "")

    @property
    def datetime(self) -> dt.datetime:
        """The instant as an aware UTC ``datetime``, truncated to whole microseconds."""
        return _EPOCH + dt.timedelta(microseconds=self._ns // 1000)

    @property
    def nanosecond(self) -> int:
        """Nanoseconds within the second (0 to 999,999,999)."""
        return self._ns % _NS_PER_SECOND

    @property
    def epoch_nanoseconds(self) -> int:
        """Nanoseconds since 1970-01-01T00:00:00Z (negative before it)."""
        return self._ns

    @property
    def fraction_digits(self) -> str:
        """The fractional-second digits as received (may be empty)."""
        return self._digits

    def rfc3339(self) -> str:
        """RFC 3339 in UTC with a ``Z`` and every fraction digit received."""
        wall = _EPOCH + dt.timedelta(seconds=self._ns // _NS_PER_SECOND)
        text = (
            f"{wall.year:04d}-{wall.month:02d}-{wall.day:02d}T"
            f"{wall.hour:02d}:{wall.minute:02d}:{wall.second:02d}"
        )
        return f"{text}.{self._digits}Z" if self._digits else f"{text}Z"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Timestamp):
            return self._ns == other._ns
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._ns)

    def __lt__(self, other: Timestamp) -> bool:
        if isinstance(other, Timestamp):
            return self._ns < other._ns
        return NotImplemented

    def __le__(self, other: Timestamp) -> bool:
        if isinstance(other, Timestamp):
            return self._ns <= other._ns
        return NotImplemented

    def __gt__(self, other: Timestamp) -> bool:
        if isinstance(other, Timestamp):
            return self._ns > other._ns
        return NotImplemented

    def __ge__(self, other: Timestamp) -> bool:
        if isinstance(other, Timestamp):
            return self._ns >= other._ns
        return NotImplemented

    def __sub__(self, other: Timestamp) -> dt.timedelta:
        # timedelta holds microseconds: truncate toward zero, so that a - b == -(b - a).
        if not isinstance(other, Timestamp):
            return NotImplemented
        difference = self._ns - other._ns
        micros = difference // 1000 if difference >= 0 else -(-difference // 1000)
        return dt.timedelta(microseconds=micros)

    if not TYPE_CHECKING:  # hidden from type checkers: they would then allow any attribute

        def __setattr__(self, name: str, value: object) -> None:
            raise AttributeError("Timestamp is immutable")

        def __delattr__(self, name: str) -> None:
            raise AttributeError("Timestamp is immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        return (Timestamp, (self.rfc3339(),))

    def __copy__(self) -> Timestamp:
        return self

    def __deepcopy__(self, memo: object) -> Timestamp:
        return self

    def __repr__(self) -> str:
        return f"Timestamp({self.rfc3339()!r})"

    def __str__(self) -> str:
        return self.rfc3339()

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        """Pydantic: read RFC 3339 strings (or aware datetimes); dump JSON as :meth:`rfc3339`."""
        from pydantic_core import core_schema

        return core_schema.no_info_plain_validator_function(
            _coerce,
            serialization=core_schema.plain_serializer_function_ser_schema(
                Timestamp.rfc3339, when_used="json"
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """Pydantic: the JSON schema of an RFC 3339 string."""
        return {"type": "string", "format": "date-time"}


def parse_timestamp(text: str) -> Timestamp:
    """Parse RFC 3339 (0-9 fraction digits, any offset) within 0001-01-01 .. 9999-12-31 UTC."""
    return Timestamp(text)


def _parse(text: str) -> tuple[int, str]:
    """Nanoseconds since the epoch and the fraction digits of RFC 3339 ``text``."""
    if not isinstance(text, str):
        raise TypeError(f"a timestamp is parsed from a str, not {type(text).__name__}")
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError(
            f"{text[:64]!r} is not an RFC 3339 timestamp "
            "(expected e.g. 2024-05-01T12:00:00.123456789Z)"
        )
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction = match.group(7) or ""
    if match.group(8):
        offset = dt.UTC
    else:
        off_hours, off_minutes = int(match.group(10)), int(match.group(11))
        if off_hours > 23 or off_minutes > 59:
            raise ValueError(f"{text[:64]!r} has an invalid UTC offset")
        sign = -1 if match.group(9) == "-" else 1
        offset = dt.timezone(sign * dt.timedelta(hours=off_hours, minutes=off_minutes))
    try:
        local = dt.datetime(year, month, day, hour, minute, second, tzinfo=offset)
    except ValueError as exc:
        raise ValueError(f"{text[:64]!r} is not a valid timestamp {_RANGE} ({exc})") from None
    ns = (local - _EPOCH) // _SECOND * _NS_PER_SECOND + int(fraction.ljust(9, "0"))
    if not _MIN_NS <= ns <= _MAX_NS:
        raise ValueError(f"{text[:64]!r} is not a valid timestamp {_RANGE} (out of range in UTC)")
    return ns, fraction


def _coerce(value: object) -> Timestamp:
    """A ``Timestamp`` from a ``Timestamp``, an RFC 3339 string or an aware ``datetime``."""
    if isinstance(value, Timestamp):
        return value
    if isinstance(value, str):
        return Timestamp(value)
    if isinstance(value, dt.datetime):
        return Timestamp.from_datetime(value)
    raise ValueError(f"expected an RFC 3339 string, got {type(value).__name__}")
