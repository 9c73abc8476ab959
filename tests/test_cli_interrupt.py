"""Ctrl-C and SIGTERM end ``pulumi-yc-websocket get`` at once and quietly, lookups in flight or not.

The CLI runs as a process against an emulator of the test's own whose answers are held for
``SLOW`` seconds (its handler threads may still be asleep when the test ends); each signal is
sent once the emulator has received the requests.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest

from pulumi_yc_websocket.emulator import Delay
from tests.support.cli import cli_command, cli_environ, wait_for
from tests.support.emulator import Emulator, own_emulator

SLOW = 30.0
"""How long each held answer waits: past the read timeout (10 s), like a service that hangs."""
PROMPT = 5.0
"""Upper bound for exiting after the signal: a correctness bound (the lookups would take 30 s
or more), not a speed goal."""
IDS = [f"Slow{n:02d}kvQ47JSz6mjzNl3h9q" for n in range(16)]
EXIT_INTERRUPTED = 130


@pytest.fixture
def slow_emulator() -> Iterator[Emulator]:
    with own_emulator() as emulator:
        yield emulator


def start(emulator: Emulator, *argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        cli_command("get", "--timeout", "120", *argv),
        env=cli_environ(emulator),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def signal_once_received(
    emulator: Emulator, process: subprocess.Popen[str], signals: list[float], signum: int
) -> tuple[str, str, float]:
    """Send ``signum`` once every held request has arrived, again after each delay of
    ``signals`` (if the process still runs); its output and its time from the first signal."""
    wait_for(lambda: emulator.faults.pending("connections") == 0, "the requests to arrive")
    process.send_signal(signum)
    sent = time.monotonic()
    for gap in signals:
        time.sleep(gap)
        process.send_signal(signum)  # does nothing once the process has been waited for
    stdout, stderr = process.communicate(timeout=SLOW * 3)
    return stdout, stderr, time.monotonic() - sent


def assert_quiet(stderr: str) -> None:
    assert "Traceback" not in stderr
    assert "KeyboardInterrupt" not in stderr
    assert stderr.count("\n") <= 1, stderr


@pytest.mark.parametrize(
    "again", [[], [0.0], [0.0, 0.0, 0.0], [0.2], [0.5]], ids=lambda gaps: f"then{gaps}"
)
def test_ctrl_c_ends_the_lookups_in_flight_at_once(
    slow_emulator: Emulator, again: list[float]
) -> None:
    """Exit 130 within PROMPT of the first Ctrl-C, however many follow: no traceback."""
    slow_emulator.faults.push("connections", Delay(SLOW), times=len(IDS))
    with start(slow_emulator, "--parallel", "16", *IDS) as process:
        stdout, stderr, elapsed = signal_once_received(slow_emulator, process, again, signal.SIGINT)
    assert process.returncode == EXIT_INTERRUPTED, stderr
    assert elapsed < PROMPT
    assert stdout == ""
    assert_quiet(stderr)


def test_ctrl_c_keeps_the_lines_already_printed(slow_emulator: Emulator) -> None:
    """One at a time: the first id is answered and printed, the second is held; Ctrl-C."""
    slow_emulator.add_connection(id=IDS[0])
    slow_emulator.faults.push("connections", Delay(0))
    slow_emulator.faults.push("connections", Delay(SLOW))
    with start(slow_emulator, "--parallel", "1", IDS[0], IDS[1]) as process:
        assert process.stdout is not None
        first = process.stdout.readline()
        stdout, stderr, elapsed = signal_once_received(slow_emulator, process, [], signal.SIGINT)
    assert process.returncode == EXIT_INTERRUPTED, stderr
    assert elapsed < PROMPT
    assert json.loads(first)["id"] == IDS[0]
    assert stdout == ""
    assert_quiet(stderr)


def test_sigterm_ends_the_command_as_the_signal_does(slow_emulator: Emulator) -> None:
    """Killed by SIGTERM (a shell reports 143), at once and without a word."""
    slow_emulator.faults.push("connections", Delay(SLOW), times=len(IDS))
    with start(slow_emulator, "--parallel", "16", *IDS) as process:
        stdout, stderr, elapsed = signal_once_received(slow_emulator, process, [], signal.SIGTERM)
    assert process.returncode == -signal.SIGTERM
    assert elapsed < PROMPT
    assert (stdout, stderr) == ("", "")


@pytest.mark.parametrize("output", ["table", "json"])
def test_ctrl_c_ends_a_single_lookup_at_once(slow_emulator: Emulator, output: str) -> None:
    slow_emulator.faults.push("connections", Delay(SLOW))
    with start(slow_emulator, "-o", output, IDS[0]) as process:
        stdout, stderr, elapsed = signal_once_received(slow_emulator, process, [0.2], signal.SIGINT)
    assert process.returncode == EXIT_INTERRUPTED, stderr
    assert elapsed < PROMPT
    assert stdout == ""
    assert_quiet(stderr)
