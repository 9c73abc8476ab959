"""Local emulator of the Yandex Cloud API Gateway WebSocket Connection service, IAM and metadata.

Standalone (no pulumi, no other module of this package): real HTTP on 127.0.0.1, proto3-JSON
answers, google.rpc.Status errors, a request log, deterministic fault injection, the service's
connection lifetimes on a clock you can move, and an admin interface to change it while it runs.

From the command line (it prints the ``export`` lines that point the client, the CLI and Pulumi
at it; ``--help`` lists the options). The metadata address is among them only with
``--print-metadata-addr``: exported, it would let a lookup whose credential is missing or mistyped
succeed through the emulator's VM metadata service, where production fails::

    python -m pulumi_yc_websocket.emulator --demo-seed --port 8080    # --port 0: a free port

From Python::

    with EmulatorServer(EmulatorBackend.from_seed("seed.json")) as server:
        server.backend.faults.push("connections", Status(503, 14, "busy"), times=3)
        ...  # point the client at server.url (server.env holds the variables)

A test session can share one server: ``server.reset()`` before each test puts the backend back
to its seeds (after the requests still in flight), ``server.wait_idle()`` waits for those.

Seed format: a JSON object, every key optional; keys starting with ``_`` or ``$`` are comments::

    {
      "requireAuth": true,             # false: connections accept any or no bearer token
      "iamTokenTtlSeconds": 43200,     # lifetime of IAM tokens minted by the exchanges
      "connections": [                 # API-shaped Connection objects (camelCase)
        {"id": "Ab3dEfGhIjKlMnOp12Qr", "gatewayId": "d5dm1lba80md4pmj2qke",
         "identity": {"sourceIp": "203.0.113.7", "userAgent": "curl/8.5.0"},
         "connectedAt": "2024-05-01T10:00:00.123456789+03:00",   # served exactly as written
         "lastActiveAt": {"minutesAgo": 2.5},                     # on the emulator's clock
         "closed": true}               # optional: stored, but answered 404
      ],
      "replayConnections": false,      # true: its connections start over instead of timing out
      "iamTokens": [{"token": "t1.x.y", "roles": ["api-gateway.websocketWriter"],
                     "expiresAt": "2030-01-01T00:00:00Z"}],      # expiresAt optional
      "oauthTokens": [{"token": "y0_...", "roles": ["api-gateway.websocketWriter"]}],
      "serviceAccountKeys": [{"id": "aje...", "service_account_id": "aje...",
                              "public_key": "-----BEGIN PUBLIC KEY-----...", "roles": [...]}],
      "metadataRoles": ["api-gateway.websocketWriter"]           # null: no VM service account
    }

Validation is strict (``"false"`` is no boolean, ``"5"`` no number); a problem is reported on one
line as ``file:key: problem``. What could not be served back is refused, in a seed as in an admin
request: JSON nested deeper than 64 levels, and strings holding a lone surrogate (``"\\ud800"``,
which UTF-8 cannot encode). A seed file holds at most 16 MiB. Timestamps are strings kept
verbatim (any RFC 3339 form, even a malformed one, so clients can be tested against it), or
relative objects summing ``secondsAgo``, ``minutesAgo``, ``hoursAgo``, ``daysAgo`` (and
``*FromNow``), at most 100 years either way.
``""`` means unset (omitted when served). ``roles`` defaults to ``["api-gateway.websocketWriter"]``.
Unknown keys of a connection are kept and served, to test that clients ignore fields added later.

Connection lifetimes, as on the service: a connection idle for 10 minutes or open for 60 is gone
(404 NOT_FOUND), judged on the emulator's clock (the wall clock; ``EmulatorBackend(clock=...)``
pins it). Timestamps given relative to now, or left to their default (now), are on that clock; a
timestamp given as a string is a snapshot served as written, and never ends the connection.
Moving the clock forward (``backend.advance_clock(600)`` or ``POST /_emulator/clock``) ages every
connection at once: their timestamps are served that much earlier, so that clients measuring
against their own clock see the same ages, and those past a limit end. The demo seed sets
``replayConnections``: a demo connection that reaches a limit as real time passes starts over as
seeded, so that the scene holds for a whole session; moving the clock or closing it does end it.
IAM tokens expire on the wall clock.

Limits, so that neither a long run nor a hostile client makes it grow: a body over 1 MiB, header
lines over 32 KiB in all and a request line over 8 KiB are refused (413, 431, 414) before being
read whole. The request log keeps at most 4 KiB of each body and of its headers
(``RecordedRequest.truncated`` says when it cut), and the last ``log_limit`` requests
(``EmulatorBackend(log_limit=...)``, default no limit; the command line keeps 1000).

Only this machine's own tools reach it, not the web pages its browser opens: a request to an
emulated service or to the admin interface must name it as ``Host`` (``127.0.0.1:PORT`` or
``localhost:PORT``; the metadata route also takes ``169.254.169.254``, its address on a VM; an
HTTP/1.0 request may leave ``Host`` out), else 421, so that a page under DNS rebinding reads
nothing (not the request log, not a metadata token). Admin requests carrying an ``Origin``
other than the emulator's own are refused (403), and admin ``POST`` and ``PATCH`` requests need
``Content-Type: application/json`` (415), which no page can send without a CORS preflight; a
``DELETE`` without a body needs no type.

Admin interface: JSON in and out, on 127.0.0.1 only and without credentials; admin requests are
neither faulted nor logged. Request bodies use the seed's schema::

    GET    /_emulator/connections       every stored connection and its status
    POST   /_emulator/connections       add or replace: one connection object, or a list
    PATCH  /_emulator/connections/{id}  change fields, e.g. {"lastActiveAt": {"secondsAgo": 0}}
    DELETE /_emulator/connections/{id}  close it: Connection.Get answers 404 from now on
    GET    /_emulator/clock             {"now": "...", "advancedSeconds": 0.0}
    POST   /_emulator/clock             {"advanceSeconds": 600}: every connection ages
    GET    /_emulator/requests          the request log (?service=connections|iam|metadata)
    DELETE /_emulator/requests          empty the request log
    POST   /_emulator/reset             back to the seeds the emulator started with

For example, between two ``pulumi up`` runs::

    curl -X DELETE http://127.0.0.1:8080/_emulator/connections/EfKvQ47JSz6mjzNl3h9qBrAM
    curl http://127.0.0.1:8080/_emulator/clock -H 'Content-Type: application/json' \\
         -d '{"advanceSeconds": 600}'
    curl 'http://127.0.0.1:8080/_emulator/requests?service=connections'
"""

from ._backend import EmulatorBackend, RecordedRequest
from ._faults import (
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
from ._seed import DEMO_SEED_PATH
from ._server import EmulatorServer

__all__ = [
    "DEMO_SEED_PATH",
    "Delay",
    "Drop",
    "EmulatorBackend",
    "EmulatorServer",
    "Fault",
    "FaultPlan",
    "NotJson",
    "Oversized",
    "RecordedRequest",
    "Redirect",
    "Service",
    "Status",
    "Truncated",
]
