"""Fixtures for the tests that run the real Pulumi CLI (``make pulumi-cli``) on a local file
backend, offline, with the session emulator as Yandex Cloud.

- ``pulumi_cli``: the CLI's path. Missing, it fails the run in CI (``CI`` set) and skips elsewhere.
- ``workspace``: a :class:`tools.pulumi_cli.Workspace` of this test (own backend and
  ``PULUMI_HOME``) whose commands see the emulator's endpoints and its writer IAM token.
- ``new_project``: makes a project in the test's temp dir, a copy of an example or a program of
  the test's own, whose ``virtualenv`` is this interpreter's (the package installed in it).
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tools.pulumi_cli import ROOT, Project, Workspace, find_cli

EXAMPLES = ROOT / "examples"

NewProject = Callable[..., Project]


@pytest.fixture(scope="session")
def pulumi_cli() -> Path:
    """The real CLI: ``.tools/pulumi/bin/pulumi`` or ``pulumi`` on PATH."""
    cli = find_cli()
    if cli is None:
        reason = "the pulumi CLI is not built: run `make pulumi-cli` (needs Go)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI runs these tests, never skips them", pytrace=False)
        pytest.skip(reason)
    return cli


@pytest.fixture
def workspace(pulumi_cli: Path, tmp_path: Path, emulator: Any) -> Workspace:
    """An offline CLI environment against the emulator, with the writer IAM token."""
    return Workspace(
        tmp_path / "pulumi",
        cli=pulumi_cli,
        env={**emulator.env, "YC_IAM_TOKEN": emulator.token},
    )


def _with_virtualenv(directory: Path) -> Path:
    # Pulumi.yaml of every project here names `virtualenv: venv`: this interpreter's.
    (directory / "venv").symlink_to(sys.prefix, target_is_directory=True)
    return directory


@pytest.fixture
def new_project(workspace: Workspace, tmp_path: Path) -> NewProject:
    """``new_project(example="routing")`` or ``new_project(program="...")``: a new project."""

    def make(
        *, example: str | None = None, program: str | None = None, name: str = "ycws-test"
    ) -> Project:
        if (example is None) == (program is None):
            raise TypeError("give example= or program=")
        if example is not None:
            directory = tmp_path / example
            shutil.copytree(EXAMPLES / example, directory, ignore=shutil.ignore_patterns("venv"))
        else:
            directory = tmp_path / name
            directory.mkdir()
            (directory / "__main__.py").write_text(textwrap.dedent(program or ""), "utf-8")
            (directory / "Pulumi.yaml").write_text(
                f"name: {name}\nruntime:\n  name: python\n  options:\n    virtualenv: venv\n",
                "utf-8",
            )
        return Project(workspace, _with_virtualenv(directory))

    return make
