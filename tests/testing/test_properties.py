"""Wire format of property values: sentinels, secrets, and the engine's secret helpers."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf import json_format  # type: ignore[import-untyped,unused-ignore]
from pulumi.runtime import rpc

from pulumi_yc_websocket.testing import (
    ResourceReference,
    Secret,
    Unknown,
    annotate_secrets,
    from_struct,
    mark_secret_outputs,
    strip_secrets,
    to_struct,
)
from pulumi_yc_websocket.testing.properties import (
    RESOURCE_SIG,
    SECRET_SIG,
    SIG_KEY,
    UNKNOWN_SENTINEL,
    from_sdk_value,
    plain_number,
)


def as_json(props: dict[str, Any], **flags: bool) -> dict[str, Any]:
    wire: dict[str, Any] = json_format.MessageToDict(to_struct(props, **flags))
    return wire


def test_constants_match_the_sdk() -> None:
    assert UNKNOWN_SENTINEL == rpc.UNKNOWN
    assert rpc._special_sig_key == SIG_KEY
    assert rpc._special_secret_sig == SECRET_SIG
    assert rpc._special_resource_sig == RESOURCE_SIG


def test_secret_and_unknown_wire_shapes() -> None:
    wire = as_json({"s": Secret("x"), "u": Unknown, "n": [1, Secret({"a": True})], "z": None})
    assert wire == {
        "s": {SIG_KEY: SECRET_SIG, "value": "x"},
        "u": UNKNOWN_SENTINEL,
        "n": [1.0, {SIG_KEY: SECRET_SIG, "value": {"a": True}}],
        "z": None,
    }


def test_round_trip_keeps_markers() -> None:
    props = {"s": Secret("x"), "u": Unknown, "nested": {"k": [Secret(2.0), "v"]}, "b": False}
    assert from_struct(to_struct(props)) == props


def test_engine_flags_strip_secrets_and_drop_unknowns() -> None:
    props = {"s": Secret({"a": Secret("b")}), "u": Unknown, "keep": 1}
    assert as_json(props, keep_secrets=False, keep_unknowns=False) == {
        "s": {"a": "b"},
        "keep": 1.0,
    }


def test_resource_reference_downgrades_to_id_or_urn() -> None:
    ref = ResourceReference("urn:pulumi:dev::test::t::r", "id-1")
    comp = ResourceReference("urn:pulumi:dev::test::c::r")
    assert as_json({"r": ref, "c": comp}, keep_resources=False) == {
        "r": "id-1",
        "c": "urn:pulumi:dev::test::c::r",
    }
    assert from_struct(to_struct({"r": ref})) == {"r": ref}


def test_sdk_deserialized_values_become_markers() -> None:
    sdk = rpc.deserialize_properties(to_struct({"s": Secret("x"), "u": Unknown}), True)
    assert from_sdk_value(sdk) == {"s": Secret("x"), "u": Unknown}


def test_marshalling_rejects_unknown_types() -> None:
    with pytest.raises(TypeError, match="bytes"):
        to_struct({"b": b"raw"})


def test_annotate_secrets_like_the_engine() -> None:
    outs: dict[str, Any] = {
        "plain": "a",
        "copied": "b",
        "obj": {"inner": "c", "other": "d"},
        "whole": {"x": 1},
        "only_out": "e",
    }
    ins = {
        "plain": "a",
        "copied": Secret("b"),
        "obj": {"inner": Secret("c")},
        "whole": Secret({"x": 1}),
    }
    annotate_secrets(outs, ins)
    assert outs == {
        "plain": "a",
        "copied": Secret("b"),
        "obj": {"inner": Secret("c"), "other": "d"},
        "whole": Secret({"x": 1}),
        "only_out": "e",
    }


def test_step_executor_secret_rules_touch_outputs_only() -> None:
    inputs = {"token": Secret("t"), "ip": "1.2.3.4"}
    outputs: dict[str, Any] = {"token": "t", "ip": "1.2.3.4", "id": "x"}
    mark_secret_outputs(outputs, inputs, ["ip", "id"])
    assert outputs == {"token": Secret("t"), "ip": Secret("1.2.3.4"), "id": "x"}
    assert inputs["ip"] == "1.2.3.4"


def test_strip_secrets_and_go_numbers() -> None:
    assert strip_secrets({"a": [Secret(1)], "b": Secret({"c": Secret("d")})}) == {
        "a": [1],
        "b": {"c": "d"},
    }
    assert plain_number(3.0) == 3
    assert isinstance(plain_number(3.0), int)
    assert plain_number(0.5) == 0.5
