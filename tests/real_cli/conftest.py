"""Fixtures for the tests that run the real Pulumi CLI (``make pulumi-cli``) on a local file
backend, offline, with the session emulator as Yandex Cloud.

- ``pulumi_cli``: the CLI's path. Missing, it fails the run in CI (``CI`` set) and skips elsewhere.
- ``workspace``: a :class:`tools.pulumi_cli.Workspace` of this test (own backend and
  ``PULUMI_HOME``) whose commands see the emulator's endpoints and its writer IAM token.
- ``new_project``: makes a project in the test's temp dir, a copy of an example or a program of
  the test's own (Python, or YAML with ``runtime="yaml"``), whose ``venv`` is this interpreter's
  virtualenv (the package installed in it, the plugin in its ``bin``). ``plugin=True`` adds the
  ``plugins: providers:`` entry that points the engine at that plugin.
- ``demo``: the emulator with its demo seed loaded (ids in ``tests.support.demo``).
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

from pulumi_yc_websocket.emulator import DEMO_SEED_PATH
from tools.pulumi_cli import ROOT, Project, Result, Workspace, find_cli

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


PLUGIN = "plugins:\n  providers:\n    - name: yc-websocket\n      path: venv/bin\n"
"""The ``Pulumi.yaml`` entry that runs the plugin installed in the project's virtualenv."""


@pytest.fixture
def new_project(workspace: Workspace, tmp_path: Path) -> NewProject:
    """``new_project(example="routing")``, ``new_project(program="...")`` (Python) or
    ``new_project(program="resources: ...", runtime="yaml")``: a new project."""

    def make(
        *,
        example: str | None = None,
        program: str | None = None,
        name: str = "ycws-test",
        runtime: str = "python",
        plugin: bool = False,
    ) -> Project:
        if (example is None) == (program is None):
            raise TypeError("give example= or program=")
        if example is not None:
            directory = tmp_path / example
            shutil.copytree(EXAMPLES / example, directory, ignore=shutil.ignore_patterns("venv"))
            return Project(workspace, _with_virtualenv(directory))
        directory = tmp_path / name
        directory.mkdir()
        settings = f"name: {name}\n" + (PLUGIN if plugin or runtime == "yaml" else "")
        if runtime == "yaml":
            settings += "runtime: yaml\n" + textwrap.dedent(program or "")
        else:
            (directory / "__main__.py").write_text(textwrap.dedent(program or ""), "utf-8")
            settings += "runtime:\n  name: python\n  options:\n    virtualenv: venv\n"
        (directory / "Pulumi.yaml").write_text(settings, "utf-8")
        return Project(workspace, _with_virtualenv(directory))

    return make


@pytest.fixture
def demo(emulator: Any) -> Any:
    """The emulator with the demo seed loaded (its tokens too, beside the writer token)."""
    emulator.backend.load_seed(DEMO_SEED_PATH)
    return emulator


def fails_with_one_line(result: Result, resource: str, *expected: str) -> str:
    """The one diagnostic line of ``resource`` in a failed run, holding each of ``expected``;
    no Python traceback anywhere in the output."""
    assert result.returncode != 0, result.output
    assert "Traceback" not in result.output, result.output
    lines = result.diagnostics().get(resource, [])
    assert len(lines) == 1, result.output
    for text in expected:
        assert text in lines[0], result.output
    return lines[0]
