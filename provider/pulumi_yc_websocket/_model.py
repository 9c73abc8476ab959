"""The Connection record, parsed from the proto3 JSON that Connection.Get returns.

Each field's description is the one the Pulumi schema and the docs derive theirs from. Fields
the API leaves out hold proto3's defaults: ``""``, an empty identity, or ``None`` for a time.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
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

    source_ip: str = Field("", description="Source IP address of the caller (IPv4 or IPv6).")
    user_agent: str = Field("", description="User-Agent header the caller sent.")


class Connection(_ApiModel):
    """A WebSocket connection to an API Gateway, as Connection.Get returns it."""

    id: str = Field("", description="ID of the connection.")
    gateway_id: str = Field("", description="ID of the API Gateway the connection belongs to.")
    identity: Identity = Field(
        Identity(), description="The caller that opened the connection, as API Gateway saw it."
    )
    connected_at: Timestamp | None = Field(None, description="When the connection was established.")
    last_active_at: Timestamp | None = Field(None, description="When the connection was last used.")
