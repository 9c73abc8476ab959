"""The Makefile: each command installs what it needs; `make demo` needs neither the test and
benchmark tools nor Go, and builds the Pulumi CLI where Go is installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="no make")


def planned(target: str, tmp_path: Path, *variables: str) -> str:
    """What ``make TARGET`` would run for a fresh virtualenv (``make -n``: nothing runs)."""
    done = subprocess.run(
        ["make", "-n", target, f"VENV={tmp_path / 'venv'}", *variables],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def installs(plan: str) -> list[str]:
    return [
        line.split("pip install --quiet ", 1)[1]
        for line in plan.splitlines()
        if "pip install --quiet -e" in line
    ]


def test_demo_installs_the_package_alone_and_needs_no_go(tmp_path: Path) -> None:
    plan = planned("demo", tmp_path, "HAVE_GO=")  # as on a machine without Go
    assert installs(plan) == ["-e ."]
    assert "examples/demo.py" in plan
    assert "Go is not installed" in plan
    for needless in ("pulumi-cli", "build.sh", "go ", "[dev", "bench]"):
        assert needless not in plan


def test_demo_builds_the_cli_where_go_is_installed(tmp_path: Path) -> None:
    plan = planned("demo", tmp_path, "HAVE_GO=/usr/bin/go")
    assert installs(plan) == ["-e ."]
    assert plan.index("tools/pulumi-cli/build.sh") < plan.index("examples/demo.py")


def test_test_installs_the_dev_tools_and_the_benchmark_peers(tmp_path: Path) -> None:
    plan = planned("test", tmp_path)
    assert installs(plan) == ["-e '.[dev,bench]'"]
    assert "-m pytest" in plan


def test_lint_and_bench_install_their_own_extras(tmp_path: Path) -> None:
    assert installs(planned("lint", tmp_path)) == ["-e '.[dev]'"]
    assert installs(planned("bench", tmp_path)) == ["-e '.[bench]'"]
