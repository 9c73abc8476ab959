"""The provider plugin under the real CLI, from Pulumi YAML: the ``yaml-routing`` example through
its whole life, ``pulumi import``, ``get``, an explicit provider, and the errors as printed.

The plugin follows Pulumi's model for a provider resource: create, import and refresh look up
(preview too); ``up`` with unchanged inputs sends nothing; the function looks up at every run.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from pulumi_yc_websocket._schema import RESOURCE_TOKEN
from tests.support.demo import BOT, CLOSED, GATEWAY_A, GATEWAY_B, MOBILE_IPV4
from tools.pulumi_cli import Project

from .conftest import NewProject, fails_with_one_line

pytestmark = pytest.mark.pulumi_cli

# How the engine marks an encrypted value in a deployment (resource.SecretSig).
SECRET_SIG = "4dabf18193072939515e22adb298388d"


def plugin_resources(project: Project) -> dict[str, dict[str, Any]]:
    """The plugin's resources in the stack's state, by name."""
    return {
        resource["urn"].rsplit("::", 1)[-1]: resource
        for resource in project.resources()
        if resource["type"] == RESOURCE_TOKEN
    }


def test_yaml_routing_lifecycle(new_project: NewProject, demo: Any) -> None:
    mobile = demo.backend.get_connection(MOBILE_IPV4)
    project = new_project(example="yaml-routing")
    project.init_stack(config={"connectionId": MOBILE_IPV4, "fallbackConnectionId": BOT})

    # Preview: the resource's create is looked up, the function too (`preview --json` leaves a
    # create's outputs out: the printed Outputs section has them).
    preview = project.pulumi("preview")
    assert preview.printed_outputs() == {
        "gatewayId": GATEWAY_A,
        "lastActiveAt": mobile["lastActiveAt"],
        "sourceIp": "[secret]",
        "userAgent": "[secret]",
        "fallbackFound": True,
        "fallbackGatewayId": GATEWAY_B,
    }
    assert plugin_resources(project) == {}

    project.pulumi("up", "--yes")
    assert project.outputs(show_secrets=True) == {
        "gatewayId": GATEWAY_A,
        "lastActiveAt": mobile["lastActiveAt"],
        "sourceIp": mobile["identity"]["sourceIp"],
        "userAgent": mobile["identity"]["userAgent"],
        "fallbackFound": True,
        "fallbackGatewayId": GATEWAY_B,
    }
    client = plugin_resources(project)["client"]
    assert client["id"] == MOBILE_IPV4
    assert SECRET_SIG in client["outputs"]["identity"]  # additionalSecretOutputs: encrypted
    assert mobile["identity"]["sourceIp"] not in json.dumps(project.export())

    # Unchanged inputs: no change, and nothing looked up for the resource (the function is).
    before = demo.count("connections")
    project.pulumi("preview", "--expect-no-changes")
    assert demo.count("connections") == before + 1

    # A changed record: the function's result on the next `up`, the resource's through refresh.
    demo.backend.update_connection(BOT, gateway_id="d5dmovedgateway00001")
    demo.backend.update_connection(
        MOBILE_IPV4, user_agent="curl/8.5.0", last_active_at="2030-01-01T00:00:00.000000001Z"
    )
    project.pulumi("up", "--yes")
    outputs = project.outputs(show_secrets=True)
    assert outputs["fallbackGatewayId"] == "d5dmovedgateway00001"
    assert outputs["userAgent"] == mobile["identity"]["userAgent"]  # as of its create
    refreshed = project.pulumi("up", "--refresh", "--yes")
    outputs = project.outputs(show_secrets=True)
    assert outputs["userAgent"] == "curl/8.5.0"
    assert outputs["lastActiveAt"] == "2030-01-01T00:00:00.000000001Z"
    # The refresh reports the identity (its user agent) as changed; lastActiveAt is ignored.
    assert "refresh (" in refreshed.stdout
    assert "[diff: ~identity]" in refreshed.stdout, refreshed.output

    # ignoreActivity: a refresh that finds only a new lastActiveAt reports no change, and the
    # state still gets it.
    demo.backend.update_connection(MOBILE_IPV4, last_active_at="2030-01-01T00:00:05Z")
    project.pulumi("refresh", "--yes", "--expect-no-changes")
    assert plugin_resources(project)["client"]["outputs"]["lastActiveAt"] == "2030-01-01T00:00:05Z"

    # The fallback closes: the function reads found=false (allowMissing).
    demo.backend.close_connection(BOT)
    project.pulumi("up", "--yes")
    assert project.outputs()["fallbackFound"] is False
    assert project.outputs()["fallbackGatewayId"] == ""

    # The client closes: refresh drops it from the state.
    demo.backend.close_connection(MOBILE_IPV4)
    project.pulumi("refresh", "--yes", "--skip-preview")
    assert plugin_resources(project) == {}

    before = demo.count("connections")
    project.pulumi("destroy", "--yes")
    assert demo.count("connections") == before


LOOKUP = """
config:
  connectionId:
    type: string
resources:
  conn:
    type: yc-websocket:index:WebSocketConnection
    properties:
      connectionId: ${connectionId}
      allowMissing: %(allow_missing)s
outputs:
  found: ${conn.found}
  gatewayId: ${conn.gatewayId}
"""


def lookup_project(
    new_project: NewProject, connection_id: str, *, allow_missing: bool = False
) -> Project:
    project = new_project(
        program=LOOKUP % {"allow_missing": str(allow_missing).lower()}, runtime="yaml"
    )
    project.init_stack(config={"connectionId": connection_id})
    return project


def test_refresh_with_allow_missing_keeps_a_closed_connection(
    new_project: NewProject, demo: Any
) -> None:
    project = lookup_project(new_project, MOBILE_IPV4, allow_missing=True)
    project.pulumi("up", "--yes")
    demo.backend.close_connection(MOBILE_IPV4)
    refreshed = project.pulumi("refresh", "--yes", "--skip-preview")
    assert "[diff: ~connectedAt,found,gatewayId,identity,lastActiveAt]" in refreshed.stdout
    outputs = plugin_resources(project)["conn"]["outputs"]
    assert outputs["found"] is False
    assert outputs["gatewayId"] == ""
    assert outputs["identity"] == {"sourceIp": "", "userAgent": ""}


def test_import_then_no_changes(new_project: NewProject, demo: Any) -> None:
    project = lookup_project(new_project, MOBILE_IPV4)
    imported = project.pulumi(
        "import",
        RESOURCE_TOKEN,
        "conn",
        MOBILE_IPV4,
        "--yes",
        "--generate-code=false",
        "--protect=false",
    )
    assert "1 imported" in imported.stdout, imported.output
    state = plugin_resources(project)["conn"]
    assert state["id"] == MOBILE_IPV4
    assert state["outputs"]["gatewayId"] == GATEWAY_A
    assert state["inputs"] == {
        "connectionId": MOBILE_IPV4,
        "allowMissing": False,
        "ignoreActivity": False,
    }
    before = demo.count("connections")
    project.pulumi("preview", "--expect-no-changes")
    assert demo.count("connections") == before

    closed = project.pulumi(
        "import", RESOURCE_TOKEN, "other", CLOSED, "--yes", "--generate-code=false", check=False
    )
    fails_with_one_line(closed, "other", f"Connection '{CLOSED}' was not found", "closed")
    assert "other" not in plugin_resources(project)


def test_get_reads_a_live_connection(new_project: NewProject, demo: Any) -> None:
    program = f"""
resources:
  existing:
    type: {RESOURCE_TOKEN}
    get:
      id: {MOBILE_IPV4}
outputs:
  gatewayId: ${{existing.gatewayId}}
"""
    project = new_project(program=program, runtime="yaml")
    project.init_stack()
    project.pulumi("up", "--yes")
    assert project.outputs() == {"gatewayId": GATEWAY_A}
    demo.backend.close_connection(MOBILE_IPV4)
    failed = project.pulumi("up", "--yes", check=False)
    fails_with_one_line(failed, "existing", f"Connection '{MOBILE_IPV4}' was not found")


def test_explicit_provider(new_project: NewProject, emulator: Any) -> None:
    emulator.add_connection(id="explicitProvider000001", gateway_id="d5dexplicit000000001")
    program = f"""
config:
  token:
    type: string
    secret: true
  endpoint:
    type: string
resources:
  prov:
    type: pulumi:providers:yc-websocket
    properties:
      token: ${{token}}
      connectionsEndpoint: ${{endpoint}}
      iamEndpoint: ${{endpoint}}
  conn:
    type: {RESOURCE_TOKEN}
    properties:
      connectionId: explicitProvider000001
    options:
      provider: ${{prov}}
outputs:
  gatewayId: ${{conn.gatewayId}}
"""
    project = new_project(program=program, runtime="yaml")
    project.init_stack(config={"endpoint": emulator.url}, secrets={"token": emulator.token})
    # Nothing in the environment: the explicit provider's inputs are the settings.
    env = {"YC_IAM_TOKEN": "", "YC_APIGATEWAY_CONNECTIONS_ENDPOINT": "", "YC_IAM_ENDPOINT": ""}
    project.pulumi("up", "--yes", env=env)
    assert project.outputs() == {"gatewayId": "d5dexplicit000000001"}
    assert emulator.token not in json.dumps(project.export())


# -- errors, as the CLI prints them -----------------------------------------------------------


@pytest.mark.parametrize("command", [("preview",), ("up", "--yes")])
def test_missing_connection(new_project: NewProject, demo: Any, command: tuple[str, ...]) -> None:
    project = lookup_project(new_project, CLOSED)
    result = project.pulumi(*command, check=False)
    fails_with_one_line(result, "conn", f"Connection '{CLOSED}' was not found", "allowMissing")


def test_permission_denied(new_project: NewProject, demo: Any) -> None:
    viewer = demo.backend.add_iam_token("t1.viewerOnly.c2lnbmF0dXJl", roles=["viewer"])
    project = lookup_project(new_project, MOBILE_IPV4)
    result = project.pulumi("preview", check=False, env={"YC_IAM_TOKEN": viewer})
    line = fails_with_one_line(result, "conn", MOBILE_IPV4, "api-gateway.websocketWriter")
    assert viewer not in result.output
    assert line.startswith(f"error: Preview failed: the lookup of connection '{MOBILE_IPV4}'")


@pytest.mark.parametrize("bad_id", ["..", "x" * 51, "a\nb"])
def test_invalid_id(new_project: NewProject, demo: Any, bad_id: str) -> None:
    project = lookup_project(new_project, bad_id)
    result = project.pulumi("preview", check=False)
    fails_with_one_line(result, "conn", "connectionId", "connection id")
    assert demo.count("connections") == 0


def test_no_credentials(new_project: NewProject, demo: Any, closed_port: int) -> None:
    project = lookup_project(new_project, MOBILE_IPV4)
    env = {"YC_IAM_TOKEN": "", "YC_METADATA_ADDR": f"127.0.0.1:{closed_port}"}
    result = project.pulumi("preview", check=False, env=env)
    fails_with_one_line(result, "conn", MOBILE_IPV4, "YC_IAM_TOKEN", "yc-websocket:token")
    assert demo.count("connections") == 0


def test_unknown_config_key(new_project: NewProject, demo: Any) -> None:
    project = lookup_project(new_project, MOBILE_IPV4)
    project.set_config("yc-websocket:connectionsEndpont", demo.url)
    result = project.pulumi("preview", check=False)
    fails_with_one_line(
        result,
        "default",
        "yc-websocket:connectionsEndpont is not a config key of yc-websocket",
        "did you mean yc-websocket:connectionsEndpoint?",
    )
    assert demo.count("connections") == 0


def test_function_errors(new_project: NewProject, demo: Any) -> None:
    program = f"""
variables:
  info:
    fn::invoke:
      function: yc-websocket:index:getWebSocketConnection
      arguments:
        connectionId: {CLOSED}
outputs:
  gatewayId: ${{info.gatewayId}}
"""
    project = new_project(program=program, runtime="yaml")
    project.init_stack()
    missing = project.pulumi("preview", check=False)
    assert missing.returncode != 0
    assert "Traceback" not in missing.output
    [line] = [line for line in missing.diagnostics()["ycws-test-dev"] if "invoke failed" in line]
    assert f"Connection '{CLOSED}' was not found" in line
    assert "set allowMissing to read it as found: false" in line

    viewer = demo.backend.add_iam_token("t1.viewerOnly.c2lnbmF0dXJl", roles=["viewer"])
    denied = project.pulumi("preview", check=False, env={"YC_IAM_TOKEN": viewer})
    assert denied.returncode != 0
    assert "Traceback" not in denied.output
    assert viewer not in denied.output
    [line] = [line for line in denied.diagnostics()["ycws-test-dev"] if "rpc error" in line]
    assert f"the lookup of connection '{CLOSED}' failed" in line
    assert "api-gateway.websocketWriter" in line


def test_no_credential_in_state_or_verbose_logs(new_project: NewProject, demo: Any) -> None:
    oauth = "y0_AgAAAAPluginOAuthTokenForLogs0000"
    demo.backend.add_oauth_token(oauth, roles=["api-gateway.websocketWriter"])
    project = lookup_project(new_project, MOBILE_IPV4)
    project.set_config("yc-websocket:token", oauth, secret=True)
    env = {"YC_IAM_TOKEN": ""}
    up = project.pulumi("up", "--yes", "-v=9", "--logtostderr", env=env)
    exchanged = {
        r.headers.get("authorization", "").removeprefix("Bearer ")
        for r in demo.requests("connections")
    }
    held = [oauth, *(token for token in exchanged if token)]
    assert len(held) >= 2  # the OAuth token, and the IAM tokens it was exchanged for
    export = json.dumps(project.export())
    for secret in held:
        assert secret not in up.output
        assert secret not in export


def test_a_secret_id_is_never_shown_nor_the_resource_id(
    new_project: NewProject, emulator: Any
) -> None:
    secret_id = "SECRETLITERALxID99"
    program = LOOKUP.replace("type: string", "type: string\n    secret: true") % {
        "allow_missing": "false"
    }
    project = new_project(program=program, runtime="yaml")
    project.init_stack(secrets={"connectionId": secret_id})
    missing = project.pulumi("preview", check=False)
    fails_with_one_line(missing, "conn", "was not found")
    assert secret_id.lower() not in missing.output.lower()

    emulator.add_connection(id=secret_id, gateway_id="d5dsecretidgateway01")
    project.pulumi("up", "--yes")
    assert project.outputs(show_secrets=True)["gatewayId"] == "d5dsecretidgateway01"
    state = plugin_resources(project)["conn"]
    assert state["id"].startswith("secret-")
    assert secret_id not in json.dumps(project.export())
    project.pulumi("refresh", "--yes", "--skip-preview", "--expect-no-changes")
    emulator.backend.close_connection(secret_id)
    refreshed = project.pulumi("refresh", "--yes", "--skip-preview")
    assert secret_id not in refreshed.output
    assert plugin_resources(project) == {}


def test_a_new_id_replaces_and_a_failed_refresh_is_one_line(
    new_project: NewProject, demo: Any
) -> None:
    project = lookup_project(new_project, MOBILE_IPV4)
    project.pulumi("up", "--yes")
    project.set_config("connectionId", BOT)
    replaced = project.pulumi("up", "--yes")
    assert "+-1 replaced" in replaced.stdout, replaced.output
    assert plugin_resources(project)["conn"]["outputs"]["gatewayId"] == GATEWAY_B

    unknown = "t1.NOTxKNOWNxTOKEN.xxxxxxxxxxxx"
    result = project.pulumi(
        "refresh", "--yes", "--skip-preview", check=False, env={"YC_IAM_TOKEN": unknown}
    )
    fails_with_one_line(result, "conn", f"the lookup of connection '{BOT}' failed", "rejected")
    assert unknown not in result.output
