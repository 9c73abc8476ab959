"""``ConnectionsClient``: looks up API Gateway WebSocket connections over REST."""

from __future__ import annotations

import json
import threading
import unicodedata
from collections.abc import Mapping
from types import TracebackType
from urllib.parse import quote, unquote

from pydantic import ValidationError

from .auth import Credentials, credentials_from_source
from .errors import (
    REQUIRED_ROLE,
    ApiError,
    AuthenticationError,
    ConnectionNotFoundError,
    InvalidConnectionIdError,
    InvalidResponseError,
    PermissionDeniedError,
    ServiceUnavailableError,
    ThrottledError,
    remember_secret,
)
from .model import Connection
from .retry import NO_RETRY, Deadline, RetryPolicy
from .settings import Settings, validate_endpoint
from .status import parse_error_body, parse_retry_after
from .transport import DEFAULT_MAX_BODY_BYTES, HttpResponse, HttpTransport, origin_of

CONNECTIONS_PATH = "/apigateways/websocket/v1/connections/"
MAX_CONNECTION_ID_LENGTH = 50
_RETRYABLE_5XX = frozenset({500, 502, 503, 504})
_METADATA_CONNECT_TIMEOUT = 1.0


def validate_connection_id(connection_id: object) -> str:
    """Return ``connection_id`` if it can be looked up, else raise ``InvalidConnectionIdError``."""
    if not isinstance(connection_id, str):
        raise InvalidConnectionIdError(
            f"connection id must be a string, not {type(connection_id).__name__}"
        )
    if not connection_id:
        raise InvalidConnectionIdError(
            "connection id is empty; pass the id API Gateway gave the connection"
        )
    if len(connection_id) > MAX_CONNECTION_ID_LENGTH:
        raise InvalidConnectionIdError(
            f"connection id is {len(connection_id)} characters long; Yandex Cloud ids have at "
            f"most {MAX_CONNECTION_ID_LENGTH}"
        )
    for position, char in enumerate(connection_id):
        category = unicodedata.category(char)
        if category in ("Cc", "Cs"):
            what = "a control character" if category == "Cc" else "an unpaired surrogate"
            raise InvalidConnectionIdError(
                f"connection id has {what} (U+{ord(char):04X}) at position {position}; "
                "check for stray newlines or tabs"
            )
    if connection_id in (".", ".."):
        raise InvalidConnectionIdError(
            f"connection id {connection_id!r} is not a valid id (it would leave the "
            "connections path)"
        )
    return connection_id


def connection_url(endpoint: str, connection_id: str) -> str:
    """The Connection.Get URL, with the id percent-encoded as exactly one path segment."""
    return endpoint + CONNECTIONS_PATH + quote(validate_connection_id(connection_id), safe="")


class ConnectionsClient:
    """Looks up WebSocket connections; one pooled session, safe to share across threads.

    Without arguments, endpoints and credentials resolve from the environment (see
    :class:`~pulumi_yc_websocket.settings.Settings`); ``config`` adds a Pulumi-style mapping.
    """

    def __init__(
        self,
        endpoint: str | None = None,
        credentials: Credentials | None = None,
        *,
        settings: Settings | None = None,
        config: Mapping[str, str] | None = None,
        environ: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        max_connections: int = 16,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        """Create a client.

        ``endpoint`` is the Connection service's base URL (default: derived from the API root);
        ``timeout`` is the deadline of one whole lookup, retries and token exchange included.
        """
        self.settings = settings or Settings.resolve(
            connections_endpoint=endpoint,
            config=config,
            environ=environ,
            resolve_credential=credentials is None,
        )
        self.endpoint = (
            validate_endpoint(endpoint, "connections endpoint")
            if endpoint
            else self.settings.connections_endpoint
        )
        self.credentials = credentials or credentials_from_source(self.settings)
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._transport = HttpTransport(
            max_connections=max_connections,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_body_bytes=max_body_bytes,
            environ=environ,
        )
        self._stats_lock = threading.Lock()
        self.retries = 0
        """Retries made so far by this client (all lookups and exchanges)."""

    def get(self, connection_id: str) -> Connection:
        """Look up one connection; raise a typed :class:`ApiError` subclass on failure."""
        url = connection_url(self.endpoint, connection_id)
        deadline = Deadline(self.timeout)
        exchange = _Exchange(self, deadline)
        token = self.credentials.token(exchange, deadline)
        try:
            response: HttpResponse | None = self._send_with_retry(
                "GET", url, "connections", deadline, token=token
            )
        except AuthenticationError:
            if not self.credentials.refreshable:
                raise
            response = None
        if response is None:
            # An exchanged token can be revoked or expire early: renew it once, try once more.
            # (Outside the except block, so a second failure does not chain the first.)
            self.credentials.invalidate(token)
            token = self.credentials.token(exchange, deadline)
            response = self._send_with_retry(
                "GET", url, "connections", deadline, token=token, policy=NO_RETRY
            )
        connection, problem = _parse_connection(response.body)
        if connection is None:
            raise InvalidResponseError(
                f"the answer for connection {connection_id!r} is not a valid Connection",
                message=problem,
                http_status=response.status,
                hint="check that the endpoint points at the Yandex Cloud API",
            )
        if connection.id != connection_id:
            raise InvalidResponseError(
                f"the answer for connection {connection_id!r} describes "
                f"{connection.id[:64]!r} instead",
                http_status=response.status,
                hint="check that the endpoint points at the Yandex Cloud API",
            )
        return connection

    def close(self) -> None:
        """Close the pooled connections."""
        self._transport.close()

    def __enter__(self) -> ConnectionsClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ConnectionsClient(endpoint={self.endpoint!r}, credentials={self.credentials!r})"

    def _send_with_retry(
        self,
        method: str,
        url: str,
        service: str,
        deadline: Deadline,
        *,
        token: str | None = None,
        body: bytes | None = None,
        policy: RetryPolicy | None = None,
    ) -> HttpResponse:
        headers = {"Accept": "application/json"}
        if token is not None:
            remember_secret(token)
            headers["Authorization"] = f"Bearer {token}"
        if body is not None:
            headers["Content-Type"] = "application/json"
        connect_timeout: float | None = None
        policy = policy or self.retry
        if service == "metadata":
            headers = {"Metadata-Flavor": "Google", "Accept": "application/json"}
            connect_timeout = _METADATA_CONNECT_TIMEOUT
            policy = RetryPolicy(max_attempts=2, sleep=self.retry.sleep)

        def attempt() -> HttpResponse:
            response = self._transport.request(
                method,
                url,
                service=service,
                deadline=deadline,
                headers=headers,
                body=body,
                connect_timeout=connect_timeout,
            )
            if response.status >= 300:
                raise self._error_for(response, service, url)
            return response

        return policy.run(attempt, deadline, on_retry=self._count_retry)

    def _count_retry(self, error: BaseException, wait: float) -> None:
        with self._stats_lock:
            self.retries += 1

    def _error_for(self, response: HttpResponse, service: str, url: str) -> ApiError:
        status = response.status
        where = f"{service} at {origin_of(url)}"
        error_type: type[ApiError] = ApiError
        summary, hint = f"{where} refused the request", ""
        if service == "connections" and status == 404:
            connection_id = unquote(url.rsplit("/", 1)[-1])
            error_type = ConnectionNotFoundError
            summary = f"connection {connection_id!r} was not found at {self.endpoint}"
            hint = (
                "it has closed or never existed (connections close after 10 idle minutes "
                "and live at most 60)"
            )
        elif 300 <= status < 400:
            error_type = InvalidResponseError
            summary = f"{where} answered with a redirect, which is never followed"
            hint = "point the endpoint at the service itself"
        elif status == 401:
            error_type = AuthenticationError
            summary = f"{self.credentials.description} was rejected by {service}"
            hint = _AUTH_HINTS[self.credentials.refreshable]
        elif status == 403:
            error_type = PermissionDeniedError
            summary = f"{self.credentials.description} may not use {service}"
            hint = (
                f"grant its account the role {REQUIRED_ROLE} (or "
                "api-gateway.websocketBroadcaster) on the gateway's folder"
            )
        elif status == 429:
            error_type = ThrottledError
            summary = f"{where} kept rate-limiting the request"
            hint = "retry later or look up fewer connections at once"
        elif status in _RETRYABLE_5XX:
            error_type = ServiceUnavailableError
            summary = f"{where} kept failing"
            hint = "retry later; see https://status.yandex.cloud"
        parsed = parse_error_body(response.body, response.headers)
        return error_type(
            summary,
            message=parsed.message,
            http_status=status,
            grpc_code=parsed.grpc_code,
            request_id=parsed.request_id,
            service=service,
            hint=hint,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )


_AUTH_HINTS = {
    False: "the IAM token has expired or is invalid: create a new one with `yc iam create-token`",
    True: "the token was renewed once and still rejected: check that the OAuth token or "
    "service-account key is valid and not revoked",
}


def _parse_connection(body: bytes) -> tuple[Connection | None, str]:
    """The Connection in ``body``, or None and what is wrong with it.

    The validation error itself (which holds the body it read) never leaves this function.
    """
    try:
        return Connection.model_validate_json(body), ""
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        location = ".".join(str(part) for part in first["loc"]) or "body"
        return None, f"{location}: {first['msg']} ({error.error_count()} problem(s))"


class _Exchange:
    """Token exchange requests for one lookup: same transport, retry policy and deadline."""

    def __init__(self, client: ConnectionsClient, deadline: Deadline) -> None:
        self._client = client
        self._deadline = deadline

    def __call__(
        self, method: str, url: str, *, service: str, json_body: object | None = None
    ) -> bytes:
        body = None if json_body is None else json.dumps(json_body).encode()
        response = self._client._send_with_retry(method, url, service, self._deadline, body=body)
        content: bytes = response.body
        return content
