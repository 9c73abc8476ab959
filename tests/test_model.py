"""The Connection model: proto3 JSON in (camelCase, defaults absent, unknown keys), JSON out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from pulumi_yc_websocket._model import Connection, Identity
from pulumi_yc_websocket._timestamps import Timestamp, parse_timestamp

FULL_BODY = {
    "id": "Ab3dEfGhIjKlMnOp12Qr",
    "gatewayId": "d5dm1lba80md4pmj2qke",
    "identity": {"sourceIp": "203.0.113.7", "userAgent": "curl/8.5.0"},
    "connectedAt": "2024-05-01T10:00:00.123456789+03:00",
    "lastActiveAt": "2024-05-01T07:05:00.5Z",
}


def test_full_body_parses_from_camel_case() -> None:
    connection = Connection.model_validate_json(json.dumps(FULL_BODY).encode())
    assert connection.id == "Ab3dEfGhIjKlMnOp12Qr"
    assert connection.gateway_id == "d5dm1lba80md4pmj2qke"
    assert connection.identity == Identity(source_ip="203.0.113.7", user_agent="curl/8.5.0")
    assert isinstance(connection.connected_at, Timestamp)
    assert connection.connected_at.rfc3339() == "2024-05-01T07:00:00.123456789Z"
    assert connection.connected_at.nanosecond == 123456789
    assert connection.last_active_at is not None
    assert connection.last_active_at.rfc3339() == "2024-05-01T07:05:00.5Z"
    # The exact gap (5 min 0.376543211 s), truncated to timedelta's microseconds.
    assert connection.last_active_at - connection.connected_at == timedelta(
        minutes=5, microseconds=376543
    )


def test_json_dump_is_the_api_body_in_utc_with_every_digit() -> None:
    connection = Connection.model_validate_json(json.dumps(FULL_BODY))
    assert connection.model_dump(mode="json", by_alias=True) == {
        "id": "Ab3dEfGhIjKlMnOp12Qr",
        "gatewayId": "d5dm1lba80md4pmj2qke",
        "identity": {"sourceIp": "203.0.113.7", "userAgent": "curl/8.5.0"},
        "connectedAt": "2024-05-01T07:00:00.123456789Z",
        "lastActiveAt": "2024-05-01T07:05:00.5Z",
    }
    assert json.loads(connection.model_dump_json(by_alias=True))["connectedAt"] == (
        "2024-05-01T07:00:00.123456789Z"
    )


def test_python_dump_keeps_timestamp_objects() -> None:
    dumped = Connection.model_validate(FULL_BODY).model_dump()
    assert set(dumped) == {"id", "gateway_id", "identity", "connected_at", "last_active_at"}
    assert dumped["identity"] == {"source_ip": "203.0.113.7", "user_agent": "curl/8.5.0"}
    assert type(dumped["connected_at"]) is Timestamp
    assert dumped["connected_at"].rfc3339() == "2024-05-01T07:00:00.123456789Z"


@pytest.mark.parametrize(
    ("body", "source_ip", "user_agent"),
    [
        ({"id": "a"}, "", ""),
        ({"id": "a", "identity": {}}, "", ""),
        ({"id": "a", "identity": {"sourceIp": "192.0.2.1"}}, "192.0.2.1", ""),
        ({"id": "a", "identity": {"userAgent": "ua"}}, "", "ua"),
        ({"id": "a", "identity": None}, "", ""),
        ({"id": "a", "identity": {"sourceIp": None, "userAgent": "ua"}}, "", "ua"),
    ],
)
def test_missing_or_null_identity_fields_read_as_empty_strings(
    body: dict[str, Any], source_ip: str, user_agent: str
) -> None:
    connection = Connection.model_validate_json(json.dumps(body))
    assert connection.identity.source_ip == source_ip
    assert connection.identity.user_agent == user_agent


def test_missing_fields_take_proto3_defaults() -> None:
    connection = Connection.model_validate_json(b"{}")
    assert connection == Connection(id="", gateway_id="", identity=Identity())
    assert connection.id == ""
    assert connection.gateway_id == ""
    assert connection.connected_at is None
    assert connection.last_active_at is None
    assert connection.model_dump(mode="json", by_alias=True) == {
        "id": "",
        "gatewayId": "",
        "identity": {"sourceIp": "", "userAgent": ""},
        "connectedAt": None,
        "lastActiveAt": None,
    }


def test_null_values_mean_defaults() -> None:
    body = {"id": "a", "gatewayId": None, "connectedAt": None, "lastActiveAt": None}
    connection = Connection.model_validate_json(json.dumps(body))
    assert connection.gateway_id == ""
    assert connection.connected_at is None
    assert connection.last_active_at is None


def test_unknown_keys_are_ignored_at_every_level() -> None:
    body = {
        **FULL_BODY,
        "status": "ACTIVE",
        "closeReason": {"code": 1000},
        "identity": {**FULL_BODY["identity"], "country": "NL", "headers": ["a"]},
    }
    connection = Connection.model_validate_json(json.dumps(body))
    assert connection == Connection.model_validate_json(json.dumps(FULL_BODY))
    assert "status" not in connection.model_dump(mode="json", by_alias=True)
    assert "country" not in connection.model_dump(mode="json", by_alias=True)["identity"]


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"id": 123}, ("id",)),
        ({"id": True}, ("id",)),
        ({"gatewayId": ["d5d"]}, ("gatewayId",)),
        ({"identity": "203.0.113.7"}, ("identity",)),
        ({"identity": {"sourceIp": 3405803783}}, ("identity", "sourceIp")),
        ({"identity": {"userAgent": {"name": "curl"}}}, ("identity", "userAgent")),
        ({"connectedAt": 1714557600}, ("connectedAt",)),
        ({"connectedAt": "2024-05-01 10:00:00"}, ("connectedAt",)),
        ({"lastActiveAt": "2024-13-01T00:00:00Z"}, ("lastActiveAt",)),
        ({"lastActiveAt": "2016-12-31T23:59:60Z"}, ("lastActiveAt",)),
    ],
)
def test_wrong_types_are_rejected(body: dict[str, Any], location: tuple[str, ...]) -> None:
    with pytest.raises(ValidationError) as caught:
        Connection.model_validate_json(json.dumps(body))
    errors = caught.value.errors()
    assert len(errors) == 1
    assert errors[0]["loc"] == location


@pytest.mark.parametrize("raw", [b"[]", b"null", b'"id"', b"42", b'{"id": "a"', b"", b"\xff"])
def test_non_object_bodies_are_rejected(raw: bytes) -> None:
    with pytest.raises(ValidationError):
        Connection.model_validate_json(raw)


def test_snake_case_names_and_python_values_are_accepted_too() -> None:
    connected = datetime(2024, 5, 1, 7, tzinfo=UTC)
    connection = Connection(
        id="a",
        gateway_id="g",
        identity=Identity(source_ip="::1", user_agent="x"),
        connected_at=connected,
        last_active_at="2024-05-01T07:00:00.000000001Z",
    )
    assert type(connection.connected_at) is Timestamp
    assert connection.connected_at.rfc3339() == "2024-05-01T07:00:00Z"
    assert connection.last_active_at is not None
    assert connection.last_active_at.nanosecond == 1


def test_models_are_frozen_and_hashable_by_value() -> None:
    connection = Connection.model_validate(FULL_BODY)
    with pytest.raises(ValidationError, match="frozen"):
        connection.id = "other"  # type: ignore[misc]
    assert connection == Connection.model_validate(FULL_BODY)
    assert hash(connection) == hash(Connection.model_validate(FULL_BODY))
    assert connection != Connection.model_validate({**FULL_BODY, "id": "other"})
    # Timestamps compare by instant: the same instant written with other digits is equal...
    same = Connection.model_validate({**FULL_BODY, "lastActiveAt": "2024-05-01T07:05:00.500Z"})
    assert same == connection
    assert hash(same) == hash(connection)
    # ...and each still dumps the digits it was given.
    assert same.model_dump(mode="json", by_alias=True)["lastActiveAt"] == (
        "2024-05-01T07:05:00.500Z"
    )


def test_timestamp_is_a_field_type_for_any_pydantic_model() -> None:
    class Event(BaseModel):
        at: Timestamp
        seen: list[Timestamp] = []

    event = Event.model_validate_json(
        '{"at": "2024-05-01T10:00:00.000000001+03:00", "seen": ["2024-05-01T07:00:00.10Z"]}'
    )
    assert event.at == parse_timestamp("2024-05-01T07:00:00.000000001Z")
    assert event.model_dump(mode="json") == {
        "at": "2024-05-01T07:00:00.000000001Z",
        "seen": ["2024-05-01T07:00:00.10Z"],
    }
    assert event.model_dump()["at"] is event.at
    # Python input: a Timestamp as is, an RFC 3339 string, an aware datetime (not a naive one).
    stamp = parse_timestamp("2024-05-01T07:00:00Z")
    assert Event(at=stamp).at is stamp
    assert Event(at="2024-05-01T07:00:00.5Z").at.fraction_digits == "5"
    aware = datetime(2024, 5, 1, 9, 0, 0, 500000, tzinfo=timezone(timedelta(hours=2)))
    assert Event(at=aware).at.rfc3339() == "2024-05-01T07:00:00.500000Z"
    for wrong, message in (
        (datetime(2024, 5, 1), "needs a UTC offset"),
        (1714557600, "expected an RFC 3339 string, got int"),
        ("yesterday", "is not an RFC 3339 timestamp"),
    ):
        with pytest.raises(ValidationError, match=message) as caught:
            Event(at=wrong)
        assert [error["loc"] for error in caught.value.errors()] == [("at",)]
    assert Event.model_json_schema()["properties"]["at"] == {
        "type": "string",
        "format": "date-time",
        "title": "At",
    }


def test_json_schema_documents_timestamps_as_date_time_strings() -> None:
    schema = Connection.model_json_schema(by_alias=True)
    assert set(schema["properties"]) == {
        "id",
        "gatewayId",
        "identity",
        "connectedAt",
        "lastActiveAt",
    }
    assert {"type": "string", "format": "date-time"} in schema["properties"]["connectedAt"]["anyOf"]


# -- generated API bodies --------------------------------------------------------------------

_instants = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))
_digits = st.integers(0, 9).flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n))
_offsets = st.integers(-(23 * 60 + 59), 23 * 60 + 59)


@st.composite
def rfc3339_texts(draw: st.DrawFn) -> tuple[str, str]:
    """An RFC 3339 text at some offset, and the same instant as the model must write it."""
    instant, digits = draw(_instants), draw(_digits)
    fraction = f".{digits}" if digits else ""
    utc = f"{instant:%m-%dT%H:%M:%S}"
    expected = f"{instant.year:04d}-{utc}{fraction}Z"
    offset = draw(st.none() | _offsets)
    if offset is None:
        return expected.replace("Z", draw(st.sampled_from(["Z", "z"]))), expected
    local = instant + timedelta(minutes=offset)
    sign, (hours, minutes) = ("-" if offset < 0 else "+"), divmod(abs(offset), 60)
    text = f"{local.year:04d}-{local:%m-%dT%H:%M:%S}{fraction}{sign}{hours:02d}:{minutes:02d}"
    return text, expected


_KNOWN = {"id", "gatewayId", "identity", "connectedAt", "lastActiveAt", "sourceIp", "userAgent"}
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)
_unknown = st.dictionaries(
    st.text(min_size=1, max_size=12).filter(lambda k: k not in _KNOWN), _json_values, max_size=3
)


@st.composite
def api_bodies(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """An API-shaped body (keys may be absent, unknown keys added) and its expected JSON dump."""
    body: dict[str, Any] = {}
    expected: dict[str, Any] = {
        "id": "",
        "gatewayId": "",
        "identity": {"sourceIp": "", "userAgent": ""},
        "connectedAt": None,
        "lastActiveAt": None,
    }
    for key, strategy in (("id", st.text(max_size=50)), ("gatewayId", st.text(max_size=20))):
        value = draw(st.none() | strategy)
        if value is not None:
            body[key] = expected[key] = value
    if draw(st.booleans()):
        identity: dict[str, Any] = {}
        source_ip = draw(st.none() | st.ip_addresses().map(str))
        user_agent = draw(st.none() | st.text(max_size=80))
        if source_ip is not None:
            identity["sourceIp"] = expected["identity"]["sourceIp"] = source_ip
        if user_agent is not None:
            identity["userAgent"] = expected["identity"]["userAgent"] = user_agent
        identity.update(draw(_unknown))
        body["identity"] = identity
    for key in ("connectedAt", "lastActiveAt"):
        stamp = draw(st.none() | rfc3339_texts())
        if stamp is not None:
            body[key], expected[key] = stamp
    extra = draw(_unknown)
    body.update({k: v for k, v in extra.items() if k not in body})
    return body, expected


@given(api_bodies(), st.booleans())
def test_generated_bodies_parse_and_dump_back(
    case: tuple[dict[str, Any], dict[str, Any]], ascii_only: bool
) -> None:
    body, expected = case
    raw = json.dumps(body, ensure_ascii=ascii_only).encode()
    connection = Connection.model_validate_json(raw)
    dumped = connection.model_dump(mode="json", by_alias=True)
    assert dumped == expected
    # The dump is itself a valid body for the same connection.
    assert Connection.model_validate_json(json.dumps(dumped)) == connection
    for key in ("connectedAt", "lastActiveAt"):
        if key in body:
            assert getattr(
                connection, "connected_at" if key == "connectedAt" else "last_active_at"
            ) == (parse_timestamp(body[key]))
