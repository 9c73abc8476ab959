"""Reading google.rpc.Status error bodies and ``Retry-After`` headers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

from ._errors import MESSAGE_CHARS, REQUEST_ID_CHARS
from ._redaction import shown_text

_EXCERPT_CHARS = 120
_RETRY_AFTER = Retry()


class _Detail(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    type_url: str = Field("", alias="@type")
    request_id: str = Field("", alias="requestId")


class _RpcStatus(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: int = 0
    message: str = ""
    details: list[_Detail] = []


@dataclass(frozen=True)
class ErrorBody:
    """What an error answer said: the gRPC code, the message and the request id, where present."""

    grpc_code: int | None
    message: str
    request_id: str | None


def parse_error_body(body: bytes, headers: Mapping[str, str]) -> ErrorBody:
    """Read a google.rpc.Status body; fall back to a short excerpt of any other text.

    Message, excerpt and request id come back as :func:`~._redaction.shown_text`: one line, escaped,
    capped.
    """
    header_request_id = _request_id(headers.get("x-request-id"))
    try:
        status: _RpcStatus | None = _RpcStatus.model_validate_json(body)
    except ValidationError:
        status = None
    if status is None or (not status.code and not status.message):
        # Not JSON, or no google.rpc.Status (e.g. a proxy's {"error": ...}): keep what it said.
        return ErrorBody(None, _excerpt(body), header_request_id)
    request_id = next((d.request_id for d in status.details if d.request_id), None)
    message = shown_text(status.message, MESSAGE_CHARS)
    return ErrorBody(status.code or None, message, _request_id(request_id) or header_request_id)


def _request_id(value: str | None) -> str | None:
    shown = shown_text(value, REQUEST_ID_CHARS) if value else ""
    return shown or None


def _excerpt(body: bytes) -> str:
    text = body.decode("utf-8", errors="replace")
    # Proxies answer with HTML: keep the words, not the markup.
    words: list[str] = []
    inside_tag = False
    for char in text:
        if char == "<":
            inside_tag = True
            words.append(" ")
        elif char == ">":
            inside_tag = False
        elif not inside_tag:
            words.append(char)
    return shown_text("".join(words), _EXCERPT_CHARS)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), if valid."""
    if not value:
        return None
    try:
        return _RETRY_AFTER.parse_retry_after(value.strip())
    except (InvalidHeader, ValueError, OverflowError):
        # ValueError: more digits than int() converts; OverflowError: absurd dates.
        return None
