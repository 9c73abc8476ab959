"""Hostile answers: each ends the lookup with a typed error, in bounded memory and time.

Oversized bodies (declared, chunked, close-delimited, lying Content-Length, compression bombs),
100k-level JSON, wrong types, absurd timestamps, invalid UTF-8, broken HTTP framing, odd
Retry-After values, redirects to another emulator (which must see nothing: the token never
follows), and service text reaching a terminal via the CLI. Servers that stall past the deadline
are in ``test_hostile_server.py``. Answers the emulator cannot give come from
``_raw_server.RawServer``. Memory is the tracemalloc peak of the lookup (all threads, this one's
server included).
"""

from __future__ import annotations

import functools
import gc
import gzip
import io
import json
import socket
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pulumi_yc_websocket import _cli as cli
from pulumi_yc_websocket._auth import IamToken, OAuthToken
from pulumi_yc_websocket._client import ConnectionsClient
from pulumi_yc_websocket._errors import (
    ApiError,
    ConnectionNotFoundError,
    DeadlineExceededError,
    InvalidResponseError,
    ServiceUnavailableError,
    YandexWebSocketError,
)
from pulumi_yc_websocket._model import Connection
from pulumi_yc_websocket._retry import RetryPolicy
from pulumi_yc_websocket._transport import DEFAULT_MAX_BODY_BYTES
from pulumi_yc_websocket.emulator import NotJson, Oversized, Redirect, Status
from tests.support.clients import explicit_client
from tests.support.emulator import WRITER_ROLE, WRITER_TOKEN, Emulator, start_server

from ._raw_server import Respond, answer, head, raw_bytes

DEADLINE = 2.0
SLACK = 1.0
MEMORY_LIMIT = 4 * 1024 * 1024
POLICY = RetryPolicy(initial=0.005, maximum=0.05)
BIG = 10 * 1024 * 1024
BOMB_BYTES = 64 * 1024 * 1024
_CHUNK = b"x" * 65536


def chunked_stream(total: int) -> Respond:
    def respond(sock: socket.socket, _: bytes) -> None:
        sock.sendall(head(Content_Type="application/json", Transfer_Encoding="chunked"))
        sock.sendall(b'1\r\n"\r\n')
        sent = 0
        while sent < total:
            sock.sendall(b"%x\r\n" % len(_CHUNK) + _CHUNK + b"\r\n")
            sent += len(_CHUNK)
        sock.sendall(b"0\r\n\r\n")

    return respond


def close_delimited(total: int) -> Respond:
    def respond(sock: socket.socket, _: bytes) -> None:
        sock.sendall(head(Content_Type="application/json", Connection="close"))
        sock.sendall(b'{"id":"')
        sent = 0
        while sent < total:
            sock.sendall(_CHUNK)
            sent += len(_CHUNK)

    return respond


def lying_length(declared: int) -> Respond:
    def respond(sock: socket.socket, _: bytes) -> None:
        sock.sendall(head(Content_Type="application/json", Content_Length=declared) + b'{"id":')
        time.sleep(0.2)

    return respond


@functools.cache
def _bomb(encoding: str) -> bytes:
    plain = b" " * BOMB_BYTES
    if encoding == "gzip":
        return gzip.compress(plain, 6)
    return zlib.compress(plain, 6)


def nested(levels: int, opener: bytes = b"[", closer: bytes = b"]") -> bytes:
    return opener * levels + closer * levels


NESTED_ARRAYS = nested(100_000)
NESTED_IN_FIELD = b'{"id":"x","identity":' + nested(100_000) + b"}"
NESTED_OBJECTS = b'{"a":' * 100_000 + b"1" + b"}" * 100_000

WRONG_TYPES = {
    "id number": b'{"id": 5}',
    "id huge number": b'{"id": 1e999999}',
    "id object": b'{"id": {"a": 1}}',
    "id bool": b'{"id": true}',
    "gatewayId list": b'{"id": "x", "gatewayId": ["d5d"]}',
    "identity string": b'{"id": "x", "identity": "192.0.2.1"}',
    "identity list": b'{"id": "x", "identity": []}',
    "sourceIp number": b'{"id": "x", "identity": {"sourceIp": 3232235777}}',
    "connectedAt number": b'{"id": "x", "connectedAt": 1714557600}',
    "connectedAt object": b'{"id": "x", "connectedAt": {"seconds": 1714557600}}',
    "top-level list": b'[{"id": "x"}]',
    "top-level string": b'"x"',
    "top-level number": b"42",
    "top-level null": b"null",
    "empty body": b"",
    "whitespace body": b"   \r\n ",
    "trailing garbage": b'{"id": "x"} {"id": "y"}',
    "truncated JSON": b'{"id": "x", "gatewayId": "d5',
    "single quotes": b"{'id': 'x'}",
    "NaN": b'{"id": "x", "gatewayId": NaN}',
}

ABSURD_TIMESTAMPS = {
    "year 0": "0000-01-01T00:00:00Z",
    "year 10000": "10000-01-01T00:00:00Z",
    "10 fraction digits": "2024-05-01T10:00:00.1234567890Z",
    "30 fraction digits": "2024-05-01T10:00:00." + "1" * 30 + "Z",
    "February 30": "2024-02-30T00:00:00Z",
    "hour 25": "2024-05-01T25:00:00Z",
    "leap second": "2024-06-30T23:59:60Z",
    "offset +25:00": "2024-05-01T10:00:00+25:00",
    "offset without colon": "2024-05-01T10:00:00+0300",
    "no offset": "2024-05-01T10:00:00",
    "past max after UTC": "9999-12-31T23:59:59.999999999-00:01",
    "before min after UTC": "0001-01-01T00:00:00+00:01",
    "space separator": "2024-05-01 10:00:00Z",
    "empty fraction": "2024-05-01T10:00:00.Z",
    "arabic digits": "\u0662\u0660\u0662\u0664-05-01T10:00:00Z",
    "fullwidth digits": "\uff12\uff10\uff12\uff14-05-01T10:00:00Z",
    "unix seconds as string": "1714557600",
    "trailing newline": "2024-05-01T10:00:00Z\n",
    "very long": "2024-05-01T10:00:00Z" + " " * 100_000,
}

INVALID_UTF8 = {
    "0xFF": b'{"id": "\xff"}',
    "overlong slash": b'{"id": "\xc0\xaf"}',
    "encoded surrogate": b'{"id": "\xed\xa0\x80"}',
    "truncated sequence": b'{"id": "\xe6\x97"}',
    "lone surrogate escape": b'{"id": "\\ud800"}',
    "reversed surrogate escapes": b'{"id": "\\udc00\\ud800"}',
    "latin-1 body": '{"id": "caf\u00e9"}'.encode("latin-1"),
    "UTF-16 body": '{"id": "x"}'.encode("utf-16"),
}


class Measured:
    def __init__(self, outcome: Any, peak: int, elapsed: float) -> None:
        self.outcome = outcome
        self.peak = peak
        self.elapsed = elapsed


def measure(call: Callable[[], Any]) -> Measured:
    """Run ``call`` under tracemalloc; its result or exception, peak bytes and seconds."""
    gc.collect()
    tracemalloc.start()
    began = time.perf_counter()
    try:
        outcome = call()
    except Exception as error:
        outcome = error
    elapsed = time.perf_counter() - began
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return Measured(outcome, peak, elapsed)


def client_for(
    url: str, emu: Emulator, credentials: Any = None, **kwargs: Any
) -> ConnectionsClient:
    kwargs.setdefault("timeout", DEADLINE)
    kwargs.setdefault("read_timeout", 0.5)
    kwargs.setdefault("retry", POLICY)
    return emu.track(
        explicit_client(
            url,
            credentials or IamToken(WRITER_TOKEN, "the hostile-response tests"),
            environ=emu.env,
            **kwargs,
        )
    )


def assert_bounded(result: Measured, *types: type[Exception]) -> None:
    assert type(result.outcome) in types, f"{type(result.outcome).__name__}: {result.outcome!r}"
    assert str(result.outcome)
    assert result.peak < MEMORY_LIMIT, f"peak {result.peak / 1e6:.1f} MB"
    assert result.elapsed <= DEADLINE + SLACK, f"took {result.elapsed:.2f}s"


# -- sizes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("n_bytes", [DEFAULT_MAX_BODY_BYTES + 1, BIG])
def test_oversized_with_content_length(emu: Emulator, n_bytes: int) -> None:
    emu.backend.faults.push("connections", Oversized(n_bytes))
    result = measure(lambda: client_for(emu.url, emu).get("abc"))
    assert_bounded(result, InvalidResponseError)
    assert len(emu.requests("connections")) == 1, "an oversized answer was retried"


@pytest.mark.parametrize(
    "respond",
    [chunked_stream(BIG), close_delimited(BIG), lying_length(10**15)],
    ids=["chunked", "close-delimited", "Content-Length 10**15"],
)
def test_oversized_streamed(emu: Emulator, raw_server: Any, respond: Respond) -> None:
    server = raw_server(respond)
    result = measure(lambda: client_for(server.url, emu).get("abc"))
    assert_bounded(result, InvalidResponseError)
    assert len(server.heads) == 1


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compression_bomb(emu: Emulator, raw_server: Any, encoding: str) -> None:
    bomb = _bomb(encoding)
    assert len(bomb) < DEFAULT_MAX_BODY_BYTES  # small on the wire, 64 MiB once inflated
    server = raw_server(answer(bomb, Content_Encoding=encoding))
    result = measure(lambda: client_for(server.url, emu).get("abc"))
    assert_bounded(result, InvalidResponseError)


VALID_BODY = b'{"id": "abc", "gatewayId": "d5dcompressed0000001"}'


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("gzip", gzip.compress(VALID_BODY)),
        ("x-gzip", gzip.compress(VALID_BODY)),
        ("deflate", zlib.compress(VALID_BODY)),
        ("deflate", _raw_deflate(VALID_BODY)),
        ("identity", VALID_BODY),
    ],
    ids=["gzip", "x-gzip", "deflate (zlib)", "deflate (raw)", "identity"],
)
def test_compressed_answers_still_parse(
    emu: Emulator, raw_server: Any, encoding: str, body: bytes
) -> None:
    server = raw_server(answer(body, Content_Encoding=encoding))
    connection = client_for(server.url, emu).get("abc")
    assert connection.gateway_id == "d5dcompressed0000001"
    assert b"accept-encoding: gzip, deflate" in server.heads[0].lower()


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("gzip", b"\x1f\x8b\x08\x00garbage that is not deflate"),
        ("deflate", b"\xff\xfe not deflate at all"),
        ("br", VALID_BODY),
        ("gzip, gzip", gzip.compress(gzip.compress(VALID_BODY))),
        ("compress", VALID_BODY),
    ],
    ids=["corrupt gzip", "corrupt deflate", "brotli not asked for", "double gzip", "compress"],
)
def test_undecodable_answers(emu: Emulator, raw_server: Any, encoding: str, body: bytes) -> None:
    server = raw_server(answer(body, Content_Encoding=encoding))
    result = measure(lambda: client_for(server.url, emu).get("abc"))
    assert_bounded(result, InvalidResponseError)
    assert len(server.heads) == 1, "an undecodable answer was retried"


# -- structure -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [NESTED_ARRAYS, NESTED_IN_FIELD, NESTED_OBJECTS],
    ids=["100k arrays", "100k arrays in a field", "100k objects"],
)
def test_deeply_nested_json(emu: Emulator, raw_server: Any, body: bytes) -> None:
    server = raw_server(answer(body))
    result = measure(lambda: client_for(server.url, emu).get("abc"))
    assert_bounded(result, InvalidResponseError)


def test_deeply_nested_error_body(emu: Emulator, raw_server: Any) -> None:
    server = raw_server(answer(NESTED_ARRAYS, "503 Service Unavailable"))
    result = measure(lambda: client_for(server.url, emu).get("abc"))
    assert_bounded(result, ServiceUnavailableError)
    assert len(str(result.outcome)) < 2000


def test_deeply_nested_iam_answer(emu: Emulator, raw_server: Any) -> None:
    """OAuth exchange answered with 100k levels: a typed error naming IAM."""
    server = raw_server(answer(NESTED_ARRAYS))
    credentials = OAuthToken("y0_hostileResponseOAuth", server.url, "the test")
    result = measure(lambda: client_for(emu.url, emu, credentials).get("abc"))
    assert_bounded(result, InvalidResponseError)
    assert result.outcome.service == "iam"
    assert emu.requests("connections") == []


@pytest.mark.parametrize("body", list(WRONG_TYPES.values()), ids=list(WRONG_TYPES))
def test_wrong_types(emu: Emulator, raw_server: Any, body: bytes) -> None:
    server = raw_server(answer(body))
    result = measure(lambda: client_for(server.url, emu).get("abc"))
    assert_bounded(result, InvalidResponseError)
    assert len(server.heads) == 1, "an invalid answer was retried"


@pytest.mark.parametrize("field", ["connectedAt", "lastActiveAt"])
@pytest.mark.parametrize("stamp", list(ABSURD_TIMESTAMPS.values()), ids=list(ABSURD_TIMESTAMPS))
def test_absurd_timestamps(emu: Emulator, field: str, stamp: str) -> None:
    emu.backend.add_connection(id="abc", **{_snake(field): stamp})
    result = measure(lambda: client_for(emu.url, emu).get("abc"))
    assert_bounded(result, InvalidResponseError)


@pytest.mark.parametrize(
    ("stamp", "nanos"),
    [
        ("0001-01-01T00:00:00Z", 0),
        ("9999-12-31T23:59:59.999999999Z", 999_999_999),
        ("2024-05-01t10:00:00.1z", 100_000_000),
        ("2024-05-01T13:00:00.000000001+03:00", 1),
    ],
)
def test_extreme_but_valid_timestamps_parse(emu: Emulator, stamp: str, nanos: int) -> None:
    emu.backend.add_connection(id="abc", connected_at=stamp)
    connection = client_for(emu.url, emu).get("abc")
    assert connection.connected_at is not None
    assert connection.connected_at.nanosecond == nanos


@pytest.mark.parametrize("body", list(INVALID_UTF8.values()), ids=list(INVALID_UTF8))
def test_invalid_utf8(emu: Emulator, raw_server: Any, body: bytes) -> None:
    server = raw_server(answer(body))
    result = measure(lambda: client_for(server.url, emu).get("abc"))
    assert_bounded(result, InvalidResponseError)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


# -- HTTP framing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"FOO BAR\r\n\r\n",
        b'{"id": "x"}',
        b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(200)) + b"\r\n",
        b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"",
    ],
    ids=[
        "bad status code",
        "not HTTP",
        "HTTP/0.9 body",
        "200 headers",
        "70 kB header line",
        "short body",
        "bad chunk size",
        "closed at once",
    ],
)
def test_broken_http(emu: Emulator, raw_server: Any, data: bytes) -> None:
    server = raw_server(raw_bytes(data))
    result = measure(lambda: client_for(server.url, emu).get("abc"))
    assert_bounded(result, ServiceUnavailableError, InvalidResponseError)
    assert len(server.heads) <= POLICY.max_attempts


@pytest.mark.parametrize(
    "body",
    [b"{}", b'{"error": "captive portal"}', b'{"id": "someone-else", "gatewayId": "d5d"}'],
    ids=["empty object", "proxy JSON", "another connection"],
)
def test_answer_about_another_connection(emu: Emulator, raw_server: Any, body: bytes) -> None:
    server = raw_server(answer(body))
    result = measure(lambda: client_for(server.url, emu).get("abc"))
    assert_bounded(result, InvalidResponseError)


def test_odd_status_code(emu: Emulator, raw_server: Any) -> None:
    server = raw_server(answer(b'{"code": 2, "message": "odd"}', "299 Odd"))
    result = measure(lambda: client_for(server.url, emu).get("abc"))
    # A 2xx that is not a Connection body is still just a body: it must parse or fail typed.
    assert isinstance(result.outcome, Connection | InvalidResponseError)
    server = raw_server(answer(b'{"code": 2, "message": "odd"}', "599 Odd"))
    result = measure(lambda: client_for(server.url, emu).get("abc"))
    assert_bounded(result, ApiError, ServiceUnavailableError)


def test_retry_after_with_thousands_of_digits(emu: Emulator) -> None:
    """An unusable Retry-After is ignored: the usual backoff, then the next answer counts."""
    emu.backend.faults.push("connections", Status(429, 8, retry_after="9" * 5000))
    result = measure(lambda: client_for(emu.url, emu).get("abc"))
    assert_bounded(result, ConnectionNotFoundError)  # nothing is seeded under "abc"
    assert emu.backend.count("connections") == 2


@pytest.mark.parametrize(
    "retry_after", ["-1", "1e3", "nan", "inf", "0x10", "Mon, 99 Foo 2024", " ", "\u0663"]
)
def test_odd_retry_after_values(emu: Emulator, retry_after: str) -> None:
    emu.backend.add_connection(id="abc")
    emu.backend.faults.push("connections", Status(429, 8, retry_after=retry_after))
    result = measure(lambda: client_for(emu.url, emu).get("abc"))
    assert isinstance(result.outcome, Connection), repr(result.outcome)
    assert result.elapsed <= DEADLINE + SLACK


# -- redirects -------------------------------------------------------------------------------


@pytest.fixture
def elsewhere() -> Iterator[Any]:
    """A second emulator, on another port: where a redirect points."""
    server = start_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_is_never_followed(emu: Emulator, elsewhere: Any, status: int) -> None:
    target = f"{elsewhere.url}/apigateways/websocket/v1/connections/abc"
    emu.backend.faults.push("connections", Redirect(target, status))
    result = measure(lambda: client_for(emu.url, emu).get("abc"))
    assert_bounded(result, InvalidResponseError)
    assert result.outcome.http_status == status
    assert elsewhere.backend.requests() == []
    assert elsewhere.accepted_connections == 0
    assert len(emu.requests("connections")) == 1


@pytest.mark.parametrize("status", [302, 307])
def test_iam_redirect_is_never_followed(emu: Emulator, elsewhere: Any, status: int) -> None:
    """The OAuth token travels in the body of the exchange: a redirect must not carry it off."""
    emu.backend.add_oauth_token("y0_redirectedOAuthToken", roles=[WRITER_ROLE])
    emu.backend.faults.push("iam", Redirect(f"{elsewhere.url}/iam/v1/tokens", status))
    credentials = OAuthToken("y0_redirectedOAuthToken", emu.url, "the test")
    result = measure(lambda: client_for(emu.url, emu, credentials).get("abc"))
    assert_bounded(result, InvalidResponseError)
    assert result.outcome.service == "iam"
    assert elsewhere.backend.requests() == []
    assert elsewhere.accepted_connections == 0
    assert emu.requests("connections") == []


# -- what reaches a terminal -----------------------------------------------------------------


def _controls(text: str) -> list[str]:
    return sorted({repr(c) for c in text if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) < 0xA0})


def _run_cli(emu: Emulator, monkeypatch: pytest.MonkeyPatch, *argv: str) -> tuple[int, str, str]:
    monkeypatch.setenv("YC_IAM_TOKEN", WRITER_TOKEN)
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["get", "--endpoint", emu.url, "--timeout", "5", *argv], out, err)
    return code, out.getvalue(), err.getvalue()


ESCAPES = "\x1b]0;owned\x07\x1b[2J\x9b31m\r\x08"


def test_service_error_messages_reach_stderr_without_control_characters(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu.backend.faults.push("connections", Status(403, 7, f"denied{ESCAPES}\nsecond line"))
    code, out, err = _run_cli(emu, monkeypatch, "abc")
    assert code == cli.EXIT_PERMISSION
    assert out == ""
    assert _controls(err) == []
    assert err.count("\n") == 1


def _status_403(request_id: str, header_request_id: str) -> Respond:
    body = json.dumps(
        {
            "code": 7,
            "message": "Permission denied",
            "details": [
                {"@type": "type.googleapis.com/google.rpc.RequestInfo", "requestId": request_id}
            ],
        }
    ).encode()
    return answer(body, "403 Forbidden", X_Request_Id=header_request_id)


@pytest.mark.parametrize(
    ("request_id", "header_request_id"),
    [
        (f"rid\n{ESCAPES}injected second line", "hdr"),
        ("", f"hdr{ESCAPES}"),
        ("r" * 200_000, "hdr"),
    ],
    ids=["newline and ANSI in the body", "ESC/OSC/BEL in X-Request-Id", "200,000 characters"],
)
def test_request_ids_reach_stderr_on_one_line_escaped_and_capped(
    emu: Emulator,
    raw_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    request_id: str,
    header_request_id: str,
) -> None:
    server = raw_server(_status_403(request_id, header_request_id))
    monkeypatch.setenv("YC_IAM_TOKEN", WRITER_TOKEN)
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["get", "abc", "--endpoint", server.url], out, err)
    assert code == cli.EXIT_PERMISSION
    assert _controls(err.getvalue()) == []
    assert err.getvalue().count("\n") == 1
    assert len(err.getvalue()) < 600, f"{len(err.getvalue())} characters"
    result = measure(lambda: client_for(server.url, emu).get("abc"))
    error = result.outcome
    assert str(error).isprintable()
    assert error.request_id.isprintable()
    assert len(error.request_id) <= 128
    if "\x1b" in request_id + header_request_id:
        assert "\\x1b]0;owned\\x07" in str(error)


def test_proxy_html_reaches_stderr_without_control_characters(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu.backend.faults.set_default("connections", NotJson(502))
    code, _, err = _run_cli(emu, monkeypatch, "abc", "--timeout", "0.5")
    emu.backend.faults.clear()
    assert code == cli.EXIT_ERROR
    assert _controls(err) == []
    assert "<" not in err


@pytest.mark.parametrize("output", ["table", "json"])
def test_connection_fields_reach_stdout_without_control_characters(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch, output: str
) -> None:
    """The user agent is whatever the WebSocket client sent: it must not drive the terminal."""
    emu.backend.add_connection(
        id="abc", gateway_id=f"d5d{ESCAPES}", user_agent=f"curl/8{ESCAPES}", source_ip="192.0.2.1"
    )
    code, out, _ = _run_cli(emu, monkeypatch, "abc", "--output", output)
    assert code == cli.EXIT_OK
    assert _controls(out) == []


def test_typed_errors_are_yandex_errors() -> None:
    # The provider and CLI catch YandexWebSocketError: every type asserted above must be one.
    for kind in (InvalidResponseError, ServiceUnavailableError, DeadlineExceededError, ApiError):
        assert issubclass(kind, YandexWebSocketError)
