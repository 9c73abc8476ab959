"""One program through the whole lifecycle twice: under the real CLI and under the engine model
(``pulumi_yc_websocket.testing``); both must take the same steps and end with the same outputs.

Where they differed, the real engine was right and the model was fixed; the normalisation below
keeps only what both report (see ``steps_of_model``).
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pulumi_yc_websocket.testing import (
    ProviderServer,
    StackState,
    StepRecord,
    destroy,
    refresh,
    run_program,
    strip_secrets,
)
from tools.pulumi_cli import Project, Step

from .conftest import NewProject

pytestmark = pytest.mark.pulumi_cli

PROJECT = "ycws-agreement"
PROGRAM = """
import pulumi
from pulumi_yc_websocket import WebSocketConnection, get_websocket_connection_output

conn = WebSocketConnection("conn", "agreeConnection000001", secret_identity=True)
maybe = WebSocketConnection("maybe", "agreeConnection000002", allow_missing=True)
gone = WebSocketConnection("gone", "agreeConnection000003")
existing = WebSocketConnection.get("existing", "agreeConnection000001")
info = get_websocket_connection_output("agreeConnection000001")
pulumi.export("gatewayId", conn.gateway_id)
pulumi.export("sourceIp", conn.identity.source_ip)
pulumi.export("maybeFound", maybe.found)
pulumi.export("existingLastActive", existing.last_active_at)
pulumi.export("functionGateway", info.gateway_id)
"""
LOOKUP = "pulumi-python:dynamic/yc-websocket:WebSocketConnection"
Summary = set[tuple[str, ...]]


def steps_of_cli(steps: list[Step]) -> Summary:
    """The lookups' steps as the real engine reports them: (name, op), and for a refresh
    (name, "refresh", outcome)."""
    return {
        (s.name, s.op, s.outcome) if s.op == "refresh" else (s.name, s.op)
        for s in steps
        if s.type == LOOKUP
    }


def steps_of_model(steps: list[StepRecord], *, refreshing: bool = False) -> Summary:
    """The model's steps in the engine's terms: in a refresh, a resource found gone is a
    refresh ending in ``delete`` (the model says ``discard``)."""
    summary: Summary = set()
    for step in steps:
        if step.type != LOOKUP:
            continue
        if step.op == "refresh":
            summary.add((step.name, "refresh", step.detail))
        elif step.op == "discard" and refreshing:
            summary.add((step.name, "refresh", "delete"))
        else:
            summary.add((step.name, step.op))
    return summary


def program() -> None:
    # A fresh module on every run, importable while Pulumi resolves its classes afterwards.
    module = types.ModuleType("agreement_program")
    sys.modules[module.__name__] = module
    exec(compile(PROGRAM, "agreement_program.py", "exec"), module.__dict__)  # noqa: S102


class Model:
    """The same stack under the engine model."""

    def __init__(self, server: ProviderServer) -> None:
        self.server = server
        self.state = StackState(project=PROJECT, stack="dev")

    def run(self, *, preview: bool) -> tuple[Summary, dict[str, Any]]:
        outputs = run_program(program, server=self.server, state=self.state, preview=preview)
        return steps_of_model(outputs.steps), strip_secrets(dict(outputs))

    def refresh(self) -> Summary:
        return steps_of_model(refresh(server=self.server, state=self.state), refreshing=True)

    def destroy(self) -> Summary:
        return steps_of_model(destroy(server=self.server, state=self.state))


@pytest.fixture
def model(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Model]:
    env = {**emulator.env, "YC_IAM_TOKEN": emulator.token}
    for name, value in env.items():  # the get_* function looks up in this process
        monkeypatch.setenv(name, value)
    with ProviderServer(env=env) as server:
        yield Model(server)


@pytest.fixture
def cli(new_project: NewProject) -> Project:
    project = new_project(program=PROGRAM, name=PROJECT)
    project.init_stack()
    return project


def test_same_steps_and_outputs(cli: Project, model: Model, emulator: Any) -> None:
    for number in (1, 2, 3):
        emulator.add_connection(
            id=f"agreeConnection00000{number}",
            gateway_id=f"d5dagree0000000000{number}",
            source_ip=f"198.51.100.{number}",
        )
    ops: Callable[[list[Step]], Summary] = steps_of_cli

    # A new stack: the plan, then the update.
    assert ops(cli.steps("preview")) == model.run(preview=True)[0]
    steps, outputs = model.run(preview=False)
    assert ops(cli.steps("up", "--yes", "--skip-preview")) == steps
    assert cli.outputs(show_secrets=True) == outputs

    # Nothing changed.
    assert ops(cli.steps("up", "--yes", "--skip-preview")) == model.run(preview=False)[0]

    # A record changed: the lookup updates, the read resource reads again.
    emulator.backend.update_connection("agreeConnection000001", gateway_id="d5dagree0000000009")
    steps, outputs = model.run(preview=False)
    assert ops(cli.steps("up", "--yes", "--skip-preview")) == steps
    assert cli.outputs(show_secrets=True) == outputs
    assert outputs["gatewayId"] == "d5dagree0000000009"

    # Two connections closed: refresh keeps the allowed-missing one, drops the other.
    emulator.backend.close_connection("agreeConnection000002")
    emulator.backend.close_connection("agreeConnection000003")
    model_refresh = model.refresh()
    assert ops(cli.steps("refresh", "--yes", "--skip-preview")) == model_refresh
    assert ("gone", "refresh", "delete") in model_refresh
    assert ("maybe", "refresh", "update") in model_refresh

    requests = emulator.count("connections")
    assert ops(cli.steps("destroy", "--yes", "--skip-preview")) == model.destroy()
    assert emulator.count("connections") == requests
