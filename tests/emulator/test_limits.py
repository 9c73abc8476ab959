"""The emulator's memory stays bounded whatever it is sent: measured on the command line's process.

The request log keeps the last 1,000 requests, and of each at most 4 KiB of body and of headers;
bodies over 1 MiB, header blocks over 32 KiB and request lines over 8 KiB are refused before they
are read whole. The figures are the RSS of the emulator process (``/proc/PID/status``), measured
before and after a load, with a margin for a noisy machine.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from pulumi_yc_websocket.emulator import EmulatorBackend, EmulatorServer, RecordedRequest
from pulumi_yc_websocket.emulator._backend import Headers

MODULE = [sys.executable, "-m", "pulumi_yc_websocket.emulator"]
PREFIX = "/apigateways/websocket/v1/connections/"
TOKEN = "t1.limitsTestToken9euelZqRk.bGltaXRzLXRlc3QtdG9rZW4tc2lnbmF0dXJl"
LOG_LIMIT = 1000
MIB = 1 << 20

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")


class Emulator:
    """The emulator's command line in a subprocess, and its memory."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        assert process.stdout is not None
        first = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", first)
        assert match, first
        self.port = int(match.group(1))

    def rss_mib(self) -> float:
        """Resident memory of the emulator process now."""
        status = Path(f"/proc/{self.process.pid}/status").read_text(encoding="ascii")
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        assert match
        return int(match.group(1)) / 1024

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def admin_get(self, path: str) -> object:
        conn = self.connection()
        try:
            conn.request("GET", f"/_emulator/{path}")
            response = conn.getresponse()
            assert response.status == 200
            return json.loads(response.read())
        finally:
            conn.close()


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    seed = tmp_path / "seed.json"
    seed.write_text(
        json.dumps({"iamTokens": [{"token": TOKEN}], "connections": [{"id": "c"}]}),
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [*MODULE, "--port", "0", "--seed", str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        yield Emulator(process)
    finally:
        process.kill()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def _lookups(emulator: Emulator, ids: list[str]) -> None:
    conn = emulator.connection()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    try:
        for connection_id in ids:
            conn.request("GET", PREFIX + connection_id, headers=headers)
            response = conn.getresponse()
            response.read()
            assert response.status in (200, 404)
    finally:
        conn.close()


def _raw(emulator: Emulator, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
    """Send a request byte for byte (all of it, even past a refusal); the status and body."""
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=30) as sock:
        # Refused before it was all read, the answer is still there to read.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(head + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def _iam_post(host: str, body_size: int, headers: list[tuple[str, str]]) -> tuple[bytes, bytes]:
    body = b'{"jwt": "' + b"x" * (body_size - 11) + b'"}'
    lines = [
        "POST /iam/v1/tokens HTTP/1.1",
        f"Host: {host}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in headers),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"), body


def _one_line_status(body: bytes) -> str:
    error = json.loads(body)
    assert set(error) == {"code", "message", "details"}
    message: str = error["message"]
    assert "\n" not in message
    return message


def test_the_log_keeps_the_last_1000_requests_and_memory_stays_flat(emulator: Emulator) -> None:
    _lookups(emulator, ["c"] * (LOG_LIMIT + 500))
    before = emulator.rss_mib()
    _lookups(emulator, ["c"] * 5 * LOG_LIMIT + [f"last-{i}" for i in range(3)])
    grown = emulator.rss_mib() - before
    log = emulator.admin_get("requests")
    assert isinstance(log, dict)
    assert len(log["requests"]) == LOG_LIMIT
    assert [r["connectionId"] for r in log["requests"][-4:]] == ["c", "last-0", "last-1", "last-2"]
    # Unbounded, 5,000 more lookups kept about 6.5 MiB more.
    assert grown < 2, f"RSS grew {grown:.1f} MiB over 5,000 lookups"


def test_large_requests_leave_little_in_the_log(emulator: Emulator) -> None:
    host = f"127.0.0.1:{emulator.port}"
    # Just under every cap: a 1 MiB body, 28 KB of headers.
    head, body = _iam_post(host, MIB, [(f"X-Pad-{i}", "p" * 4000) for i in range(7)])
    for _ in range(LOG_LIMIT // 10):  # the log's first entries, and the allocator's warm-up
        assert _raw(emulator, head, body)[0] == 400
    before = emulator.rss_mib()
    for _ in range(100):
        assert _raw(emulator, head, body)[0] == 400
    grown = emulator.rss_mib() - before
    # Kept whole, each would keep 1 MiB.
    assert grown < 8, f"RSS grew {grown:.1f} MiB over 100 requests of 1 MiB"


def test_a_header_flood_is_refused_before_it_is_read(emulator: Emulator) -> None:
    host = f"127.0.0.1:{emulator.port}"
    head, body = _iam_post(host, MIB, [(f"X-Pad-{i}", "p" * 64_000) for i in range(24)])
    assert _raw(emulator, head, body)[0] == 431
    before = emulator.rss_mib()
    for _ in range(100):
        status, answer = _raw(emulator, head, body)
        assert status == 431
        assert _one_line_status(answer) == (
            "Request headers too large: at most 32 KiB of header lines"
        )
    grown = emulator.rss_mib() - before
    assert grown < 8, f"RSS grew {grown:.1f} MiB over 100 header floods"
    log = emulator.admin_get("requests")
    assert isinstance(log, dict)
    assert [(r["service"], r["status"]) for r in log["requests"]] == [("iam", 431)] * 101


def test_a_body_over_1_mib_is_refused_before_it_is_read(emulator: Emulator) -> None:
    host = f"127.0.0.1:{emulator.port}"
    head, body = _iam_post(host, MIB + 1, [])
    status, answer = _raw(emulator, head)  # the body is never sent: refused on its length
    assert status == 413
    assert _one_line_status(answer) == "Request body too large: at most 1 MiB"
    status, answer = _raw(emulator, head, body)  # sent whole: the answer is still readable
    assert status == 413
    waiting = head.replace(b"Connection: close", b"Connection: close\r\nExpect: 100-continue")
    assert _raw(emulator, waiting)[0] == 413  # no "100 Continue" first: the body is not asked for


def test_a_request_line_over_8_kib_is_refused(emulator: Emulator) -> None:
    host = f"127.0.0.1:{emulator.port}"
    long_path = PREFIX + "x" * 8200
    head = "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n"
    status, answer = _raw(emulator, head.format(long_path, host).encode())
    assert status == 414
    assert _one_line_status(answer) == "Request line too long: at most 8 KiB"
    assert _raw(emulator, head.format(PREFIX + "c", host).encode())[0] == 401


def test_help_states_the_limits() -> None:
    helped = subprocess.run([*MODULE, "--help"], capture_output=True, text=True, timeout=30)
    text = " ".join(helped.stdout.split())
    assert "keeps the last 1000 requests" in text
    assert "of each at most 4 KiB of body and 4 KiB of headers" in text
    assert "bodies over 1 MiB (413)" in text
    assert "header lines over 32 KiB in all (431)" in text
    assert "request lines over 8 KiB (414)" in text


# -- the same limits in the Python API ------------------------------------------------------------


def test_the_log_keeps_4_kib_of_each_body_and_of_its_headers(
    http: requests.Session, server: EmulatorServer
) -> None:
    padding = {f"X-Pad-{i}": "p" * 4000 for i in range(7)}
    body = b'{"jwt": "' + b"x" * (MIB - 11) + b'"}'
    response = http.post(f"{server.url}/iam/v1/tokens", data=body, headers=padding, timeout=30)
    assert response.status_code == 400
    small = http.post(f"{server.url}/iam/v1/tokens", json={"jwt": "a.b.c"}, timeout=5)
    assert small.status_code == 400
    large, whole = server.backend.requests()
    assert large.truncated
    assert large.body == body[:4096]
    assert sum(len(name) + len(value) + 4 for name, value in large.headers.items()) == 4096
    assert large.headers["host"] == f"127.0.0.1:{server.port}"
    assert not whole.truncated
    assert whole.body == b'{"jwt": "a.b.c"}'


def test_a_backend_keeps_as_many_requests_as_it_is_told() -> None:
    def request(n: int) -> RecordedRequest:
        return RecordedRequest("connections", "GET", f"/{n}", None, Headers(), b"", 404, 0.0)

    limited = EmulatorBackend(log_limit=3)
    unlimited = EmulatorBackend()
    for n in range(5):
        limited.record(request(n))
        unlimited.record(request(n))
    assert [r.raw_path for r in limited.requests()] == ["/2", "/3", "/4"]
    assert len(unlimited.requests()) == 5
    assert len(EmulatorBackend.from_seed({}, log_limit=1).requests()) == 0
    with pytest.raises(ValueError, match="log_limit must be at least 1"):
        EmulatorBackend(log_limit=0)
