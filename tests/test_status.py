"""google.rpc.Status error bodies, proxies' non-JSON answers, and Retry-After headers."""

from __future__ import annotations

import json
import time
from email.utils import formatdate
from typing import Any

import pytest

from pulumi_yc_websocket._errors import ApiError
from pulumi_yc_websocket._redaction import SECRETS
from pulumi_yc_websocket._status import ErrorBody, parse_error_body, parse_retry_after

NGINX_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def status_body(code: int, message: str, *details: dict[str, str]) -> bytes:
    return json.dumps({"code": code, "message": message, "details": list(details)}).encode()


REQUEST_INFO = {
    "@type": "type.googleapis.com/google.rpc.RequestInfo",
    "requestId": "0b7c8e4c-1d4e-4b8e-9f57-3f0f4b2c1a11",
}


def test_rpc_status_with_request_info() -> None:
    body = status_body(5, "Connection abc not found", REQUEST_INFO)
    assert parse_error_body(body, {"x-request-id": "from-header"}) == ErrorBody(
        5, "Connection abc not found", "0b7c8e4c-1d4e-4b8e-9f57-3f0f4b2c1a11"
    )


def test_request_id_falls_back_to_the_header() -> None:
    body = status_body(7, "Permission denied", {"@type": "type.googleapis.com/x.Other"})
    assert parse_error_body(body, {"x-request-id": "hdr-1"}) == ErrorBody(
        7, "Permission denied", "hdr-1"
    )
    assert parse_error_body(status_body(7, "Permission denied"), {}) == ErrorBody(
        7, "Permission denied", None
    )


def test_first_detail_with_a_request_id_wins() -> None:
    body = status_body(
        14,
        "Unavailable",
        {"@type": "type.googleapis.com/google.rpc.DebugInfo", "detail": "x"},
        REQUEST_INFO,
        {"@type": "type.googleapis.com/google.rpc.RequestInfo", "requestId": "second"},
    )
    assert parse_error_body(body, {}).request_id == "0b7c8e4c-1d4e-4b8e-9f57-3f0f4b2c1a11"


def test_unknown_keys_and_missing_details() -> None:
    body = json.dumps({"code": 8, "message": "Quota exceeded", "extra": {"a": 1}}).encode()
    assert parse_error_body(body, {}) == ErrorBody(8, "Quota exceeded", None)
    assert parse_error_body(b'{"message": "only a message"}', {}) == ErrorBody(
        None, "only a message", None
    )


def test_nginx_html_becomes_a_short_excerpt() -> None:
    assert parse_error_body(NGINX_502, {"x-request-id": "r-1"}) == ErrorBody(
        None, "502 Bad Gateway 502 Bad Gateway nginx", "r-1"
    )


def test_long_text_is_cut_to_120_characters() -> None:
    body = ("<p>" + "word " * 100 + "</p>").encode()
    message = parse_error_body(body, {}).message
    assert len(message) == 120
    assert message == ("word " * 24)[:119] + "…"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", ""),
        (b"upstream connect error\r\n\tor disconnect", "upstream connect error or disconnect"),
        (b"\xff\xfebad bytes", "\ufffd\ufffdbad bytes"),
        (b"[1, 2]", "[1, 2]"),
        (b"null", "null"),
        (b'{"error": "rate limited"}', '{"error": "rate limited"}'),
        (b'{"code": "not a number"}', '{"code": "not a number"}'),
    ],
)
def test_non_status_bodies_keep_their_text(body: bytes, message: str) -> None:
    assert parse_error_body(body, {}) == ErrorBody(None, message, None)


def test_status_messages_become_one_line() -> None:
    body = status_body(3, "Request validation error:\n  connection_id: required\r\n\x00end")
    assert parse_error_body(body, {}).message == (
        "Request validation error: connection_id: required \\x00end"
    )


ESCAPES = "\x1b]0;owned\x07\x1b[2J\x9b31m\u202e\x08"
ESCAPED = "\\x1b]0;owned\\x07\\x1b[2J\\x9b31m\\u202e\\x08"


def test_control_characters_in_messages_are_escaped_not_passed_on() -> None:
    """ESC, OSC, BEL, C1 CSI, a bidi override: shown as escapes, never sent to a terminal."""
    parsed = parse_error_body(status_body(7, f"denied{ESCAPES}"), {})
    assert parsed.message == f"denied{ESCAPED}"
    assert parsed.message.isprintable()


@pytest.mark.parametrize(
    ("where", "make"),
    [
        ("details", lambda rid: (status_body(7, "x", {**REQUEST_INFO, "requestId": rid}), {})),
        ("header", lambda rid: (status_body(7, "x"), {"x-request-id": rid})),
        ("header of a non-JSON answer", lambda rid: (NGINX_502, {"x-request-id": rid})),
    ],
)
def test_request_ids_are_one_line_escaped_and_capped(where: str, make: Any) -> None:
    body, headers = make(f"abc\n{ESCAPES}def")
    assert parse_error_body(body, headers).request_id == f"abc {ESCAPED}def"
    body, headers = make("r" * 200_000)
    request_id = parse_error_body(body, headers).request_id
    assert request_id == "r" * 127 + "\u2026"


def test_very_long_status_messages_are_cut() -> None:
    parsed = parse_error_body(status_body(3, "x" * 5000), {})
    assert len(parsed.message) == 1000
    assert parsed.message.endswith("x…")


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, None),
        ("", None),
        ("5", 5),
        (" 7 ", 7),
        ("0", 0),
        ("120", 120),
        ("-1", None),
        ("1.5", None),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0),  # a date in the past: no wait
    ],
)
def test_retry_after_values(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value) == seconds


def test_retry_after_http_date_in_the_future() -> None:
    value = formatdate(time.time() + 30, usegmt=True)
    seconds = parse_retry_after(value)
    assert seconds is not None
    assert 28.0 < seconds <= 30.0


def test_remembered_credentials_are_redacted_wherever_server_text_goes() -> None:
    secret = "y0_AgAAAAAStatusTestRememberedCredential"
    SECRETS.note(secret)
    parsed = parse_error_body(status_body(16, f"bad header: Bearer {secret}"), {})
    assert parsed.message == "bad header: Bearer ***"
    error = ApiError(f"about {secret}", message=secret, request_id=f"rid-{secret}")
    assert secret not in f"{error} {error!r} {vars(error)}"
    assert (error.summary, error.message, error.request_id) == ("about ***", "***", "rid-***")
