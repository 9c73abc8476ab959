"""The plugin's package schema is derived from the model, the state's names and the settings
table: every field, config key and option is there, each with a description."""

from __future__ import annotations

from typing import Any

from pydantic.alias_generators import to_camel

from pulumi_yc_websocket import Connection, Identity, __version__
from pulumi_yc_websocket._pulumi_config import PROVIDER_CONFIG, SECRET_CONFIG
from pulumi_yc_websocket._schema import FUNCTION_TOKEN, IDENTITY_TOKEN, RESOURCE_TOKEN, schema

SPEC = schema()
RESOURCE = SPEC["resources"][RESOURCE_TOKEN]
FUNCTION = SPEC["functions"][FUNCTION_TOKEN]
LOOKED_UP = [to_camel(name) for name in Connection.model_fields if name != "id"]


def described(properties: dict[str, Any]) -> dict[str, str]:
    return {name: spec.get("description", "") for name, spec in properties.items()}


def test_every_field_of_the_model_is_an_output_with_its_description() -> None:
    for properties in (RESOURCE["properties"], FUNCTION["outputs"]["properties"]):
        assert set(properties) == {"connectionId", "found", *LOOKED_UP} | (
            {"allowMissing", "ignoreActivity"} if properties is RESOURCE["properties"] else set()
        )
        for name in LOOKED_UP:
            field = Connection.model_fields[
                next(f for f in Connection.model_fields if to_camel(f) == name)
            ]
            assert properties[name]["description"].startswith(field.description or "?")
    identity = SPEC["types"][IDENTITY_TOKEN]["properties"]
    assert set(identity) == {to_camel(name) for name in Identity.model_fields}
    assert RESOURCE["properties"]["identity"]["$ref"] == f"#/types/{IDENTITY_TOKEN}"


def test_every_output_is_always_set() -> None:
    assert sorted(RESOURCE["required"]) == sorted(RESOURCE["properties"])
    assert sorted(FUNCTION["outputs"]["required"]) == sorted(FUNCTION["outputs"]["properties"])


def test_inputs_and_defaults() -> None:
    assert set(RESOURCE["inputProperties"]) == {"connectionId", "allowMissing", "ignoreActivity"}
    assert RESOURCE["requiredInputs"] == ["connectionId"]
    assert set(FUNCTION["inputs"]["properties"]) == {"connectionId", "allowMissing"}
    assert RESOURCE["inputProperties"]["allowMissing"]["default"] is False


def test_config_is_the_settings_table() -> None:
    variables = SPEC["config"]["variables"]
    assert set(variables) == set(PROVIDER_CONFIG)
    assert {name for name, spec in variables.items() if spec.get("secret")} == SECRET_CONFIG
    assert SPEC["provider"]["inputProperties"] == variables
    assert "YC_TOKEN" in variables["token"]["description"]


def test_everything_is_described_and_versioned() -> None:
    assert SPEC["version"] == __version__
    for properties in (
        SPEC["config"]["variables"],
        RESOURCE["inputProperties"],
        RESOURCE["properties"],
        FUNCTION["inputs"]["properties"],
        FUNCTION["outputs"]["properties"],
        SPEC["types"][IDENTITY_TOKEN]["properties"],
    ):
        assert all(described(properties).values()), properties
    assert RESOURCE["description"]
    assert FUNCTION["description"]
