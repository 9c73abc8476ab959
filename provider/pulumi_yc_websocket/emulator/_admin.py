"""Admin interface of the emulator: change its data while it runs, under ``/_emulator/``.

It takes no credentials: the emulator listens on 127.0.0.1 only, so only this machine reaches
it, and the HTTP layer refuses the web pages its browser opens (another Host or Origin); writes
must be JSON (``Content-Type: application/json``), which a page cannot send without a CORS
preflight. Admin requests are neither faulted nor written to the request log. Request bodies use
the seed's schema and are validated the same way; every answer is JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, get_args
from urllib.parse import parse_qs, unquote

from pydantic import RootModel

from ._backend import EmulatedStatusError, EmulatorBackend, RecordedRequest, RequestService
from ._seed import (
    ClockMove,
    ConnectionChange,
    ConnectionSeed,
    SeedError,
    format_timestamp,
    parse_json_body,
    validate,
)

ADMIN_PREFIX = "/_emulator/"


@dataclass
class AdminAnswer:
    status: int
    payload: Any


@dataclass(frozen=True)
class _AdminRequest:
    connection_id: str  # the decoded {id} segment, when the route has one
    query: str
    body: bytes


class _ConnectionList(RootModel[list[ConnectionSeed]]):
    pass


def is_admin_path(raw_path: str) -> bool:
    """Whether a request goes to the admin interface rather than an emulated service."""
    return raw_path == ADMIN_PREFIX.rstrip("/") or raw_path.startswith(ADMIN_PREFIX)


def handle(
    backend: EmulatorBackend, method: str, raw_path: str, body: bytes, content_type: str | None
) -> AdminAnswer:
    """Answer one admin request; EmulatedStatusError for a bad one (answered as an error)."""
    path, _, query = raw_path.partition("?")
    parts = path.removeprefix(ADMIN_PREFIX).split("/")
    template, argument = "/".join(parts), ""
    if len(parts) == 2 and parts[0] == "connections" and parts[1]:
        template, argument = "connections/{id}", unquote(parts[1])
    allowed = [route.method for route in ROUTES if route.path == template]
    if not allowed:
        routes = ", ".join(f"{r.method} {ADMIN_PREFIX}{r.path}" for r in ROUTES)
        raise EmulatedStatusError(5, f"No admin endpoint {path}; the endpoints: {routes}")
    if method not in allowed:
        message = f"Use {' or '.join(allowed)} on {path}"
        raise EmulatedStatusError(12, message, 405, headers={"Allow": ", ".join(allowed)})
    _require_json(method, body, content_type)
    route = next(r for r in ROUTES if (r.method, r.path) == (method, template))
    try:
        return route.handler(backend, _AdminRequest(argument, query, body))
    except SeedError as exc:
        raise EmulatedStatusError(3, str(exc)) from None
    except KeyError:
        raise EmulatedStatusError(5, f"No connection {argument!r} is stored") from None


def _require_json(method: str, body: bytes, content_type: str | None) -> None:
    # A web page can POST text/plain or a form without a CORS preflight, but not JSON. A DELETE
    # always needs a preflight, so one without a body needs no type.
    if method == "GET" or (method == "DELETE" and not body):
        return
    if (content_type or "").partition(";")[0].strip().lower() == "application/json":
        return
    given = repr(content_type) if content_type else "none"
    message = f"Send admin {method} requests with Content-Type: application/json (got {given})"
    raise EmulatedStatusError(3, message, 415)


def _entry(backend: EmulatorBackend, connection: dict[str, Any]) -> dict[str, Any]:
    return {"status": backend.connection_status(connection["id"]), "connection": connection}


def _list_connections(backend: EmulatorBackend, request: _AdminRequest) -> AdminAnswer:
    stored = backend.connections(include_closed=True)
    return AdminAnswer(200, {"connections": [_entry(backend, c) for c in stored]})


def _put_connections(backend: EmulatorBackend, request: _AdminRequest) -> AdminAnswer:
    data = parse_json_body(request.body, "request body")
    if isinstance(data, list):
        seeds = validate(_ConnectionList, data).root
        return AdminAnswer(200, [backend.put_connection(seed) for seed in seeds])
    if isinstance(data, dict):
        return AdminAnswer(200, backend.put_connection(validate(ConnectionSeed, data)))
    raise SeedError("request body: expected a connection object, or a list of them")


def _patch_connection(backend: EmulatorBackend, request: _AdminRequest) -> AdminAnswer:
    change = validate(ConnectionChange, parse_json_body(request.body, "request body"))
    identity = change.identity
    updated = backend.update_connection(
        request.connection_id,
        gateway_id=change.gateway_id,
        source_ip=identity.source_ip if identity else None,
        user_agent=identity.user_agent if identity else None,
        connected_at=change.connected_at,
        last_active_at=change.last_active_at,
    )
    return AdminAnswer(200, _entry(backend, updated))


def _close_connection(backend: EmulatorBackend, request: _AdminRequest) -> AdminAnswer:
    backend.close_connection(request.connection_id)
    stored = backend.connections(include_closed=True)
    whole = next(c for c in stored if c["id"] == request.connection_id)
    return AdminAnswer(200, _entry(backend, whole))


def _clock(backend: EmulatorBackend) -> AdminAnswer:
    now = format_timestamp(backend.clock())
    return AdminAnswer(200, {"now": now, "advancedSeconds": backend.advanced_seconds})


def _get_clock(backend: EmulatorBackend, request: _AdminRequest) -> AdminAnswer:
    return _clock(backend)


def _move_clock(backend: EmulatorBackend, request: _AdminRequest) -> AdminAnswer:
    move = validate(ClockMove, parse_json_body(request.body, "request body"))
    backend.advance_clock(move.advance_seconds)
    return _clock(backend)


def _request_json(request: RecordedRequest) -> dict[str, Any]:
    # No headers and no body: they carry credentials.
    return {
        "service": request.service,
        "method": request.method,
        "path": request.raw_path,
        "connectionId": request.connection_id,
        "status": request.status,
        "receivedAt": format_timestamp(round(request.received_at * 1e9)),
        "requestId": request.request_id,
    }


def _get_requests(backend: EmulatorBackend, request: _AdminRequest) -> AdminAnswer:
    services = parse_qs(request.query).get("service", [])
    known = get_args(RequestService)
    unknown = [s for s in services if s not in known]
    if unknown:
        raise SeedError(f"service={unknown[0]}: use one of {', '.join(known)}")
    log = backend.requests()
    chosen = [r for r in log if not services or r.service in services]
    return AdminAnswer(200, {"requests": [_request_json(r) for r in chosen]})


def _clear_requests(backend: EmulatorBackend, request: _AdminRequest) -> AdminAnswer:
    backend.clear_requests()
    return AdminAnswer(200, {"requests": []})


def _reset(backend: EmulatorBackend, request: _AdminRequest) -> AdminAnswer:
    backend.reset()
    return _list_connections(backend, request)


@dataclass(frozen=True)
class AdminRoute:
    """One endpoint: ``method`` on ``ADMIN_PREFIX + path`` (``{id}``: one path segment)."""

    method: str
    path: str
    summary: str
    handler: Callable[[EmulatorBackend, _AdminRequest], AdminAnswer]


ROUTES: tuple[AdminRoute, ...] = (
    AdminRoute(
        "GET",
        "connections",
        "every stored connection and its status (open, closed, idle-timeout, lifetime-limit)",
        _list_connections,
    ),
    AdminRoute(
        "POST",
        "connections",
        "add or replace connections: one object or a list, as in a seed",
        _put_connections,
    ),
    AdminRoute(
        "PATCH",
        "connections/{id}",
        'change fields, e.g. {"lastActiveAt": {"secondsAgo": 0}}',
        _patch_connection,
    ),
    AdminRoute(
        "DELETE",
        "connections/{id}",
        "close one: Connection.Get answers 404 from now on",
        _close_connection,
    ),
    AdminRoute("GET", "clock", "the emulator's time and how far it was moved", _get_clock),
    AdminRoute(
        "POST",
        "clock",
        '{"advanceSeconds": 600}: every connection ages; those past a limit close',
        _move_clock,
    ),
    AdminRoute(
        "GET",
        "requests",
        "the request log, oldest first (?service=connections|iam|metadata)",
        _get_requests,
    ),
    AdminRoute("DELETE", "requests", "empty the request log", _clear_requests),
    AdminRoute("POST", "reset", "back to the seeds the emulator started with", _reset),
)
