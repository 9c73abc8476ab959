"""Programs under set_mocks, with the engine's step logic applied through the real server."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pulumi
import pytest
import sample_provider
from sample_provider import LOOKED_UP_IP, Plain, Sample

from pulumi_yc_websocket.testing import (
    CheckFailedError,
    EngineError,
    ProviderError,
    Secret,
    Unknown,
    destroy,
    preview,
    refresh,
    up,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from pulumi_yc_websocket.testing import ProviderServer, StackState

EXPORTS = ("name", "size", "derived", "remote_id", "looked_up_ip")


def one(
    resource: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None, **kwargs: Any
) -> Callable[[], None]:
    """A program with one sample resource whose outputs are exported."""

    def program() -> None:
        res = Sample(resource, props, opts, **kwargs)
        for key in EXPORTS:
            if hasattr(res, key):
                pulumi.export(key, getattr(res, key))

    return program


def calls(op: str, name: str) -> list[dict[str, Any]]:
    return [c for c in sample_provider.calls(op) if c.get("name") == name]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def test_preview_plans_the_checked_inputs_without_create(
    server: ProviderServer, state: StackState
) -> None:
    name = unique("pv")
    out = preview(one("pv", {"name": name, "size": 1}), server=server, state=state)
    assert out["name"] == name
    assert out["derived"] == name.upper()  # computed by check(), visible in preview
    assert out["remote_id"] is Unknown  # only create() sets it
    assert out.ops("pv") == ["create"]
    assert calls("create", name) == []
    assert len(state) == 0


def test_unknown_input_reaches_check_as_unknown(server: ProviderServer, state: StackState) -> None:
    name = unique("ua")

    def program() -> None:
        a = Sample("ua", {"name": name})
        b = Sample("ub", {"name": a.remote_id, "size": 2})
        pulumi.export("b_derived", b.derived)
        pulumi.export("b_size", b.size)

    out = preview(program, server=server, state=state)
    assert out["b_derived"] is Unknown
    assert out["b_size"] == 2
    assert {"op": "check", "news": {"name": "<unknown>", "size": 2.0}} in sample_provider.calls()


def test_up_creates_and_a_second_up_is_a_no_op(server: ProviderServer, state: StackState) -> None:
    name = unique("up")
    program = one("up", {"name": name, "size": 1})
    out = up(program, server=server, state=state)
    res = state.find("up")
    assert out.ops("up") == ["create"]
    assert out["remote_id"] == res.id
    assert res.outputs["derived"] == name.upper()
    assert res.inputs["derived"] == name.upper()
    assert res.id in sample_provider.backend()
    assert res.provider == state.provider_reference
    assert res.urn == f"urn:pulumi:dev::test::{res.type}::up"

    again = up(program, server=server, state=state)
    assert again.ops("up") == ["same"]
    assert dict(again) == dict(out)
    assert len(calls("create", name)) == 1
    assert calls("update", name) == []


def test_changed_input_updates_in_place(server: ProviderServer, state: StackState) -> None:
    name = unique("upd")
    up(one("upd", {"name": name, "size": 1}), server=server, state=state)
    first_id = state.find("upd").id
    planned = preview(one("upd", {"name": name, "size": 5}), server=server, state=state)
    assert planned.ops("upd") == ["update"]
    assert planned["size"] == 5
    assert calls("update", name) == []

    out = up(one("upd", {"name": name, "size": 5}), server=server, state=state)
    assert out.ops("upd") == ["update"]
    assert out["size"] == 5
    assert state.find("upd").id == first_id
    assert calls("update", name) == [
        {"op": "update", "id": first_id, "name": name, "old_size": 1.0, "size": 5.0}
    ]


def test_key_change_replaces_create_before_delete(
    server: ProviderServer, state: StackState
) -> None:
    old_name, new_name = unique("rep"), unique("rep")
    up(one("rep", {"name": old_name}), server=server, state=state)
    old_id = state.find("rep").id

    out = up(one("rep", {"name": new_name}), server=server, state=state)
    new_id = state.find("rep").id
    assert out.ops("rep") == ["replace", "delete-replaced"]
    assert new_id != old_id
    assert old_id not in sample_provider.backend()
    ops = [
        (c["op"], c.get("id") or c.get("name"))
        for c in sample_provider.calls()
        if c["op"] in ("create", "delete") and (c.get("name") == new_name or c.get("id") == old_id)
    ]
    assert ops == [("create", new_name), ("delete", old_id)]


@pytest.mark.parametrize("how", ["option", "provider"])
def test_delete_before_replace(server: ProviderServer, state: StackState, how: str) -> None:
    old_name, new_name = unique("dbr"), unique("dbr")
    props: dict[str, Any] = {"dbr": how == "provider"}
    opts = pulumi.ResourceOptions(delete_before_replace=True) if how == "option" else None
    up(one("dbr", {"name": old_name, **props}, opts), server=server, state=state)
    old_id = state.find("dbr").id

    out = up(one("dbr", {"name": new_name, **props}, opts), server=server, state=state)
    assert out.ops("dbr") == ["replace"]
    ops = [
        c["op"]
        for c in sample_provider.calls()
        if (c["op"] == "create" and c["name"] == new_name)
        or (c["op"] == "delete" and c["id"] == old_id)
    ]
    assert ops == ["delete", "create"]


def test_default_diff_compares_all_inputs_and_default_update_drops_outputs(
    server: ProviderServer, state: StackState
) -> None:
    def program(value: int, tag: str = "", **opts: Any) -> Callable[[], None]:
        def run() -> None:
            res = Plain("plain", {"v": value}, pulumi.ResourceOptions(**opts), tag=tag)
            pulumi.export("v", res.v)  # type: ignore[attr-defined]

        return run

    assert up(program(1), server=server, state=state).ops("plain") == ["create"]
    assert state.find("plain").outputs["v"] == 1
    assert up(program(1), server=server, state=state).ops("plain") == ["same"]
    # DIFF_UNKNOWN: the engine compares the inputs itself, `__provider` bytes included.
    assert up(program(1, tag="t"), server=server, state=state).ops("plain") == ["update"]
    out = up(program(2, tag="t"), server=server, state=state)
    assert out.ops("plain") == ["update"]
    assert out["v"] == 2  # the SDK falls back to the input value...
    assert set(state.find("plain").outputs) == {"__provider"}  # ...the state lost the outputs
    replaced = up(program(3, tag="t", replace_on_changes=["v"]), server=server, state=state)
    assert replaced.ops("plain") == ["replace", "delete-replaced"]


def test_ignore_changes_keeps_the_old_value(server: ProviderServer, state: StackState) -> None:
    name = unique("ign")
    up(one("ign", {"name": name, "size": 1}), server=server, state=state)
    opts = pulumi.ResourceOptions(ignore_changes=["size"])
    out = up(one("ign", {"name": name, "size": 9}, opts), server=server, state=state)
    assert out.ops("ign") == ["same"]
    assert state.find("ign").inputs["size"] == 1


def test_resource_removed_from_program_is_deleted(
    server: ProviderServer, state: StackState
) -> None:
    keep, drop = unique("keep"), unique("drop")

    def both() -> None:
        Sample("keep", {"name": keep})
        Sample("drop", {"name": drop})

    up(both, server=server, state=state)
    dropped_id = state.find("drop").id
    out = up(lambda: Sample("keep", {"name": keep}) and None, server=server, state=state)
    assert out.ops("drop") == ["delete"]
    assert out.ops("keep") == ["same"]
    assert [c["id"] for c in sample_provider.calls("delete")].count(dropped_id) == 1
    assert [r.name for r in state] == ["keep"]


def test_refresh_drops_a_resource_whose_read_returns_an_empty_id(
    server: ProviderServer, state: StackState
) -> None:
    kept, gone = unique("kept"), unique("gone")

    def both() -> None:
        Sample("kept", {"name": kept})
        Sample("gone", {"name": gone})

    up(both, server=server, state=state)
    sample_provider.forget(state.find("gone").id)

    # The two registrations race: state order is completion order, as in the engine.
    planned = refresh(server=server, state=state, preview=True)
    assert sorted((s.op, s.name) for s in planned) == [("discard", "gone"), ("refresh", "kept")]
    assert len(state) == 2

    steps = refresh(server=server, state=state)
    assert sorted((s.op, s.name, s.detail) for s in steps) == [
        ("discard", "gone", ""),
        ("refresh", "kept", "same"),
    ]
    assert [r.name for r in state] == ["kept"]


def test_destroy_calls_delete_for_every_resource(server: ProviderServer, state: StackState) -> None:
    first, second = unique("d1"), unique("d2")

    def both() -> None:
        Sample("d1", {"name": first})
        Sample("d2", {"name": second})

    up(both, server=server, state=state)
    registered = state.resources  # registration order (the two register concurrently)
    ids = [r.id for r in registered]
    steps = destroy(server=server, state=state)
    assert [(s.op, s.name) for s in steps] == [("delete", r.name) for r in reversed(registered)]
    deleted = [c["id"] for c in sample_provider.calls("delete")]
    assert deleted[-2:] == ids[::-1]
    assert len(state) == 0
    assert not set(ids) & set(sample_provider.backend())


def test_configure_receives_the_stack_config(server: ProviderServer, state: StackState) -> None:
    tag = uuid.uuid4().hex  # a new pickle: configure() runs for it in this process

    def program() -> None:
        Sample("cfg", {"name": unique("cfg")}, tag=tag)
        pulumi.export("token", pulumi.Config("yandex").require_secret("token"))
        pulumi.export("flag", pulumi.Config().get("flag"))

    out = up(
        program,
        server=server,
        state=state,
        stack_config={"yandex:token": "t1.abc.def", "test:flag": "on"},
        secret_config_keys={"yandex:token"},
    )
    assert out["token"] == Secret("t1.abc.def")
    assert out["flag"] == "on"
    [record] = [c for c in sample_provider.calls("configure") if c["tag"] == tag]
    assert record["token"] == "t1.abc.def"
    assert record["flag"] == "on"
    assert "t1.abc.def" not in state.to_json()  # the provider's config is stored encrypted


def test_provider_exception_surfaces_as_provider_error(
    server: ProviderServer, state: StackState
) -> None:
    with pytest.raises(ProviderError, match="create exploded") as info:
        up(one("err", {"name": unique("err"), "explode": "create"}), server=server, state=state)
    assert info.value.method == "Create"
    assert "Traceback" in info.value.details
    assert "err" not in [r.name for r in state]


def test_check_failures_surface_as_check_failed_error(
    server: ProviderServer, state: StackState
) -> None:
    with pytest.raises(CheckFailedError, match="size must be positive") as info:
        preview(one("bad", {"name": unique("bad"), "fail": True}), server=server, state=state)
    assert [f.property for f in info.value.failures] == ["size"]


def test_read_with_opts_id(server: ProviderServer, state: StackState) -> None:
    name = unique("src")
    up(one("src", {"name": name, "size": 3}), server=server, state=state)
    remote_id = state.find("src").id

    def reader() -> None:
        got = Sample("got", {"name": "ignored", "size": None}, pulumi.ResourceOptions(id=remote_id))
        pulumi.export("size", got.size)
        pulumi.export("id", got.id)

    planned = preview(reader, server=server, state=state)
    assert planned["size"] == 3  # Read runs in previews too
    out = up(reader, server=server, state=state)
    assert out == {"size": 3, "id": remote_id}
    assert out.ops("got") == ["read"]
    assert state.find("got").external
    assert out.ops("src") == ["delete"]  # no longer in the program
    destroy(server=server, state=state)
    assert calls("delete", "ignored") == []  # read resources are never deleted


def test_read_of_a_missing_id_fails(server: ProviderServer, state: StackState) -> None:
    program = one("missing", {"name": "x"}, pulumi.ResourceOptions(id="no-such-id"))
    with pytest.raises(EngineError, match="resource 'no-such-id' does not exist"):
        up(program, server=server, state=state)


def test_other_resources_get_plain_mock_behaviour(
    server: ProviderServer, state: StackState
) -> None:
    def program() -> None:
        thing = pulumi.CustomResource("test:index:Thing", "thing", {"a": 1, "b": None})
        pulumi.export("id", thing.id)
        pulumi.export("urn", thing.urn)
        pulumi.export("invoked", pulumi.runtime.invoke("test:index:getThing", {}).value)

    out = up(program, server=server, state=state)
    assert out == {
        "id": "thing_id",
        "urn": "urn:pulumi:dev::test::test:index:Thing::thing",
        "invoked": {},
    }
    assert state.find("thing").outputs == {"a": 1}


# ----------------------------------------------------------------------------------- secrets


def test_secret_returned_by_check_is_secret_in_inputs_and_outputs(
    server: ProviderServer, state: StackState
) -> None:
    program = one("sec", {"name": unique("sec"), "lookup": "secret"})
    planned = preview(program, server=server, state=state)
    assert planned["looked_up_ip"] == Secret(LOOKED_UP_IP)

    out = up(program, server=server, state=state)
    res = state.find("sec")
    assert out["looked_up_ip"] == Secret(LOOKED_UP_IP)
    assert res.inputs["looked_up_ip"] == Secret(LOOKED_UP_IP)
    assert res.outputs["looked_up_ip"] == Secret(LOOKED_UP_IP)
    assert isinstance(res.inputs["__provider"], Secret)
    assert LOOKED_UP_IP not in state.to_json()
    # The provider itself never receives secrets (acceptSecrets=false): plain value in create.
    [created] = calls("create", res.inputs["name"])
    assert created["received_ip"] == LOOKED_UP_IP

    assert up(program, server=server, state=state).ops("sec") == ["same"]


def test_additional_secret_outputs_leave_checked_inputs_in_plain_text(
    server: ProviderServer, state: StackState
) -> None:
    opts = pulumi.ResourceOptions(additional_secret_outputs=["looked_up_ip"])
    out = up(
        one("aso", {"name": unique("aso"), "lookup": "plain"}, opts), server=server, state=state
    )
    res = state.find("aso")
    assert out["looked_up_ip"] == Secret(LOOKED_UP_IP)
    assert res.outputs["looked_up_ip"] == Secret(LOOKED_UP_IP)
    assert res.inputs["looked_up_ip"] == LOOKED_UP_IP  # what the real engine stores
    assert LOOKED_UP_IP in state.to_json()


def test_secret_input_makes_only_the_same_key_secret(
    server: ProviderServer, state: StackState
) -> None:
    name = unique("sin")

    def program() -> None:  # Outputs must be created while the program runs
        Sample("sin", {"name": pulumi.Output.secret(name)})

    up(program, server=server, state=state)
    res = state.find("sin")
    assert res.inputs["name"] == Secret(name)
    assert res.outputs["name"] == Secret(name)
    assert res.inputs["derived"] == name.upper()  # derived in check from the secret: plain
    assert res.outputs["derived"] == name.upper()
    assert name.upper() in state.to_json()
