"""ProviderServer: the real dynamic-provider server driven over gRPC as the engine does."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

import grpc  # type: ignore[import-untyped,unused-ignore]
import pytest
import sample_provider
from pulumi.dynamic.dynamic import serialize_provider

from pulumi_yc_websocket.testing import (
    CheckFailure,
    DiffChanges,
    EngineError,
    ProviderError,
    ProviderServer,
    Secret,
    Unknown,
)

if TYPE_CHECKING:
    from pathlib import Path

TYPE = "pulumi-python:dynamic/sample:Sample"


def urn(name: str) -> str:
    return f"urn:pulumi:dev::test::{TYPE}::{name}"


def provider(tag: str = "") -> Secret:
    """The ``__provider`` input a program would send (a secret by default)."""
    return Secret(serialize_provider(sample_provider.SampleProvider(tag)))


def news(name: Any, **extra: Any) -> dict[str, Any]:
    return {"__provider": provider(), "name": name, "size": 1, **extra}


@pytest.fixture(autouse=True)
def _configured(server: ProviderServer) -> None:
    server.configure({})


def test_start_reports_port_and_protocol(server: ProviderServer) -> None:
    assert server.running
    assert server.stdout.splitlines()[0] == str(server.port)
    # The Python server answers Configure with acceptSecrets=false and no preview support.
    assert not server.protocol.accept_secrets
    assert not server.protocol.supports_preview


def test_configure_passes_whole_config_with_secrets_decrypted(server: ProviderServer) -> None:
    tag = uuid.uuid4().hex  # a new pickle: the server deserializes and configures it again
    server.configure(
        {"yandex:token": "t1.secret", "yandex:endpoint": "http://127.0.0.1:1", "test:flag": "on"},
        secret_keys={"yandex:token"},
    )
    server.check(urn("cfg"), {}, {"__provider": provider(tag), "name": "cfg"})
    [record] = [c for c in sample_provider.calls("configure") if c["tag"] == tag]
    marker = f"sample provider {tag!r} configured"
    deadline = time.monotonic() + 5
    while marker not in server.stderr and time.monotonic() < deadline:
        time.sleep(0.01)
    assert marker in server.stderr  # the process's stderr is captured
    assert record == {
        "op": "configure",
        "tag": tag,
        "token": "t1.secret",
        "endpoint": "http://127.0.0.1:1",
        "flag": "on",  # unqualified keys use the project namespace (PULUMI_PROJECT)
    }


def test_check_returns_checked_inputs(server: ProviderServer) -> None:
    result = server.check(urn("c1"), {}, news("c1"))
    assert result.failures == []
    assert result.inputs["derived"] == "C1"
    assert result.inputs["size"] == 1
    assert isinstance(result.inputs["__provider"], Secret)  # secretness copied back


def test_unknown_input_reaches_check_as_unknown(server: ProviderServer) -> None:
    result = server.check(urn("c2"), {}, news(Unknown), allow_unknowns=True)
    assert result.inputs["name"] is Unknown
    assert "derived" not in result.inputs
    assert {"op": "check", "news": {"name": "<unknown>", "size": 1.0}} in sample_provider.calls()


def test_check_failures_are_returned(server: ProviderServer) -> None:
    result = server.check(urn("c3"), {}, news("c3", fail=True))
    assert result.failures == [CheckFailure("size", "size must be positive")]


def test_provider_exception_is_a_provider_error(server: ProviderServer) -> None:
    with pytest.raises(ProviderError) as info:
        server.check(urn("c4"), {}, news("c4", explode="check"))
    assert info.value.method == "Check"
    assert info.value.code is grpc.StatusCode.UNKNOWN
    assert "Traceback" in info.value.details
    assert "RuntimeError: boom in check" in info.value.details


def test_secret_news_are_not_sent_but_secretness_comes_back(server: ProviderServer) -> None:
    result = server.check(urn("c5"), {}, news(Secret("c5")))
    assert result.inputs["name"] == Secret("c5")
    # The provider saw the plain value (acceptSecrets=false): it could derive from it...
    assert result.inputs["derived"] == "C5"
    # ...and nothing marks the derived value secret.
    assert [c for c in sample_provider.calls("check") if c["news"].get("name") == "c5"]


def test_check_can_return_a_secret_on_the_wire(server: ProviderServer) -> None:
    result = server.check(urn("c6"), {}, news("c6", lookup="secret"))
    assert result.inputs["looked_up_ip"] == Secret(sample_provider.LOOKED_UP_IP)
    plain = server.check(urn("c7"), {}, news("c7", lookup="plain"))
    assert plain.inputs["looked_up_ip"] == sample_provider.LOOKED_UP_IP


def test_crud_cycle(server: ProviderServer) -> None:
    inputs = server.check(urn("crud"), {}, news("crud")).inputs
    created = server.create(urn("crud"), inputs)
    assert created.id.startswith("crud-")
    assert created.outputs["remote_id"] == created.id
    assert created.id in sample_provider.backend()

    same = server.diff(created.id, urn("crud"), created.outputs, inputs, old_inputs=inputs)
    assert same.changes is DiffChanges.NONE

    bigger = server.check(urn("crud"), inputs, news("crud", size=2)).inputs
    diff = server.diff(created.id, urn("crud"), created.outputs, bigger, old_inputs=inputs)
    assert diff.changes is DiffChanges.SOME
    assert not diff.replace
    updated = server.update(created.id, urn("crud"), created.outputs, bigger, old_inputs=inputs)
    assert updated["size"] == 2

    renamed = server.check(urn("crud"), inputs, news("crud2")).inputs
    replace = server.diff(created.id, urn("crud"), updated, renamed, old_inputs=bigger)
    assert replace.replace
    assert replace.replaces == ["name"]

    read = server.read(created.id, urn("crud"), updated, bigger)
    assert read.id == created.id
    assert read.outputs["size"] == 2
    assert read.inputs is None

    server.delete(created.id, urn("crud"), updated, old_inputs=bigger)
    assert created.id not in sample_provider.backend()
    gone = server.read(created.id, urn("crud"), updated, bigger)
    assert gone.id == ""


def test_preview_create_and_update_do_not_reach_the_provider(server: ProviderServer) -> None:
    inputs = server.check(urn("pv"), {}, news("pv"), allow_unknowns=True).inputs
    planned = server.create(urn("pv"), inputs, preview=True)
    assert planned == ("", inputs)
    assert server.update("id", urn("pv"), {}, inputs, preview=True) == inputs
    assert not [
        c
        for c in sample_provider.calls()
        if c["op"] in ("create", "update") and c.get("name") == "pv"
    ]


def test_create_errors_carry_the_traceback(server: ProviderServer) -> None:
    inputs = server.check(urn("boom"), {}, news("boom", explode="create")).inputs
    with pytest.raises(ProviderError, match="create exploded") as info:
        server.create(urn("boom"), inputs)
    assert info.value.method == "Create"


def test_stop_and_restart(provider_dir: Path) -> None:
    srv = ProviderServer(
        env={"SAMPLE_PROVIDER_DIR": str(provider_dir)}, python_path=[str(provider_dir)]
    )
    with pytest.raises(EngineError, match="not running"):
        srv.check(urn("x"), {}, {})
    with srv:
        srv.restart()
        assert srv.running
        srv.configure({})
    assert not srv.running


def test_a_provider_that_cannot_be_imported_fails_in_check(provider_dir: Path) -> None:
    # Without the sample module on PYTHONPATH, unpickling the provider fails in the server.
    with ProviderServer(
        env={"SAMPLE_PROVIDER_DIR": str(provider_dir)}, cwd=str(provider_dir)
    ) as srv:
        srv.configure({})
        with pytest.raises(ProviderError, match="sample_provider"):
            srv.check(urn("imp"), {}, news("imp"))
