"""RetryPolicy: backoff bounds and jitter, attempts, deadline, Retry-After (unit and end to end)."""

from __future__ import annotations

import time
from email.utils import formatdate
from typing import Any

import pytest

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
from pulumi_yc_websocket._retry import NO_RETRY, Deadline, RetryPolicy, is_retryable
from pulumi_yc_websocket.emulator import Status

CONNECTION_ID = "RetryConnection00001"


class Attempts:
    """An attempt that raises the given errors in turn, then returns ``"ok"``."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def unavailable(retry_after: float | None = None) -> ServiceUnavailableError:
    return ServiceUnavailableError("down", http_status=503, retry_after=retry_after)


# -- Deadline --------------------------------------------------------------------------------


def test_deadline_counts_down_and_never_goes_negative() -> None:
    deadline = Deadline(0.05)
    assert deadline.seconds == 0.05
    assert 0.0 < deadline.remaining() <= 0.05
    assert not deadline.expired()
    time.sleep(0.06)
    assert deadline.remaining() == 0.0
    assert deadline.expired()
    assert Deadline(0).expired()


# -- backoff ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("retry", "ceiling"),
    [(0, 0.1), (1, 0.2), (2, 0.4), (3, 0.8), (5, 3.2), (6, 5.0), (30, 5.0)],
)
def test_default_backoff_is_equal_jitter_under_the_ceiling(retry: int, ceiling: float) -> None:
    policy = RetryPolicy()
    waits = [policy.backoff(retry) for _ in range(300)]
    assert min(waits) >= ceiling / 2
    assert max(waits) <= ceiling
    # Jittered: spread over the upper half, not one value.
    assert len(set(waits)) > 250
    assert min(waits) < ceiling * 0.6
    assert max(waits) > ceiling * 0.9


def test_custom_backoff_bounds() -> None:
    policy = RetryPolicy(initial=0.01, multiplier=3.0, maximum=0.05)
    assert all(0.005 <= policy.backoff(0) <= 0.01 for _ in range(100))
    assert all(0.015 <= policy.backoff(1) <= 0.03 for _ in range(100))
    assert all(0.025 <= policy.backoff(2) <= 0.05 for _ in range(100))
    assert all(0.025 <= policy.backoff(10) <= 0.05 for _ in range(100))


# -- which errors are retried ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (ThrottledError("x", http_status=429), True),
        (ServiceUnavailableError("x", http_status=503), True),
        (ServiceUnavailableError("x"), True),
        (DeadlineExceededError("x"), False),
        (ConnectionNotFoundError("x", http_status=404), False),
        (PermissionDeniedError("x", http_status=403), False),
        (AuthenticationError("x", http_status=401), False),
        (InvalidResponseError("x", http_status=200), False),
        (ApiError("x", http_status=400), False),
        (ValueError("x"), False),
        (OSError("x"), False),
    ],
)
def test_is_retryable(error: BaseException, retryable: bool) -> None:
    assert is_retryable(error) is retryable
    waits: list[float] = []
    attempt = Attempts(error)
    policy = RetryPolicy(initial=0.01, maximum=0.05, sleep=waits.append)
    if retryable:
        assert policy.run(attempt, Deadline(5)) == "ok"
        assert attempt.calls == 2
        assert len(waits) == 1
    else:
        with pytest.raises(type(error)) as caught:
            policy.run(attempt, Deadline(5))
        assert caught.value is error
        assert attempt.calls == 1
        assert waits == []


# -- run -------------------------------------------------------------------------------------


def test_attempts_limit_raises_the_last_error() -> None:
    errors = [unavailable() for _ in range(10)]
    attempt = Attempts(*errors)
    waits: list[float] = []
    policy = RetryPolicy(initial=0.01, maximum=0.05, max_attempts=4, sleep=waits.append)
    with pytest.raises(ServiceUnavailableError) as caught:
        policy.run(attempt, Deadline(5))
    assert caught.value is errors[3]
    assert attempt.calls == 4
    assert len(waits) == 3
    assert 0.005 <= waits[0] <= 0.01
    assert 0.01 <= waits[1] <= 0.02
    assert 0.02 <= waits[2] <= 0.04


def test_success_after_retries_reports_each_retry() -> None:
    first, second = unavailable(), ThrottledError("slow down", http_status=429)
    attempt = Attempts(first, second)
    waits: list[float] = []
    seen: list[tuple[BaseException, float]] = []
    policy = RetryPolicy(initial=0.01, maximum=0.05, sleep=waits.append)
    assert policy.run(attempt, Deadline(5), on_retry=lambda e, w: seen.append((e, w))) == "ok"
    assert attempt.calls == 3
    assert seen == [(first, waits[0]), (second, waits[1])]


def test_no_retry_policy_tries_once() -> None:
    attempt = Attempts(unavailable())
    with pytest.raises(ServiceUnavailableError):
        NO_RETRY.run(attempt, Deadline(5))
    assert attempt.calls == 1
    assert NO_RETRY.max_attempts == 1


def test_a_wait_past_the_deadline_is_not_taken() -> None:
    error = unavailable()
    attempt = Attempts(error, unavailable())
    waits: list[float] = []
    policy = RetryPolicy(initial=1.0, maximum=1.0, sleep=waits.append)
    with pytest.raises(ServiceUnavailableError) as caught:
        policy.run(attempt, Deadline(0.4))  # the first backoff is at least 0.5 s
    assert caught.value is error
    assert attempt.calls == 1
    assert waits == []


def test_retries_stop_before_the_deadline_passes() -> None:
    deadline = Deadline(0.25)
    waits: list[tuple[float, float]] = []

    def sleep(seconds: float) -> None:
        waits.append((seconds, deadline.remaining()))
        time.sleep(seconds)

    attempt = Attempts(*[unavailable() for _ in range(1000)])
    policy = RetryPolicy(initial=0.02, maximum=0.02, max_attempts=1000, sleep=sleep)
    started = time.monotonic()
    with pytest.raises(ServiceUnavailableError):
        policy.run(attempt, deadline)
    assert time.monotonic() - started <= 0.25
    assert all(wait < remaining for wait, remaining in waits)
    assert deadline.remaining() <= 0.02  # it stopped because the next wait did not fit
    assert attempt.calls == len(waits) + 1
    assert 6 <= attempt.calls <= 26


def test_retry_after_longer_than_the_backoff_is_honoured() -> None:
    waits: list[float] = []
    attempt = Attempts(unavailable(retry_after=3.0), unavailable(retry_after=0.001))
    policy = RetryPolicy(initial=0.01, maximum=0.05, sleep=waits.append)
    assert policy.run(attempt, Deadline(10)) == "ok"
    assert waits[0] == 3.0
    assert 0.01 <= waits[1] <= 0.02  # the backoff wins over a shorter Retry-After


def test_retry_after_past_the_deadline_gives_up_at_once() -> None:
    error = ThrottledError("slow down", http_status=429, retry_after=30.0)
    attempt = Attempts(error)
    waits: list[float] = []
    policy = RetryPolicy(initial=0.01, maximum=0.05, sleep=waits.append)
    with pytest.raises(ThrottledError) as caught:
        policy.run(attempt, Deadline(5))
    assert caught.value is error
    assert waits == []


# -- end to end: Retry-After from the emulator -----------------------------------------------


def recording_client(emulator: Any, waits: list[float], **kwargs: Any) -> Any:
    policy = RetryPolicy(initial=0.01, maximum=0.05, sleep=waits.append)
    return emulator.client(retry=policy, **kwargs)


@pytest.mark.parametrize(("http_status", "grpc_code"), [(429, 8), (503, 14)])
def test_retry_after_seconds_from_the_service(
    emulator: Any, http_status: int, grpc_code: int
) -> None:
    emulator.add_connection(id=CONNECTION_ID)
    emulator.faults.push("connections", Status(http_status, grpc_code, retry_after="2"))
    waits: list[float] = []
    client = recording_client(emulator, waits)
    assert client.get(CONNECTION_ID).id == CONNECTION_ID
    assert waits == [2.0]
    assert [r.status for r in emulator.requests()] == [http_status, 200]
    assert emulator.retries == 1


def test_retry_after_http_date_from_the_service(emulator: Any) -> None:
    emulator.add_connection(id=CONNECTION_ID)
    date = formatdate(time.time() + 4, usegmt=True)
    emulator.faults.push("connections", Status(429, 8, retry_after=date))
    waits: list[float] = []
    client = recording_client(emulator, waits)
    assert client.get(CONNECTION_ID).id == CONNECTION_ID
    assert len(waits) == 1
    assert 2.5 < waits[0] <= 4.0
    assert emulator.count("connections") == 2


def test_retry_after_beyond_the_timeout_fails_fast(emulator: Any) -> None:
    emulator.add_connection(id=CONNECTION_ID)
    emulator.faults.push("connections", Status(429, 8, "Too many requests", retry_after="60"))
    waits: list[float] = []
    client = recording_client(emulator, waits, timeout=2.0)
    started = time.monotonic()
    with pytest.raises(ThrottledError) as caught:
        client.get(CONNECTION_ID)
    assert time.monotonic() - started < 1.0
    assert caught.value.retry_after == 60
    assert caught.value.message == "Too many requests"
    assert waits == []
    assert emulator.count("connections") == 1


def test_backoffs_between_real_retries_are_bounded(emulator: Any) -> None:
    emulator.add_connection(id=CONNECTION_ID)
    emulator.faults.push("connections", Status(503, 14), times=3)
    waits: list[float] = []
    client = recording_client(emulator, waits)
    assert client.get(CONNECTION_ID).id == CONNECTION_ID
    assert len(waits) == 3
    assert 0.005 <= waits[0] <= 0.01
    assert 0.01 <= waits[1] <= 0.02
    assert 0.02 <= waits[2] <= 0.04
    assert emulator.retries == 3
