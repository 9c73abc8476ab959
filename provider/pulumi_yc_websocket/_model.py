"""The Connection record, parsed from the proto3 JSON that Connection.Get returns."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic.alias_generators import to_camel

# Timestamp brings its own pydantic schema: RFC 3339 in, every received digit out in JSON.
from ._timestamps import Timestamp


class _ApiModel(BaseModel):
    # proto3 JSON: camelCase keys, default values may be absent, unknown keys must be ignored.
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        frozen=True,
        strict=True,
    )

    @model_validator(mode="before")
    @classmethod
    def _null_is_default(cls, data: Any) -> Any:
        # proto3 JSON: null is accepted for every field and means its default value.
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None}
        return data


class Identity(_ApiModel):
    """Who opened the connection, as API Gateway saw the caller."""

    source_ip: str = ""
    """Source IP address of the caller (IPv4 or IPv6); empty when the API omits it."""
    user_agent: str = ""
    """User-Agent header of the caller; empty when the API omits it."""


class Connection(_ApiModel):
    """A WebSocket connection to an API Gateway, as Connection.Get returns it."""

    id: str = ""
    """ID of the connection."""
    gateway_id: str = ""
    """ID of the API Gateway the connection belongs to."""
    identity: Identity = Identity()
    """The caller that opened the connection."""
    connected_at: Timestamp | None = None
    """When the connection was established (UTC); ``None`` when the API omits it."""
    last_active_at: Timestamp | None = None
    """When the connection was last used (UTC); ``None`` when the API omits it."""
