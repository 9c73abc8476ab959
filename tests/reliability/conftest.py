"""Fixtures of the reliability suites, and the fault table printed at the end of the session.

Every test here gets its own emulator state (``emu``, autouse: the loopback emulator shared by
the session, reset for the test): ``os.environ`` points the Connection, IAM and metadata endpoints
at it (so nothing can fall back to Yandex Cloud or to 169.254.169.254), credential and proxy
variables are removed, and the process-wide token cache, the shared provider clients and the
provider's stored config are cleared before and after. Tests whose faults answer late use an
emulator of their own, so a late answer never lands in the next test's request log.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote

import pytest

from pulumi_yc_websocket.emulator import EmulatorBackend, EmulatorServer, RecordedRequest

from . import _report
from ._raw_server import RawServer, Respond

WRITER_ROLE = "api-gateway.websocketWriter"
IAM_TOKEN = "t1.9euelZqReliabilityWriter0001.cmVsaWFiaWxpdHktd3JpdGVyLXRva2VuLXNpZ25hdHVyZQ"
"""An IAM token every ``emu`` backend knows, holding api-gateway.websocketWriter."""
CONNECTIONS_PREFIX = "/apigateways/websocket/v1/connections/"

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


def clear_process_state() -> None:
    """Forget cached tokens, shared clients and provider config (state shared by a process)."""
    from pulumi_yc_websocket import auth, shared_client

    auth.TOKEN_CACHE.clear()
    shared_client.reset()
    provider = sys.modules.get("pulumi_yc_websocket.provider")
    if provider is not None:
        with provider._config_lock:
            provider._config.clear()


def connection_id_of(request: RecordedRequest) -> str | None:
    """The id a Connection.Get request asked for, from its raw path (also for faulted answers)."""
    if not request.raw_path.startswith(CONNECTIONS_PREFIX):
        return None
    return unquote(request.raw_path.removeprefix(CONNECTIONS_PREFIX))


class Emu:
    """This test's emulator: its server, backend, URLs and the clients built on it."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.backend = server.backend
        self._clients: list[Any] = []

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def metadata_addr(self) -> str:
        return f"{self.server.host}:{self.server.port}"

    @property
    def env(self) -> dict[str, str]:
        """Environment pointing every endpoint at this emulator (no credential)."""
        return self.server.env

    def track(self, client: Any) -> Any:
        """Close ``client`` when the test ends."""
        self._clients.append(client)
        return client

    def requests(self, service: str | None = None) -> list[RecordedRequest]:
        log = self.backend.requests()
        return log if service is None else [r for r in log if r.service == service]

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()


def new_emulator() -> EmulatorServer:
    """A started emulator on a free loopback port whose backend knows ``IAM_TOKEN``."""
    seed = {"iamTokens": [{"token": IAM_TOKEN, "roles": [WRITER_ROLE]}]}
    return EmulatorServer(EmulatorBackend.from_seed(seed), host="127.0.0.1", port=0).start()


@pytest.fixture(scope="session")
def _reliability_server() -> Iterator[EmulatorServer]:
    server = new_emulator()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def emu(_reliability_server: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emu]:
    """This test's emulator state; ``os.environ`` points at it and holds no credential."""
    # A fresh state on the session's emulator, cheaper than a server per test (stopping one
    # waits for its 50 ms poll); a late answer of the previous test never lands in its log.
    _reliability_server.reset()
    handle = Emu(_reliability_server)
    for name in ENV_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    for name, value in handle.env.items():
        monkeypatch.setenv(name, value)
    clear_process_state()
    try:
        yield handle
    finally:
        clear_process_state()
        handle.close()
        _reliability_server.reset()


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
