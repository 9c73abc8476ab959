"""``ConnectionsClient``: looks up API Gateway WebSocket connections over REST."""

from __future__ import annotations

import dataclasses
import json
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import quote

from pydantic import ValidationError

from ._auth import Credentials, credentials_for
from ._errors import (
    ApiError,
    AuthenticationError,
    ConnectionNotFoundError,
    Failure,
    InvalidConnectionIdError,
    InvalidResponseError,
    error_type_for_status,
)
from ._model import Connection
from ._redaction import SECRETS
from ._retry import NO_RETRY, Deadline, RetryPolicy
from ._service import Service
from ._settings import CONNECTIONS_SERVICE_PREFIX, DEFAULT_API_ENDPOINT, Settings
from ._status import parse_error_body, parse_retry_after
from ._token_cache import PROCESS_TOKEN_CACHE, TokenCache
from ._transport import HttpResponse, HttpTransport
from ._urls import origin_of, service_url, validate_endpoint

CONNECTIONS_PATH = "/apigateways/websocket/v1/connections/"
MAX_CONNECTION_ID_LENGTH = 50
DEFAULT_ENDPOINT = service_url(CONNECTIONS_SERVICE_PREFIX, DEFAULT_API_ENDPOINT)
"""The Connection service of Yandex Cloud."""
CONNECTIONS = Service("connections", status_errors={404: ConnectionNotFoundError})
EVENTS = ("request", "retry", "exchange")
"""The events of ``event_hooks``: ``request(service, method, url)`` before every attempt (token
exchanges included), ``retry(error, wait)`` before every retry, ``exchange(service)`` when a
token exchange starts (once, whatever its retries)."""

EventHooks = Mapping[str, Sequence[Callable[..., object]]]


def validate_connection_id(connection_id: object) -> str:
    """Return ``connection_id`` if it can be looked up, else raise ``InvalidConnectionIdError``."""
    if not isinstance(connection_id, str):
        raise InvalidConnectionIdError(_not_a_string(connection_id))
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


def _not_a_string(value: object) -> str:
    """Why ``value`` is no connection id, and what to pass instead."""
    if value is None:
        return "connection id is missing (None); pass the id API Gateway gave the connection"
    if isinstance(value, bool):
        return f"connection id must be a string, not the boolean {value}"
    if isinstance(value, int | float):
        # Pulumi carries every number as a float: show 5.0 as the 5 the program wrote.
        whole = isinstance(value, float) and value.is_integer() and abs(value) < 2**53
        number = int(value) if whole else value
        return (
            f"connection id must be a string, not the number {number}; pass it as text, "
            f'e.g. "{number}"'
        )
    if isinstance(value, bytes | bytearray):
        return "connection id must be a string, not bytes; decode it first (value.decode())"
    kinds: dict[type, str] = {list: "a list", tuple: "a tuple", dict: "a mapping"}
    kind = kinds.get(type(value)) or type(value).__name__
    return f"connection id must be a string, not {kind}"


def connection_url(endpoint: str, connection_id: str) -> str:
    """The Connection.Get URL, with the id percent-encoded as exactly one path segment."""
    return endpoint + CONNECTIONS_PATH + quote(validate_connection_id(connection_id), safe="")


class ConnectionsClient:
    """Looks up WebSocket connections; one pooled transport, safe to share across threads.

    ``ConnectionsClient(credentials)`` talks to Yandex Cloud with those credentials;
    :meth:`from_settings` builds one from resolved :class:`~._settings.Settings` (by default,
    the environment's).
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        endpoint: str = DEFAULT_ENDPOINT,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        transport: HttpTransport | None = None,
        event_hooks: EventHooks | None = None,
    ) -> None:
        """Create a client.

        ``endpoint`` is the Connection service's base URL; ``timeout`` is the deadline of one
        whole lookup, retries and token exchange included; ``transport`` carries the requests
        (connect and read timeouts, pool size, size caps, proxies: see
        :class:`~._transport.HttpTransport`).
        """
        unknown = set(event_hooks or {}) - set(EVENTS)
        if unknown:
            raise TypeError(f"unknown event hooks {sorted(unknown)}; events are {list(EVENTS)}")
        self.endpoint = validate_endpoint(endpoint, "connections endpoint")
        self.credentials = credentials
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._transport = transport or HttpTransport()
        # The sequences are kept, not copied: hooks added to them later are called too.
        self._hooks = {event: (event_hooks or {}).get(event, ()) for event in EVENTS}

    @classmethod
    def from_settings(
        cls,
        settings: Settings | None = None,
        *,
        token_cache: TokenCache = PROCESS_TOKEN_CACHE,
        **options: Any,
    ) -> ConnectionsClient:
        """A client for ``settings`` (default: ``Settings.resolve()``, the environment's).

        Exchanged tokens go to ``token_cache``, by default the one every such client of the
        process shares; ``options`` are the constructor's.
        """
        settings = settings or Settings.resolve()
        credentials = credentials_for(settings, token_cache)
        return cls(credentials, endpoint=settings.connections_endpoint, **options)

    def get(self, connection_id: str) -> Connection:
        """Look up one connection; raise a typed :class:`ApiError` subclass on failure."""
        url = connection_url(self.endpoint, connection_id)
        deadline = Deadline(self.timeout)
        exchange = _Exchange(self, deadline)
        token = self.credentials.token(exchange, deadline)
        try:
            response: HttpResponse | None = self._send(
                "GET", url, CONNECTIONS, deadline, token=token, connection_id=connection_id
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
            response = self._send(
                "GET",
                url,
                CONNECTIONS,
                deadline,
                token=token,
                connection_id=connection_id,
                policy=NO_RETRY,
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
        """Close the transport's pooled connections (a later lookup opens new ones)."""
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

    def _send(
        self,
        method: str,
        url: str,
        service: Service,
        deadline: Deadline,
        *,
        token: str | None = None,
        body: bytes | None = None,
        policy: RetryPolicy | None = None,
        connection_id: str = "",
    ) -> HttpResponse:
        headers = {"Accept": "application/json", **service.headers}
        if token is not None:
            SECRETS.note(token)
            headers["Authorization"] = f"Bearer {token}"
        if body is not None:
            headers["Content-Type"] = "application/json"
        policy = policy or self.retry
        if service.max_attempts is not None:
            policy = dataclasses.replace(policy, max_attempts=service.max_attempts)

        def attempt() -> HttpResponse:
            self._fire("request", service.name, method, url)
            response = self._transport.request(
                method,
                url,
                service=service.name,
                deadline=deadline,
                headers=headers,
                body=body,
                connect_timeout=service.connect_timeout,
            )
            if response.status >= 300:
                raise self._error_for(response, service, url, connection_id)
            return response

        return policy.run(attempt, deadline, on_retry=self._on_retry)

    def _fire(self, event: str, *args: object) -> None:
        for hook in self._hooks[event]:
            hook(*args)

    def _on_retry(self, error: BaseException, wait: float) -> None:
        self._fire("retry", error, wait)

    def _error_for(
        self, response: HttpResponse, service: Service, url: str, connection_id: str
    ) -> ApiError:
        error_type = error_type_for_status(response.status, service.status_errors)
        summary, hint = error_type.describe(
            Failure(
                service=service.name,
                origin=origin_of(url),
                credential=self.credentials.description,
                renewable=self.credentials.refreshable,
                connection_id=connection_id,
                endpoint=self.endpoint,
                rejection_hint=getattr(self.credentials, "rejection_hint", ""),
            )
        )
        parsed = parse_error_body(response.body, response.headers)
        return error_type(
            summary,
            message=parsed.message,
            http_status=response.status,
            grpc_code=parsed.grpc_code,
            request_id=parsed.request_id,
            service=service.name,
            hint=hint,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )


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
        self, method: str, url: str, *, service: Service, json_body: object | None = None
    ) -> bytes:
        body = None if json_body is None else json.dumps(json_body).encode()
        self._client._fire("exchange", service.name)
        response = self._client._send(method, url, service, self._deadline, body=body)
        content: bytes = response.body
        return content
