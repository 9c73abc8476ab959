"""Hostile servers: whatever a server does, a lookup ends by its deadline, in bounded memory.

Each case is one lookup against a raw-socket server on 127.0.0.1 that stalls in a way the read
timeout never catches (every byte arrives well within it): the status line and headers trickled,
``100 Continue`` forever, a chunk-size line trickled, trailer lines after the last chunk, the
body or a gzip stream that inflates to nothing trickled, and the same stalls in the token
exchange. Each server stalls for longer than deadline + margin and then completes a *valid*
answer, so a client that ignores its deadline succeeds late instead of failing in time. Then
answers too large or malformed in their head: 90 header lines of 65,000 bytes (each inside
http.client's own limits), and a ``Content-Length`` that ``str.isdigit`` accepts and ``int``
refuses. Every case adds a row to the "hostile servers" table printed after the session.
"""

from __future__ import annotations

import gc
import io
import socket
import time
import tracemalloc
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from pulumi_yc_websocket import _cli as cli
from pulumi_yc_websocket._auth import Credentials, IamToken, OAuthToken
from pulumi_yc_websocket._errors import DeadlineExceededError, InvalidResponseError
from pulumi_yc_websocket._retry import RetryPolicy
from tests.support.clients import explicit_client
from tests.support.emulator import WRITER_TOKEN, Emulator

from . import _report
from ._raw_server import RawServer, Respond, head

DEADLINE = 0.5
"""The lookup's deadline in every case: short, so the suite stays fast."""
MARGIN = 0.5
"""What the tests allow past the deadline: the guarantee (README) is far tighter, but a loaded
2-core machine can delay any thread by a few hundred milliseconds."""
HOLD = DEADLINE + MARGIN + 1.0
"""How long each server stalls before it completes a valid answer."""
READ_TIMEOUT = 10.0
"""Far above the deadline and never reached by a trickle: only the deadline can end a case."""
POLICY = RetryPolicy(initial=0.005, maximum=0.05)
MEMORY_LIMIT = 2 * 1024 * 1024

BODY = b'{"id": "abc", "gatewayId": "d5dhostileserver00001"}'
IAM_BODY = b'{"iamToken": "t1.hostile.exchange", "expiresAt": "2999-01-01T00:00:00Z"}'


def _stall(seconds: float, step: Callable[[], None]) -> None:
    """Call ``step`` until ``seconds`` have passed (an OSError, the client gone, ends it)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        step()


def _chunked(body: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(body), body)


def headers_trickled(body: bytes) -> Respond:
    """The status line and headers a byte every 20 ms, from the first byte on."""

    def respond(sock: socket.socket, _: bytes) -> None:
        lines = iter(
            b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-Slow-%02d: x\r\n" % i for i in range(50))
        )
        _stall(HOLD, lambda: (sock.sendall(bytes([next(lines)])), time.sleep(0.02)))
        rest = bytes(lines)
        sock.sendall(rest + b"Content-Length: %d\r\n\r\n" % len(body) + body)

    return respond


def continue_forever(body: bytes) -> Respond:
    """``HTTP/1.1 100 Continue`` every 10 ms (http.client skips each and reads on)."""

    def respond(sock: socket.socket, _: bytes) -> None:
        _stall(HOLD, lambda: (sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n"), time.sleep(0.01)))
        sock.sendall(head(Content_Type="application/json", Content_Length=len(body)) + body)

    return respond


def chunk_size_trickled(body: bytes) -> Respond:
    """A chunk-size line a byte every 100 ms: leading zeros, then the real size."""

    def respond(sock: socket.socket, _: bytes) -> None:
        sock.sendall(head(Content_Type="application/json", Transfer_Encoding="chunked"))
        _stall(HOLD, lambda: (sock.sendall(b"0"), time.sleep(0.1)))
        sock.sendall(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))

    return respond


def trailers_forever(body: bytes) -> Respond:
    """A valid chunked body and its last chunk, then a trailer line every 10 ms."""

    def respond(sock: socket.socket, _: bytes) -> None:
        sock.sendall(head(Content_Type="application/json", Transfer_Encoding="chunked"))
        sock.sendall(_chunked(body) + b"0\r\n")
        _stall(HOLD, lambda: (sock.sendall(b"X-Trailer: x\r\n"), time.sleep(0.01)))
        sock.sendall(b"\r\n")

    return respond


def body_trickled(body: bytes) -> Respond:
    """A Content-Length body (padded with JSON whitespace), a byte every 20 ms."""
    body += b" " * 1000

    def respond(sock: socket.socket, _: bytes) -> None:
        sock.sendall(head(Content_Type="application/json", Content_Length=len(body)))
        rest = iter(body)
        _stall(HOLD, lambda: (sock.sendall(bytes([next(rest)])), time.sleep(0.02)))
        sock.sendall(bytes(rest))

    return respond


def gzip_trickled(body: bytes) -> Respond:
    """gzip that inflates to nothing (empty stored blocks) every 20 ms, then the real body."""

    def respond(sock: socket.socket, _: bytes) -> None:
        sock.sendall(head(Content_Encoding="gzip", Transfer_Encoding="chunked"))
        compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        sock.sendall(_chunked(compressor.compress(b"") + compressor.flush(zlib.Z_SYNC_FLUSH)))
        _stall(
            HOLD,
            lambda: (sock.sendall(_chunked(b"\x00\x00\x00\xff\xff")), time.sleep(0.02)),
        )
        sock.sendall(_chunked(compressor.compress(body) + compressor.flush()) + b"0\r\n\r\n")

    return respond


STALLS: dict[str, Callable[[bytes], Respond]] = {
    "status line and headers trickled": headers_trickled,
    "100 Continue every 10 ms": continue_forever,
    "chunk-size line trickled": chunk_size_trickled,
    "trailer lines after the last chunk": trailers_forever,
    "body trickled": body_trickled,
    "gzip inflating to nothing": gzip_trickled,
}


@dataclass
class Outcome:
    error: BaseException | None
    elapsed: float
    peak: int

    @property
    def name(self) -> str:
        return "success" if self.error is None else type(self.error).__name__


def look_up(
    emu: Emulator, url: str, credentials: Credentials | None = None, **kwargs: Any
) -> Outcome:
    """One lookup of "abc" at ``url``, timed and under tracemalloc."""
    client = emu.track(
        explicit_client(
            url,
            credentials or IamToken(WRITER_TOKEN, "the hostile-server tests"),
            environ=emu.env,
            timeout=DEADLINE,
            read_timeout=READ_TIMEOUT,
            retry=POLICY,
            **kwargs,
        )
    )
    gc.collect()
    tracemalloc.start()
    began = time.perf_counter()
    error: BaseException | None = None
    try:
        client.get("abc")
    except Exception as exc:
        error = exc
    elapsed = time.perf_counter() - began
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return Outcome(error, elapsed, peak)


def record(case: str, outcome: Outcome) -> None:
    _report.record_hostile(
        _report.HostileRow(case, DEADLINE, outcome.elapsed, outcome.name, outcome.peak)
    )


def assert_deadline_held(outcome: Outcome) -> None:
    assert type(outcome.error) is DeadlineExceededError, f"{outcome.name}: {outcome.error!r}"
    assert outcome.elapsed <= DEADLINE + MARGIN, (
        f"took {outcome.elapsed:.2f}s ({outcome.elapsed / DEADLINE:.1f}x the deadline)"
    )
    assert outcome.peak < MEMORY_LIMIT, f"peak {outcome.peak / 1e6:.1f} MB"


# -- the deadline ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(STALLS))
def test_deadline_holds_against_a_stalling_connection_service(
    emu: Emulator, raw_server: Callable[[Respond], RawServer], case: str
) -> None:
    server = raw_server(STALLS[case](BODY))
    outcome = look_up(emu, server.url)
    record(case, outcome)
    assert_deadline_held(outcome)
    assert "deadline of 0.5s passed" in str(outcome.error)
    assert len(server.heads) == 1, "a passed deadline was retried"


@pytest.mark.parametrize("case", ["status line and headers trickled", "100 Continue every 10 ms"])
def test_deadline_holds_against_a_stalling_token_exchange(
    emu: Emulator, raw_server: Callable[[Respond], RawServer], case: str
) -> None:
    """The deadline covers the OAuth exchange too: the Connection service is never reached."""
    server = raw_server(STALLS[case](IAM_BODY))
    credentials = OAuthToken("y0_hostileServerOAuthToken0001", server.url, "the test")
    outcome = look_up(emu, emu.url, credentials)
    record(f"IAM exchange: {case}", outcome)
    assert_deadline_held(outcome)
    assert getattr(outcome.error, "service", None) == "iam"
    assert emu.requests("connections") == []


def test_the_cli_timeout_is_a_deadline(
    emu: Emulator, raw_server: Callable[[Respond], RawServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--timeout`` ended a trailer flood only after it stopped, with exit code 0."""
    server = raw_server(trailers_forever(BODY))
    monkeypatch.setenv("YC_IAM_TOKEN", WRITER_TOKEN)
    out, err = io.StringIO(), io.StringIO()
    began = time.perf_counter()
    code = cli.main(["get", "abc", "--endpoint", server.url, "--timeout", str(DEADLINE)], out, err)
    elapsed = time.perf_counter() - began
    assert code == cli.EXIT_ERROR
    assert out.getvalue() == ""
    assert err.getvalue().startswith(
        f"pulumi-yc-websocket: error: The lookup's deadline of {DEADLINE:g}s passed"
    )
    assert elapsed <= DEADLINE + MARGIN, f"took {elapsed:.2f}s"


def test_every_stall_completes_a_valid_answer_given_time(
    emu: Emulator, raw_server: Callable[[Respond], RawServer]
) -> None:
    """The cases are fair: with time enough, each stalling server's answer is a valid lookup."""

    def patient_lookup(stall: Callable[[bytes], Respond]) -> str:
        server = raw_server(stall(BODY))
        client = emu.track(
            explicit_client(
                server.url, IamToken(WRITER_TOKEN), environ=emu.env, timeout=HOLD + 5, retry=POLICY
            )
        )
        return client.get("abc").gateway_id

    with ThreadPoolExecutor(len(STALLS)) as pool:
        found = dict(zip(STALLS, pool.map(patient_lookup, STALLS.values()), strict=True))
    assert found == dict.fromkeys(STALLS, "d5dhostileserver00001")


# -- the head of the answer ------------------------------------------------------------------

FLOOD_LINE = b"X-Flood-%02d: " + b"a" * 65_000 + b"\r\n"
HEADER_FLOOD = (
    b"HTTP/1.1 200 OK\r\n"
    + b"".join(FLOOD_LINE % i for i in range(90))
    + b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(BODY)
    + BODY
)


def test_header_flood_is_refused_while_reading(
    emu: Emulator, raw_server: Callable[[Respond], RawServer]
) -> None:
    """90 header lines of 65,000 bytes (inside http.client's 100 x 64 KiB) are not all read."""
    server = raw_server(lambda sock, _: sock.sendall(HEADER_FLOOD))
    outcome = look_up(emu, server.url)
    record("90 header lines of 65,000 bytes", outcome)
    assert type(outcome.error) is InvalidResponseError, repr(outcome.error)
    assert str(outcome.error).startswith(
        "The status line and headers of the answer of connections are larger than 65536 bytes "
        "and were not read."
    )
    assert outcome.peak < MEMORY_LIMIT, f"peak {outcome.peak / 1e6:.1f} MB"
    assert len(server.heads) == 1, "an oversized head was retried"


def test_headers_just_inside_the_cap_are_read(
    emu: Emulator, raw_server: Callable[[Respond], RawServer]
) -> None:
    status_and_blank = b"HTTP/1.1 200 OK\r\n\r\n"
    fixed = b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(BODY)
    filler = 65536 - len(status_and_blank) - len(fixed) - len(b"X-Fill: \r\n")
    data = b"HTTP/1.1 200 OK\r\n" + fixed + b"X-Fill: " + b"f" * filler + b"\r\n\r\n" + BODY
    server = raw_server(lambda sock, _: sock.sendall(data))
    outcome = look_up(emu, server.url)
    assert outcome.error is None, repr(outcome.error)


@pytest.mark.parametrize("declared", ["\u00b2", "\u00b9", "\u00b3", "1\u00b2", "-5", "abc"])
def test_malformed_content_length_is_a_typed_error(
    emu: Emulator, raw_server: Callable[[Respond], RawServer], declared: str
) -> None:
    """``'²'.isdigit()`` is true and ``int('²')`` fails: neither may escape as a bare ValueError."""
    data = head(Content_Type="application/json", Content_Length=declared) + BODY
    server = raw_server(lambda sock, _: sock.sendall(data))
    outcome = look_up(emu, server.url)
    if declared == "\u00b2":
        record("Content-Length: \u00b2", outcome)
    assert type(outcome.error) is InvalidResponseError, repr(outcome.error)
    assert str(outcome.error).startswith(
        "The answer of connections has an invalid Content-Length header"
    )
    assert len(server.heads) == 1, "a malformed answer was retried"


@pytest.mark.parametrize("digits", [19, 5000])
def test_absurdly_long_content_length_is_oversized(
    emu: Emulator, raw_server: Callable[[Respond], RawServer], digits: int
) -> None:
    """``int()`` refuses more than 4,300 digits: a length that long is just too large."""
    data = head(Content_Type="application/json", Content_Length="9" * digits) + BODY
    server = raw_server(lambda sock, _: sock.sendall(data))
    outcome = look_up(emu, server.url)
    assert type(outcome.error) is InvalidResponseError, repr(outcome.error)
    assert "is larger than 262144 bytes and was not read" in str(outcome.error)


def test_malformed_content_length_through_the_cli(
    emu: Emulator, raw_server: Callable[[Respond], RawServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = head(Content_Type="application/json", Content_Length="\u00b2") + BODY
    server = raw_server(lambda sock, _: sock.sendall(data))
    monkeypatch.setenv("YC_IAM_TOKEN", WRITER_TOKEN)
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["get", "abc", "--endpoint", server.url, "--timeout", "2"], out, err)
    assert code == cli.EXIT_ERROR
    assert out.getvalue() == ""
    assert err.getvalue().startswith("pulumi-yc-websocket: error: The answer of connections has")
    assert err.getvalue().count("\n") == 1
