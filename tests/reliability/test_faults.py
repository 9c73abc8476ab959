"""Lookups under injected faults: many lookups per fault kind, 4 and 16 threads, one client.

The emulator holds one connection per lookup (seeded once per module, so its request log tells
the attempts of each lookup apart); each run cycles a deterministic fault pattern at the
emulator, with every thread sharing one ``ConnectionsClient``, and checks that each
lookup either returned exactly the seeded record or raised the typed error the fault calls for,
within its deadline (+1 s of slack for a noisy machine); that non-retryable statuses were never
retried; that retries stayed bounded; and that exchanged tokens were fetched once per lifetime.

``YCWS_FAULT_LOOKUPS`` sets the lookups per run (default 1,000), e.g. 10,000 for a long run.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from pulumi_yc_websocket import ConnectionsClient, HttpTransport
from pulumi_yc_websocket._auth import IamToken, OAuthToken, ServiceAccountKey
from pulumi_yc_websocket._errors import (
    ApiError,
    AuthenticationError,
    ConnectionNotFoundError,
    DeadlineExceededError,
    InvalidResponseError,
    PermissionDeniedError,
    ServiceUnavailableError,
    ThrottledError,
)
from pulumi_yc_websocket._model import Connection
from pulumi_yc_websocket._retry import RetryPolicy, is_retryable
from pulumi_yc_websocket.emulator import (
    Delay,
    Drop,
    EmulatorBackend,
    EmulatorServer,
    Fault,
    FaultPlan,
    NotJson,
    Status,
    Truncated,
)
from pulumi_yc_websocket.provider import WebSocketConnectionProvider
from tests.support.emulator import WRITER_ROLE, WRITER_TOKEN, Emulator, start_server
from tests.support.events import Events
from tools.provider_process import ProviderProcess

from . import _report
from .conftest import connection_id_of

LOOKUPS = int(os.environ.get("YCWS_FAULT_LOOKUPS", "1000"))
POLICY = RetryPolicy(initial=0.005, maximum=0.05)
READ_TIMEOUT = 0.2
DEADLINE = 2.0
SLACK = 1.0
"""Time a lookup may take past its deadline on a loaded 2-core machine."""
OAUTH_TOKEN = "y0_AgAAAAReliabilityFaultOAuthToken0123456789"
NON_RETRYABLE = frozenset({400, 403, 404})
PAST_DATE = "Wed, 21 Oct 2015 07:28:00 GMT"


class FreshDatePlan(FaultPlan):
    """A fault plan whose ``Retry-After: date+N`` faults carry an HTTP date N s from now."""

    def next(self, service: Any) -> Fault | None:
        fault = super().next(service)
        if (
            isinstance(fault, Status)
            and fault.retry_after is not None
            and fault.retry_after.startswith("date+")
        ):
            seconds = float(fault.retry_after.removeprefix("date+"))
            fresh = formatdate(time.time() + seconds, usegmt=True)
            return dataclasses.replace(fault, retry_after=fresh)
        return fault


def cycle(length: int, faults: dict[int, Fault]) -> tuple[Fault | None, ...]:
    """A pattern of ``length`` requests with ``faults`` at the given positions."""
    return tuple(faults.get(position) for position in range(length))


def throttled(retry_after: str) -> Status:
    return Status(429, 8, "Too many requests", retry_after=retry_after)


class AttemptRecorder:
    """A ``RetryPolicy.predicate`` that records each failed attempt of the lookup in this thread.

    The emulator's log alone cannot order a lookup's attempts when a connection waited in the
    emulator's accept queue (listen backlog 5) and its request was served after the client had
    given up on it; the client-side record of failed attempts can.
    """

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self.by_lookup: dict[str, list[tuple[str, str, int | None]]] = {}

    def start(self, lookup: str) -> None:
        self._local.lookup = lookup
        with self._lock:
            self.by_lookup[lookup] = []

    def __call__(self, error: BaseException) -> bool:
        lookup = getattr(self._local, "lookup", None)
        if lookup is not None:
            entry = (
                type(error).__name__,
                getattr(error, "service", ""),
                getattr(error, "http_status", None),
            )
            with self._lock:
                self.by_lookup[lookup].append(entry)
        return is_retryable(error)

    def network_failures(self, lookup: str) -> int:
        """Failed attempts that got no HTTP answer (their request may have been served late)."""
        return sum(1 for _, _, status in self.by_lookup.get(lookup, []) if status is None)


@dataclass(frozen=True)
class Scenario:
    """One fault kind: the patterns to cycle and the typed errors the lookups may end with."""

    kind: str
    allowed: frozenset[type[Exception]]
    pattern: tuple[Fault | None, ...] = ()
    iam_pattern: tuple[Fault | None, ...] = ()
    credential: str = "iam"
    iam_token_ttl: float | None = None
    expirations: int = 0
    """Times every IAM token is expired at the emulator during the run."""
    settle: float = 0.0
    """Seconds to wait after the run for delayed answers to reach the request log."""
    final_statuses: frozenset[int] = NON_RETRYABLE
    """Statuses after which the lookup must not send another request."""
    check: Callable[[RunResult], None] | None = field(default=None, compare=False)

    @property
    def refreshes(self) -> bool:
        return self.credential != "iam"


@dataclass
class RunResult:
    """Everything a run produced, for the checks."""

    scenario: Scenario
    threads: int
    ids: list[str]
    outcomes: list[Connection | Exception]
    latencies: list[float]
    wall: float
    retries: int
    exchanges: int
    expected: dict[str, Connection]
    recorder: AttemptRecorder
    connection_log: list[Any] = field(default_factory=list)
    iam_log: list[Any] = field(default_factory=list)

    def errors(self, kind: type[Exception]) -> list[Exception]:
        return [o for o in self.outcomes if type(o) is kind]


# -- scenario-specific checks --------------------------------------------------------------


def _http_status_matches(statuses: set[int | None]) -> Callable[[RunResult], None]:
    def check(run: RunResult) -> None:
        for outcome in run.outcomes:
            if isinstance(outcome, ApiError) and not isinstance(outcome, DeadlineExceededError):
                assert outcome.http_status in statuses, repr(outcome)

    return check


def _check_throttled(run: RunResult) -> None:
    for error in run.errors(ThrottledError):
        assert isinstance(error, ThrottledError)
        assert error.http_status == 429
        assert error.grpc_code == 8


def _check_retry_after_past_deadline(run: RunResult) -> None:
    # A Retry-After longer than the time left ends the lookup at once: no sleep, no retry
    # (check_run also checks that no request of the lookup follows the 429).
    throttled_answers = [r for r in run.connection_log if r.status == 429]
    failures = run.errors(ThrottledError)
    assert 0 < len(failures) <= len(throttled_answers)
    for connection_id, failed in run.recorder.by_lookup.items():
        throttled = [status for _, _, status in failed if status == 429]
        assert len(throttled) <= 1, f"{connection_id} retried after a long Retry-After: {failed}"
    for error in failures:
        assert isinstance(error, ThrottledError)
        assert error.retry_after is not None
        assert error.retry_after > DEADLINE


def _check_non_retryable(run: RunResult) -> None:
    # (check_run also checks that no request of a lookup follows a 400/403/404.)
    attempts = Counter(connection_id_of(r) for r in run.connection_log)
    expected_type = {400: ApiError, 403: PermissionDeniedError, 404: ConnectionNotFoundError}
    failures = [o for o in run.outcomes if isinstance(o, ApiError)]
    assert failures, "the pattern produced no failure"
    for connection_id, outcome in zip(run.ids, run.outcomes, strict=True):
        if isinstance(outcome, ApiError):
            assert outcome.http_status in expected_type, repr(outcome)
            assert type(outcome) is expected_type[outcome.http_status], repr(outcome)
            failed = run.recorder.by_lookup[connection_id]
            assert failed[-1][2] == outcome.http_status
            if run.recorder.network_failures(connection_id) == 0:
                assert attempts[connection_id] == 1, f"{connection_id} was retried"
    answered = Counter(r.status for r in run.connection_log if r.status in NON_RETRYABLE)
    assert sum(answered.values()) >= len(failures)


def _check_iam_exchanges(run: RunResult) -> None:
    # One exchange per token lifetime: tokens live ``ttl`` and are renewed at 90% of it, so a
    # run of ``wall`` seconds needs about wall / (0.9 ttl) + 1; allow 2x, plus one per 401.
    ttl = run.scenario.iam_token_ttl or 1.0
    unauthenticated = sum(1 for r in run.connection_log if r.status == 401)
    bound = 1 + int(run.wall / (0.5 * ttl)) + unauthenticated
    assert 1 <= run.exchanges <= bound, (run.exchanges, bound, run.wall)
    assert len(run.iam_log) <= run.exchanges * POLICY.max_attempts
    assert run.exchanges < len(run.ids) / 10


def _check_expirations(run: RunResult) -> None:
    expirations = run.scenario.expirations
    unauthenticated = sum(1 for r in run.connection_log if r.status == 401)
    late = sum(run.recorder.network_failures(i) for i in run.ids)  # may be served after expiry
    assert expirations <= unauthenticated <= expirations * run.threads + late
    # Exactly one exchange at the start and one per expiry, however many threads saw the 401:
    # counted by the token cache and at the emulator's IAM endpoint (where an exchange request
    # that failed at the network level and was retried may show up twice).
    assert run.exchanges == 1 + expirations
    iam_network_failures = sum(
        1
        for failed in run.recorder.by_lookup.values()
        for _, service, status in failed
        if service == "iam" and status is None
    )
    assert 1 + expirations <= len(run.iam_log) <= 1 + expirations + iam_network_failures
    assert all(r.status == 200 for r in run.iam_log)


SU = ServiceUnavailableError
DL = DeadlineExceededError

SCENARIOS = [
    Scenario(
        "503 bursts (6 in 40)",
        frozenset({SU, DL}),
        pattern=cycle(40, dict.fromkeys(range(6), Status(503, 14, "Service unavailable"))),
        check=_http_status_matches({503}),
    ),
    Scenario(
        "429 Retry-After: 0 s / 1 s / HTTP date",
        frozenset({ThrottledError, DL}),
        pattern=cycle(
            400,
            {
                **{position: throttled("0") for position in range(0, 400, 5)},
                **{position: throttled(PAST_DATE) for position in range(25, 400, 50)},
                100: throttled("1"),
                300: throttled("date+1"),
            },
        ),
        check=_check_throttled,
    ),
    Scenario(
        "429 Retry-After past deadline",
        frozenset({ThrottledError}),
        pattern=cycle(10, {0: throttled("3600"), 5: throttled("date+3600")}),
        final_statuses=frozenset({*NON_RETRYABLE, 429}),
        check=_check_retry_after_past_deadline,
    ),
    Scenario(
        "500 / 502 / 504",
        frozenset({SU, DL}),
        pattern=cycle(
            20,
            {
                0: Status(500, 13, "Internal"),
                1: Status(502, 14, "Bad gateway"),
                7: Status(504, 4, "Deadline exceeded"),
            },
        ),
        check=_http_status_matches({500, 502, 504}),
    ),
    Scenario(
        "dropped (before / mid-answer)",
        frozenset({SU, DL}),
        pattern=cycle(20, {0: Drop(), 10: Drop(after_headers=True), 11: Drop()}),
        check=_http_status_matches({None}),
    ),
    Scenario(
        "answer slower than read timeout",
        frozenset({SU, DL}),
        pattern=cycle(40, {0: Delay(READ_TIMEOUT + 0.05)}),
        settle=READ_TIMEOUT + 0.3,
        check=_http_status_matches({None}),
    ),
    Scenario(
        "truncated / non-JSON bodies",
        frozenset({InvalidResponseError, SU, DL}),
        pattern=cycle(20, {0: Truncated(), 7: NotJson(502), 8: NotJson(502), 14: NotJson(200)}),
    ),
    Scenario(
        "400 / 403 / 404 (never retried)",
        frozenset({ApiError, PermissionDeniedError, ConnectionNotFoundError}),
        pattern=cycle(
            10,
            {
                0: Status(400, 3, "Invalid argument"),
                3: Status(403, 7, "Permission denied"),
                6: Status(404, 5, "Not found"),
            },
        ),
        check=_check_non_retryable,
    ),
    Scenario(
        "IAM failing + slow (OAuth, 1 s tokens)",
        frozenset({SU, DL, AuthenticationError}),
        iam_pattern=(
            Status(503, 14, "IAM unavailable"),
            Delay(READ_TIMEOUT + 0.05),
            Status(500, 13, "IAM internal"),
            None,
        ),
        credential="oauth",
        iam_token_ttl=1.0,
        settle=READ_TIMEOUT + 0.3,
        check=_check_iam_exchanges,
    ),
    Scenario(
        "token expires mid-run (OAuth, 401)",
        frozenset({AuthenticationError}),
        credential="oauth",
        expirations=3,
        check=_check_expirations,
    ),
]


# -- the harness ---------------------------------------------------------------------------


def seed_connections(n: int) -> list[dict[str, Any]]:
    """One API-shaped connection per lookup, with varied fields (some left unset)."""
    connections = []
    for i in range(n):
        identity = {"sourceIp": f"198.51.100.{i % 250 + 1}" if i % 11 else "2001:db8::1"}
        if i % 7:
            identity["userAgent"] = f"reliability-test/{i}"
        connections.append(
            {
                "id": f"fault-{i:06d}",
                "gatewayId": f"d5d{i:017d}",
                "identity": identity,
                "connectedAt": "2024-05-01T10:00:00.123456789Z",
                "lastActiveAt": f"2024-05-01T10:{i % 60:02d}:{(i // 60) % 60:02d}.{i:09d}Z",
            }
        )
    return connections


@dataclass
class FaultEmulator:
    """An emulator shared by the runs of this module, seeded once with one connection per lookup.

    Each run installs its fault patterns and reads its own slice of the request log.
    """

    server: EmulatorServer
    ids: list[str]
    expected: dict[str, Connection]

    @property
    def backend(self) -> EmulatorBackend:
        return self.server.backend

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def env(self) -> dict[str, str]:
        return self.server.env

    def reset(self) -> int:
        """Clear faults, restore token settings; returns where this run's log slice starts."""
        backend = self.backend
        backend.faults.clear()
        backend.iam_token_ttl = EmulatorBackend().iam_token_ttl
        backend.add_iam_token(WRITER_TOKEN, roles=[WRITER_ROLE])
        return len(backend.requests())

    def log(self, start: int, service: str) -> list[Any]:
        return [r for r in self.backend.requests()[start:] if r.service == service]


@pytest.fixture(scope="module")
def faulty() -> Iterator[FaultEmulator]:
    server = start_server()
    server.backend.faults = FreshDatePlan()
    connections = seed_connections(LOOKUPS)
    server.backend.load_seed({"connections": connections})
    ids = [c["id"] for c in connections]
    expected = {
        i: Connection.model_validate_json(json.dumps(server.backend.get_connection(i))) for i in ids
    }
    try:
        yield FaultEmulator(server, ids, expected)
    finally:
        server.backend.faults.clear()
        server.stop()


def make_client(
    emu: Emulator,
    faulty: FaultEmulator,
    credential: str,
    recorder: AttemptRecorder | None = None,
    events: Events | None = None,
) -> ConnectionsClient:
    """The one client every thread of a run shares; ``events`` counts what it does."""
    credentials: Any
    if credential == "iam":
        credentials = IamToken(WRITER_TOKEN, "the fault tests")
    elif credential == "oauth":
        faulty.backend.add_oauth_token(OAUTH_TOKEN, roles=[WRITER_ROLE])
        credentials = OAuthToken(OAUTH_TOKEN, faulty.url, "the fault tests")
    else:
        key = faulty.backend.create_service_account_key(roles=[WRITER_ROLE])
        credentials = ServiceAccountKey(json.dumps(key), faulty.url, "the fault tests")
    client = ConnectionsClient(
        credentials,
        endpoint=faulty.url,
        timeout=DEADLINE,
        retry=POLICY if recorder is None else dataclasses.replace(POLICY, predicate=recorder),
        transport=HttpTransport(
            environ=faulty.env, connect_timeout=0.5, read_timeout=READ_TIMEOUT, max_connections=16
        ),
        event_hooks=(events or Events()).hooks,
    )
    return emu.track(client)


def run_lookups(
    client: ConnectionsClient,
    ids: Sequence[str],
    threads: int,
    after_each: Callable[[int], None] | None = None,
    recorder: AttemptRecorder | None = None,
) -> tuple[list[Connection | Exception], list[float], float]:
    """Look up every id once from ``threads`` threads released together; outcomes in id order.

    ``after_each(k)`` runs after the k-th completed lookup (1-based), in the thread that did it.
    """
    n = len(ids)
    outcomes: list[Connection | Exception | None] = [None] * n
    latencies = [0.0] * n
    next_index = itertools.count()
    completed = itertools.count(1)
    lock = threading.Lock()
    start = threading.Barrier(threads + 1)

    def worker() -> None:
        start.wait()
        while True:
            with lock:
                index = next(next_index)
            if index >= n:
                return
            if recorder is not None:
                recorder.start(ids[index])
            began = time.perf_counter()
            outcome: Connection | Exception
            try:
                outcome = client.get(ids[index])
            except Exception as exc:
                outcome = exc
            latencies[index] = time.perf_counter() - began
            outcomes[index] = outcome
            if after_each is not None:
                with lock:
                    done = next(completed)
                after_each(done)

    workers = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for thread in workers:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in workers:
        thread.join(timeout=n * (DEADLINE + SLACK))
    wall = time.perf_counter() - began
    assert not any(thread.is_alive() for thread in workers), "lookups did not finish"
    assert all(outcome is not None for outcome in outcomes)
    return [o for o in outcomes if o is not None], latencies, wall


def check_run(run: RunResult) -> _report.FaultRow:
    """The checks every scenario shares; returns the table row."""
    scenario = run.scenario
    row = _report.FaultRow(
        scenario.kind,
        run.threads,
        len(run.ids),
        0,
        retries=run.retries,
        requests=len(run.connection_log) + len(run.iam_log),
        latencies=run.latencies,
        wall=run.wall,
    )
    problems: list[str] = []
    for connection_id, outcome, latency in zip(run.ids, run.outcomes, run.latencies, strict=True):
        if isinstance(outcome, Connection):
            if outcome == run.expected[connection_id]:
                row.correct += 1
            else:
                problems.append(f"{connection_id}: wrong record {outcome!r}")
        elif type(outcome) in scenario.allowed:
            row.failures[type(outcome).__name__] += 1
        else:
            problems.append(f"{connection_id}: {type(outcome).__name__}: {outcome}")
        if latency > DEADLINE + SLACK:
            problems.append(f"{connection_id}: took {latency:.2f}s, deadline {DEADLINE}s")
    assert not problems, f"{len(problems)} bad lookups, e.g. {problems[:5]}"

    # Attempts per lookup, counted at the emulator.
    attempts = Counter(connection_id_of(r) for r in run.connection_log)
    assert set(attempts) <= set(run.ids), "a request went to a path no lookup asked for"
    per_lookup = POLICY.max_attempts + (1 if scenario.refreshes else 0)
    too_many = {k: v for k, v in attempts.items() if v > per_lookup}
    assert not too_many, f"lookups over {per_lookup} attempts: {list(too_many.items())[:5]}"
    assert len(run.connection_log) <= len(run.ids) * per_lookup
    assert run.retries <= len(run.ids) * (POLICY.max_attempts - 1) + len(run.iam_log)
    # The same bound seen from the client: failed attempts recorded by the retry predicate.
    for connection_id, outcome in zip(run.ids, run.outcomes, strict=True):
        failed = [f for f in run.recorder.by_lookup[connection_id] if f[1] == "connections"]
        sent = len(failed) + (1 if isinstance(outcome, Connection) else 0)
        assert sent <= per_lookup, f"{connection_id}: {sent} attempts: {failed}"

    # A 400/403/404 answer always ends its lookup: the client records no attempt after it...
    final = scenario.final_statuses
    for connection_id, failed in run.recorder.by_lookup.items():
        for position, (_, service, status) in enumerate(failed):
            if service == "connections" and status in final:
                assert position == len(failed) - 1, f"{connection_id} went on: {failed}"
    # ...and the emulator saw nothing after it (lookups that had no network failure, whose
    # requests were all served while the client waited for them).
    last_status: dict[str | None, int | None] = {}
    for request in run.connection_log:
        connection_id = connection_id_of(request)
        previous = last_status.get(connection_id)
        if connection_id is not None and run.recorder.network_failures(connection_id) == 0:
            assert previous not in final, f"{request!r} sent after HTTP {previous}"
        last_status[connection_id] = request.status

    if scenario.check is not None:
        scenario.check(run)
    return row


@pytest.mark.parametrize("threads", [4, 16])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.kind)
def test_lookups_under_faults(
    emu: Emulator, faulty: FaultEmulator, scenario: Scenario, threads: int
) -> None:
    backend = faulty.backend
    start = faulty.reset()
    if scenario.iam_token_ttl is not None:
        backend.iam_token_ttl = scenario.iam_token_ttl
    recorder = AttemptRecorder()
    events = Events()
    client = make_client(emu, faulty, scenario.credential, recorder, events)
    if scenario.pattern:
        backend.faults.push_pattern("connections", scenario.pattern)
    if scenario.iam_pattern:
        backend.faults.push_pattern("iam", scenario.iam_pattern)

    after_each = None
    if scenario.expirations:
        every = LOOKUPS // (scenario.expirations + 1)
        triggers = {every * k for k in range(1, scenario.expirations + 1)}

        def after_each(done: int) -> None:
            if done in triggers:
                backend.expire_all_tokens()

    try:
        outcomes, latencies, wall = run_lookups(client, faulty.ids, threads, after_each, recorder)
    finally:
        backend.faults.clear()
        time.sleep(scenario.settle)
    run = RunResult(
        scenario,
        threads,
        faulty.ids,
        outcomes,
        latencies,
        wall,
        retries=events.retries,
        exchanges=events.exchanges,
        expected=faulty.expected,
        recorder=recorder,
        connection_log=faulty.log(start, "connections"),
        iam_log=faulty.log(start, "iam"),
    )
    _report.record(check_run(run))


# -- token exchange under a thundering start ------------------------------------------------


@pytest.mark.parametrize("credential", ["oauth", "service_account_key"])
def test_one_exchange_when_16_threads_start_at_once(
    emu: Emulator, faulty: FaultEmulator, credential: str
) -> None:
    """16 threads released together with an empty cache and a slow IAM: one exchange."""
    threads = 16
    ids = faulty.ids[: threads * 16]
    start = faulty.reset()
    events = Events()
    client = make_client(emu, faulty, credential, events=events)
    faulty.backend.faults.push("iam", Delay(0.1))  # a slow first exchange: a wide race window
    outcomes, latencies, wall = run_lookups(client, ids, threads)
    assert outcomes == [faulty.expected[i] for i in ids]
    iam_log = faulty.log(start, "iam")
    assert len(iam_log) == 1, f"{len(iam_log)} exchanges for one token lifetime"
    assert events.exchanges == 1
    if credential == "service_account_key":
        assert "jwt" in json.loads(iam_log[0].body)
    _report.record(
        _report.FaultRow(
            f"IAM slow, 16 start at once ({credential.replace('_', ' ')})",
            threads,
            len(ids),
            len(outcomes),
            retries=events.retries,
            requests=len(iam_log) + len(faulty.log(start, "connections")),
            latencies=latencies,
            wall=wall,
        )
    )


def test_iam_down_every_lookup_fails_typed_and_bounded(
    emu: Emulator, faulty: FaultEmulator
) -> None:
    """IAM always 503: each lookup fails typed within its deadline; no lookup reaches the API.

    Lookups wait for the one exchange in flight (the per-credential lock), so with IAM down
    they try the exchange one after another; a lookup still waiting at its deadline ends with
    DeadlineExceededError.
    """
    threads = 16
    ids = faulty.ids[:threads]
    start = faulty.reset()
    events = Events()
    client = make_client(emu, faulty, "oauth", events=events)
    faulty.backend.faults.set_default("iam", Status(503, 14, "IAM unavailable"))
    try:
        outcomes, latencies, wall = run_lookups(client, ids, threads)
    finally:
        faulty.backend.faults.clear()
    failures = Counter(type(o).__name__ for o in outcomes)
    assert set(failures) <= {"ServiceUnavailableError", "DeadlineExceededError"}, failures
    for outcome in outcomes:
        assert isinstance(outcome, ServiceUnavailableError)
        assert outcome.service == "iam"
    assert max(latencies) <= DEADLINE + SLACK
    assert faulty.log(start, "connections") == []
    iam_log = faulty.log(start, "iam")
    assert len(iam_log) <= len(ids) * POLICY.max_attempts
    _report.record(
        _report.FaultRow(
            "IAM always 503 (OAuth)",
            threads,
            len(ids),
            0,
            failures=failures,
            retries=events.retries,
            requests=len(iam_log),
            latencies=latencies,
            wall=wall,
        )
    )


# -- through the real provider server ---------------------------------------------------------

PROVIDER_FAULTS = cycle(10, {0: Status(503, 14, "Service unavailable")})


def test_provider_check_calls_under_faults(emu: Emulator, faulty: FaultEmulator) -> None:
    """>= 1,000 Check calls of WebSocketConnection through ``python -m pulumi.dynamic``, 4 callers.

    The provider process runs its own shared client (default retry policy and deadline); every
    Check either carries exactly the seeded record or a CheckFailure on connectionId.
    """
    threads = 4
    ids = faulty.ids
    start = faulty.reset()
    provider = serialize_provider(WebSocketConnectionProvider())
    env = {"PATH": os.environ.get("PATH", ""), **faulty.env, "YC_IAM_TOKEN": WRITER_TOKEN}
    results: list[Any] = [None] * len(ids)
    latencies = [0.0] * len(ids)
    next_index = itertools.count()
    lock = threading.Lock()
    with ProviderProcess(env) as server:
        server.configure({})
        faulty.backend.faults.push_pattern("connections", PROVIDER_FAULTS)

        def caller() -> None:
            while True:
                with lock:
                    index = next(next_index)
                if index >= len(ids):
                    return
                news = {"__provider": provider, "connectionId": ids[index]}
                began = time.perf_counter()
                try:
                    results[index] = server.check(news)
                except Exception as exc:
                    results[index] = exc
                latencies[index] = time.perf_counter() - began

        began = time.perf_counter()
        workers = [threading.Thread(target=caller, daemon=True) for _ in range(threads)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join(timeout=600)
        wall = time.perf_counter() - began
        faulty.backend.faults.clear()
        stderr = server.stderr()
    assert not any(thread.is_alive() for thread in workers)

    row = _report.FaultRow(
        "provider Check via gRPC (503, 1 in 10)",
        threads,
        len(ids),
        0,
        latencies=latencies,
        wall=wall,
    )
    problems = []
    for connection_id, result in zip(ids, results, strict=True):
        if isinstance(result, Exception):
            problems.append(f"{connection_id}: {type(result).__name__}: {result}")
            continue
        if result.failures:
            if [name for name, _ in result.failures] != ["connectionId"] or not all(
                reason for _, reason in result.failures
            ):
                problems.append(f"{connection_id}: failures {result.failures}")
            row.failures["CheckFailure"] += 1
            continue
        expected = faulty.expected[connection_id].model_dump(mode="json", by_alias=True)
        looked_up = {key: result.inputs.get(key) for key in ("gatewayId", "identity")}
        looked_up.update({key: result.inputs.get(key) for key in ("connectedAt", "lastActiveAt")})
        wanted = {key: expected[key] for key in looked_up}
        if result.inputs.get("found") is not True or looked_up != wanted:
            problems.append(f"{connection_id}: {result.inputs!r} != {wanted!r}")
        else:
            row.correct += 1
    assert not problems, f"{len(problems)} bad checks, e.g. {problems[:3]}\n{stderr[-2000:]}"
    log = faulty.log(start, "connections")
    attempts = Counter(connection_id_of(r) for r in log)
    default_attempts = RetryPolicy().max_attempts
    assert max(attempts.values()) <= default_attempts
    assert len(log) <= len(ids) * default_attempts
    row.requests = len(log)
    row.retries = len(log) - len(ids)
    _report.record(row)
