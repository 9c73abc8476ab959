"""An in-memory stack state, kept between runs, rendered like a Pulumi checkpoint.

It holds what the engine would write into the state file for each resource: id, type, checked
inputs and outputs, with secret values kept as :class:`~.properties.Secret` markers. Rendering
(:meth:`StackState.to_json`) replaces every secret with an opaque ciphertext object, so a test can
prove a value would not be stored in plain text.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import secrets
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .properties import (
    RESOURCE_SIG,
    SECRET_SIG,
    SIG_KEY,
    ResourceReference,
    Secret,
    Unknown,
    plain_number,
)

__all__ = ["ResourceState", "StackState"]

STACK_TYPE = "pulumi:pulumi:Stack"
DYNAMIC_PROVIDER_TYPE = "pulumi:providers:pulumi-python"


@dataclass
class ResourceState:
    """One resource as recorded in the state file."""

    urn: str
    type: str
    id: str = ""
    custom: bool = True
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    parent: str = ""
    provider: str = ""
    dependencies: list[str] = field(default_factory=list)
    additional_secret_outputs: list[str] = field(default_factory=list)
    ignore_changes: list[str] = field(default_factory=list)
    replace_on_changes: list[str] = field(default_factory=list)
    external: bool = False
    """True for resources read with ``Resource.get``/``opts.id``: never deleted by Pulumi."""

    @property
    def name(self) -> str:
        """The resource name (last URN component)."""
        return self.urn.split("::", 3)[-1]


class StackState:
    """The resources of one stack, keyed by URN in registration order. Thread-safe."""

    def __init__(self, project: str = "test", stack: str = "dev") -> None:
        self.project = project
        self.stack = stack
        self.outputs: dict[str, Any] = {}
        """The stack exports of the last ``up`` (secrets as markers)."""
        self.config: dict[str, str] = {}
        """The stack config of the last ``up``: the dynamic provider's inputs."""
        self.secret_config_keys: set[str] = set()
        self._resources: dict[str, ResourceState] = {}
        self._lock = threading.RLock()
        self._provider_id = secrets.token_hex(16)
        self._key = secrets.token_bytes(32)

    # ------------------------------------------------------------------ access

    def __contains__(self, urn: object) -> bool:
        with self._lock:
            return urn in self._resources

    def __iter__(self) -> Iterator[ResourceState]:
        with self._lock:
            return iter(list(self._resources.values()))

    def __len__(self) -> int:
        with self._lock:
            return len(self._resources)

    def get(self, urn: str) -> ResourceState | None:
        """The resource with this URN, if any."""
        with self._lock:
            return self._resources.get(urn)

    def find(self, name: str, type_: str | None = None) -> ResourceState:
        """The single resource with this name (and type, if given); raises ``KeyError``."""
        with self._lock:
            found = [
                r
                for r in self._resources.values()
                if r.name == name and (type_ is None or r.type == type_)
            ]
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources named {name!r} in the state")
        return found[0]

    @property
    def resources(self) -> list[ResourceState]:
        """All resources, in registration order."""
        with self._lock:
            return list(self._resources.values())

    @property
    def urns(self) -> list[str]:
        """All URNs, in registration order."""
        with self._lock:
            return list(self._resources)

    @property
    def provider_urn(self) -> str:
        """URN of the default Python dynamic provider resource."""
        return f"urn:pulumi:{self.stack}::{self.project}::{DYNAMIC_PROVIDER_TYPE}::default"

    @property
    def provider_reference(self) -> str:
        """The ``provider`` field of dynamic resources (``<urn>::<id>``)."""
        return f"{self.provider_urn}::{self._provider_id}"

    # ------------------------------------------------------------------ mutation

    def put(self, resource: ResourceState) -> None:
        """Insert or replace a resource (keeps its position when replacing)."""
        with self._lock:
            self._resources[resource.urn] = resource

    def remove(self, urn: str) -> ResourceState | None:
        """Remove a resource and return it."""
        with self._lock:
            return self._resources.pop(urn, None)

    def clear(self) -> None:
        """Forget every resource and output (a destroyed stack)."""
        with self._lock:
            self._resources.clear()
            self.outputs = {}

    def copy(self) -> StackState:
        """A deep copy (to keep a snapshot, e.g. before a run)."""
        with self._lock:
            clone = StackState(self.project, self.stack)
            clone.outputs = copy.deepcopy(self.outputs)
            clone.config = dict(self.config)
            clone.secret_config_keys = set(self.secret_config_keys)
            clone._resources = copy.deepcopy(self._resources)
            clone._provider_id = self._provider_id
            clone._key = self._key
            return clone

    # ------------------------------------------------------------------ rendering

    def to_checkpoint(self) -> dict[str, Any]:
        """The state as a Pulumi checkpoint (``apitype.CheckpointV3``) with encrypted secrets."""
        with self._lock:
            resources = list(self._resources.values())
            outputs = dict(self.outputs)
        stack_urn = (
            f"urn:pulumi:{self.stack}::{self.project}::{STACK_TYPE}::{self.project}-{self.stack}"
        )
        rendered: list[dict[str, Any]] = [
            {
                "urn": stack_urn,
                "custom": False,
                "type": STACK_TYPE,
                "outputs": self._render(outputs, stack_urn),
            }
        ]
        if any(r.provider == self.provider_reference for r in resources):
            provider_inputs = {
                k: Secret(v) if k in self.secret_config_keys else v for k, v in self.config.items()
            }
            rendered.append(
                {
                    "urn": self.provider_urn,
                    "custom": True,
                    "id": self._provider_id,
                    "type": DYNAMIC_PROVIDER_TYPE,
                    "inputs": self._render(provider_inputs, self.provider_urn),
                    "outputs": self._render(provider_inputs, self.provider_urn),
                }
            )
        for res in resources:
            entry: dict[str, Any] = {
                "urn": res.urn,
                "custom": res.custom,
                "type": res.type,
                "parent": res.parent or stack_urn,
            }
            if res.custom:
                entry["id"] = res.id
            entry["inputs"] = self._render(res.inputs, res.urn)
            entry["outputs"] = self._render(res.outputs, res.urn)
            if res.external:
                entry["external"] = True
            if res.provider:
                entry["provider"] = res.provider
            if res.dependencies:
                entry["dependencies"] = list(res.dependencies)
            if res.additional_secret_outputs:
                entry["additionalSecretOutputs"] = list(res.additional_secret_outputs)
            rendered.append(entry)
        return {
            "version": 3,
            "checkpoint": {
                "stack": f"organization/{self.project}/{self.stack}",
                "latest": {
                    "manifest": {"magic": "", "version": "offline-stand-in"},
                    "secrets_providers": {"type": "passphrase", "state": {"salt": "v1:offline"}},
                    "resources": rendered,
                },
            },
        }

    def to_json(self, indent: int | None = 4) -> str:
        """:meth:`to_checkpoint` as JSON text: secrets appear only as ciphertext."""
        return json.dumps(self.to_checkpoint(), indent=indent)

    def _render(self, value: Any, path: str) -> Any:
        if isinstance(value, Secret):
            return {SIG_KEY: SECRET_SIG, "ciphertext": self._encrypt(value.value, path)}
        if value is Unknown:
            raise ValueError(f"unknown value at {path}: unknowns are never stored in state")
        if isinstance(value, ResourceReference):
            ref: dict[str, Any] = {SIG_KEY: RESOURCE_SIG, "urn": value.urn}
            if value.id is not None:
                ref["id"] = "" if value.id is Unknown else value.id
            if value.package_version:
                ref["packageVersion"] = value.package_version
            return ref
        if isinstance(value, Mapping):
            return {k: self._render(v, f"{path}.{k}") for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._render(v, f"{path}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, float):
            return plain_number(value)
        return value

    def _encrypt(self, value: Any, path: str) -> str:
        """An opaque, deterministic stand-in for the passphrase provider's ciphertext."""
        plain = json.dumps(self._render(value, path), sort_keys=True).encode()
        nonce = hashlib.sha256(self._key + path.encode()).digest()[:12]
        tag = hashlib.sha256(self._key + nonce + plain).digest()
        return "v1:" + base64.b64encode(nonce).decode() + ":" + base64.b64encode(tag).decode()
