"""RFC 3339 timestamps with nanoseconds: parsing, writing back, ordering, pickling, limits."""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from pulumi_yc_websocket.timestamps import Timestamp, as_timestamp, parse_timestamp

MIN_SECOND = datetime(1, 1, 1, tzinfo=UTC)
MAX_SECOND = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
MAX_OFFSET_MINUTES = 23 * 60 + 59
RANGE_MESSAGE = "between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999999Z"

seconds = st.datetimes(
    min_value=MIN_SECOND.replace(tzinfo=None),
    max_value=MAX_SECOND.replace(tzinfo=None),
    timezones=st.just(UTC),
).map(lambda d: d.replace(microsecond=0))
fractions = st.integers(0, 9).flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n))
offsets = st.integers(-MAX_OFFSET_MINUTES, MAX_OFFSET_MINUTES)


def wall(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` with 4-digit years (strftime does not pad years below 1000)."""
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )


def offset_text(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{mins:02d}"


def render(instant: datetime, digits: str, offset_minutes: int | None) -> str | None:
    """The instant written with ``digits`` at an offset (None: 'Z'); None if not representable."""
    try:
        local = instant + timedelta(minutes=offset_minutes or 0)
    except OverflowError:
        return None
    fraction = f".{digits}" if digits else ""
    suffix = "Z" if offset_minutes is None else offset_text(offset_minutes)
    return f"{wall(local)}{fraction}{suffix}"


def nanos_of(digits: str) -> int:
    return int(digits.ljust(9, "0")) if digits else 0


def epoch_ns(instant: datetime, digits: str) -> int:
    """Nanoseconds since 0001-01-01 (exact integers, whatever the year)."""
    return (instant - MIN_SECOND) // timedelta(seconds=1) * 10**9 + nanos_of(digits)


# -- round trip ------------------------------------------------------------------------------


@given(instant=seconds, digits=fractions, offset=st.none() | offsets)
@example(instant=MIN_SECOND, digits="", offset=None)
@example(instant=MAX_SECOND, digits="999999999", offset=None)
@example(instant=datetime(2024, 5, 1, 9, tzinfo=UTC), digits="120000000", offset=180)
@example(instant=datetime(2024, 5, 1, 9, tzinfo=UTC), digits="000", offset=-MAX_OFFSET_MINUTES)
def test_any_valid_timestamp_round_trips(
    instant: datetime, digits: str, offset: int | None
) -> None:
    text = render(instant, digits, offset)
    assume(text is not None and "-" not in text[:1])
    assert text is not None
    parsed = parse_timestamp(text)

    expected = f"{wall(instant)}{'.' + digits if digits else ''}Z"
    assert type(parsed) is Timestamp
    assert parsed.rfc3339() == expected
    assert str(parsed) == expected
    assert repr(parsed) == f"Timestamp({expected!r})"
    assert parsed.fraction_digits == digits
    assert parsed.nanosecond == nanos_of(digits)
    assert parsed.microsecond == nanos_of(digits) // 1000
    assert parsed.tzinfo is UTC
    assert parsed.utcoffset() == timedelta(0)
    assert (parsed.year, parsed.month, parsed.day) == (instant.year, instant.month, instant.day)
    assert (parsed.hour, parsed.minute, parsed.second) == (
        instant.hour,
        instant.minute,
        instant.second,
    )
    # As a plain datetime (microseconds), it is the same instant.
    assert parsed == instant.replace(microsecond=nanos_of(digits) // 1000)
    # Writing back and reading again is stable.
    again = parse_timestamp(parsed.rfc3339())
    assert again == parsed
    assert again.rfc3339() == expected


@given(instant=seconds, digits=fractions, offset=offsets)
def test_offset_form_equals_utc_form(instant: datetime, digits: str, offset: int) -> None:
    with_offset = render(instant, digits, offset)
    assume(with_offset is not None and not with_offset.startswith("-"))
    assert with_offset is not None
    utc_form = render(instant, digits, None)
    assert utc_form is not None
    assert parse_timestamp(with_offset) == parse_timestamp(utc_form)
    assert parse_timestamp(with_offset).rfc3339() == parse_timestamp(utc_form).rfc3339()


def test_trailing_zeros_are_kept_and_do_not_change_the_instant() -> None:
    short = parse_timestamp("2024-05-01T12:00:00.1Z")
    long = parse_timestamp("2024-05-01T12:00:00.100000000Z")
    assert short.rfc3339() == "2024-05-01T12:00:00.1Z"
    assert long.rfc3339() == "2024-05-01T12:00:00.100000000Z"
    assert short == long
    assert hash(short) == hash(long)
    assert parse_timestamp("2024-05-01T12:00:00.000Z").rfc3339() == "2024-05-01T12:00:00.000Z"
    assert parse_timestamp("2024-05-01T12:00:00.000Z").nanosecond == 0


def test_offset_conversion_crosses_the_day_and_leap_day() -> None:
    parsed = parse_timestamp("2024-03-01T01:30:00.123456789+05:00")
    assert parsed.rfc3339() == "2024-02-29T20:30:00.123456789Z"
    assert parse_timestamp("2023-12-31T22:15:00-02:00").rfc3339() == "2024-01-01T00:15:00Z"
    assert parse_timestamp("2024-05-01t12:00:00z").rfc3339() == "2024-05-01T12:00:00Z"


def test_range_edges_parse() -> None:
    low = parse_timestamp("0001-01-01T00:00:00Z")
    high = parse_timestamp("9999-12-31T23:59:59.999999999Z")
    assert low.rfc3339() == "0001-01-01T00:00:00Z"
    assert high.rfc3339() == "9999-12-31T23:59:59.999999999Z"
    assert high.nanosecond == 999_999_999
    assert high.microsecond == 999_999
    assert low < high
    # Offsets that land exactly on an edge are in range.
    assert parse_timestamp("0001-01-01T01:00:00+01:00") == low
    assert parse_timestamp("9999-12-31T22:59:59.999999999-01:00") == high


# -- ordering --------------------------------------------------------------------------------


def test_nanoseconds_order_timestamps_within_one_microsecond() -> None:
    zero = parse_timestamp("2024-01-01T00:00:00Z")
    one = parse_timestamp("2024-01-01T00:00:00.000000001Z")
    two = parse_timestamp("2024-01-01T00:00:00.000000002+00:00")
    assert zero.microsecond == one.microsecond == two.microsecond == 0
    assert zero < one < two
    assert two > one > zero
    assert zero <= one <= two
    assert two >= one >= zero
    assert one != two
    assert not one == two  # noqa: SIM201 - __eq__ itself is under test
    assert one <= one
    assert one >= one
    assert sorted([two, zero, one]) == [zero, one, two]
    assert max(zero, two, one) is two


def test_comparisons_with_plain_datetimes_use_microseconds() -> None:
    stamp = parse_timestamp("2024-01-01T00:00:00.000001999Z")
    assert stamp > datetime(2024, 1, 1, tzinfo=UTC)
    assert stamp < datetime(2024, 1, 1, 0, 0, 0, 2, tzinfo=UTC)
    assert stamp == datetime(2024, 1, 1, 0, 0, 0, 1, tzinfo=UTC)
    assert datetime(2024, 1, 1, tzinfo=UTC) < stamp
    assert stamp != "2024-01-01T00:00:00.000001999Z"


@given(a_instant=seconds, a_digits=fractions, b_instant=seconds, b_digits=fractions)
def test_ordering_matches_the_instants(
    a_instant: datetime, a_digits: str, b_instant: datetime, b_digits: str
) -> None:
    a = parse_timestamp(f"{wall(a_instant)}{'.' + a_digits if a_digits else ''}Z")
    b = parse_timestamp(f"{wall(b_instant)}{'.' + b_digits if b_digits else ''}Z")
    a_ns, b_ns = epoch_ns(a_instant, a_digits), epoch_ns(b_instant, b_digits)
    assert (a < b) == (a_ns < b_ns)
    assert (a <= b) == (a_ns <= b_ns)
    assert (a > b) == (a_ns > b_ns)
    assert (a >= b) == (a_ns >= b_ns)
    assert (a == b) == (a_ns == b_ns)
    assert (a != b) == (a_ns != b_ns)
    if a == b:
        assert hash(a) == hash(b)


@given(
    stamps=st.lists(
        # Few distinct seconds and short fractions: ties and sub-microsecond gaps are common.
        st.tuples(
            st.integers(0, 2).map(
                lambda s: datetime(2000, 1, 1, tzinfo=UTC) + timedelta(seconds=s)
            ),
            st.sampled_from(["", "0", "000000001", "000000002", "0000001", "000001", "5", "50"]),
        ),
        max_size=8,
    )
)
def test_sorting_respects_nanoseconds(stamps: list[tuple[datetime, str]]) -> None:
    parsed = [parse_timestamp(f"{wall(i)}{'.' + d if d else ''}Z") for i, d in stamps]
    expected = sorted(range(len(stamps)), key=lambda k: epoch_ns(*stamps[k]))
    assert [p.rfc3339() for p in sorted(parsed)] == [parsed[k].rfc3339() for k in expected]


# -- pickling and copies ---------------------------------------------------------------------


@given(instant=seconds, digits=fractions)
def test_pickle_and_copy_keep_every_digit(instant: datetime, digits: str) -> None:
    stamp = parse_timestamp(f"{wall(instant)}{'.' + digits if digits else ''}Z")
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        restored = pickle.loads(pickle.dumps(stamp, protocol=protocol))  # noqa: S301
        assert type(restored) is Timestamp
        assert restored.rfc3339() == stamp.rfc3339()
        assert restored == stamp
    for duplicate in (copy.copy(stamp), copy.deepcopy(stamp)):
        assert type(duplicate) is Timestamp
        assert duplicate.rfc3339() == stamp.rfc3339()
        assert duplicate.nanosecond == stamp.nanosecond


def test_pickle_of_a_container_keeps_nanoseconds() -> None:
    stamp = parse_timestamp("2024-05-01T12:00:00.000000007+03:00")
    restored = pickle.loads(pickle.dumps({"at": [stamp]}))  # noqa: S301
    assert restored["at"][0].rfc3339() == "2024-05-01T09:00:00.000000007Z"
    assert restored["at"][0].nanosecond == 7


# -- datetime behaviour ----------------------------------------------------------------------


def test_arithmetic_works_like_datetime_at_microsecond_precision() -> None:
    stamp = parse_timestamp("2024-05-01T12:00:00.123456789+03:00")
    later = stamp + timedelta(minutes=10)
    assert type(later) is Timestamp
    assert later.rfc3339() == "2024-05-01T09:10:00.123456Z"
    assert (timedelta(seconds=1) + stamp).rfc3339() == "2024-05-01T09:00:01.123456Z"
    assert (stamp - timedelta(days=1)).rfc3339() == "2024-04-30T09:00:00.123456Z"
    assert stamp - parse_timestamp("2024-05-01T08:00:00Z") == timedelta(
        hours=1, microseconds=123456
    )
    assert datetime(2024, 5, 1, 10, tzinfo=UTC) - stamp == timedelta(minutes=59, seconds=59.876544)


def test_astimezone_and_replace() -> None:
    stamp = parse_timestamp("2024-05-01T12:00:00.123456789+03:00")
    moscow = stamp.astimezone(timezone(timedelta(hours=3)))
    assert type(moscow) is datetime
    assert (moscow.hour, moscow.microsecond) == (12, 123456)
    assert moscow.utcoffset() == timedelta(hours=3)
    assert moscow == stamp
    assert stamp.astimezone(UTC) is stamp
    moved = stamp.replace(year=2025)
    assert type(moved) is Timestamp
    assert moved.rfc3339() == "2025-05-01T09:00:00.123456789Z"
    assert stamp.replace(microsecond=5).rfc3339() == "2024-05-01T09:00:00.000005Z"
    with pytest.raises(ValueError, match="needs a UTC offset"):
        stamp.replace(tzinfo=None)


def test_constructor_forms() -> None:
    from_datetime = Timestamp(
        datetime(2024, 5, 1, 12, 0, 0, 500, tzinfo=timezone(timedelta(hours=2)))
    )
    assert from_datetime.rfc3339() == "2024-05-01T10:00:00.000500Z"
    assert Timestamp(datetime(2024, 5, 1, tzinfo=UTC)).rfc3339() == "2024-05-01T00:00:00Z"
    with_digits = Timestamp(datetime(2024, 5, 1, 0, 0, 0, 500, tzinfo=UTC), "000500700")
    assert with_digits.rfc3339() == "2024-05-01T00:00:00.000500700Z"
    assert Timestamp(2024, 5, 1, 3, tzinfo=UTC).rfc3339() == "2024-05-01T03:00:00Z"
    with pytest.raises(ValueError, match="needs a UTC offset"):
        Timestamp(datetime(2024, 5, 1))
    with pytest.raises(ValueError, match="disagree"):
        Timestamp(datetime(2024, 5, 1, 0, 0, 0, 500, tzinfo=UTC), "000600")


def test_as_timestamp_coerces() -> None:
    stamp = parse_timestamp("2024-05-01T12:00:00.5Z")
    assert as_timestamp(stamp) is stamp
    assert as_timestamp("2024-05-01T12:00:00.5Z") == stamp
    assert as_timestamp("2024-05-01T12:00:00.5Z").rfc3339() == "2024-05-01T12:00:00.5Z"
    aware = datetime(2024, 5, 1, 14, 0, 0, 500000, tzinfo=timezone(timedelta(hours=2)))
    assert as_timestamp(aware).rfc3339() == "2024-05-01T12:00:00.500000Z"
    with pytest.raises(ValueError, match="expected an RFC 3339 string, got int"):
        as_timestamp(1714564800)


# -- rejected input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:30:00+01:00",  # before year 1 in UTC
        "0001-01-01T00:00:00.999999999+00:01",
        "9999-12-31T23:30:00-01:00",  # after year 9999 in UTC
        "9999-12-31T23:59:59.999999999-00:01",
        "0000-01-01T00:00:00Z",
        "2024-13-01T00:00:00Z",
        "2024-00-10T00:00:00Z",
        "2024-02-30T00:00:00Z",
        "2023-02-29T00:00:00Z",
        "2024-01-01T24:00:00Z",
        "2024-01-01T00:60:00Z",
        "2024-01-01T00:00:61Z",
        "2016-12-31T23:59:60Z",  # leap second
    ],
)
def test_impossible_or_out_of_range_values_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="not a valid timestamp") as caught:
        parse_timestamp(text)
    message = str(caught.value)
    assert message.startswith(repr(text))
    assert RANGE_MESSAGE in message


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-01T00:00:00.1234567890Z",  # 10 fraction digits
        "2024-01-01T00:00:00",  # no offset
        "2024-01-01T00:00:00.123",
        "2024-01-01T00:00:00.Z",
        "2024-01-01 00:00:00Z",
        "2024-1-01T00:00:00Z",
        "24-01-01T00:00:00Z",
        "2024-01-01T00:00Z",
        "2024-01-01T00:00:00+0300",
        "2024-01-01T00:00:00+03",
        "2024-01-01T00:00:00,5Z",
        "2024-01-01T00:00:00Z\n",
        " 2024-01-01T00:00:00Z",
        "\uff12\uff10\uff12\uff14-01-01T00:00:00Z",  # fullwidth digits
        "2024-01-01T00:00:00.\u0661\u0662Z",  # Arabic-Indic digits
        "",
        "now",
    ],
)
def test_malformed_text_is_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="is not an RFC 3339 timestamp") as caught:
        parse_timestamp(text)
    assert "expected e.g. 2024-05-01T12:00:00.123456789Z" in str(caught.value)


@pytest.mark.parametrize("offset", ["+24:00", "-24:00", "+05:60", "+99:99"])
def test_offsets_beyond_23_59_are_rejected(offset: str) -> None:
    with pytest.raises(ValueError, match="has an invalid UTC offset"):
        parse_timestamp(f"2024-01-01T00:00:00{offset}")


def test_long_garbage_is_cut_in_the_message() -> None:
    with pytest.raises(ValueError, match="is not an RFC 3339 timestamp") as caught:
        parse_timestamp("x" * 10_000)
    assert repr("x" * 64) in str(caught.value)
    assert len(str(caught.value)) < 200


@given(offset=st.integers(1, MAX_OFFSET_MINUTES), early=st.integers(0, MAX_OFFSET_MINUTES * 60))
def test_local_times_before_year_one_in_utc_are_rejected(offset: int, early: int) -> None:
    local = MIN_SECOND + timedelta(seconds=early)
    text = f"{wall(local)}{offset_text(offset)}"
    if early < offset * 60:
        with pytest.raises(ValueError, match=RANGE_MESSAGE.replace(".", r"\.")):
            parse_timestamp(text)
    else:
        assert parse_timestamp(text) == local - timedelta(minutes=offset)


near_rfc3339 = st.from_regex(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{0,11})?([Zz]|[+-]\d{2}:?\d{2})?",
    fullmatch=True,
    alphabet="0123456789-:.+TtZz ",
)
# Validate now: from_regex imports its machinery lazily, and doing that at collection keeps this
# test away from late imports (CPython 3.11.7 can fail ast.parse after a RecursionError elsewhere).
near_rfc3339.validate()


@given(near_rfc3339 | st.text(max_size=40))
def test_parse_either_succeeds_consistently_or_raises_value_error(text: str) -> None:
    try:
        parsed = parse_timestamp(text)
    except ValueError as exc:
        message = str(exc)
    else:
        message = ""
    if message:
        assert message.startswith(repr(text[:64]))
        return
    assert parse_timestamp(parsed.rfc3339()) == parsed
    assert parsed.rfc3339().endswith("Z")
