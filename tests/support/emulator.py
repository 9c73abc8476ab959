"""The one handle tests use on the emulator, and the constants it is seeded with."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from pulumi_yc_websocket import RetryPolicy
from pulumi_yc_websocket.emulator import EmulatorBackend, EmulatorServer, RecordedRequest, Service

from .clients import TRANSPORT_OPTIONS
from .events import Events

WRITER_ROLE = "api-gateway.websocketWriter"
WRITER_TOKEN = "t1.9euelZqTestWriterToken0001.c2VjcmV0LXdyaXRlci10b2tlbi1zaWduYXR1cmU"
"""The IAM token every fresh emulator state knows, with ``api-gateway.websocketWriter``."""
WRITER_SEED = {"iamTokens": [{"token": WRITER_TOKEN, "roles": [WRITER_ROLE]}]}
"""What ``EmulatorServer.reset()`` returns a test emulator to."""
CONNECTIONS_PATH = "/apigateways/websocket/v1/connections/"


def fast_retry_policy(**overrides: Any) -> RetryPolicy:
    """Millisecond backoffs: retries happen, but a test never waits long for them."""
    return RetryPolicy(**{"initial": 0.01, "maximum": 0.05, **overrides})


def start_server() -> EmulatorServer:
    """A started emulator on a free loopback port, seeded with the writer token."""
    return EmulatorServer(EmulatorBackend.from_seed(WRITER_SEED), host="127.0.0.1", port=0).start()


@contextmanager
def own_emulator() -> Iterator[Emulator]:
    """An emulator of the test's own (for answers that may land after the test has ended)."""
    server = start_server()
    handle = Emulator(server)
    try:
        yield handle
    finally:
        handle.close_clients()
        server.stop()


class Emulator:
    """Handle on an emulator server, reset to a fresh state (the writer token only)."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.backend = server.reset()
        self.token = WRITER_TOKEN
        self.events = Events()
        """What the clients this handle built did (retries, exchanges, requests)."""
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

    def client(self, credentials: Any = None, **kwargs: Any) -> Any:
        """A ``ConnectionsClient`` on the emulator, closed after the test.

        Defaults: the writer IAM token, endpoint the emulator, fast retries, a 5 s deadline.
        Transport options (``connect_timeout``, ``read_timeout``, ``max_connections``,
        ``max_body_bytes``, ``max_header_bytes``, ``environ``: default this emulator's env) go
        to its :class:`HttpTransport`.
        """
        from pulumi_yc_websocket import ConnectionsClient, IamToken

        kwargs.setdefault("endpoint", self.url)
        return self._track(
            ConnectionsClient(
                credentials or IamToken(self.token, "the test fixture"), **self._options(kwargs)
            )
        )

    def client_for(
        self,
        environ: Mapping[str, str] | None = None,
        config: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        """A client built as the package builds one from settings: ``environ`` (default: this
        emulator's env, no credential; also the transport's proxy settings), under a stack's
        ``config``, with the defaults of :meth:`client`."""
        from pulumi_yc_websocket import ConnectionsClient, Settings
        from pulumi_yc_websocket._pulumi_config import program_layers

        environ = self.env if environ is None else environ
        layers = list(program_layers(config)) if config is not None else []
        settings = Settings.resolve(*layers, environ=environ)
        kwargs.setdefault("environ", environ)
        return self._track(ConnectionsClient.from_settings(settings, **self._options(kwargs)))

    def _options(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        from pulumi_yc_websocket import HttpTransport

        transport = {name: kwargs.pop(name) for name in TRANSPORT_OPTIONS if name in kwargs}
        transport.setdefault("environ", self.env)
        kwargs.setdefault("transport", HttpTransport(**transport))
        kwargs.setdefault("retry", fast_retry_policy())
        kwargs.setdefault("timeout", 5.0)
        hooks = dict(kwargs.pop("event_hooks", {}))
        for event, counted in self.events.hooks.items():
            hooks[event] = [*hooks.get(event, ()), *counted]
        kwargs["event_hooks"] = hooks
        return kwargs

    @property
    def retries(self) -> int:
        """Retries made by the clients this handle built."""
        return self.events.retries

    def _track(self, client: Any) -> Any:
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

    def track(self, client: Any) -> Any:
        """Close ``client`` when the test ends; returns it."""
        return self._track(client)

    def close_clients(self) -> None:
        """Close every client this handle built or tracks."""
        for client in self._clients:
            client.close()
        self._clients.clear()
