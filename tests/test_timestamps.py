"""RFC 3339 timestamps with nanoseconds: the value laws, parsing, writing back, limits."""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from pulumi_yc_websocket._timestamps import Timestamp, parse_timestamp

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MIN_SECOND = datetime(1, 1, 1, tzinfo=UTC)
MAX_SECOND = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
MIN_NS = (MIN_SECOND - EPOCH) // timedelta(seconds=1) * 10**9
MAX_NS = (MAX_SECOND - EPOCH) // timedelta(seconds=1) * 10**9 + 999_999_999
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
    """Nanoseconds since 1970 (exact integers, whatever the year)."""
    return (instant - EPOCH) // timedelta(seconds=1) * 10**9 + nanos_of(digits)


@st.composite
def timestamps(draw: st.DrawFn) -> Timestamp:
    """Timestamps over the whole range, written with any digits at any offset."""
    instant, digits = draw(seconds), draw(fractions)
    text = render(instant, digits, draw(st.none() | offsets))
    assume(text is not None)
    assert text is not None
    return parse_timestamp(text)


@st.composite
def close_timestamps(draw: st.DrawFn) -> Timestamp:
    """Few instants, each written in several ways: equal values with different digits abound."""
    second = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(seconds=draw(st.integers(0, 2)))
    nanos = draw(st.sampled_from([0, 1, 2, 1_000, 100_000_000, 999_999_999]))
    shortest = f"{nanos:09d}".rstrip("0")
    digits = shortest.ljust(draw(st.integers(len(shortest), 9)), "0")
    text = render(second, digits, draw(st.none() | st.sampled_from([-90, 0, 180])))
    assert text is not None
    return parse_timestamp(text)


any_timestamps = timestamps() | close_timestamps()


def truncated_micros(nanoseconds: int) -> int:
    """Whole microseconds in ``nanoseconds``, truncated toward zero."""
    return nanoseconds // 1000 if nanoseconds >= 0 else -(-nanoseconds // 1000)


# -- the laws: equality, hashing, ordering ---------------------------------------------------


@given(any_timestamps)
def test_equality_is_reflexive(a: Timestamp) -> None:
    # __eq__ and __ne__ themselves are under test.
    assert a == a
    assert not a != a  # noqa: SIM202
    assert a == parse_timestamp(a.rfc3339())


@given(any_timestamps, any_timestamps)
def test_equality_is_symmetric(a: Timestamp, b: Timestamp) -> None:
    assert (a == b) == (b == a)
    assert (a != b) == (b != a)
    assert (a != b) == (not a == b)  # noqa: SIM201


@given(any_timestamps, any_timestamps, any_timestamps)
def test_equality_is_transitive(a: Timestamp, b: Timestamp, c: Timestamp) -> None:
    if a == b and b == c:
        assert a == c


@given(any_timestamps, any_timestamps)
def test_equality_is_the_instant_and_equal_values_hash_alike(a: Timestamp, b: Timestamp) -> None:
    assert (a == b) == (a.epoch_nanoseconds == b.epoch_nanoseconds)
    if a == b:
        assert hash(a) == hash(b)


@given(any_timestamps, any_timestamps)
def test_order_is_total_and_follows_epoch_nanoseconds(a: Timestamp, b: Timestamp) -> None:
    a_ns, b_ns = a.epoch_nanoseconds, b.epoch_nanoseconds
    assert (a < b) == (a_ns < b_ns)
    assert (a <= b) == (a_ns <= b_ns)
    assert (a > b) == (a_ns > b_ns)
    assert (a >= b) == (a_ns >= b_ns)
    # Trichotomy: exactly one of <, ==, >.
    assert [a < b, a == b, a > b].count(True) == 1
    assert (a <= b) == (a < b or a == b)
    assert (a < b) == (b > a)


@given(any_timestamps, any_timestamps, any_timestamps)
def test_order_is_transitive(a: Timestamp, b: Timestamp, c: Timestamp) -> None:
    if a <= b and b <= c:
        assert a <= c
    if a < b and b < c:
        assert a < c


@given(st.lists(any_timestamps, max_size=10))
def test_sorting_min_max_follow_epoch_nanoseconds(stamps: list[Timestamp]) -> None:
    ordered = sorted(stamps)
    assert [s.epoch_nanoseconds for s in ordered] == sorted(s.epoch_nanoseconds for s in stamps)
    if stamps:
        assert min(stamps).epoch_nanoseconds == min(s.epoch_nanoseconds for s in stamps)
        assert max(stamps).epoch_nanoseconds == max(s.epoch_nanoseconds for s in stamps)


@given(st.lists(close_timestamps(), max_size=12))
def test_sets_and_dicts_hold_one_entry_per_instant(stamps: list[Timestamp]) -> None:
    instants = {s.epoch_nanoseconds for s in stamps}
    assert len(set(stamps)) == len(instants)
    by_stamp = {s: s.fraction_digits for s in stamps}
    assert len(by_stamp) == len(instants)
    for stamp in stamps:
        assert stamp in by_stamp
        assert stamp in set(stamps)


def test_the_issue_example_is_three_distinct_values() -> None:
    # Before: a == d and b == d but a != b, and {a, b, d} had two elements.
    a = parse_timestamp("2024-01-01T00:00:00.000000001Z")
    b = parse_timestamp("2024-01-01T00:00:00.000000002Z")
    d = datetime(2024, 1, 1, tzinfo=UTC)
    assert a != b
    assert a != d
    assert b != d
    assert d != a
    assert len({a, b, d}) == 3
    assert len({a: 1, b: 2, d: 3}) == 3
    # As Timestamps, a and b still order by their nanoseconds, and d converts explicitly.
    assert Timestamp.from_datetime(d) < a < b
    assert a.datetime == b.datetime == d


def test_timestamps_never_equal_or_order_with_other_types() -> None:
    stamp = parse_timestamp("2024-01-01T00:00:00Z")
    for other in (
        datetime(2024, 1, 1, tzinfo=UTC),
        stamp.rfc3339(),
        stamp.epoch_nanoseconds,
        None,
    ):
        assert stamp != other
        assert other != stamp
        assert stamp.__eq__(other) is NotImplemented
        with pytest.raises(TypeError):
            stamp < other  # type: ignore[operator]  # noqa: B015
        with pytest.raises(TypeError):
            other >= stamp  # type: ignore[operator]  # noqa: B015
        with pytest.raises(TypeError):
            stamp - other  # type: ignore[operator]
        with pytest.raises(TypeError):
            other - stamp  # type: ignore[operator]
    with pytest.raises(TypeError):
        stamp + timedelta(seconds=1)  # type: ignore[operator]


def test_trailing_zeros_change_the_text_not_the_value() -> None:
    short = parse_timestamp("2024-05-01T12:00:00.1Z")
    long = parse_timestamp("2024-05-01T12:00:00.100000000Z")
    assert short == long
    assert hash(short) == hash(long)
    assert short.rfc3339() == "2024-05-01T12:00:00.1Z"
    assert long.rfc3339() == "2024-05-01T12:00:00.100000000Z"
    assert (short.fraction_digits, long.fraction_digits) == ("1", "100000000")
    assert parse_timestamp("2024-05-01T12:00:00.000Z") == parse_timestamp("2024-05-01T12:00:00Z")
    assert parse_timestamp("2024-05-01T12:00:00.000Z").rfc3339() == "2024-05-01T12:00:00.000Z"
    assert Timestamp("2024-05-01T12:00:00.1Z") == short


def test_nanoseconds_order_timestamps_within_one_microsecond() -> None:
    zero = parse_timestamp("2024-01-01T00:00:00Z")
    one = parse_timestamp("2024-01-01T00:00:00.000000001Z")
    two = parse_timestamp("2024-01-01T00:00:00.000000002+00:00")
    assert zero.datetime == one.datetime == two.datetime
    assert zero < one < two
    assert two > one > zero
    assert zero <= one <= two
    assert two >= one >= zero
    assert sorted([two, zero, one]) == [zero, one, two]
    assert max(zero, two, one) is two


# -- round trip and rendering ----------------------------------------------------------------


@given(instant=seconds, digits=fractions, offset=st.none() | offsets)
@example(instant=MIN_SECOND, digits="", offset=None)
@example(instant=MAX_SECOND, digits="999999999", offset=None)
@example(instant=datetime(2024, 5, 1, 9, tzinfo=UTC), digits="120000000", offset=180)
@example(instant=datetime(2024, 5, 1, 9, tzinfo=UTC), digits="000", offset=-MAX_OFFSET_MINUTES)
@example(instant=datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC), digits="5", offset=None)
def test_any_valid_timestamp_round_trips(
    instant: datetime, digits: str, offset: int | None
) -> None:
    text = render(instant, digits, offset)
    assume(text is not None)
    assert text is not None
    parsed = parse_timestamp(text)

    expected = f"{wall(instant)}{'.' + digits if digits else ''}Z"
    assert type(parsed) is Timestamp
    assert parsed.rfc3339() == expected
    assert str(parsed) == expected
    assert repr(parsed) == f"Timestamp({expected!r})"
    assert parsed.fraction_digits == digits
    assert parsed.nanosecond == nanos_of(digits)
    assert parsed.epoch_nanoseconds == epoch_ns(instant, digits)
    # parse . rfc3339 is the identity, digits included; so is the constructor.
    again = parse_timestamp(parsed.rfc3339())
    assert again == parsed
    assert again.rfc3339() == expected
    assert Timestamp(text) == parsed
    assert Timestamp(text).rfc3339() == expected


@given(instant=seconds, digits=fractions, offset=offsets)
def test_offset_form_equals_utc_form(instant: datetime, digits: str, offset: int) -> None:
    with_offset = render(instant, digits, offset)
    assume(with_offset is not None)
    assert with_offset is not None
    utc_form = render(instant, digits, None)
    assert utc_form is not None
    assert parse_timestamp(with_offset) == parse_timestamp(utc_form)
    assert parse_timestamp(with_offset).rfc3339() == utc_form


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
    assert (low.epoch_nanoseconds, high.epoch_nanoseconds) == (MIN_NS, MAX_NS)
    assert high.nanosecond == 999_999_999
    assert high.datetime == datetime.max.replace(tzinfo=UTC)
    assert low.datetime == datetime.min.replace(tzinfo=UTC)
    assert low < high
    # Offsets that land exactly on an edge are in range.
    assert parse_timestamp("0001-01-01T01:00:00+01:00") == low
    assert parse_timestamp("9999-12-31T22:59:59.999999999-01:00") == high


def test_before_the_epoch_the_nanoseconds_count_up_within_the_second() -> None:
    stamp = parse_timestamp("1969-12-31T23:59:59.75Z")
    assert stamp.epoch_nanoseconds == -250_000_000
    assert stamp.nanosecond == 750_000_000
    assert stamp.datetime == datetime(1969, 12, 31, 23, 59, 59, 750_000, tzinfo=UTC)


# -- .datetime and from_datetime -------------------------------------------------------------


@given(any_timestamps)
@example(parse_timestamp("2024-05-01T23:59:59.999999999Z"))
@example(parse_timestamp("1969-12-31T23:59:59.000000999Z"))
def test_datetime_is_utc_truncated_to_microseconds(stamp: Timestamp) -> None:
    moment = stamp.datetime
    assert type(moment) is datetime
    assert moment.tzinfo is UTC
    assert moment.microsecond == stamp.nanosecond // 1000  # truncated, never rounded up
    assert moment == EPOCH + timedelta(microseconds=stamp.epoch_nanoseconds // 1000)
    assert moment.replace(microsecond=0) == EPOCH + timedelta(
        seconds=stamp.epoch_nanoseconds // 10**9
    )
    back = Timestamp.from_datetime(moment)
    assert back <= stamp
    assert stamp.epoch_nanoseconds - back.epoch_nanoseconds == stamp.nanosecond % 1000


def test_datetime_truncates_rather_than_rounds() -> None:
    stamp = parse_timestamp("2024-05-01T23:59:59.999999999Z")
    assert stamp.datetime == datetime(2024, 5, 1, 23, 59, 59, 999_999, tzinfo=UTC)
    high = parse_timestamp("9999-12-31T23:59:59.9999995Z")
    assert high.datetime == datetime.max.replace(tzinfo=UTC)


@given(
    st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=3)), timezone(-timedelta(hours=9, minutes=30))]
        ),
    )
)
def test_from_datetime_keeps_the_instant_and_its_microseconds(moment: datetime) -> None:
    stamp = Timestamp.from_datetime(moment)
    assert stamp.datetime == moment
    assert stamp.datetime.tzinfo is UTC
    assert stamp.epoch_nanoseconds == (moment - EPOCH) // timedelta(microseconds=1) * 1000
    utc = moment.astimezone(UTC)
    expected = wall(utc) + (f".{utc.microsecond:06d}" if utc.microsecond else "") + "Z"
    assert stamp.rfc3339() == expected
    assert parse_timestamp(expected) == stamp


def test_from_datetime_forms_and_rejections() -> None:
    east = datetime(2024, 5, 1, 12, 0, 0, 500, tzinfo=timezone(timedelta(hours=2)))
    assert Timestamp.from_datetime(east).rfc3339() == "2024-05-01T10:00:00.000500Z"
    assert Timestamp.from_datetime(datetime(2024, 5, 1, tzinfo=UTC)).rfc3339() == (
        "2024-05-01T00:00:00Z"
    )
    # An offset with microseconds moves the UTC microseconds too.
    odd = timezone(timedelta(seconds=1, microseconds=250))
    assert Timestamp.from_datetime(datetime(2024, 5, 1, 0, 0, 1, 500, tzinfo=odd)).rfc3339() == (
        "2024-05-01T00:00:00.000250Z"
    )
    with pytest.raises(ValueError, match="needs a UTC offset"):
        Timestamp.from_datetime(datetime(2024, 5, 1))
    with pytest.raises(ValueError, match="in UTC"):
        Timestamp.from_datetime(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))))
    with pytest.raises(ValueError, match="in UTC"):
        Timestamp.from_datetime(datetime.max.replace(tzinfo=timezone(-timedelta(hours=1))))
    with pytest.raises(TypeError, match="expected a datetime, got str"):
        Timestamp.from_datetime("2024-05-01T00:00:00Z")  # type: ignore[arg-type]


# -- subtraction -----------------------------------------------------------------------------


@given(any_timestamps, any_timestamps)
def test_subtraction_is_the_gap_truncated_to_microseconds(a: Timestamp, b: Timestamp) -> None:
    gap = a - b
    assert type(gap) is timedelta
    assert gap == timedelta(
        microseconds=truncated_micros(a.epoch_nanoseconds - b.epoch_nanoseconds)
    )
    assert b - a == -gap
    assert (gap > timedelta(0)) <= (a > b)


def test_subtraction_examples() -> None:
    stamp = parse_timestamp("2024-05-01T12:00:00.123456789+03:00")
    assert stamp - parse_timestamp("2024-05-01T08:00:00Z") == timedelta(
        hours=1, microseconds=123456
    )
    one = parse_timestamp("2024-01-01T00:00:00.000000001Z")
    zero = parse_timestamp("2024-01-01T00:00:00Z")
    assert one - zero == zero - one == timedelta(0)
    assert one - one == timedelta(0)


# -- immutability, pickling and copies -------------------------------------------------------


def test_timestamps_are_immutable() -> None:
    stamp = parse_timestamp("2024-05-01T12:00:00.5Z")
    with pytest.raises(AttributeError, match="immutable"):
        stamp._ns = 0
    with pytest.raises(AttributeError, match="immutable"):
        stamp.tzinfo = UTC  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match="immutable"):
        del stamp._digits
    with pytest.raises(AttributeError):
        stamp.nanosecond = 1  # type: ignore[misc]
    assert not hasattr(stamp, "__dict__")
    assert stamp.rfc3339() == "2024-05-01T12:00:00.5Z"


@given(any_timestamps)
def test_pickle_and_copy_keep_every_digit(stamp: Timestamp) -> None:
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        restored = pickle.loads(pickle.dumps(stamp, protocol=protocol))  # noqa: S301
        assert type(restored) is Timestamp
        assert restored == stamp
        assert restored.rfc3339() == stamp.rfc3339()
        assert restored.fraction_digits == stamp.fraction_digits
        assert hash(restored) == hash(stamp)
    assert copy.copy(stamp) is stamp
    assert copy.deepcopy(stamp) is stamp


def test_pickle_of_a_container_keeps_nanoseconds() -> None:
    stamp = parse_timestamp("2024-05-01T12:00:00.000000007+03:00")
    restored = pickle.loads(pickle.dumps({"at": [stamp]}))  # noqa: S301
    assert restored["at"][0].rfc3339() == "2024-05-01T09:00:00.000000007Z"
    assert restored["at"][0].nanosecond == 7
    from_datetime = Timestamp.from_datetime(datetime(2024, 5, 1, 0, 0, 0, 500, tzinfo=UTC))
    assert pickle.loads(pickle.dumps(from_datetime)).rfc3339() == "2024-05-01T00:00:00.000500Z"  # noqa: S301


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
    assert "\n" not in message


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
    with pytest.raises(ValueError, match="is not an RFC 3339 timestamp"):
        Timestamp(text)


@pytest.mark.parametrize("offset", ["+24:00", "-24:00", "+05:60", "+99:99"])
def test_offsets_beyond_23_59_are_rejected(offset: str) -> None:
    with pytest.raises(ValueError, match="has an invalid UTC offset"):
        parse_timestamp(f"2024-01-01T00:00:00{offset}")


def test_long_garbage_is_cut_in_the_message() -> None:
    with pytest.raises(ValueError, match="is not an RFC 3339 timestamp") as caught:
        parse_timestamp("x" * 10_000)
    assert repr("x" * 64) in str(caught.value)
    assert len(str(caught.value)) < 200


def test_only_text_is_parsed() -> None:
    for value in (1714564800, b"2024-01-01T00:00:00Z", datetime(2024, 1, 1, tzinfo=UTC), None):
        with pytest.raises(TypeError, match="a timestamp is parsed from a str"):
            Timestamp(value)  # type: ignore[arg-type]


@given(offset=st.integers(1, MAX_OFFSET_MINUTES), early=st.integers(0, MAX_OFFSET_MINUTES * 60))
def test_local_times_before_year_one_in_utc_are_rejected(offset: int, early: int) -> None:
    local = MIN_SECOND + timedelta(seconds=early)
    text = f"{wall(local)}{offset_text(offset)}"
    if early < offset * 60:
        with pytest.raises(ValueError, match=RANGE_MESSAGE.replace(".", r"\.")):
            parse_timestamp(text)
    else:
        expected = Timestamp.from_datetime(local - timedelta(minutes=offset))
        assert parse_timestamp(text) == expected


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
    assert MIN_NS <= parsed.epoch_nanoseconds <= MAX_NS
