"""Fixtures of the reliability suites, and the fault table printed at the end of the session.

Every test here gets the session emulator in a fresh state (``emu``, autouse: the shared
``emulator`` handle) and ``os.environ`` pointing the Connection, IAM and metadata endpoints at it
(so nothing can fall back to Yandex Cloud or to 169.254.169.254), with no credential, proxy or CA
variable; the package's process state is reset before and after (tests/conftest.py). Tests whose
faults answer late use an emulator of their own (``own_emulator``), so a late answer never lands
in the next test's request log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote

import pytest

from pulumi_yc_websocket.emulator import RecordedRequest
from tests.support.emulator import CONNECTIONS_PATH, Emulator

from . import _report
from ._raw_server import RawServer, Respond

ENV_TO_CLEAR = (
    "YC_TOKEN",
    "YC_IAM_TOKEN",
    "YC_SERVICE_ACCOUNT_KEY_FILE",
    "YC_ENDPOINT",
    "YC_APIGATEWAY_CONNECTIONS_ENDPOINT",
    "YC_IAM_ENDPOINT",
    "YC_METADATA_ADDR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    *(
        name
        for base in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
        for name in (base, base.lower())
    ),
)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    """Print the fault and hostile-server tables (whatever ``-s``/``-q`` say: to the terminal)."""
    rows, hostile, notes = _report.rows(), _report.hostile_rows(), _report.notes()
    if rows or notes:
        terminalreporter.section("reliability: lookups under injected faults")
        for line in _report.render(rows):
            terminalreporter.write_line(line)
        if rows:
            terminalreporter.write_line(
                "correct = exactly the seeded record; typed failures = allowed typed errors; "
                "retries = the client's retries (Connection + IAM); requests = at the emulator; "
                "latency per lookup"
            )
        for text in notes:
            terminalreporter.write_line(f"note: {text}")
    if hostile:
        terminalreporter.section("reliability: hostile servers")
        for line in _report.render_hostile(hostile):
            terminalreporter.write_line(line)
        terminalreporter.write_line(
            "one lookup per case against a raw-socket server on 127.0.0.1; took = until the "
            "lookup returned or raised; x deadline = took / deadline; peak = tracemalloc peak"
        )


def connection_id_of(request: RecordedRequest) -> str | None:
    """The id a Connection.Get request asked for, from its raw path (also for faulted answers)."""
    if not request.raw_path.startswith(CONNECTIONS_PATH):
        return None
    return unquote(request.raw_path.removeprefix(CONNECTIONS_PATH))


@pytest.fixture(autouse=True)
def emu(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """This test's emulator state; ``os.environ`` points at it and holds no credential."""
    for name in ENV_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    for name, value in emulator.env.items():
        monkeypatch.setenv(name, value)
    return emulator


@pytest.fixture
def raw_server() -> Iterator[Callable[[Respond], RawServer]]:
    """Start ``RawServer(respond)`` servers on 127.0.0.1; all are closed when the test ends."""
    servers: list[RawServer] = []

    def start(respond: Respond) -> RawServer:
        server = RawServer(respond)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
