"""``pulumi-yc-websocket get`` with many ids: a bounded window of lookups, each result dropped
once printed, so that its memory does not grow with the number of ids.

The CLI runs as a process against the session emulator (in-process for which ids are looked up
again); the big answers are connections with a 200 KB user agent, one string shared by all, so
that the emulator's memory stays small.
"""

from __future__ import annotations

import io
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from pulumi_yc_websocket._cli import main
from pulumi_yc_websocket._errors import EXIT_NOT_FOUND, EXIT_OK
from pulumi_yc_websocket.emulator import Delay
from tests.support.cli import cli_command, cli_environ, wait_for, with_peak_rss

ANSWER_BYTES = 200_000
FEW, MANY = 100, 1000
MARGIN_KIB = 12 * 1024
"""How much more the run with MANY ids may peak at than the one with FEW: allocator noise.
Keeping every result until the end costs 200 KB more per id (180 MB more here)."""
PARALLEL = 2
WINDOW = 4 * PARALLEL
"""Lookups started ahead of the line being printed, at most (that line's included)."""
HELD = 3.0


def big_ids(emulator: Any, count: int) -> list[str]:
    agent = "A" * ANSWER_BYTES
    ids = [f"Big{n:05d}vQ47JSz6mjzNl3h9q" for n in range(count)]
    for connection_id in ids:
        emulator.add_connection(id=connection_id, user_agent=agent)
    return ids


def peak_of_run(emulator: Any, ids: list[str], report: Path) -> int:
    """Peak RSS (KiB) of ``get`` for ``ids``, after checking it printed each in order."""
    command = with_peak_rss(cli_command("get", *ids), report)
    with subprocess.Popen(
        command, env=cli_environ(emulator), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        # Read line by line: all of it at once would be 200 MB in this process.
        printed = 0
        for line in process.stdout:
            expected = ids[printed]
            assert line.startswith(json.dumps({"id": expected})[:-1].encode() + b", "), printed
            assert len(line) > ANSWER_BYTES
            printed += 1
        stderr = process.stderr.read()
    assert (process.returncode, stderr) == (EXIT_OK, b"")
    assert printed == len(ids)
    return int(report.read_text())


def test_peak_memory_does_not_grow_with_the_number_of_ids(emulator: Any, tmp_path: Path) -> None:
    ids = big_ids(emulator, MANY)
    few = peak_of_run(emulator, ids[:FEW], tmp_path / "few")
    many = peak_of_run(emulator, ids, tmp_path / "many")
    assert many <= few + MARGIN_KIB, (few // 1024, many // 1024)


def test_lookups_stay_within_a_window_of_the_line_being_printed(emulator: Any) -> None:
    """While the first answer is held, the ids after it are looked up at most WINDOW ahead,
    not all of them; once it comes, every line is printed, in order."""
    ids = [f"Gone{n:04d}" for n in range(400)]
    emulator.faults.push("connections", Delay(HELD))
    with subprocess.Popen(
        cli_command("get", "--parallel", str(PARALLEL), *ids),
        env=cli_environ(emulator),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        wait_for(lambda: emulator.faults.pending("connections") == 0, "the held request")
        time.sleep(HELD / 2)  # time for all the others (under a second) while one is held
        answered = emulator.count("connections")
        stdout, stderr = process.communicate(timeout=60)
    assert answered <= WINDOW + 1  # the head may be the second id, the first printed
    assert (process.returncode, stderr) == (EXIT_NOT_FOUND, "")
    assert [json.loads(line)["id"] for line in stdout.splitlines()] == ids


@pytest.mark.parametrize(("between", "lookups"), [(WINDOW - 2, 1), (WINDOW - 1, 2)])
def test_an_id_given_again_is_looked_up_again_only_past_the_window(
    emulator: Any,
    emulator_environ: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    between: int,
    lookups: int,
) -> None:
    """Its first result is dropped once printed unless the window already holds it again."""
    monkeypatch.setenv("YC_IAM_TOKEN", emulator.token)
    emulator.add_connection(id="Again")
    ids = ["Again", *(f"Gone{n}" for n in range(between)), "Again"]
    out, err = io.StringIO(), io.StringIO()
    code = main(["get", "--parallel", str(PARALLEL), *ids], out, err)
    assert (code, err.getvalue()) == (EXIT_NOT_FOUND, "")
    assert [json.loads(line)["id"] for line in out.getvalue().splitlines()] == ids
    assert [r.connection_id for r in emulator.requests()].count("Again") == lookups
