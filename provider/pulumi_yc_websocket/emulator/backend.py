"""State model of the emulator (moto-style backend): connections, credentials, request log.

The HTTP layer (``server.py``) calls the ``api_*`` methods, which return the response object
or raise :class:`ApiError`; tests drive the state directly through the other methods.

Seed format (``EmulatorBackend.from_seed`` / ``load_seed``), a JSON object, every key optional::

    {
      "requireAuth": true,                # false: connections accept any or no bearer token
      "iamTokenTtlSeconds": 43200,        # lifetime of IAM tokens minted by the exchanges
      "connections": [                    # API-shaped Connection objects (camelCase)
        {"id": "Ab3dEfGhIjKlMnOp12Qr", "gatewayId": "d5dm1lba80md4pmj2qke",
         "identity": {"sourceIp": "203.0.113.7", "userAgent": "curl/8.5.0"},
         "connectedAt": "2024-05-01T10:00:00.123456789+03:00",   # kept exactly as written
         "lastActiveAt": {"minutesAgo": 2.5},                     # resolved at load time
         "closed": true}                  # optional: stored but answered 404, like a gone one
      ],
      "iamTokens": [{"token": "t1.x.y", "roles": ["api-gateway.websocketWriter"],
                     "expiresAt": "2030-01-01T00:00:00Z"}],      # expiresAt optional
      "oauthTokens": [{"token": "y0_...", "roles": ["api-gateway.websocketWriter"]}],
      "serviceAccountKeys": [{"id": "aje...", "service_account_id": "aje...",
                              "public_key": "-----BEGIN PUBLIC KEY-----...", "roles": [...]}],
      "metadataRoles": ["api-gateway.websocketWriter"]           # null: no VM service account
    }

Timestamps are strings kept verbatim (any RFC 3339 form, even a malformed one, so clients can be
tested against it) or relative objects summing ``secondsAgo``/``minutesAgo``/``hoursAgo``/
``daysAgo`` (and ``*FromNow`` for the future), resolved to UTC with 9 fractional digits.
An empty string means "unset" (omitted when served). ``roles`` defaults to
``["api-gateway.websocketWriter"]``. Keys starting with ``_`` or ``$`` are comments. Unknown keys
of a connection are kept and served, to test that clients ignore fields added later.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeAlias

from .faults import FaultPlan

__all__ = [
    "CONNECTION_ROLES",
    "DEFAULT_IAM_TOKEN_TTL",
    "DEFAULT_ROLES",
    "DEMO_SEED_PATH",
    "IAM_AUDIENCE",
    "MAX_CONNECTION_ID_LENGTH",
    "ApiError",
    "EmulatorBackend",
    "Headers",
    "RecordedRequest",
    "RequestService",
    "format_timestamp",
    "http_status_for",
    "read_seed",
    "resolve_timestamp",
]

RequestService: TypeAlias = Literal["connections", "iam", "metadata", "other"]
TimestampInput: TypeAlias = str | datetime | Mapping[str, float]
SeedSource: TypeAlias = Mapping[str, Any] | str | os.PathLike[str]

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
DEMO_SEED_PATH = Path(__file__).with_name("demo_seed.json")

_GRPC_TO_HTTP = {3: 400, 4: 504, 5: 404, 7: 403, 8: 429, 13: 500, 14: 503, 16: 401}
_YC_ID_ALPHABET = "0123456789abcdefghijklmnopqrstuv"
_RELATIVE_UNITS = {
    "secondsAgo": -1.0,
    "minutesAgo": -60.0,
    "hoursAgo": -3600.0,
    "daysAgo": -86400.0,
    "secondsFromNow": 1.0,
    "minutesFromNow": 60.0,
    "hoursFromNow": 3600.0,
    "daysFromNow": 86400.0,
}
_CONNECTION_FIELDS = {
    "gateway_id": "gatewayId",
    "connected_at": "connectedAt",
    "last_active_at": "lastActiveAt",
}
_SEED_KEYS = frozenset(
    {
        "requireAuth",
        "iamTokenTtlSeconds",
        "connections",
        "iamTokens",
        "oauthTokens",
        "serviceAccountKeys",
        "metadataRoles",
    }
)


def http_status_for(grpc_code: int) -> int:
    """HTTP status the Yandex REST gateway uses for a gRPC status code."""
    return _GRPC_TO_HTTP.get(grpc_code, 500)


class ApiError(Exception):
    """An API error answered as google.rpc.Status; ``http_status`` defaults from the code."""

    def __init__(self, grpc_code: int, message: str, http_status: int | None = None) -> None:
        super().__init__(message)
        self.grpc_code = grpc_code
        self.message = message
        self.http_status = http_status if http_status is not None else http_status_for(grpc_code)


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


@dataclass
class _Connection:
    data: dict[str, Any]
    closed: bool = False


def format_timestamp(ns: int) -> str:
    """RFC 3339 UTC string with 9 fractional digits for epoch nanoseconds."""
    seconds, fraction = divmod(ns, 1_000_000_000)
    whole = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{whole}.{fraction:09d}Z"


def resolve_timestamp(value: TimestampInput, now_ns: int | None = None) -> str:
    """Timestamp as served: strings verbatim, datetimes and relative objects as UTC, 9 digits."""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime: give a timezone-aware datetime")
        utc = value.astimezone(UTC)
        return utc.strftime("%Y-%m-%dT%H:%M:%S") + f".{utc.microsecond * 1000:09d}Z"
    if isinstance(value, Mapping):
        return format_timestamp(_relative_ns(value, now_ns))
    raise TypeError(f"unsupported timestamp value {value!r}")


def _relative_ns(value: Mapping[str, Any], now_ns: int | None) -> int:
    unknown = set(value) - set(_RELATIVE_UNITS)
    if unknown or not value:
        raise ValueError(
            f"relative timestamp {dict(value)!r}: use keys {', '.join(sorted(_RELATIVE_UNITS))}"
        )
    offset = 0.0
    for key, amount in value.items():
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            raise ValueError(f"relative timestamp {key}: expected a number, got {amount!r}")
        offset += amount * _RELATIVE_UNITS[key]
    base = time.time_ns() if now_ns is None else now_ns
    return base + round(offset * 1e9)


def _epoch(value: float | datetime | str | Mapping[str, float] | None) -> float | None:
    if value is None or isinstance(value, int | float):
        return value
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, Mapping):
        return _relative_ns(value, None) / 1e9
    return datetime.fromisoformat(value).timestamp()


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


def read_seed(source: SeedSource) -> dict[str, Any]:
    """Seed as a dict: a mapping is copied, a path is read as JSON."""
    if isinstance(source, Mapping):
        return dict(source)
    data = json.loads(Path(source).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"seed {os.fspath(source)!r}: expected a JSON object")
    return data


class EmulatorBackend:
    """Thread-safe state of the emulated Connection, IAM and metadata services."""

    def __init__(
        self, *, require_auth: bool = True, iam_token_ttl: float = DEFAULT_IAM_TOKEN_TTL
    ) -> None:
        self.require_auth = require_auth
        self.iam_token_ttl = iam_token_ttl
        self.faults = FaultPlan()
        self._lock = threading.RLock()
        self._connections: dict[str, _Connection] = {}
        self._tokens: dict[str, _Token] = {}
        self._oauth: dict[str, frozenset[str]] = {}
        self._sa_keys: dict[str, _ServiceAccountKey] = {}
        self._metadata_roles: frozenset[str] | None = None
        self._metadata_token: str | None = None
        self._log: list[RecordedRequest] = []

    # -- seeding ---------------------------------------------------------------------------

    @classmethod
    def from_seed(cls, seed: SeedSource) -> EmulatorBackend:
        """New backend holding the seed (see the module docstring for the format)."""
        backend = cls()
        backend.load_seed(seed)
        return backend

    @classmethod
    def demo(cls) -> EmulatorBackend:
        """New backend holding the bundled demo seed."""
        return cls.from_seed(DEMO_SEED_PATH)

    def load_seed(self, seed: SeedSource) -> None:
        """Add the seed's state to this backend; relative timestamps resolve now."""
        data = read_seed(seed)
        unknown = {k for k in data if k not in _SEED_KEYS and not k.startswith(("_", "$"))}
        if unknown:
            raise ValueError(f"seed: unknown keys {sorted(unknown)}; expected {sorted(_SEED_KEYS)}")
        now_ns = time.time_ns()
        with self._lock:
            if "requireAuth" in data:
                self.require_auth = bool(data["requireAuth"])
            if "iamTokenTtlSeconds" in data:
                self.iam_token_ttl = float(data["iamTokenTtlSeconds"])
            for conn in _seed_list(data, "connections"):
                self._add_connection(conn, {}, now_ns)
            for tok in _seed_list(data, "iamTokens"):
                self.add_iam_token(
                    _seed_str(tok, "token"), roles=tok.get("roles"), expires_at=tok.get("expiresAt")
                )
            for tok in _seed_list(data, "oauthTokens"):
                self.add_oauth_token(_seed_str(tok, "token"), roles=tok.get("roles"))
            for key in _seed_list(data, "serviceAccountKeys"):
                self.add_service_account_key(
                    _seed_str(key, "id"),
                    _seed_str(key, "service_account_id"),
                    _seed_str(key, "public_key"),
                    roles=key.get("roles"),
                )
            if "metadataRoles" in data:
                self.set_metadata_roles(data["metadataRoles"])

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
        """Store a connection from an API-shaped dict and/or snake_case fields; returns it whole.

        Missing id/gatewayId are generated, connectedAt defaults to now and lastActiveAt to
        connectedAt; give ``""`` to leave a field unset (omitted when served).
        """
        overrides: dict[str, Any] = {
            "id": id,
            "gatewayId": gateway_id,
            "connectedAt": connected_at,
            "lastActiveAt": last_active_at,
        }
        identity = {"sourceIp": source_ip, "userAgent": user_agent}
        merged = dict(data or {})
        if closed:
            merged["closed"] = True
        with self._lock:
            return self._add_connection(merged, overrides, time.time_ns(), identity)

    def _add_connection(
        self,
        data: Mapping[str, Any],
        overrides: Mapping[str, Any],
        now_ns: int,
        identity_overrides: Mapping[str, str | None] | None = None,
    ) -> dict[str, Any]:
        conn = {k: v for k, v in data.items() if k != "closed"}
        conn.update({k: v for k, v in overrides.items() if v is not None})
        identity = dict(conn.get("identity") or {})
        identity.update({k: v for k, v in (identity_overrides or {}).items() if v is not None})
        conn["identity"] = {
            "sourceIp": identity.pop("sourceIp", ""),
            "userAgent": identity.pop("userAgent", ""),
            **identity,
        }
        conn_id = conn.get("id") or secrets.token_urlsafe(15)
        if not isinstance(conn_id, str):
            raise ValueError(f"connection id must be a string, got {conn_id!r}")
        conn["id"] = conn_id
        conn.setdefault("gatewayId", _yc_id("d5d"))
        connected = resolve_timestamp(conn.get("connectedAt", {"secondsAgo": 0}), now_ns)
        conn["connectedAt"] = connected
        conn["lastActiveAt"] = resolve_timestamp(conn.get("lastActiveAt", connected), now_ns)
        # Keep the API's key order so served bodies look like the real ones.
        ordered: dict[str, Any] = {
            k: conn.pop(k)
            for k in ("id", "gatewayId", "identity", "connectedAt", "lastActiveAt")
            if k in conn
        }
        ordered.update(conn)
        self._connections[conn_id] = _Connection(ordered, closed=bool(data.get("closed", False)))
        return _copy(ordered)

    def update_connection(
        self,
        connection_id: str,
        /,
        *,
        gateway_id: str | None = None,
        source_ip: str | None = None,
        user_agent: str | None = None,
        connected_at: TimestampInput | None = None,
        last_active_at: TimestampInput | None = None,
    ) -> dict[str, Any]:
        """Change fields of a stored connection (None: unchanged); KeyError if unknown."""
        with self._lock:
            data = self._connections[connection_id].data
            if gateway_id is not None:
                data["gatewayId"] = gateway_id
            if source_ip is not None:
                data["identity"]["sourceIp"] = source_ip
            if user_agent is not None:
                data["identity"]["userAgent"] = user_agent
            if connected_at is not None:
                data["connectedAt"] = resolve_timestamp(connected_at)
            if last_active_at is not None:
                data["lastActiveAt"] = resolve_timestamp(last_active_at)
            return _copy(data)

    def close_connection(self, connection_id: str) -> None:
        """Mark a connection closed: Connection.Get answers 404 from now on."""
        with self._lock:
            self._connections[connection_id].closed = True

    def remove_connection(self, connection_id: str) -> None:
        """Forget a connection entirely; KeyError if unknown."""
        with self._lock:
            del self._connections[connection_id]

    def get_connection(self, connection_id: str) -> dict[str, Any] | None:
        """The connection as the API serves it (defaults omitted), or None if gone or closed."""
        with self._lock:
            conn = self._connections.get(connection_id)
            if conn is None or conn.closed:
                return None
            result: dict[str, Any] = _omit_defaults(conn.data)
            return result

    def connections(self, *, include_closed: bool = False) -> list[dict[str, Any]]:
        """Stored connections, whole (defaults kept), in insertion order."""
        with self._lock:
            return [
                _copy(c.data) for c in self._connections.values() if include_closed or not c.closed
            ]

    # -- credentials -----------------------------------------------------------------------

    def add_iam_token(
        self,
        token: str,
        roles: Iterable[str] | None = None,
        expires_at: float | datetime | str | Mapping[str, float] | None = None,
    ) -> str:
        """Accept ``token`` as an IAM token with ``roles`` until ``expires_at`` (None: never)."""
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
        """Connection.Get: the served object, or ApiError (16, 7, 3 or 5)."""
        self._authorize(authorization)
        if len(connection_id) > MAX_CONNECTION_ID_LENGTH:
            raise ApiError(
                3,
                "Request validation error: connection_id: "
                f"length must be <= {MAX_CONNECTION_ID_LENGTH}",
            )
        if not connection_id:
            raise ApiError(3, "Request validation error: connection_id: required")
        found = self.get_connection(connection_id)
        if found is None:
            raise ApiError(5, f"Connection {connection_id} not found")
        return found

    def _authorize(self, authorization: str | None) -> None:
        if not self.require_auth:
            return
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError(16, "Authentication required: send 'Authorization: Bearer <IAM token>'")
        with self._lock:
            info = self._tokens.get(token)
            if info is None:
                raise ApiError(16, "The token is invalid")
            if _expired(info):
                raise ApiError(16, "The token has expired")
            if not info.roles & CONNECTION_ROLES:
                raise ApiError(7, "Permission denied")

    def api_create_iam_token(self, body: bytes) -> dict[str, str]:
        """IAM CreateIamToken: exchange an OAuth token or a service-account JWT."""
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(3, "Request body is not valid JSON") from None
        if not isinstance(payload, dict):
            raise ApiError(3, "Request body must be a JSON object")
        oauth = payload.get("yandexPassportOauthToken")
        jwt_token = payload.get("jwt")
        given = [v for v in (oauth, jwt_token) if v not in (None, "")]
        if len(given) != 1 or not isinstance(given[0], str):
            raise ApiError(3, "Exactly one of yandexPassportOauthToken or jwt must be set")
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
        raise ApiError(16, "The OAuth token is invalid")

    def _jwt_roles(self, token: str) -> frozenset[str]:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError:
            raise ApiError(3, "Malformed JWT") from None
        if header.get("alg") != "PS256":
            raise ApiError(3, "JWT must be signed with PS256")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise ApiError(3, "JWT header must carry kid, the service account key id")
        with self._lock:
            key = self._sa_keys.get(kid)
        required = ["iss", "aud", "iat", "exp"]
        try:
            if key is None:
                if self.require_auth:
                    raise ApiError(16, f"Unknown service account key {kid}")
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
            raise ApiError(3, f"JWT claim {exc.claim} is required") from None
        except jwt.InvalidSignatureError:  # a DecodeError subclass, but no malformed JWT
            raise ApiError(16, "Invalid JWT: signature verification failed") from None
        except jwt.DecodeError:
            raise ApiError(3, "Malformed JWT") from None
        except jwt.InvalidTokenError as exc:
            raise ApiError(16, f"Invalid JWT: {exc}") from None
        lifetime = claims["exp"] - claims["iat"]
        if not isinstance(lifetime, int | float) or not 0 < lifetime <= MAX_JWT_LIFETIME:
            raise ApiError(3, "JWT lifetime (exp - iat) must be positive and at most 1 hour")
        return roles

    def api_metadata_token(self, metadata_flavor: str | None) -> dict[str, Any]:
        """VM metadata token of the attached service account (cached, like the real one)."""
        if metadata_flavor != "Google":
            raise ApiError(7, "Missing required header: Metadata-Flavor: Google")
        with self._lock:
            roles = self._metadata_roles
            if roles is None:
                raise ApiError(5, "No service account is attached to this instance")
            token = self._metadata_token
            info = self._tokens.get(token) if token else None
            if token is None or info is None or _expired(info):
                token, _ = self._mint(roles)
                self._metadata_token = token
                info = self._tokens[token]
            remaining = (info.expires_at or time.time()) - time.time()
        return {"access_token": token, "expires_in": max(int(remaining), 0), "token_type": "Bearer"}

    # -- request log -----------------------------------------------------------------------

    def record(self, request: RecordedRequest) -> None:
        """Append one request to the log (called by the HTTP layer before it answers)."""
        with self._lock:
            self._log.append(request)

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


def _expired(info: _Token) -> bool:
    return info.expires_at is not None and time.time() >= info.expires_at


def _copy(data: dict[str, Any]) -> dict[str, Any]:
    copied: dict[str, Any] = json.loads(json.dumps(data))
    return copied


def _seed_list(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    items = data.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
        raise ValueError(f"seed: {key} must be a list of objects")
    return items


def _seed_str(item: Mapping[str, Any], key: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"seed: missing string {key!r} in {sorted(item)}")
    return value
