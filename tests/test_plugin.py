"""The provider plugin's process, spoken to over gRPC as the engine does: each call's answer and
each error's one line. (Whole deployments: ``tests/real_cli/test_plugin_*.py``.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest

from pulumi_yc_websocket import __version__
from pulumi_yc_websocket._outputs import SECRET_ID_PREFIX
from pulumi_yc_websocket._schema import FUNCTION_TOKEN, schema
from pulumi_yc_websocket.emulator import Delay
from tools.provider_process import (
    PLUGIN_URN,
    UNKNOWN,
    ProviderProcess,
    plugin_command,
    secret,
)

CONNECTION_ID = "pluginTestConnection01"
INPUTS = {"connectionId": CONNECTION_ID, "allowMissing": False, "ignoreActivity": False}


@pytest.fixture
def record(emulator: Any) -> dict[str, Any]:
    return emulator.add_connection(
        id=CONNECTION_ID,
        gateway_id="d5dplugin00000000001",
        source_ip="198.51.100.7",
        user_agent="plugin-test/1.0",
        connected_at="2026-12-08T10:00:00.123456789Z",
        last_active_at="2026-12-08T10:01:00Z",
    )


@pytest.fixture
def plugin(emulator: Any) -> Iterator[ProviderProcess]:
    env = {**emulator.env, "YC_IAM_TOKEN": emulator.token, "PATH": "/usr/bin:/bin"}
    with ProviderProcess(env, command=plugin_command(), urn=PLUGIN_URN) as process:
        process.configure({})
        yield process


def looked_up(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "found": True,
        "gatewayId": record["gatewayId"],
        "identity": record["identity"],
        "connectedAt": record["connectedAt"],
        "lastActiveAt": record["lastActiveAt"],
    }


def test_version_and_schema(plugin: ProviderProcess) -> None:
    assert plugin.plugin_version() == __version__
    assert json.loads(plugin.schema()) == schema()


def test_check_fills_in_the_defaults_and_sends_nothing(
    plugin: ProviderProcess, emulator: Any
) -> None:
    checked = plugin.check({"connectionId": CONNECTION_ID})
    assert checked.failures == []
    assert checked.inputs == INPUTS
    assert plugin.check({"connectionId": UNKNOWN}).failures == []
    assert emulator.count() == 0


@pytest.mark.parametrize(
    ("news", "failure"),
    [
        ({"connectionId": ".."}, ("connectionId", "connection id '..' is not a valid id")),
        ({}, ("connectionId", "connection id is missing (None)")),
        ({"connectionId": 5}, ("connectionId", "connection id must be a string, not the number 5")),
        ({"connectionId": "a\nb"}, ("", "connectionId: connection id has a control character")),
        (
            {"connectionId": CONNECTION_ID, "allowMissing": "yes"},
            ("allowMissing", "allowMissing must be true or false"),
        ),
        (
            {"connectionId": CONNECTION_ID, "conectionId": "x"},
            ("conectionId", "conectionId is not an input of yc-websocket:index:"),
        ),
    ],
)
def test_check_refuses_bad_inputs(
    plugin: ProviderProcess, emulator: Any, news: dict[str, Any], failure: tuple[str, str]
) -> None:
    [(prop, reason)] = plugin.check(news).failures
    assert (prop, reason[: len(failure[1])]) == failure
    assert "\n" not in reason
    assert emulator.count() == 0


def test_check_config_names_the_key_most_likely_meant(plugin: ProviderProcess) -> None:
    checked = plugin.check_config(
        {"connectionsEndpont": "http://127.0.0.1:1", "token": "t1.x.y", "version": "0.1.0"}
    )
    [(prop, reason)] = checked.failures
    assert prop == "connectionsEndpont"
    assert "did you mean yc-websocket:connectionsEndpoint?" in reason


def test_create_looks_up(plugin: ProviderProcess, record: dict[str, Any]) -> None:
    resource_id, outputs = plugin.create(INPUTS)
    assert resource_id == CONNECTION_ID
    assert outputs == {**INPUTS, **looked_up(record)}


def test_create_in_preview_with_an_unknown_id_sends_nothing(
    plugin: ProviderProcess, emulator: Any
) -> None:
    _, outputs = plugin.create({**INPUTS, "connectionId": UNKNOWN}, preview=True)
    assert outputs["connectionId"] == UNKNOWN
    assert emulator.count() == 0


def test_a_secret_id_is_not_the_resource_id(
    plugin: ProviderProcess, record: dict[str, Any]
) -> None:
    resource_id, outputs = plugin.create({**INPUTS, "connectionId": secret(CONNECTION_ID)})
    assert resource_id.startswith(SECRET_ID_PREFIX)
    assert CONNECTION_ID not in resource_id
    assert outputs["connectionId"] == secret(CONNECTION_ID)
    assert outputs["gatewayId"] == record["gatewayId"]


def test_diff_compares_the_inputs(plugin: ProviderProcess, emulator: Any) -> None:
    state = {**INPUTS, "found": True, "gatewayId": "d5dx", "lastActiveAt": "x"}
    assert not plugin.diff(state, INPUTS).diffs
    moved = plugin.diff(state, {**INPUTS, "connectionId": "another"})
    assert (list(moved.diffs), list(moved.replaces)) == (["connectionId"], ["connectionId"])
    flag = plugin.diff(state, {**INPUTS, "ignoreActivity": True})
    assert (list(flag.diffs), list(flag.replaces)) == (["ignoreActivity"], [])
    assert emulator.count() == 0


def test_refresh_then_diff_reports_what_moved(
    plugin: ProviderProcess, emulator: Any, record: dict[str, Any]
) -> None:
    _, state = plugin.create(INPUTS)
    emulator.backend.update_connection(CONNECTION_ID, last_active_at="2030-01-01T00:00:00Z")
    resource_id, outputs, inputs = plugin.read(CONNECTION_ID, state, INPUTS)
    assert (resource_id, inputs) == (CONNECTION_ID, INPUTS)
    assert outputs["lastActiveAt"] == "2030-01-01T00:00:00Z"
    # The engine's refresh diff: the refreshed state against the old inputs.
    assert list(plugin.diff(outputs, INPUTS).diffs) == ["lastActiveAt"]
    # Only after a refresh's read: an up's diff compares the inputs alone.
    assert list(plugin.diff(outputs, INPUTS).diffs) == []


def test_refresh_of_a_closed_connection(
    plugin: ProviderProcess, emulator: Any, record: dict[str, Any]
) -> None:
    _, state = plugin.create(INPUTS)
    emulator.backend.close_connection(CONNECTION_ID)
    assert plugin.read(CONNECTION_ID, state, INPUTS)[0] == ""
    kept = {**INPUTS, "allowMissing": True}
    resource_id, outputs, _ = plugin.read(CONNECTION_ID, {**state, **kept}, kept)
    assert (resource_id, outputs["found"], outputs["gatewayId"]) == (CONNECTION_ID, False, "")


def test_import_reads_by_id(plugin: ProviderProcess, record: dict[str, Any]) -> None:
    resource_id, outputs, inputs = plugin.read(CONNECTION_ID)
    assert (resource_id, inputs) == (CONNECTION_ID, INPUTS)
    assert outputs == {**INPUTS, **looked_up(record)}


def test_invoke(plugin: ProviderProcess, emulator: Any, record: dict[str, Any]) -> None:
    result, failures = plugin.invoke(FUNCTION_TOKEN, {"connectionId": CONNECTION_ID})
    assert failures == []
    assert result == {"connectionId": CONNECTION_ID, **looked_up(record)}
    emulator.backend.close_connection(CONNECTION_ID)
    result, _ = plugin.invoke(FUNCTION_TOKEN, {"connectionId": CONNECTION_ID, "allowMissing": True})
    assert result["found"] is False
    _, failures = plugin.invoke(FUNCTION_TOKEN, {"connectionId": CONNECTION_ID})
    [(prop, reason)] = failures
    assert prop == "connectionId"
    assert "set allowMissing to read it as found: false" in reason


def errors_of(call: Any) -> str:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    details: str = caught.value.details()
    return details


def test_errors_are_one_line_without_traceback(
    plugin: ProviderProcess, emulator: Any, record: dict[str, Any]
) -> None:
    viewer = emulator.backend.add_iam_token("t1.viewerOnly.c2lnbmF0dXJl", roles=["viewer"])
    plugin.configure({"token": viewer})
    denied = errors_of(lambda: plugin.create(INPUTS))
    assert denied.startswith(f"the lookup of connection '{CONNECTION_ID}' failed: ")
    assert "api-gateway.websocketWriter" in denied
    assert viewer not in denied
    unexpected = errors_of(lambda: plugin.create({"allowMissing": False}))
    assert unexpected == (
        "pulumi-resource-yc-websocket failed unexpectedly: KeyError('connectionId')"
    )
    unknown = errors_of(lambda: plugin.invoke("yc-websocket:index:nothing", {}))
    assert unknown.startswith("yc-websocket:index:nothing is not a function of this provider")
    for message in (denied, unexpected, unknown):
        assert "\n" not in message
        assert "Traceback" not in message
    assert "Traceback" not in plugin.stderr()


def test_lookups_run_at_once_with_one_token_exchange(emulator: Any, record: dict[str, Any]) -> None:
    # The engine runs up to --parallel steps at once. Each answer comes 1 s after its request:
    # looked up one at a time, the 16th request would arrive 15 s after the first.
    oauth = "y0_AgAAAAPluginConcurrencyOAuthToken00"
    emulator.backend.add_oauth_token(oauth, roles=["api-gateway.websocketWriter"])
    answer_after_s = 1.0
    emulator.faults.set_default("connections", Delay(answer_after_s))
    env = {**emulator.env, "YC_TOKEN": oauth, "PATH": "/usr/bin:/bin"}
    with ProviderProcess(env, command=plugin_command(), urn=PLUGIN_URN) as plugin:
        plugin.configure({})
        with ThreadPoolExecutor(16) as steps:
            created = list(steps.map(lambda _: plugin.create(INPUTS), range(16)))
    assert {resource_id for resource_id, _ in created} == {CONNECTION_ID}
    received = [request.received_at for request in emulator.requests("connections")]
    assert len(received) == 16
    assert max(received) - min(received) < answer_after_s
    assert emulator.count("iam") == 1
