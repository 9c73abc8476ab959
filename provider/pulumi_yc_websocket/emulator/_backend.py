"""State model of the emulator (moto-style backend): connections, credentials, request log.

The HTTP layer (``_server.py``) calls the ``api_*`` methods, which return the response object or
raise :class:`EmulatedStatusError`; tests and the admin interface drive the state through the
other methods. Seeds and connections are validated by the models in ``_seed.py``.

Connection lifetimes follow the service: a connection idle for 10 minutes or open for 60 is gone
(404). They are judged on ``clock`` (epoch nanoseconds; the wall clock unless a test pins it) for
timestamps given relative to now, or left to their defaults; a timestamp given as a string is
served as written (it may be from 2024, or malformed on purpose) and never ends the connection.
``advance_clock`` ages every connection at once, as if that much time had passed.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, TypeAlias

from ._faults import FaultPlan
from ._seed import (
    DEMO_SEED_PATH,
    MAX_RELATIVE_SECONDS,
    ClockMove,
    ConnectionSeed,
    IdentitySeed,
    RelativeTime,
    Seed,
    SeedError,
    SeedSource,
    TimeValue,
    check_servable,
    format_timestamp,
    load_seed,
    time_value,
    validate,
)

RequestService: TypeAlias = Literal["connections", "iam", "metadata", "other"]
ConnectionStatus: TypeAlias = Literal["open", "closed", "idle-timeout", "lifetime-limit"]
TimestampInput: TypeAlias = str | datetime | Mapping[str, float]

CONNECTION_ROLES = frozenset(
    {
        "api-gateway.websocketWriter",
        "api-gateway.websocketBroadcaster",
        "api-gateway.admin",
        "admin",
        "editor",
    }
)
DEFAULT_ROLES: tuple[str, ...] = ("api-gateway.websocketWriter",)
IAM_AUDIENCE = "https://iam.api.cloud.yandex.net/iam/v1/tokens"
MAX_CONNECTION_ID_LENGTH = 50
DEFAULT_IAM_TOKEN_TTL = 12 * 3600.0
MAX_JWT_LIFETIME = 3600
IDLE_TIMEOUT_SECONDS = 10 * 60
MAX_LIFETIME_SECONDS = 60 * 60
# Of each logged request, the log keeps this much body and headers: enough for any request a
# client of the service sends, little enough that a full log stays small.
MAX_LOGGED_BODY_BYTES = 4 << 10
MAX_LOGGED_HEADER_BYTES = 4 << 10

_GRPC_TO_HTTP = {3: 400, 4: 504, 5: 404, 7: 403, 8: 429, 13: 500, 14: 503, 16: 401}
_YC_ID_ALPHABET = "0123456789abcdefghijklmnopqrstuv"
_TIMESTAMP_KEYS = ("connectedAt", "lastActiveAt")


def http_status_for(grpc_code: int) -> int:
    """HTTP status the Yandex REST gateway uses for a gRPC status code."""
    return _GRPC_TO_HTTP.get(grpc_code, 500)


class EmulatedStatusError(Exception):
    """An error the emulator answers as google.rpc.Status; ``http_status`` defaults from the code.

    (Not the client's ``ApiError``: this one is raised by the emulated service.)
    """

    def __init__(
        self,
        grpc_code: int,
        message: str,
        http_status: int | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.grpc_code = grpc_code
        self.message = message
        self.http_status = http_status if http_status is not None else http_status_for(grpc_code)
        self.headers = dict(headers or {})  # e.g. Allow with a 405


class Headers(dict[str, str]):
    """Header dict with lower-cased keys and case-insensitive lookups."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__((k.lower(), v) for k, v in items)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key.lower() if isinstance(key, str) else key)

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


@dataclass(frozen=True, repr=False)
class RecordedRequest:
    """One request as the emulator received it, and the status it answered (None: dropped)."""

    service: RequestService
    method: str
    raw_path: str  # as on the request line, still percent-encoded
    connection_id: str | None  # the decoded path segment, when the route matched
    headers: Headers
    body: bytes
    status: int | None
    received_at: float
    request_id: str = ""
    truncated: bool = False  # the log kept only the first 4 KiB of the body or of the headers

    def __repr__(self) -> str:
        # Credentials travel in the Authorization header and in IAM request bodies: keep them
        # out of reprs, which end up in assertion messages and logs.
        return (
            f"RecordedRequest(service={self.service!r}, method={self.method!r}, "
            f"raw_path={self.raw_path!r}, connection_id={self.connection_id!r}, "
            f"status={self.status!r}, body=<{len(self.body)} bytes>)"
        )


@dataclass
class _Token:
    roles: frozenset[str]
    expires_at: float | None  # epoch seconds; None: never


@dataclass
class _ServiceAccountKey:
    service_account_id: str
    public_key: Any  # cryptography RSAPublicKey, imported lazily
    roles: frozenset[str]


@dataclass(frozen=True, slots=True)
class _OnClock:
    """A timestamp on the emulator's clock (epoch ns): it ages, and it can end the connection."""

    ns: int


@dataclass
class _Connection:
    fields: dict[str, Any]  # API-shaped; timestamps are a string as given, or _OnClock
    ended: ConnectionStatus | None = None  # why it is gone; None while open
    replay: ConnectionSeed | None = None  # start over as seeded instead of timing out


def _omit_defaults(value: Any) -> Any:
    # proto3 JSON leaves out fields holding their default value; a message left empty goes too.
    if isinstance(value, dict):
        pruned = {k: _omit_defaults(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in ("", None, {}, [], 0, False)}
    if isinstance(value, list):
        return [_omit_defaults(v) for v in value]
    return value


def _yc_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_YC_ID_ALPHABET) for _ in range(20 - len(prefix)))


def _new_iam_token() -> str:
    return f"t1.{secrets.token_urlsafe(48)}.{secrets.token_urlsafe(64)}"


def _roles(roles: Iterable[str] | None) -> frozenset[str]:
    if isinstance(roles, str):
        raise TypeError("roles must be a list of role names, not a string")
    return frozenset(DEFAULT_ROLES if roles is None else roles)


def _on_clock(value: TimeValue, now_ns: int) -> str | _OnClock:
    if isinstance(value, str):
        return value
    return _OnClock(now_ns + round(value.seconds * 1e9))


def _seeded_times(seed: ConnectionSeed, now_ns: int) -> dict[str, str | _OnClock]:
    # connectedAt defaults to now, lastActiveAt to connectedAt.
    connected = seed.connected_at if seed.connected_at is not None else RelativeTime(0.0)
    last = seed.last_active_at if seed.last_active_at is not None else connected
    return {"connectedAt": _on_clock(connected, now_ns), "lastActiveAt": _on_clock(last, now_ns)}


def _limit_reached(fields: Mapping[str, Any], now_ns: int) -> ConnectionStatus | None:
    active, connected = fields.get("lastActiveAt"), fields.get("connectedAt")
    if isinstance(active, _OnClock) and now_ns - active.ns >= IDLE_TIMEOUT_SECONDS * 10**9:
        return "idle-timeout"
    if isinstance(connected, _OnClock) and now_ns - connected.ns >= MAX_LIFETIME_SECONDS * 10**9:
        return "lifetime-limit"
    return None


def _rendered(fields: Mapping[str, Any]) -> dict[str, Any]:
    data = {k: format_timestamp(v.ns) if isinstance(v, _OnClock) else v for k, v in fields.items()}
    copied: dict[str, Any] = json.loads(json.dumps(data))
    return copied


def _trimmed(request: RecordedRequest) -> RecordedRequest:
    """The request as the log keeps it: at most 4 KiB of body and of headers."""
    headers = _first_headers(request.headers)
    if len(request.body) <= MAX_LOGGED_BODY_BYTES and headers is None:
        return request
    return replace(
        request,
        body=request.body[:MAX_LOGGED_BODY_BYTES],
        headers=request.headers if headers is None else headers,
        truncated=True,
    )


def _first_headers(headers: Headers) -> Headers | None:
    """The headers that fit in the log's share, in order (the last one cut); None: all fit."""
    kept: list[tuple[str, str]] = []
    left = MAX_LOGGED_HEADER_BYTES
    for name, value in headers.items():
        size = len(name) + len(value) + 4  # as on the wire: "name: value\r\n"
        if size > left:
            kept.append((name, value[: max(left - len(name) - 4, 0)]))
            return Headers(kept)
        kept.append((name, value))
        left -= size
    return None


class EmulatorBackend:
    """Thread-safe state of the emulated Connection, IAM and metadata services.

    ``clock`` gives the emulator's time in epoch nanoseconds (default: the wall clock); pin it
    with e.g. ``clock=lambda: 1_714_557_600 * 10**9``. IAM token expiry stays on the wall clock,
    which is what clients cache tokens by. ``log_limit``: how many requests the log keeps, the
    oldest dropped first (None: all, until ``reset()`` or ``clear_requests()``); of each it keeps
    at most 4 KiB of body and of headers.
    """

    def __init__(
        self,
        *,
        require_auth: bool = True,
        iam_token_ttl: float = DEFAULT_IAM_TOKEN_TTL,
        clock: Callable[[], int] = time.time_ns,
        log_limit: int | None = None,
    ) -> None:
        if log_limit is not None and log_limit < 1:
            raise ValueError(f"log_limit must be at least 1 (None: no limit), not {log_limit}")
        self.require_auth = require_auth
        self.iam_token_ttl = iam_token_ttl
        self.clock = clock
        self.faults = FaultPlan()
        self._settings = (require_auth, iam_token_ttl)
        self._seeds: tuple[Seed, ...] = ()
        self._generation = 0
        self._lock = threading.RLock()
        self._connections: dict[str, _Connection] = {}
        self._tokens: dict[str, _Token] = {}
        self._oauth: dict[str, frozenset[str]] = {}
        self._sa_keys: dict[str, _ServiceAccountKey] = {}
        self._metadata_roles: frozenset[str] | None = None
        self._metadata_token: str | None = None
        self._log: deque[RecordedRequest] = deque(maxlen=log_limit)
        self._advanced_ns = 0

    # -- seeding and reset -----------------------------------------------------------------

    @classmethod
    def from_seed(
        cls,
        *seeds: SeedSource,
        clock: Callable[[], int] = time.time_ns,
        log_limit: int | None = None,
    ) -> EmulatorBackend:
        """New backend holding the seeds, applied in order; ``reset()`` returns to them.

        A seed is a mapping or a JSON file (see the package docstring for the format); a bad one
        raises ``ValueError`` with one line ``file:key: problem``.
        """
        backend = cls(clock=clock, log_limit=log_limit)
        backend._seeds = tuple(load_seed(seed) for seed in seeds)
        with backend._lock:
            for seed in backend._seeds:
                backend._apply(seed)
        return backend

    @classmethod
    def demo(cls) -> EmulatorBackend:
        """New backend holding the bundled demo seed."""
        return cls.from_seed(DEMO_SEED_PATH)

    def load_seed(self, seed: SeedSource) -> None:
        """Add a seed's state to this backend (relative times count from now); not kept by reset."""
        parsed = load_seed(seed)
        with self._lock:
            self._apply(parsed)

    def reset(self) -> None:
        """Back to the state this backend was made with: its settings and seeds, and nothing else.

        Connections, tokens, keys, faults and the request log go; the seeds' relative times count
        from now again. Requests still being served are left out of the new request log.
        """
        with self._lock:
            self._generation += 1
            self.require_auth, self.iam_token_ttl = self._settings
            self.faults.clear()
            self._connections.clear()
            self._tokens.clear()
            self._oauth.clear()
            self._sa_keys.clear()
            self._metadata_roles = None
            self._metadata_token = None
            self._log.clear()
            self._advanced_ns = 0
            for seed in self._seeds:
                self._apply(seed)

    @property
    def generation(self) -> int:
        """How many times ``reset()`` ran: a request that began before it is not logged after."""
        return self._generation

    def _apply(self, seed: Seed) -> None:
        if seed.require_auth is not None:
            self.require_auth = seed.require_auth
        if seed.iam_token_ttl_seconds is not None:
            self.iam_token_ttl = seed.iam_token_ttl_seconds
        now_ns = self.clock()
        for connection in seed.connections:
            self._store(connection, now_ns, replay=seed.replay_connections)
        for iam in seed.iam_tokens:
            self.add_iam_token(iam.token, roles=iam.roles, expires_at=iam.expires_at)
        for oauth in seed.oauth_tokens:
            self.add_oauth_token(oauth.token, roles=oauth.roles)
        for key in seed.service_account_keys:
            self.add_service_account_key(
                key.id, key.service_account_id, key.public_key, roles=key.roles
            )
        if "metadata_roles" in seed.model_fields_set:
            self.set_metadata_roles(seed.metadata_roles)

    # -- connections -----------------------------------------------------------------------

    def add_connection(
        self,
        data: Mapping[str, Any] | None = None,
        /,
        *,
        id: str | None = None,
        gateway_id: str | None = None,
        source_ip: str | None = None,
        user_agent: str | None = None,
        connected_at: TimestampInput | None = None,
        last_active_at: TimestampInput | None = None,
        closed: bool = False,
    ) -> dict[str, Any]:
        """Store (or replace) a connection from an API-shaped dict and/or snake_case fields.

        Missing id/gatewayId are generated, connectedAt defaults to now and lastActiveAt to
        connectedAt; give ``""`` to leave a field unset (omitted when served). Timestamps: a
        string (served as written), an aware datetime, or a relative time such as
        ``{"minutesAgo": 5}``. Returns the connection whole (defaults kept).
        """
        merged = dict(data or {})
        for key, value in (
            ("id", id),
            ("gatewayId", gateway_id),
            ("connectedAt", connected_at),
            ("lastActiveAt", last_active_at),
        ):
            if value is not None:
                merged[key] = value
        if source_ip is not None or user_agent is not None:
            given = merged.get("identity")
            identity = dict(given) if isinstance(given, Mapping) else {}
            if source_ip is not None:
                identity["sourceIp"] = source_ip
            if user_agent is not None:
                identity["userAgent"] = user_agent
            merged["identity"] = identity
        if closed:
            merged["closed"] = True
        return self.put_connection(validate(ConnectionSeed, merged))

    def put_connection(self, seed: ConnectionSeed) -> dict[str, Any]:
        """Store (or replace) a validated connection; returns it whole."""
        with self._lock:
            return _rendered(self._store(seed, self.clock(), replay=False).fields)

    def _store(self, seed: ConnectionSeed, now_ns: int, *, replay: bool) -> _Connection:
        identity = seed.identity or IdentitySeed()
        fields: dict[str, Any] = {
            "id": seed.id or secrets.token_urlsafe(15),
            "gatewayId": _yc_id("d5d") if seed.gateway_id is None else seed.gateway_id,
            "identity": {
                "sourceIp": identity.source_ip,
                "userAgent": identity.user_agent,
                **(identity.model_extra or {}),
            },
            **_seeded_times(seed, now_ns),
            **(seed.model_extra or {}),
        }
        connection = _Connection(fields, replay=seed if replay else None)
        # Closed as given, or already past a limit when added (then never replayed).
        connection.ended = "closed" if seed.closed else _limit_reached(fields, now_ns)
        self._connections[fields["id"]] = connection
        return connection

    def update_connection(
        self,
        connection_id: str,
        /,
        *,
        gateway_id: str | None = None,
        source_ip: str | None = None,
        user_agent: str | None = None,
        connected_at: TimestampInput | RelativeTime | None = None,
        last_active_at: TimestampInput | RelativeTime | None = None,
    ) -> dict[str, Any]:
        """Change fields of a stored connection (None: unchanged); KeyError if unknown.

        A connection that is gone stays gone. Timestamps as for ``add_connection``.
        """
        texts = {"gateway_id": gateway_id, "source_ip": source_ip, "user_agent": user_agent}
        check_servable({name: value for name, value in texts.items() if value is not None})
        times = {
            "connectedAt": time_value(connected_at, "connected_at"),
            "lastActiveAt": time_value(last_active_at, "last_active_at"),
        }
        with self._lock:
            connection = self._connections[connection_id]
            now_ns = self.clock()
            self._status(connection, now_ns)  # a limit reached before this change still counts
            fields = connection.fields
            if gateway_id is not None:
                fields["gatewayId"] = gateway_id
            if source_ip is not None:
                fields["identity"]["sourceIp"] = source_ip
            if user_agent is not None:
                fields["identity"]["userAgent"] = user_agent
            for key, value in times.items():
                if value is not None:
                    fields[key] = _on_clock(value, now_ns)
                    connection.replay = None  # its times are the caller's now
            return _rendered(fields)

    def close_connection(self, connection_id: str) -> None:
        """Close a connection: Connection.Get answers 404 from now on; KeyError if unknown."""
        with self._lock:
            connection = self._connections[connection_id]
            if self._status(connection, self.clock()) == "open":
                connection.ended = "closed"

    def remove_connection(self, connection_id: str) -> None:
        """Forget a connection entirely; KeyError if unknown."""
        with self._lock:
            del self._connections[connection_id]

    def get_connection(self, connection_id: str) -> dict[str, Any] | None:
        """The connection as the API serves it (defaults omitted), or None if unknown or gone."""
        with self._lock:
            connection = self._connections.get(connection_id)
            if connection is None or self._status(connection, self.clock()) != "open":
                return None
            served: dict[str, Any] = _omit_defaults(_rendered(connection.fields))
            return served

    def connections(self, *, include_closed: bool = False) -> list[dict[str, Any]]:
        """Stored connections, whole (defaults kept), in insertion order; gone ones on request."""
        with self._lock:
            now_ns = self.clock()
            return [
                _rendered(c.fields)
                for c in self._connections.values()
                if include_closed or self._status(c, now_ns) == "open"
            ]

    def connection_status(self, connection_id: str) -> ConnectionStatus:
        """``open``, or why it is gone: ``closed``, ``idle-timeout``, ``lifetime-limit``."""
        with self._lock:
            return self._status(self._connections[connection_id], self.clock())

    def _status(
        self, connection: _Connection, now_ns: int, *, replay: bool = True
    ) -> ConnectionStatus:
        if connection.ended is not None:
            return connection.ended
        reason = _limit_reached(connection.fields, now_ns)
        if reason is None:
            return "open"
        if replay and connection.replay is not None:
            connection.fields.update(_seeded_times(connection.replay, now_ns))
            return "open"
        connection.ended = reason  # gone for good, like on the service
        return reason

    # -- clock -----------------------------------------------------------------------------

    def advance_clock(self, seconds: float) -> None:
        """Let ``seconds`` pass for every connection at once: all age, those past a limit end.

        Timestamps on the clock are served that much earlier (clients measuring against their
        own clock see the new ages); strings given as timestamps stay as written. Connections of
        a replaying seed end too: only the passing of real time replays them.
        """
        advance = validate(ClockMove, {"advanceSeconds": seconds}).advance_seconds
        shift_ns = round(advance * 1e9)
        with self._lock:
            if self._advanced_ns + shift_ns > round(MAX_RELATIVE_SECONDS * 1e9):
                raise SeedError("the clock moves at most 100 years in all (reset() starts over)")
            self._advanced_ns += shift_ns
            now_ns = self.clock()
            for connection in self._connections.values():
                for key in _TIMESTAMP_KEYS:
                    value = connection.fields.get(key)
                    if isinstance(value, _OnClock):
                        connection.fields[key] = _OnClock(value.ns - shift_ns)
                self._status(connection, now_ns, replay=False)

    @property
    def advanced_seconds(self) -> float:
        """Seconds ``advance_clock`` let pass since this backend was made or reset."""
        return self._advanced_ns / 1e9

    # -- credentials -----------------------------------------------------------------------

    def add_iam_token(
        self,
        token: str,
        roles: Iterable[str] | None = None,
        expires_at: float | TimestampInput | RelativeTime | None = None,
    ) -> str:
        """Accept ``token`` as an IAM token with ``roles`` until ``expires_at`` (None: never).

        ``expires_at``: epoch seconds, an RFC 3339 string, an aware datetime or a relative time
        such as ``{"minutesFromNow": 5}``, on the wall clock.
        """
        with self._lock:
            self._tokens[token] = _Token(_roles(roles), _epoch(expires_at))
        return token

    def mint_iam_token(self, roles: Iterable[str] | None = None, ttl: float | None = None) -> str:
        """New random IAM token (``t1.<a>.<b>``) valid for ``ttl`` (default iam_token_ttl)."""
        token, _ = self._mint(_roles(roles), ttl)
        return token

    def _mint(self, roles: frozenset[str], ttl: float | None = None) -> tuple[str, int]:
        ttl_ns = round((self.iam_token_ttl if ttl is None else ttl) * 1e9)
        expires_ns = time.time_ns() + ttl_ns
        token = _new_iam_token()
        with self._lock:
            self._tokens[token] = _Token(roles, expires_ns / 1e9)
        return token, expires_ns

    def add_oauth_token(self, oauth_token: str, roles: Iterable[str] | None = None) -> None:
        """Let the IAM endpoint exchange ``oauth_token`` for IAM tokens holding ``roles``."""
        with self._lock:
            self._oauth[oauth_token] = _roles(roles)

    def add_service_account_key(
        self,
        key_id: str,
        service_account_id: str,
        public_key_pem: str | bytes,
        roles: Iterable[str] | None = None,
    ) -> None:
        """Accept JWTs signed by this key (``kid`` = ``key_id``, ``iss`` = the account)."""
        from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
        from cryptography.hazmat.primitives.serialization import load_pem_public_key

        pem = public_key_pem.encode() if isinstance(public_key_pem, str) else public_key_pem
        public_key = load_pem_public_key(pem)
        if not isinstance(public_key, RSAPublicKey):
            raise ValueError("service account keys are RSA keys")
        with self._lock:
            self._sa_keys[key_id] = _ServiceAccountKey(
                service_account_id, public_key, _roles(roles)
            )

    def create_service_account_key(
        self,
        service_account_id: str | None = None,
        roles: Iterable[str] | None = None,
        *,
        key_id: str | None = None,
    ) -> dict[str, str]:
        """Register a new RSA 2048 key; returns the authorized-key JSON as Yandex issues it."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        public_pem = (
            private_key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        key_id = key_id or _yc_id("aje")
        service_account_id = service_account_id or _yc_id("aje")
        self.add_service_account_key(key_id, service_account_id, public_pem, roles=roles)
        return {
            "id": key_id,
            "service_account_id": service_account_id,
            "created_at": format_timestamp(time.time_ns()),
            "key_algorithm": "RSA_2048",
            "public_key": public_pem,
            "private_key": (
                f"PLEASE DO NOT REMOVE THIS LINE! Yandex.Cloud SA Key ID <{key_id}>\n{private_pem}"
            ),
        }

    def set_metadata_roles(self, roles: Iterable[str] | None) -> None:
        """Roles of the VM's service account; None: no account attached (metadata 404)."""
        with self._lock:
            self._metadata_roles = None if roles is None else _roles(roles)
            self._metadata_token = None

    def expire_token(self, token: str) -> None:
        """Make an IAM token expired now (401 afterwards); KeyError if unknown."""
        with self._lock:
            self._tokens[token].expires_at = time.time() - 1

    def expire_all_tokens(self) -> None:
        """Make every IAM token known so far expired."""
        with self._lock:
            past = time.time() - 1
            for info in self._tokens.values():
                info.expires_at = past

    def is_token_valid(self, token: str) -> bool:
        """Whether ``token`` is a known, unexpired IAM token."""
        with self._lock:
            info = self._tokens.get(token)
            return info is not None and not _expired(info)

    # -- API operations (called by the HTTP layer) -----------------------------------------

    def api_get_connection(self, connection_id: str, authorization: str | None) -> dict[str, Any]:
        """Connection.Get: the served object, or EmulatedStatusError (16, 7, 3 or 5)."""
        self._authorize(authorization)
        if len(connection_id) > MAX_CONNECTION_ID_LENGTH:
            raise EmulatedStatusError(
                3,
                "Request validation error: connection_id: "
                f"length must be <= {MAX_CONNECTION_ID_LENGTH}",
            )
        if not connection_id:
            raise EmulatedStatusError(3, "Request validation error: connection_id: required")
        found = self.get_connection(connection_id)
        if found is None:
            raise EmulatedStatusError(5, f"Connection {connection_id} not found")
        return found

    def _authorize(self, authorization: str | None) -> None:
        if not self.require_auth:
            return
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise EmulatedStatusError(
                16, "Authentication required: send 'Authorization: Bearer <IAM token>'"
            )
        with self._lock:
            info = self._tokens.get(token)
            if info is None:
                raise EmulatedStatusError(16, "The token is invalid")
            if _expired(info):
                raise EmulatedStatusError(16, "The token has expired")
            if not info.roles & CONNECTION_ROLES:
                raise EmulatedStatusError(7, "Permission denied")

    def api_create_iam_token(self, body: bytes) -> dict[str, str]:
        """IAM CreateIamToken: exchange an OAuth token or a service-account JWT."""
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise EmulatedStatusError(3, "Request body is not valid JSON") from None
        if not isinstance(payload, dict):
            raise EmulatedStatusError(3, "Request body must be a JSON object")
        oauth = payload.get("yandexPassportOauthToken")
        jwt_token = payload.get("jwt")
        given = [v for v in (oauth, jwt_token) if v not in (None, "")]
        if len(given) != 1 or not isinstance(given[0], str):
            raise EmulatedStatusError(
                3, "Exactly one of yandexPassportOauthToken or jwt must be set"
            )
        roles = self._oauth_roles(oauth) if isinstance(oauth, str) and oauth else None
        if roles is None:
            roles = self._jwt_roles(given[0])
        token, expires_ns = self._mint(roles)
        return {"iamToken": token, "expiresAt": format_timestamp(expires_ns)}

    def _oauth_roles(self, oauth_token: str) -> frozenset[str]:
        with self._lock:
            roles = self._oauth.get(oauth_token)
        if roles is not None:
            return roles
        if not self.require_auth:
            return frozenset(DEFAULT_ROLES)
        raise EmulatedStatusError(16, "The OAuth token is invalid")

    def _jwt_roles(self, token: str) -> frozenset[str]:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except (jwt.DecodeError, UnicodeEncodeError):  # the latter: a lone surrogate
            raise EmulatedStatusError(3, "Malformed JWT") from None
        if header.get("alg") != "PS256":
            raise EmulatedStatusError(3, "JWT must be signed with PS256")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise EmulatedStatusError(3, "JWT header must carry kid, the service account key id")
        with self._lock:
            key = self._sa_keys.get(kid)
        required = ["iss", "aud", "iat", "exp"]
        try:
            if key is None:
                if self.require_auth:
                    raise EmulatedStatusError(16, f"Unknown service account key {kid}")
                claims = jwt.decode(token, options={"verify_signature": False, "require": required})
                roles = frozenset(DEFAULT_ROLES)
            else:
                claims = jwt.decode(
                    token,
                    key.public_key,
                    algorithms=["PS256"],
                    audience=IAM_AUDIENCE,
                    issuer=key.service_account_id,
                    options={"require": required},
                )
                roles = key.roles
        except jwt.MissingRequiredClaimError as exc:
            raise EmulatedStatusError(3, f"JWT claim {exc.claim} is required") from None
        except jwt.InvalidSignatureError:  # a DecodeError subclass, but no malformed JWT
            raise EmulatedStatusError(16, "Invalid JWT: signature verification failed") from None
        except jwt.DecodeError:
            raise EmulatedStatusError(3, "Malformed JWT") from None
        except jwt.InvalidTokenError as exc:
            raise EmulatedStatusError(16, f"Invalid JWT: {exc}") from None
        lifetime = claims["exp"] - claims["iat"]
        if not isinstance(lifetime, int | float) or not 0 < lifetime <= MAX_JWT_LIFETIME:
            raise EmulatedStatusError(
                3, "JWT lifetime (exp - iat) must be positive and at most 1 hour"
            )
        return roles

    def api_metadata_token(self, metadata_flavor: str | None) -> dict[str, Any]:
        """VM metadata token of the attached service account (cached, like the real one)."""
        if metadata_flavor != "Google":
            raise EmulatedStatusError(7, "Missing required header: Metadata-Flavor: Google")
        with self._lock:
            roles = self._metadata_roles
            if roles is None:
                raise EmulatedStatusError(5, "No service account is attached to this instance")
            token = self._metadata_token
            info = self._tokens.get(token) if token else None
            if token is None or info is None or _expired(info):
                token, _ = self._mint(roles)
                self._metadata_token = token
                info = self._tokens[token]
            remaining = (info.expires_at or time.time()) - time.time()
        return {"access_token": token, "expires_in": max(int(remaining), 0), "token_type": "Bearer"}

    # -- request log -----------------------------------------------------------------------

    def record(self, request: RecordedRequest, *, generation: int | None = None) -> None:
        """Append one request to the log (the HTTP layer calls it before it answers).

        Of its body and headers the log keeps at most 4 KiB each (``truncated`` says so); past
        ``log_limit`` requests, the oldest goes. ``generation``: the backend's ``generation``
        when the request began; after a reset since then, the request belongs to no test's log
        and is dropped.
        """
        kept = _trimmed(request)
        with self._lock:
            if generation is None or generation == self._generation:
                self._log.append(kept)

    def requests(self) -> list[RecordedRequest]:
        """Copy of the request log, oldest first."""
        with self._lock:
            return list(self._log)

    def requests_for(self, service: RequestService) -> list[RecordedRequest]:
        """Logged requests to one service, oldest first."""
        return [r for r in self.requests() if r.service == service]

    def clear_requests(self) -> None:
        """Empty the request log."""
        with self._lock:
            self._log.clear()

    def count(self, service: RequestService | None = None, status: int | None = None) -> int:
        """Number of logged requests, optionally to one service and/or with one status."""
        return sum(
            1
            for r in self.requests()
            if (service is None or r.service == service) and (status is None or r.status == status)
        )


def _epoch(value: float | TimestampInput | RelativeTime | None) -> float | None:
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    parsed = time_value(value, "expires_at")
    if isinstance(parsed, RelativeTime):
        return time.time() + parsed.seconds
    return None if parsed is None else datetime.fromisoformat(parsed).timestamp()


def _expired(info: _Token) -> bool:
    return info.expires_at is not None and time.time() >= info.expires_at
