"""How the real engine drives this package, measured at the emulator: what the README's "How it
behaves in the engine" section tells users."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from tools.pulumi_cli import Project

from .conftest import NewProject

pytestmark = pytest.mark.pulumi_cli

WRITER = ["api-gateway.websocketWriter"]
CONNECTION_ID = "engineFactsConnection1"
ONE_LOOKUP = """
import pulumi
from pulumi_yc_websocket import WebSocketConnection

conn = WebSocketConnection("conn", "engineFactsConnection1")
pulumi.export("gatewayId", conn.gateway_id)
"""
EVERY_KIND = """
import pulumi
from pulumi_yc_websocket import WebSocketConnection, get_websocket_connection

conn = WebSocketConnection("conn", "engineFactsConnection1")
existing = WebSocketConnection.get("existing", "engineFactsConnection1")
looked_up = get_websocket_connection("engineFactsConnection1")
pulumi.export("gatewayId", conn.gateway_id)
pulumi.export("viaFunction", looked_up.gateway_id)
"""


@pytest.fixture
def project(new_project: NewProject, emulator: Any, request: pytest.FixtureRequest) -> Project:
    """A program (EVERY_KIND, or the test's ``program`` param) authenticated by the OAuth token
    ``oauth-old`` in stack config."""
    emulator.add_connection(id=CONNECTION_ID, gateway_id="d5dengine00000000001")
    for token in ("oauth-old", "oauth-new"):
        emulator.backend.add_oauth_token(token, roles=WRITER)
    project = new_project(program=getattr(request, "param", EVERY_KIND))
    project.workspace.env["YC_IAM_TOKEN"] = ""
    project.init_stack(secrets={"yandex:token": "oauth-old"})
    return project


def exchanged(emulator: Any) -> list[str]:
    """The OAuth tokens exchanged at the IAM endpoint since the log was cleared, in order."""
    return [
        json.loads(request.body)["yandexPassportOauthToken"] for request in emulator.requests("iam")
    ]


def lookups(emulator: Any) -> int:
    return int(emulator.count("connections"))


@pytest.mark.parametrize("project", [ONE_LOOKUP], indirect=True)
@pytest.mark.parametrize("command", ["up", "refresh"])
def test_a_command_previews_first(project: Project, emulator: Any, command: str) -> None:
    # `up`: preview, then update; each runs the program, which exchanges the token once and
    # looks the resource up (the provider processes only accept the answers). `refresh`: a
    # preview of the refresh, then the refresh; the program does not run, each of two provider
    # processes reads (and exchanges the token) once.
    if command == "refresh":
        project.pulumi("up", "--yes", "--skip-preview")
        emulator.backend.clear_requests()
    project.pulumi(command, "--yes")
    assert lookups(emulator) == 2
    assert exchanged(emulator) == ["oauth-old", "oauth-old"]
    emulator.backend.clear_requests()
    project.pulumi(command, "--yes", "--skip-preview")
    assert lookups(emulator) == 1
    assert exchanged(emulator) == ["oauth-old"]


def test_refresh_and_destroy_use_the_config_of_the_last_up(project: Project, emulator: Any) -> None:
    project.pulumi("up", "--yes")
    project.set_config("yandex:token", "oauth-new", secret=True)

    emulator.backend.clear_requests()
    project.pulumi("refresh", "--yes")
    assert set(exchanged(emulator)) == {"oauth-old"}

    emulator.backend.clear_requests()
    project.pulumi("refresh", "--yes", "--run-program")
    assert set(exchanged(emulator)) == {"oauth-new"}

    emulator.backend.clear_requests()
    project.pulumi("destroy", "--yes")
    assert exchanged(emulator) == []  # destroy itself looks nothing up


def test_run_program_makes_destroy_look_up(project: Project, emulator: Any) -> None:
    project.pulumi("up", "--yes")
    emulator.backend.clear_requests()
    project.pulumi("destroy", "--yes", "--run-program")
    # Preview and destroy each run the program, which looks each resource, .get() and get_*
    # up once.
    assert lookups(emulator) == 2 * 3
    assert project.resources() == []


def test_no_plugin_is_downloaded(project: Project) -> None:
    # Every command here runs with PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true: a run that
    # wanted a `yc-websocket` plugin would fail. None was installed either.
    project.pulumi("up", "--yes")
    installed = project.pulumi("plugin", "ls", "--json").json() or []
    assert [plugin["name"] for plugin in installed if "websocket" in plugin["name"]] == []
    assert not list(Path(project.workspace.home).glob("plugins/*websocket*"))


def test_package_says_it_is_no_resource_plugin() -> None:
    # pulumi/pulumi#8011: without this file the Python language host reports an installed
    # `pulumi-*` distribution as the resource plugin `yc-websocket` and tries to download it.
    plugin_json = files("pulumi_yc_websocket").joinpath("pulumi-plugin.json")
    assert json.loads(plugin_json.read_text("utf-8")) == {"resource": False}
