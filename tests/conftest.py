"""Shared fixtures: one emulator per session, a fresh emulator state per test, no network.

- ``emulator_server``: the emulator (``EmulatorServer`` on 127.0.0.1, port 0), started once.
- ``emulator``: an :class:`Emulator` handle on that server, reset for the test to a fresh state
  holding one IAM token with ``api-gateway.websocketWriter``; ``emulator.client()`` builds a
  ``ConnectionsClient`` against it with fast retries.
- ``emulator_env``: the env mapping that points the package at the emulator (endpoints and
  metadata address), without a credential; ``emulator_environ`` also sets it in ``os.environ``.
- ``fast_retry``: a ``RetryPolicy`` with millisecond backoffs.

Autouse, for every test of every suite:

- ``YC_METADATA_ADDR`` in ``os.environ`` points at the emulator, credential, endpoint and proxy
  variables are removed, and the process-wide token cache and shared clients are cleared;
- a guard on ``socket`` refuses (and fails the test for) any connection or name lookup that is
  not loopback: no test reaches the network, and none sends a packet to 169.254.169.254.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from pulumi_yc_websocket.emulator import EmulatorBackend, EmulatorServer, RecordedRequest, Service
from pulumi_yc_websocket.retry import RetryPolicy

WRITER_ROLE = "api-gateway.websocketWriter"
WRITER_TOKEN = "t1.9euelZqTestWriterToken0001.c2VjcmV0LXdyaXRlci10b2tlbi1zaWduYXR1cmU"
"""The IAM token every fresh emulator backend knows, with ``api-gateway.websocketWriter``."""

CREDENTIAL_VARIABLES = (
    "YC_TOKEN",
    "YC_IAM_TOKEN",
    "YC_SERVICE_ACCOUNT_KEY_FILE",
    "YC_ENDPOINT",
    "YC_APIGATEWAY_CONNECTIONS_ENDPOINT",
    "YC_IAM_ENDPOINT",
)
PROXY_VARIABLES = tuple(
    name
    for base in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
    for name in (base, base.lower())
)


def fast_retry_policy(**overrides: Any) -> RetryPolicy:
    """Millisecond backoffs: retries happen, but a test never waits long for them."""
    return RetryPolicy(**{"initial": 0.01, "maximum": 0.05, **overrides})


# -- network guard -------------------------------------------------------------------------


class NetworkAccessError(OSError):
    """Raised by the guard instead of opening a non-loopback connection or resolving a name."""


_violations: list[str] = []
_violations_lock = threading.Lock()


def _is_loopback_host(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host.lower() in ("localhost", "localhost.") or host.lower().endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0].strip("[]"))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _refuse(what: str) -> None:
    with _violations_lock:
        _violations.append(what)
    raise NetworkAccessError(f"test network guard: {what} is not loopback")


def _check_address(family: int, address: object) -> None:
    if family == getattr(socket, "AF_UNIX", None):
        return
    host = address[0] if isinstance(address, tuple) and address else address
    if not _is_loopback_host(host):
        _refuse(f"connect to {address!r}")


@pytest.fixture(scope="session", autouse=True)
def _loopback_only_guard() -> Iterator[None]:
    """Wrap ``socket`` so only loopback addresses can be connected to or looked up."""
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        _check_address(self.family, address)
        original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        _check_address(self.family, address)
        return original_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not _is_loopback_host(host):
            _refuse(f"name lookup of {host!r}")
        return original_getaddrinfo(host, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", connect)
        patch.setattr(socket.socket, "connect_ex", connect_ex)
        patch.setattr(socket, "getaddrinfo", getaddrinfo)
        yield


@pytest.fixture(autouse=True)
def _no_network_access() -> Iterator[None]:
    """Fail the test that tried to leave loopback, even if the code under test hid the error."""
    with _violations_lock:
        _violations.clear()
    yield
    with _violations_lock:
        found = list(_violations)
        _violations.clear()
    if found:
        pytest.fail(f"the test tried to reach the network: {found}", pytrace=False)


# -- emulator ------------------------------------------------------------------------------


WRITER_SEED = {"iamTokens": [{"token": WRITER_TOKEN, "roles": [WRITER_ROLE]}]}
"""What ``emulator_server.reset()`` returns the session emulator to before every test."""


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[EmulatorServer]:
    """The emulator, started once per session on a free loopback port."""
    server = EmulatorServer(EmulatorBackend.from_seed(WRITER_SEED), host="127.0.0.1", port=0)
    server.start()
    yield server
    server.stop()


class Emulator:
    """Handle on the session emulator with this test's fresh backend."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.backend = server.reset()
        self.token = WRITER_TOKEN
        self._clients: list[Any] = []

    @property
    def url(self) -> str:
        """Base URL of every emulated service, e.g. ``http://127.0.0.1:PORT``."""
        return self.server.url

    @property
    def metadata_addr(self) -> str:
        """``host:port`` for ``YC_METADATA_ADDR``."""
        return f"{self.server.host}:{self.server.port}"

    @property
    def env(self) -> dict[str, str]:
        """Endpoints and metadata address of the emulator, as environment variables."""
        return self.server.env

    @property
    def faults(self) -> Any:
        """The backend's fault plan."""
        return self.backend.faults

    def reset(self) -> EmulatorBackend:
        """A fresh state again (the writer token only), once no request is in flight."""
        return self.server.reset()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no request is being handled (e.g. one held by a Delay fault)."""
        return self.server.wait_idle(timeout)

    def add_connection(self, **fields: Any) -> dict[str, Any]:
        """Store a connection (see ``EmulatorBackend.add_connection``); returns it whole."""
        return self.backend.add_connection(**fields)

    def client(self, **kwargs: Any) -> Any:
        """A ``ConnectionsClient`` on the emulator, closed after the test.

        Defaults: endpoint the emulator, the writer IAM token (unless ``credentials``,
        ``settings``, ``config`` or ``environ`` is given), fast retries, a 5 s deadline.
        """
        from pulumi_yc_websocket.auth import IamToken
        from pulumi_yc_websocket.client import ConnectionsClient

        if not {"credentials", "settings", "config", "environ"} & kwargs.keys():
            kwargs["credentials"] = IamToken(self.token, "the test fixture")
        if "settings" not in kwargs:
            kwargs.setdefault("endpoint", self.url)
            kwargs.setdefault("environ", self.env)
        kwargs.setdefault("retry", fast_retry_policy())
        kwargs.setdefault("timeout", 5.0)
        client = ConnectionsClient(**kwargs)
        self._clients.append(client)
        return client

    def requests(self, service: Service | None = None) -> list[RecordedRequest]:
        """Logged requests, to one service or all, oldest first."""
        if service is None:
            return self.backend.requests()
        return self.backend.requests_for(service)

    def count(self, service: Service | None = None, status: int | None = None) -> int:
        """Number of logged requests (optionally to one service, with one status)."""
        return self.backend.count(service, status)

    def wait_for_requests(
        self, n: int, service: Service | None = None, timeout: float = 5.0
    ) -> None:
        """Wait until ``n`` requests are logged: a delayed answer is logged after its delay."""
        deadline = time.monotonic() + timeout
        while self.count(service) < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {n} requests, got {self.requests(service)}")
            time.sleep(0.01)

    def close_clients(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()


@pytest.fixture
def emulator(emulator_server: EmulatorServer) -> Iterator[Emulator]:
    """The session emulator with a fresh state for this test (a writer IAM token, no faults)."""
    handle = Emulator(emulator_server)
    yield handle
    handle.close_clients()
    emulator_server.reset()  # the tests that do not ask for `emulator` see no leftovers either


@pytest.fixture
def emulator_env(emulator: Emulator) -> dict[str, str]:
    """Env mapping pointing endpoints and the metadata address at the emulator (no credential)."""
    return emulator.env


@pytest.fixture
def emulator_environ(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Like ``emulator_env``, also set in ``os.environ`` for code that reads the process env."""
    for name, value in emulator.env.items():
        monkeypatch.setenv(name, value)
    return emulator.env


@pytest.fixture
def fast_retry() -> RetryPolicy:
    """``RetryPolicy(initial=0.01, maximum=0.05)``."""
    return fast_retry_policy()


@pytest.fixture
def closed_port() -> int:
    """A loopback TCP port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# -- isolation -----------------------------------------------------------------------------


def _clear_process_state() -> None:
    from pulumi_yc_websocket import auth, shared_client

    auth.TOKEN_CACHE.clear()
    shared_client.reset()


@pytest.fixture(autouse=True)
def _isolated_environment(
    emulator_server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """No credential, endpoint or proxy from the shell; metadata at the emulator; no caches."""
    monkeypatch.setenv("YC_METADATA_ADDR", f"{emulator_server.host}:{emulator_server.port}")
    for name in (*CREDENTIAL_VARIABLES, *PROXY_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    _clear_process_state()
    yield
    _clear_process_state()


@pytest.fixture
def network_violations() -> list[str]:
    """What the guard refused during this test; a test that provokes it clears the list."""
    return _violations
