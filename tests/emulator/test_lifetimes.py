"""Connection lifetimes on the emulator's clock, the demo's replay, and reset(), without sockets."""

from __future__ import annotations

import json
import math
from datetime import datetime

import pytest

from pulumi_yc_websocket.emulator import DEMO_SEED_PATH, EmulatorBackend, Status
from pulumi_yc_websocket.emulator._backend import EmulatedStatusError

START_NS = 1_714_557_600 * 10**9  # 2024-05-01T10:00:00Z
SECOND = 10**9


class PinnedClock:
    """The emulator's clock held still; ``step`` lets real time pass."""

    def __init__(self) -> None:
        self.ns = START_NS

    def __call__(self) -> int:
        return self.ns

    def step(self, seconds: float) -> None:
        self.ns += round(seconds * SECOND)


@pytest.fixture
def clock() -> PinnedClock:
    return PinnedClock()


@pytest.fixture
def backend(clock: PinnedClock) -> EmulatorBackend:
    return EmulatorBackend(require_auth=False, clock=clock)


def _not_found(backend: EmulatorBackend, connection_id: str) -> bool:
    """Whether Connection.Get answers 404 NOT_FOUND for the id (and not the connection)."""
    if backend.get_connection(connection_id) is not None:
        backend.api_get_connection(connection_id, None)
        return False
    with pytest.raises(EmulatedStatusError) as caught:
        backend.api_get_connection(connection_id, None)
    error = caught.value
    assert (error.grpc_code, error.http_status) == (5, 404)
    assert error.message == f"Connection {connection_id} not found"
    return True


def _seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def test_a_connection_idle_ten_minutes_is_gone(
    backend: EmulatorBackend, clock: PinnedClock
) -> None:
    backend.add_connection(id="c", connected_at={"minutesAgo": 5}, last_active_at={"secondsAgo": 0})
    clock.step(599.999)
    assert not _not_found(backend, "c")
    clock.step(0.001)
    assert _not_found(backend, "c")
    assert backend.connection_status("c") == "idle-timeout"
    assert backend.connections() == []
    assert [c["id"] for c in backend.connections(include_closed=True)] == ["c"]


def test_a_connection_open_sixty_minutes_is_gone(
    backend: EmulatorBackend, clock: PinnedClock
) -> None:
    backend.add_connection(
        id="c", connected_at={"minutesAgo": 55}, last_active_at={"secondsAgo": 1}
    )
    clock.step(299)
    backend.update_connection("c", last_active_at={"secondsAgo": 0})  # the client is active
    assert not _not_found(backend, "c")
    clock.step(1)
    assert _not_found(backend, "c")
    assert backend.connection_status("c") == "lifetime-limit"


def test_gone_stays_gone(backend: EmulatorBackend, clock: PinnedClock) -> None:
    backend.add_connection(id="c")
    clock.step(600)
    backend.update_connection("c", last_active_at={"secondsAgo": 0})
    assert _not_found(backend, "c")
    backend.add_connection(id="c")  # a new connection under the same id replaces it
    assert not _not_found(backend, "c")


def test_string_timestamps_are_snapshots_that_never_end_a_connection(
    backend: EmulatorBackend, clock: PinnedClock
) -> None:
    backend.add_connection(
        id="fixed",
        connected_at="2024-05-01T10:00:00.123456789Z",
        last_active_at="2024-05-01T10:05:00.987654321Z",
    )
    backend.add_connection(id="unset", connected_at="", last_active_at="")
    served = backend.get_connection("fixed")
    clock.step(7 * 86400)
    backend.advance_clock(86400)
    assert backend.get_connection("fixed") == served
    assert not _not_found(backend, "unset")


def test_a_relative_last_activity_ends_a_connection_whose_opening_is_a_string(
    backend: EmulatorBackend, clock: PinnedClock
) -> None:
    backend.add_connection(
        id="c", connected_at="2020-01-01T00:00:00Z", last_active_at={"minutesAgo": 9}
    )
    clock.step(60)
    assert _not_found(backend, "c")


def test_moving_the_clock_ages_served_timestamps(backend: EmulatorBackend) -> None:
    before = backend.add_connection(
        id="c", connected_at={"minutesAgo": 30}, last_active_at={"minutesAgo": 1}
    )
    backend.advance_clock(120.5)
    after = backend.get_connection("c")
    assert after is not None
    for key in ("connectedAt", "lastActiveAt"):
        assert _seconds(before[key]) - _seconds(after[key]) == pytest.approx(120.5)
    assert backend.advanced_seconds == 120.5
    backend.advance_clock(600)
    assert _not_found(backend, "c")
    assert backend.connection_status("c") == "idle-timeout"


@pytest.mark.parametrize("seconds", [-1, math.nan, math.inf, True, "60"])
def test_the_clock_moves_forward_by_a_number_of_seconds(
    backend: EmulatorBackend, seconds: object
) -> None:
    with pytest.raises(ValueError, match="advanceSeconds"):
        backend.advance_clock(seconds)  # type: ignore[arg-type]


def test_a_connection_seeded_past_a_limit_is_gone_even_in_a_replaying_seed(
    clock: PinnedClock,
) -> None:
    seed = {
        "replayConnections": True,
        "connections": [
            {"id": "old", "connectedAt": {"minutesAgo": 71}, "lastActiveAt": {"secondsAgo": 5}}
        ],
    }
    backend = EmulatorBackend.from_seed(seed, clock=clock)
    assert backend.connection_status("old") == "lifetime-limit"


def test_replayed_connections_start_over_as_real_time_passes(clock: PinnedClock) -> None:
    seed = {
        "replayConnections": True,
        "connections": [
            {"id": "idle", "connectedAt": {"minutesAgo": 30}, "lastActiveAt": {"minutesAgo": 9}},
            {"id": "old", "connectedAt": {"minutesAgo": 59}, "lastActiveAt": {"secondsAgo": 5}},
        ],
    }
    backend = EmulatorBackend.from_seed(seed, clock=clock)
    first = backend.get_connection("idle")
    clock.step(61)
    again = backend.get_connection("idle")
    assert again is not None
    assert first is not None
    assert _seconds(again["lastActiveAt"]) - _seconds(first["lastActiveAt"]) == pytest.approx(61)
    assert backend.get_connection("old") is not None
    # Moving the clock is not the passing of real time: it does end them.
    backend.advance_clock(600)
    assert backend.connection_status("idle") == "idle-timeout"
    assert backend.connection_status("old") == "idle-timeout"
    clock.step(3600)
    assert backend.connections() == []


def test_the_demo_scene_holds_for_an_hour_without_serving_anything_past_a_limit(
    clock: PinnedClock,
) -> None:
    backend = EmulatorBackend.from_seed(DEMO_SEED_PATH, clock=clock)
    live = {c["id"] for c in backend.connections()}
    assert len(live) == 7
    seeded = json.loads(DEMO_SEED_PATH.read_text())["connections"]
    on_the_clock = {c["id"] for c in seeded if not isinstance(c["lastActiveAt"], str)} & live
    assert len(on_the_clock) == 6
    for step in range(1, 121):
        clock.step(30)
        now = clock() / SECOND
        for connection_id in live:
            served = backend.get_connection(connection_id)
            assert served is not None, f"{connection_id} went away after {step * 30} s"
            if connection_id in on_the_clock:
                assert now - _seconds(served["lastActiveAt"]) < 600
                assert now - _seconds(served["connectedAt"]) < 3600


def test_reset_returns_to_the_seeds(clock: PinnedClock) -> None:
    seed = {
        "requireAuth": False,
        "iamTokenTtlSeconds": 60,
        "connections": [{"id": "seeded", "lastActiveAt": {"minutesAgo": 9}}],
        "iamTokens": [{"token": "t1.seeded.token"}],
    }
    backend = EmulatorBackend.from_seed(seed, clock=clock)
    backend.add_connection(id="added")
    backend.add_iam_token("t1.added.token")
    backend.require_auth = True
    backend.iam_token_ttl = 5
    backend.faults.push("connections", Status(503, 14))
    backend.advance_clock(120)
    clock.step(30)
    generation = backend.generation

    backend.reset()

    assert backend.generation == generation + 1
    assert [c["id"] for c in backend.connections(include_closed=True)] == ["seeded"]
    served = backend.get_connection("seeded")
    assert served is not None
    assert clock() / SECOND - _seconds(served["lastActiveAt"]) == pytest.approx(540)
    assert backend.is_token_valid("t1.seeded.token")
    assert not backend.is_token_valid("t1.added.token")
    assert (backend.require_auth, backend.iam_token_ttl) == (False, 60)
    assert backend.faults.pending("connections") == 0
    assert backend.advanced_seconds == 0


def test_load_seed_adds_state_that_reset_forgets() -> None:
    backend = EmulatorBackend()
    backend.load_seed(DEMO_SEED_PATH)
    assert len(backend.connections()) == 7
    backend.reset()
    assert backend.connections(include_closed=True) == []
