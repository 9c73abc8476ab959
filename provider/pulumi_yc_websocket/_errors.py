"""Typed errors, each class carrying its facts as data: exit code, retryability, HTTP statuses.

Every message is one line that says what failed and what to do; none ever contains a credential.
Text a server supplied (its message, request id, excerpts) passes through
:func:`~._redaction.shown_text` on its way into an :class:`ApiError`: control characters
escaped, length capped, and every credential the process has sent or holds replaced by ``***``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar

from ._redaction import shown_text

REQUIRED_ROLE = "api-gateway.websocketWriter"
MESSAGE_CHARS = 1000
"""Longest service message shown in an error."""
REQUEST_ID_CHARS = 128
"""Longest request id shown (Yandex Cloud's are 36-character UUIDs)."""

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_CREDENTIALS = 4
EXIT_PERMISSION = 5

EXIT_CODES = {
    EXIT_OK: "found",
    EXIT_USAGE: "bad usage, an invalid id or invalid settings (endpoints, addresses)",
    EXIT_NOT_FOUND: "not found (closed)",
    EXIT_CREDENTIALS: "credentials missing, conflicting, unusable or rejected",
    EXIT_PERMISSION: "permission denied",
    EXIT_ERROR: "any other error (service unavailable, deadline, invalid answer)",
}
"""What each exit status means; every error class says which is its own (``exit_code``)."""
EXIT_SEVERITY = (
    EXIT_USAGE,
    EXIT_CREDENTIALS,
    EXIT_PERMISSION,
    EXIT_ERROR,
    EXIT_NOT_FOUND,
    EXIT_OK,
)
"""Exit statuses, worst first: what the caller must fix before anything else means much (the
command, the settings, the credential, the role), then failures of the service, then a plain
answer ("not found")."""


def worst_exit_code(codes: Iterable[int]) -> int:
    """The worst of ``codes`` by :data:`EXIT_SEVERITY` (``EXIT_OK`` for none)."""
    return min(codes, key=EXIT_SEVERITY.index, default=EXIT_OK)


class YandexWebSocketError(Exception):
    """Base class of every error this package raises."""

    exit_code: ClassVar[int] = EXIT_ERROR
    """The command line's exit status for this error."""
    retryable: ClassVar[bool] = False
    """Whether trying the same lookup again may succeed."""


class InvalidConnectionIdError(YandexWebSocketError, ValueError):
    """The connection id cannot be looked up; raised before any request is sent."""

    exit_code = EXIT_USAGE


class ConfigurationError(YandexWebSocketError, ValueError):
    """Settings are invalid or unsafe (an endpoint, an address); raised before any request."""

    exit_code = EXIT_USAGE


class InsecureEndpointError(ConfigurationError):
    """An endpoint URL would leak the bearer token or leave the intended service."""


class InsecureProxyError(InsecureEndpointError):
    """The proxy settings would carry a token over plain http; raised before anything is sent."""


class CredentialsError(ConfigurationError):
    """The credential settings are missing, conflicting or unusable; raised before any lookup."""

    exit_code = EXIT_CREDENTIALS


class CredentialsNotFoundError(CredentialsError):
    """No credential was configured anywhere, and no VM metadata service provides one."""


class ConflictingCredentialsError(CredentialsError):
    """Two credentials were configured at the same level; the package will not guess."""


class InvalidCredentialsError(CredentialsError):
    """A configured credential cannot be used as given (an unreadable key file, an empty token)."""


@dataclass(frozen=True)
class Failure:
    """What a client knows about a failed request, for the error that describes it."""

    service: str
    origin: str
    credential: str = "the credential"
    """Where the credential came from (never the secret), e.g. "the IAM token from YC_IAM_TOKEN"."""
    renewable: bool = False
    """Whether the credential's tokens come from an exchange (and one renewal was tried)."""
    connection_id: str = ""
    endpoint: str = ""
    rejection_hint: str = ""
    """What the credential itself suggests when its token is rejected (e.g. "use YC_TOKEN")."""


class ApiError(YandexWebSocketError):
    """A Yandex Cloud service answered with an error, or could not be reached.

    ``message`` is the service's own message from the google.rpc.Status body (or a short excerpt
    of a proxy's non-JSON answer); ``summary`` and ``hint`` say what failed and what to do.
    """

    http_statuses: ClassVar[tuple[int, ...]] = ()
    """The HTTP statuses this error stands for (see :func:`error_type_for_status`)."""
    summary_template: ClassVar[str] = "{service} at {origin} refused the request"
    hint_template: ClassVar[str] = ""

    def __init__(
        self,
        summary: str,
        *,
        message: str = "",
        http_status: int | None = None,
        grpc_code: int | None = None,
        request_id: str | None = None,
        service: str = "connections",
        hint: str = "",
        retry_after: float | None = None,
    ) -> None:
        # The one place server text enters an error: whatever built the pieces, what is kept
        # and shown is escaped, capped and free of known credentials.
        self.summary = shown_text(summary, MESSAGE_CHARS)
        self.message = shown_text(message, MESSAGE_CHARS)
        self.http_status = http_status
        self.grpc_code = grpc_code
        self.request_id = shown_text(request_id, REQUEST_ID_CHARS) if request_id else None
        self.service = service
        self.hint = hint
        self.retry_after = retry_after
        """Seconds the service asked to wait before trying again, if it said."""
        super().__init__(self._render())

    @classmethod
    def describe(cls, failure: Failure) -> tuple[str, str]:
        """The summary and the hint of this error for ``failure``."""
        fields = vars(failure)
        return cls.summary_template.format(**fields), cls.hint_template.format(**fields)

    def with_hint(self, advice: str) -> ApiError:
        """This error with ``advice`` added to its hint (a caller's own, e.g. an option to set)."""
        hint = f"{self.hint.rstrip('. ')}; {advice}" if self.hint else advice
        return _rebuild_api_error(type(self), {**self.__dict__, "hint": hint})

    def _render(self) -> str:
        text = _sentence(self.summary)
        if self.hint:
            text += " " + _sentence(self.hint)
        facts = [f"service said: {self.message.rstrip('. ')}"] if self.message else []
        if self.http_status is not None:
            facts.append(f"HTTP {self.http_status}")
        if self.grpc_code is not None:
            facts.append(f"gRPC code {self.grpc_code}")
        if self.request_id:
            facts.append(f"request id {self.request_id}")
        return f"{text} ({'; '.join(facts)})" if facts else text

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only constructor: rebuild from attributes so errors survive pickling.
        return (_rebuild_api_error, (type(self), dict(self.__dict__)))


def _sentence(text: str) -> str:
    text = text.strip().rstrip(".")
    return f"{text[:1].upper()}{text[1:]}." if text else ""


def _rebuild_api_error(cls: type[ApiError], attributes: dict[str, object]) -> ApiError:
    error = cls.__new__(cls)
    error.__dict__.update(attributes)
    Exception.__init__(error, error._render())
    return error


class ConnectionNotFoundError(ApiError):
    """The connection does not exist or has closed (HTTP 404, gRPC NOT_FOUND)."""

    exit_code = EXIT_NOT_FOUND
    summary_template = "connection {connection_id!r} was not found at {endpoint}"
    hint_template = (
        "it has closed or never existed (connections close after 10 idle minutes and live "
        "at most 60)"
    )

    @classmethod
    def describe(cls, failure: Failure) -> tuple[str, str]:
        """The usual hint, and a word about whitespace around the id (a copy-paste slip)."""
        summary, hint = super().describe(failure)
        given = failure.connection_id
        ends = [
            end
            for end, char in (("starts", given[:1]), ("ends", given[-1:]))
            if char and char.isspace()
        ]
        if ends:
            hint = (
                f"the id {' and '.join(ends)} with whitespace, which API Gateway's ids never "
                "do: strip it and try again"
            )
        return summary, hint


class PermissionDeniedError(ApiError):
    """The credential lacks a role that allows Connection.Get (HTTP 403)."""

    exit_code = EXIT_PERMISSION
    http_statuses = (403,)
    summary_template = "{credential} may not use {service}"
    hint_template = (
        f"grant its account the role {REQUIRED_ROLE} (or api-gateway.websocketBroadcaster) on "
        "the gateway's folder"
    )


class AuthenticationError(ApiError):
    """The credential was rejected (HTTP 401), or a token exchange was refused."""

    exit_code = EXIT_CREDENTIALS
    http_statuses = (401,)
    summary_template = "{credential} was rejected by {service}"

    @classmethod
    def describe(cls, failure: Failure) -> tuple[str, str]:
        """The rejected credential; a hint for a static token, another for a renewed one."""
        summary, _ = super().describe(failure)
        if failure.renewable:
            return summary, (
                "the token was renewed once and still rejected: check that the OAuth token or "
                "service-account key is valid and not revoked"
            )
        if failure.rejection_hint:
            return summary, failure.rejection_hint
        return summary, (
            "the IAM token has expired or is invalid: create a new one with `yc iam create-token`"
        )


class ThrottledError(ApiError):
    """Still rate-limited (HTTP 429) after every retry the deadline allowed."""

    retryable = True
    http_statuses = (429,)
    summary_template = "{service} at {origin} kept rate-limiting the request"
    hint_template = "retry later or look up fewer connections at once"


class ServiceUnavailableError(ApiError):
    """The service kept failing (5xx or network errors) after every retry the deadline allowed."""

    retryable = True
    http_statuses = (500, 502, 503, 504)
    summary_template = "{service} at {origin} kept failing"
    hint_template = "retry later; see https://status.yandex.cloud"


class DeadlineExceededError(ApiError):
    """The lookup's overall deadline passed before a usable answer arrived."""


class InvalidResponseError(ApiError):
    """The service answered with something that is not a valid, bounded response."""

    http_statuses = (300, 301, 302, 303, 304, 305, 307, 308)
    summary_template = "{service} at {origin} answered with a redirect, which is never followed"
    hint_template = "point the endpoint at the service itself"


_TYPE_FOR_STATUS: dict[int, type[ApiError]] = {
    status: error_type
    for error_type in (
        PermissionDeniedError,
        AuthenticationError,
        ThrottledError,
        ServiceUnavailableError,
        InvalidResponseError,
    )
    for status in error_type.http_statuses
}


def error_type_for_status(
    status: int, overrides: Mapping[int, type[ApiError]] | None = None
) -> type[ApiError]:
    """The error an HTTP status stands for; a service's own ``overrides`` first."""
    found = (overrides or {}).get(status) or _TYPE_FOR_STATUS.get(status)
    if found is None and 300 <= status < 400:
        return InvalidResponseError
    return found or ApiError
