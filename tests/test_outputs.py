"""One source for the Connection's fields: the model. The resource's outputs, the functions'
results, the identity output type and the names in state all follow it."""

from __future__ import annotations

import inspect

from pulumi_yc_websocket import (
    Connection,
    GetWebSocketConnectionResult,
    Identity,
    WebSocketConnection,
    WebSocketConnectionIdentity,
)
from pulumi_yc_websocket._outputs import (
    IDENTITY_FIELDS,
    LOOKED_UP_FIELDS,
    python_name,
    wire_name,
)

EVERY_LOOKUP = {"connection_id", "found"}
"""What every lookup has besides the Connection's own fields (the id under its input's name)."""


def properties(cls: type) -> set[str]:
    return {name for name, value in inspect.getmembers(cls) if isinstance(value, property)}


def looked_up() -> set[str]:
    return {name for name in Connection.model_fields if name != "id"}


def test_state_names_are_the_models_wire_names() -> None:
    assert {python_name(name) for name in LOOKED_UP_FIELDS} == looked_up()
    assert {python_name(name) for name in IDENTITY_FIELDS} == set(Identity.model_fields)
    assert all(wire_name(python_name(name)) == name for name in LOOKED_UP_FIELDS)


def test_a_name_already_in_state_form_is_kept() -> None:
    # Pulumi 3.216 translates nested input keys too: sourceIp must not become sourceip.
    names = (*LOOKED_UP_FIELDS, *IDENTITY_FIELDS, "connectionId", "found")
    assert [wire_name(name) for name in names] == list(names)


OPTIONS = {"allow_missing", "ignore_activity"}
"""The resource's options, recorded as outputs too."""
INHERITED = {"urn", "id", "pulumi_resource_name", "pulumi_resource_type"}


def test_resource_outputs_are_the_models_fields() -> None:
    outputs = properties(WebSocketConnection) - OPTIONS - INHERITED
    assert outputs == looked_up() | EVERY_LOOKUP


def test_every_output_is_documented() -> None:
    for name in properties(WebSocketConnection) - INHERITED:
        assert inspect.getdoc(getattr(WebSocketConnection, name)), name


def test_function_results_are_the_models_fields() -> None:
    assert properties(GetWebSocketConnectionResult) == looked_up() | EVERY_LOOKUP


def test_the_identity_output_type_is_the_models_identity() -> None:
    assert properties(WebSocketConnectionIdentity) == set(Identity.model_fields)
