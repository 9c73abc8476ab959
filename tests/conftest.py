"""Shared fixtures: one emulator per session, a fresh emulator state per test, no network.

- ``emulator_server``: the emulator (``EmulatorServer`` on 127.0.0.1, port 0), started once.
- ``emulator``: a :class:`tests.support.emulator.Emulator` handle on that server, reset for the
  test to a fresh state holding one IAM token with ``api-gateway.websocketWriter``;
  ``emulator.client()`` builds a ``ConnectionsClient`` against it with fast retries.
- ``emulator_env``: the env mapping that points the package at the emulator (endpoints and
  metadata address), without a credential; ``emulator_environ`` also sets it in ``os.environ``.
- ``fast_retry``: a ``RetryPolicy`` with millisecond backoffs.

Autouse, for every test of every suite:

- ``YC_METADATA_ADDR`` in ``os.environ`` points at the emulator, credential, endpoint and proxy
  variables are removed, and the package's process state (tokens, shared clients, configured
  settings, hooks) is reset before and after;
- a guard on ``socket`` refuses (and fails the test for) any connection or name lookup that is
  not loopback: no test reaches the network, and none sends a packet to 169.254.169.254.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from pulumi_yc_websocket import RetryPolicy
from pulumi_yc_websocket.emulator import EmulatorServer
from tests.support.emulator import Emulator, fast_retry_policy, start_server

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


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[EmulatorServer]:
    """The emulator, started once per session on a free loopback port."""
    server = start_server()
    yield server
    server.stop()


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
    from pulumi_yc_websocket._runtime import RUNTIME

    RUNTIME.reset()


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
