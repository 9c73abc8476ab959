"""Property values as the Pulumi engine puts them on the wire, with explicit markers.

Resource properties travel between the engine and providers as a protobuf ``Struct``. Two
special cases have no JSON form of their own and are encoded with sentinels:

* an *unknown* value (not yet known during a preview) is the string :data:`UNKNOWN_SENTINEL`;
* a *secret* is an object ``{SIG_KEY: SECRET_SIG, "value": ...}``.

This module maps them to the marker types :data:`Unknown` and :class:`Secret` (and resource
references to :class:`ResourceReference`) so that tests can assert on them, and ports the engine
helpers that move secretness around (``annotateSecrets`` and friends).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from google.protobuf import struct_pb2  # type: ignore[import-untyped,unused-ignore]

__all__ = [
    "ARCHIVE_SIG",
    "ASSET_SIG",
    "OUTPUT_VALUE_SIG",
    "RESOURCE_SIG",
    "SECRET_SIG",
    "SIG_KEY",
    "UNKNOWN_SENTINEL",
    "ResourceReference",
    "Secret",
    "Unknown",
    "UnknownType",
    "annotate_secrets",
    "contains_secrets",
    "contains_unknowns",
    "from_sdk_value",
    "from_struct",
    "from_value",
    "mark_secret_outputs",
    "plain_number",
    "strip_secrets",
    "to_struct",
    "to_value",
]

UNKNOWN_SENTINEL: Final = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""The string the engine uses for a value that is not known yet (``pulumi.runtime.rpc.UNKNOWN``)."""
SIG_KEY: Final = "4dabf18193072939515e22adb298388d"
"""Key that marks a special object (secret, asset, archive, resource reference, output value)."""
SECRET_SIG: Final = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 - a type signature
ASSET_SIG: Final = "c44067f5952c0a294b673a41bacd8c17"
ARCHIVE_SIG: Final = "0def7320c3a5731c473e5ecbe6d01bc7"
RESOURCE_SIG: Final = "5cf8f73096256a8f31e491e813e4eb8e"
OUTPUT_VALUE_SIG: Final = "d0e6a833031e9bbcd3f4e8bde6ca49a4"


class UnknownType(enum.Enum):
    """Type of the :data:`Unknown` singleton."""

    UNKNOWN = UNKNOWN_SENTINEL

    def __repr__(self) -> str:
        return "Unknown"


Unknown: Final = UnknownType.UNKNOWN
"""A value that is not known yet (only during previews). Compare with ``is``."""


@dataclass(frozen=True)
class Secret:
    """A secret value: the engine encrypts it in the state file and masks it in the CLI."""

    value: Any

    def __repr__(self) -> str:
        return f"Secret({self.value!r})"


@dataclass(frozen=True)
class ResourceReference:
    """A reference to another resource (``{SIG_KEY: RESOURCE_SIG, "urn": ..., "id": ...}``)."""

    urn: str
    id: Any = None
    """The id for a custom resource (a string, or :data:`Unknown`); ``None`` for components."""
    package_version: str = ""


# ---------------------------------------------------------------------------------------------
# Python values -> wire
# ---------------------------------------------------------------------------------------------


class _Skip:
    """Returned by the marshaller for a value that must be left out (an unknown not kept)."""


_SKIP: Final = _Skip()


def to_struct(
    props: Mapping[str, Any],
    *,
    keep_secrets: bool = True,
    keep_unknowns: bool = True,
    keep_resources: bool = True,
) -> struct_pb2.Struct:
    """Marshal a property map into a ``Struct`` like the engine's ``MarshalProperties``.

    With ``keep_secrets=False`` secrets are sent as their plain value; with
    ``keep_unknowns=False`` unknown values are left out; with ``keep_resources=False`` resource
    references are sent as their id (custom resources) or URN (components).
    """
    struct = struct_pb2.Struct()
    for key, value in props.items():
        marshalled = _to_value(value, keep_secrets, keep_unknowns, keep_resources)
        if not isinstance(marshalled, _Skip):
            struct.fields[key].CopyFrom(marshalled)
    return struct


def to_value(
    value: Any,
    *,
    keep_secrets: bool = True,
    keep_unknowns: bool = True,
    keep_resources: bool = True,
) -> struct_pb2.Value:
    """Marshal one property value; an unknown that is not kept becomes ``null``."""
    marshalled = _to_value(value, keep_secrets, keep_unknowns, keep_resources)
    if isinstance(marshalled, _Skip):
        return struct_pb2.Value(null_value=struct_pb2.NULL_VALUE)
    return marshalled


def _to_value(
    value: Any, keep_secrets: bool, keep_unknowns: bool, keep_resources: bool
) -> struct_pb2.Value | _Skip:
    flags = (keep_secrets, keep_unknowns, keep_resources)
    if value is Unknown:
        return struct_pb2.Value(string_value=UNKNOWN_SENTINEL) if keep_unknowns else _SKIP
    if isinstance(value, Secret):
        if not keep_secrets:
            return _to_value(value.value, *flags)
        inner = _to_value(value.value, *flags)
        wrapped = struct_pb2.Struct()
        wrapped.fields[SIG_KEY].string_value = SECRET_SIG
        if not isinstance(inner, _Skip):
            wrapped.fields["value"].CopyFrom(inner)
        return struct_pb2.Value(struct_value=wrapped)
    if isinstance(value, ResourceReference):
        return _reference_to_value(value, *flags)
    if value is None:
        return struct_pb2.Value(null_value=struct_pb2.NULL_VALUE)
    if isinstance(value, bool):
        return struct_pb2.Value(bool_value=value)
    if isinstance(value, int | float):
        return struct_pb2.Value(number_value=float(value))
    if isinstance(value, str):
        return struct_pb2.Value(string_value=value)
    if isinstance(value, Mapping):
        return struct_pb2.Value(
            struct_value=to_struct(
                value,
                keep_secrets=keep_secrets,
                keep_unknowns=keep_unknowns,
                keep_resources=keep_resources,
            )
        )
    if isinstance(value, list | tuple):
        items = struct_pb2.ListValue()
        for item in value:
            items.values.add().CopyFrom(
                to_value(
                    item,
                    keep_secrets=keep_secrets,
                    keep_unknowns=keep_unknowns,
                    keep_resources=keep_resources,
                )
            )
        return struct_pb2.Value(list_value=items)
    raise TypeError(f"cannot marshal a value of type {type(value).__name__} as a property")


def _reference_to_value(
    ref: ResourceReference, keep_secrets: bool, keep_unknowns: bool, keep_resources: bool
) -> struct_pb2.Value | _Skip:
    if not keep_resources:
        # The engine downgrades references for providers that do not accept them.
        plain = ref.urn if ref.id is None else ref.id
        return _to_value(plain, keep_secrets, keep_unknowns, keep_resources)
    struct = struct_pb2.Struct()
    struct.fields[SIG_KEY].string_value = RESOURCE_SIG
    struct.fields["urn"].string_value = ref.urn
    if ref.id is not None:
        id_value = _to_value(ref.id, keep_secrets, True, keep_resources)
        if not isinstance(id_value, _Skip):
            struct.fields["id"].CopyFrom(id_value)
    if ref.package_version:
        struct.fields["packageVersion"].string_value = ref.package_version
    return struct_pb2.Value(struct_value=struct)


# ---------------------------------------------------------------------------------------------
# wire -> Python values
# ---------------------------------------------------------------------------------------------


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    """Unmarshal a property map, keeping secrets, unknowns and references as markers."""
    return {key: from_value(value) for key, value in struct.fields.items()}


def from_value(value: struct_pb2.Value) -> Any:
    """Unmarshal one property value (numbers come back as ``float``, as on the wire)."""
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return Unknown if value.string_value == UNKNOWN_SENTINEL else value.string_value
    if kind == "number_value":
        return value.number_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "list_value":
        return [from_value(item) for item in value.list_value.values]
    if kind == "struct_value":
        return _from_object(value.struct_value)
    return None


def _from_object(struct: struct_pb2.Struct) -> Any:
    fields = struct.fields
    if SIG_KEY not in fields:
        return from_struct(struct)
    sig = fields[SIG_KEY].string_value
    if sig == SECRET_SIG:
        return Secret(from_value(fields["value"]) if "value" in fields else None)
    if sig == RESOURCE_SIG:
        ref_id = from_value(fields["id"]) if "id" in fields else None
        if ref_id == "":
            ref_id = Unknown
        version = fields["packageVersion"].string_value if "packageVersion" in fields else ""
        return ResourceReference(fields["urn"].string_value, ref_id, version)
    if sig == OUTPUT_VALUE_SIG:
        inner = from_value(fields["value"]) if "value" in fields else Unknown
        is_secret = "secret" in fields and fields["secret"].bool_value
        return Secret(inner) if is_secret else inner
    # Assets and archives keep their wire shape (a mapping with the signature key).
    return from_struct(struct)


def from_sdk_value(value: Any) -> Any:
    """Convert a value deserialized by the Python SDK (``pulumi.runtime.rpc``) to markers.

    The SDK turns unknowns into ``pulumi.output.Unknown`` objects and secrets into
    ``{SIG_KEY: SECRET_SIG, "value": ...}`` dicts (``MockResourceArgs.inputs`` has this shape).
    """
    from pulumi.output import Unknown as SdkUnknown

    if isinstance(value, SdkUnknown) or value == UNKNOWN_SENTINEL:
        return Unknown
    if isinstance(value, Mapping):
        if value.get(SIG_KEY) == SECRET_SIG:
            return Secret(from_sdk_value(value.get("value")))
        return {key: from_sdk_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [from_sdk_value(item) for item in value]
    return value


# ---------------------------------------------------------------------------------------------
# Secret and unknown helpers (ports of the engine's PropertyValue helpers)
# ---------------------------------------------------------------------------------------------


def strip_secrets(value: Any) -> Any:
    """Return ``value`` with every :class:`Secret` replaced by its plain value (deeply)."""
    if isinstance(value, Secret):
        return strip_secrets(value.value)
    if isinstance(value, Mapping):
        return {key: strip_secrets(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [strip_secrets(item) for item in value]
    return value


def contains_secrets(value: Any) -> bool:
    """Whether ``value`` is or contains a :class:`Secret` (``PropertyValue.ContainsSecrets``)."""
    if isinstance(value, Secret):
        return True
    if isinstance(value, Mapping):
        return any(contains_secrets(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(contains_secrets(item) for item in value)
    return False


def contains_unknowns(value: Any) -> bool:
    """Whether ``value`` is or contains :data:`Unknown`."""
    if value is Unknown:
        return True
    if isinstance(value, Secret):
        return contains_unknowns(value.value)
    if isinstance(value, Mapping):
        return any(contains_unknowns(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(contains_unknowns(item) for item in value)
    return False


def annotate_secrets(outs: dict[str, Any] | None, ins: Mapping[str, Any] | None) -> None:
    """Copy secretness from ``ins`` to same-named keys of ``outs``, in place.

    Port of ``annotateSecrets`` in ``sdk/go/common/resource/plugin/provider_plugin.go``: the
    engine calls it on Check/Create/Update/Read results of providers that do not accept secrets
    (such as the Python dynamic provider). Objects on both sides are walked; otherwise a key whose
    input value contains a secret makes the whole output value secret.
    """
    if outs is None or ins is None:
        return
    for key, in_value in ins.items():
        if key not in outs:
            continue
        out_value = outs[key]
        if isinstance(out_value, dict) and isinstance(in_value, Mapping):
            annotate_secrets(out_value, in_value)
        elif not isinstance(out_value, Secret) and contains_secrets(in_value):
            outs[key] = Secret(out_value)


def mark_secret_outputs(
    outputs: dict[str, Any],
    inputs: Mapping[str, Any],
    additional_secret_outputs: Iterable[str] = (),
) -> None:
    """Apply the step executor's secret rules to a new resource state, in place.

    Port of ``stepExecutor.continueExecuteStep`` (``pkg/resource/deploy/step_executor.go``):
    keys listed in ``additional_secret_outputs`` become secret *in the outputs only*, and an
    output whose same-named input is a secret is made secret too. ``id`` cannot be made secret.
    """
    for key in additional_secret_outputs:
        if key != "id" and key in outputs and not isinstance(outputs[key], Secret):
            outputs[key] = Secret(outputs[key])
    for key, value in outputs.items():
        if not isinstance(value, Secret) and isinstance(inputs.get(key), Secret):
            outputs[key] = Secret(value)


def plain_number(value: float) -> int | float:
    """Render a wire number like Go's JSON encoder does (``3.0`` -> ``3``)."""
    if math.isfinite(value) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value
