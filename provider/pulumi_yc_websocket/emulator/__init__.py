"""Local emulator of the Yandex Cloud API Gateway WebSocket Connection service, IAM and metadata.

Standalone (no pulumi, no other module of the package): real HTTP on 127.0.0.1, proto3-JSON
answers, google.rpc.Status errors, a request log and deterministic fault injection.

    with EmulatorServer(EmulatorBackend.demo()) as server:
        ...  # point the client at server.url
"""

from .backend import (
    CONNECTION_ROLES,
    DEFAULT_IAM_TOKEN_TTL,
    DEFAULT_ROLES,
    DEMO_SEED_PATH,
    IAM_AUDIENCE,
    MAX_CONNECTION_ID_LENGTH,
    ApiError,
    EmulatorBackend,
    Headers,
    RecordedRequest,
    RequestService,
    format_timestamp,
    http_status_for,
    read_seed,
    resolve_timestamp,
)
from .faults import (
    Delay,
    Drop,
    Fault,
    FaultPlan,
    NotJson,
    Oversized,
    Redirect,
    Service,
    Status,
    Truncated,
)
from .server import CONNECTIONS_PREFIX, IAM_TOKENS_PATH, METADATA_TOKEN_PATH, EmulatorServer

__all__ = [
    "CONNECTIONS_PREFIX",
    "CONNECTION_ROLES",
    "DEFAULT_IAM_TOKEN_TTL",
    "DEFAULT_ROLES",
    "DEMO_SEED_PATH",
    "IAM_AUDIENCE",
    "IAM_TOKENS_PATH",
    "MAX_CONNECTION_ID_LENGTH",
    "METADATA_TOKEN_PATH",
    "ApiError",
    "Delay",
    "Drop",
    "EmulatorBackend",
    "EmulatorServer",
    "Fault",
    "FaultPlan",
    "Headers",
    "NotJson",
    "Oversized",
    "RecordedRequest",
    "Redirect",
    "RequestService",
    "Service",
    "Status",
    "Truncated",
    "format_timestamp",
    "http_status_for",
    "read_seed",
    "resolve_timestamp",
]
