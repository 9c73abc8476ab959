"""Fixtures for the emulator tests: a backend, a started server on a free port, an HTTP session."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
import requests

from pulumi_yc_websocket.emulator import EmulatorBackend, EmulatorServer
from pulumi_yc_websocket.emulator._backend import IAM_AUDIENCE

_WRITER_TOKEN = "t1.writerTestToken9euelZqRkZ.aGVsbG8td29ybGQtdGVzdC10b2tlbg"


@pytest.fixture
def writer_token() -> str:
    """An IAM token the ``backend`` fixture knows, holding api-gateway.websocketWriter."""
    return _WRITER_TOKEN


@pytest.fixture
def backend() -> EmulatorBackend:
    backend = EmulatorBackend()
    backend.add_iam_token(_WRITER_TOKEN, roles=["api-gateway.websocketWriter"])
    return backend


@pytest.fixture
def server(backend: EmulatorBackend) -> Iterator[EmulatorServer]:
    with EmulatorServer(backend) as server:
        yield server


@pytest.fixture
def http() -> Iterator[requests.Session]:
    # trust_env=False: a proxy configured in the environment must not intercept loopback calls.
    session = requests.Session()
    session.trust_env = False
    yield session
    session.close()


def _make_jwt(
    key: dict[str, str],
    *,
    kid: str | None = None,
    iss: str | None = None,
    aud: str = IAM_AUDIENCE,
    lifetime: int = 3600,
    iat: int | None = None,
    algorithm: str = "PS256",
    signing_key: str | None = None,
    drop: tuple[str, ...] = (),
) -> str:
    """A service-account JWT the way Yandex documents it, with knobs to break it."""
    now = int(time.time()) if iat is None else iat
    claims: dict[str, Any] = {
        "iss": key["service_account_id"] if iss is None else iss,
        "aud": aud,
        "iat": now,
        "exp": now + lifetime,
    }
    for name in drop:
        claims.pop(name)
    return jwt.encode(
        claims,
        key["private_key"] if signing_key is None else signing_key,
        algorithm=algorithm,
        headers={"kid": key["id"] if kid is None else kid},
    )


@pytest.fixture
def make_jwt() -> Callable[..., str]:
    """Builds a real PS256 JWT from an authorized-key dict (see ``_make_jwt``)."""
    return _make_jwt
