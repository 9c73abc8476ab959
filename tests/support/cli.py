"""``pulumi-yc-websocket`` as a process: its command, its environment, its peak memory."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PEAK_RSS_SCRIPT = """\
import resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
open(sys.argv[1], "w").write(str(peak))
sys.exit(code)
"""
"""Runs a command and writes its peak RSS in KiB to a file. A fresh interpreter, small next to
the CLI: a child's peak counts the memory it had before ``exec`` (its parent's, copied at fork),
which from the test process would be the test's."""


def cli_command(*argv: str) -> list[str]:
    """``python -m pulumi_yc_websocket ARGV``."""
    return [sys.executable, "-m", "pulumi_yc_websocket", *argv]


def cli_environ(emulator: Any) -> dict[str, str]:
    """This process's environment, pointed at ``emulator``, with its writer token."""
    return {**os.environ, **emulator.env, "YC_IAM_TOKEN": emulator.token}


def with_peak_rss(command: list[str], report: Path) -> list[str]:
    """``command``, run so that its peak RSS (KiB) is written to ``report`` when it ends."""
    return [sys.executable, "-c", PEAK_RSS_SCRIPT, str(report), *command]


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    """Poll ``condition`` until it holds; AssertionError naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:g}s waiting for {what}")
        time.sleep(0.01)
