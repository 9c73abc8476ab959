"""Mocks for ``pulumi.runtime.set_mocks`` that hand dynamic resources to a real provider server.

:class:`DynamicProviderMocks` runs the engine's step logic (``pkg/resource/deploy``:
``step_generator.go``, ``step.go``, ``step_executor.go``) for every dynamic resource a program
registers, through a :class:`~.provider_server.ProviderServer`, and records the result in a
:class:`~.state.StackState`:

* preview: Check; a new resource's planned outputs are the checked inputs (Create is not
  called); an existing one is Checked and Diffed: unchanged keeps its old outputs, an update or
  replacement plans the checked inputs;
* up: Check, then Create; or Check, Diff, then Update / replace (Create + Delete, honouring
  delete-before-replace) / nothing; resources gone from the program are deleted at the end;
* ``Resource.get`` / ``opts.id``: Read with the given inputs (also in previews);
* other resources get plain mock behaviour (outputs = inputs).

Use :meth:`DynamicProviderMocks.monitor` with ``set_mocks(..., monitor=...)`` (the runner does):
it passes the full registration request (secret inputs, ``additional_secret_outputs``,
``delete_before_replace``, ``ignore_changes``...) instead of the reduced ``MockResourceArgs``.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.settings import get_project, get_stack

from .errors import CheckFailedError, EngineError
from .properties import (
    SECRET_SIG,
    SIG_KEY,
    UNKNOWN_SENTINEL,
    ResourceReference,
    Secret,
    Unknown,
    from_sdk_value,
    from_struct,
    mark_secret_outputs,
    to_struct,
)
from .provider_server import DiffChanges, DiffResult
from .state import STACK_TYPE, ResourceState

if TYPE_CHECKING:
    from .provider_server import ProviderServer
    from .state import StackState

__all__ = [
    "DynamicProviderMocks",
    "EngineMonitor",
    "Registration",
    "RegistrationResult",
    "StepRecord",
    "is_dynamic_type",
    "to_sdk_value",
]

_MISSING = object()


_READ_RESPONSE_FIELDS = frozenset(resource_pb2.ReadResourceResponse.DESCRIPTOR.fields_by_name)


def is_dynamic_type(type_: str) -> bool:
    """Whether a type token is a Python dynamic resource (``pulumi-python:dynamic...``)."""
    return type_.startswith(("pulumi-python:dynamic:", "pulumi-python:dynamic/"))


@dataclass
class Registration:
    """A resource registration (``RegisterResource``/``ReadResource``) with its options."""

    type: str
    name: str
    urn: str
    inputs: dict[str, Any]
    custom: bool = True
    parent: str = ""
    provider: str = ""
    id: str = ""
    """The id to read (``read=True``) or import."""
    read: bool = False
    dependencies: list[str] = field(default_factory=list)
    additional_secret_outputs: list[str] = field(default_factory=list)
    delete_before_replace: bool | None = None
    ignore_changes: list[str] = field(default_factory=list)
    replace_on_changes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StepRecord:
    """One engine step: ``op`` is create, same, update, replace, delete, delete-replaced, read,
    refresh, or discard (a resource a refresh found gone)."""

    op: str
    urn: str
    type: str
    id: str = ""
    detail: str = ""

    @property
    def name(self) -> str:
        """The resource name (last URN component)."""
        return self.urn.split("::", 3)[-1]


@dataclass
class RegistrationResult:
    """What the engine answers a registration with: the id and the output properties."""

    id: str
    outputs: dict[str, Any]


def to_sdk_value(value: Any) -> Any:
    """Convert markers to the shape the SDK's ``rpc.serialize_properties`` puts on the wire."""
    if value is Unknown:
        return UNKNOWN_SENTINEL
    if isinstance(value, Secret):
        return {SIG_KEY: SECRET_SIG, "value": to_sdk_value(value.value)}
    if isinstance(value, ResourceReference):
        return value.urn if value.id is None else to_sdk_value(value.id)
    if isinstance(value, Mapping):
        return {key: to_sdk_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_sdk_value(item) for item in value]
    return value


def _make_urn(parent: str, type_: str, name: str) -> str:
    """The engine's URN: the parent's type is prefixed unless the parent is the root stack."""
    if parent:
        parent_type = parent.split("::")[2].split("$")[-1]
        if parent_type != STACK_TYPE:
            type_ = f"{parent_type}${type_}"
    return "urn:pulumi:" + "::".join([get_stack(), get_project(), type_, name])


def _apply_ignore_changes(
    news: Mapping[str, Any], olds: Mapping[str, Any], ignore_changes: Sequence[str]
) -> dict[str, Any]:
    """Reset ignored top-level keys to their old values (``processIgnoreChanges``)."""
    result = dict(news)
    for key in ignore_changes:
        if key in olds:
            result[key] = copy.deepcopy(olds[key])
        else:
            result.pop(key, None)
    return result


def _changed_keys(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    return sorted(
        k for k in set(olds) | set(news) if olds.get(k, _MISSING) != news.get(k, _MISSING)
    )


class DynamicProviderMocks(Mocks):
    """``pulumi.runtime.Mocks`` that run dynamic resources through a real provider server."""

    def __init__(
        self,
        server: ProviderServer,
        state: StackState,
        *,
        preview: bool = False,
    ) -> None:
        self.server = server
        self.state = state
        self.preview = preview
        self.steps: list[StepRecord] = []
        self.registered: list[str] = []
        self._pending_deletes: list[ResourceState] = []
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ Mocks API

    def monitor(self) -> EngineMonitor:
        """A mock monitor that hands full registration requests to these mocks."""
        return EngineMonitor(self)

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        """Plain ``set_mocks`` entry point (reduced request: no resource options)."""
        reg = Registration(
            type=args.typ,
            name=args.name,
            urn=_make_urn("", args.typ, args.name),
            inputs=from_sdk_value(dict(args.inputs)),
            custom=bool(args.custom) if args.custom is not None else True,
            provider=args.provider or "",
            id=args.resource_id or "",
            read=args.custom is None,  # MockMonitor.ReadResource does not pass `custom`
        )
        outcome = self.register(reg)
        return outcome.id or None, to_sdk_value(outcome.outputs)

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        """Invokes are not modelled: every function returns ``{}`` (and no failures)."""
        return {}, []

    # ------------------------------------------------------------------ engine

    def register(self, reg: Registration) -> RegistrationResult:
        """Run the engine's steps for one registration; returns the id and outputs."""
        with self._lock:
            self.registered.append(reg.urn)
        if reg.read:
            return self._read(reg)
        if not reg.custom:
            self._put(
                ResourceState(
                    urn=reg.urn,
                    type=reg.type,
                    custom=False,
                    inputs=dict(reg.inputs),
                    parent=reg.parent,
                    dependencies=list(reg.dependencies),
                )
            )
            return RegistrationResult("", {})
        if not is_dynamic_type(reg.type):
            return self._plain(reg)
        if reg.id:
            raise EngineError(f"importing ({reg.urn}) is not modelled by the offline engine")
        return self._dynamic(reg)

    def finish(self) -> None:
        """End of an update: delete replaced resources and those gone from the program."""
        with self._lock:
            pending, self._pending_deletes = self._pending_deletes, []
            seen = set(self.registered)
        for old in reversed(pending):
            self._delete(old, op="delete-replaced", remove=False)
        for res in reversed(self.state.resources):
            if res.urn not in seen:
                self._delete(res, op="delete", remove=True)

    def _record(self, op: str, urn: str, type_: str, id_: str = "", detail: str = "") -> None:
        with self._lock:
            self.steps.append(StepRecord(op, urn, type_, id_, detail))

    def _put(self, res: ResourceState) -> None:
        if not self.preview:
            self.state.put(res)

    def _delete(self, res: ResourceState, *, op: str, remove: bool) -> None:
        if not self.preview and res.custom and not res.external and is_dynamic_type(res.type):
            self.server.delete(res.id, res.urn, res.outputs, old_inputs=res.inputs)
        self._record(op, res.urn, res.type, res.id)
        if remove and not self.preview:
            self.state.remove(res.urn)

    def _plain(self, reg: Registration) -> RegistrationResult:
        old = self.state.get(reg.urn)
        op = "create" if old is None else ("same" if old.inputs == reg.inputs else "update")
        new_id = f"{reg.name}_id"
        self._record(op, reg.urn, reg.type, new_id)
        self._put(
            ResourceState(
                urn=reg.urn,
                type=reg.type,
                id=new_id,
                inputs=dict(reg.inputs),
                outputs=dict(reg.inputs),
                parent=reg.parent,
                provider=reg.provider,
                dependencies=list(reg.dependencies),
            )
        )
        return RegistrationResult(new_id, dict(reg.inputs))

    def _read(self, reg: Registration) -> RegistrationResult:
        if not is_dynamic_type(reg.type):
            self._record("read", reg.urn, reg.type, reg.id)
            return RegistrationResult(reg.id, dict(reg.inputs))
        if not reg.id or reg.id == UNKNOWN_SENTINEL:
            self._record("read", reg.urn, reg.type)
            return RegistrationResult("", {})
        result = self.server.read(reg.id, reg.urn, reg.inputs, reg.inputs)
        if not result.id:
            # The engine's gRPC layer turns an empty id into "no outputs" and ReadStep fails.
            raise EngineError(f"resource '{reg.id}' does not exist")
        outputs = result.outputs
        mark_secret_outputs(outputs, reg.inputs, reg.additional_secret_outputs)
        self._record("read", reg.urn, reg.type, result.id)
        self._put(
            ResourceState(
                urn=reg.urn,
                type=reg.type,
                id=result.id,
                inputs=dict(reg.inputs),
                outputs=outputs,
                parent=reg.parent,
                provider=self.state.provider_reference,
                dependencies=list(reg.dependencies),
                additional_secret_outputs=list(reg.additional_secret_outputs),
                external=True,
            )
        )
        return RegistrationResult(result.id, outputs)

    def _check(
        self, reg: Registration, olds: Mapping[str, Any], news: Mapping[str, Any]
    ) -> dict[str, Any]:
        checked = self.server.check(reg.urn, olds, news, allow_unknowns=self.preview)
        if checked.failures:
            raise CheckFailedError(reg.urn, checked.failures)
        return checked.inputs

    def _diff(self, reg: Registration, old: ResourceState, inputs: dict[str, Any]) -> DiffResult:
        diff = self.server.diff(
            old.id,
            reg.urn,
            old.outputs,
            inputs,
            old_inputs=old.inputs,
            allow_unknowns=self.preview,
            ignore_changes=reg.ignore_changes,
        )
        if diff.changes is DiffChanges.UNKNOWN:
            # diffResource: an unknown diff falls back to comparing old and new inputs.
            compared = _apply_ignore_changes(inputs, old.inputs, reg.ignore_changes)
            changed = _changed_keys(old.inputs, compared)
            diff.changes = DiffChanges.SOME if changed else DiffChanges.NONE
            diff.diffs = changed
        if diff.changes is DiffChanges.SOME and reg.replace_on_changes:
            # applyReplaceOnChanges matches the *changed keys* the provider reported.
            for key in diff.diffs:
                if ("*" in reg.replace_on_changes or key in reg.replace_on_changes) and (
                    key not in diff.replaces
                ):
                    diff.replaces.append(key)
        return diff

    def _dynamic(self, reg: Registration) -> RegistrationResult:
        old = self.state.get(reg.urn)
        if old is not None and old.external:
            old = None  # taking over a read resource: a create (the external one stays)
        news = reg.inputs
        if old is not None and reg.ignore_changes:
            news = _apply_ignore_changes(news, old.inputs, reg.ignore_changes)

        if old is None:
            inputs = self._check(reg, {}, news)
            new_id, outputs = self._create(reg, inputs)
            op, detail = "create", ""
        else:
            inputs = self._check(reg, old.inputs, news)
            diff = self._diff(reg, old, inputs)
            if diff.changes is DiffChanges.NONE:
                op, detail = "same", ""
                new_id, outputs = old.id, copy.deepcopy(old.outputs)
            elif diff.replace:
                op, detail = "replace", ",".join(diff.replaces)
                # The engine re-checks without the old inputs before a replacement.
                inputs = self._check(reg, {}, news)
                dbr = diff.delete_before_replace
                if reg.delete_before_replace is not None:
                    dbr = reg.delete_before_replace
                if dbr:
                    detail += " (delete-before-replace)"
                    if not self.preview:
                        self.server.delete(old.id, old.urn, old.outputs, old_inputs=old.inputs)
                elif not self.preview:
                    with self._lock:
                        self._pending_deletes.append(copy.deepcopy(old))
                new_id, outputs = self._create(reg, inputs)
            else:
                op, detail = "update", ",".join(diff.diffs)
                outputs = self.server.update(
                    old.id,
                    reg.urn,
                    old.outputs,
                    inputs,
                    old_inputs=old.inputs,
                    preview=self.preview,
                    ignore_changes=reg.ignore_changes,
                )
                new_id = old.id

        mark_secret_outputs(outputs, inputs, reg.additional_secret_outputs)
        self._record(op, reg.urn, reg.type, new_id, detail)
        self._put(
            ResourceState(
                urn=reg.urn,
                type=reg.type,
                id=new_id,
                inputs=inputs,
                outputs=outputs,
                parent=reg.parent,
                provider=self.state.provider_reference,
                dependencies=list(reg.dependencies),
                additional_secret_outputs=list(reg.additional_secret_outputs),
                ignore_changes=list(reg.ignore_changes),
                replace_on_changes=list(reg.replace_on_changes),
            )
        )
        return RegistrationResult(new_id, outputs)

    def _create(self, reg: Registration, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        created = self.server.create(reg.urn, inputs, preview=self.preview)
        return created.id, created.outputs


class EngineMonitor(MockMonitor):
    """A ``MockMonitor`` that gives :class:`DynamicProviderMocks` the whole request."""

    def __init__(self, mocks: DynamicProviderMocks) -> None:
        super().__init__(mocks)
        self.engine = mocks

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """URNs as the engine makes them (``MockMonitor`` also prefixes the root stack type)."""
        return _make_urn(parent, type_, name)

    def RegisterResource(self, request: Any) -> Any:
        """Handle ``RegisterResource`` with the engine step logic."""
        if request.type == STACK_TYPE:
            return cast("Any", super()).RegisterResource(request)
        urn = self.make_urn(request.parent, request.type, request.name)
        reg = Registration(
            type=request.type,
            name=request.name,
            urn=urn,
            inputs=from_struct(request.object),
            custom=request.custom,
            parent=request.parent,
            provider=request.provider,
            id=request.importId,
            dependencies=list(request.dependencies),
            additional_secret_outputs=list(request.additionalSecretOutputs),
            delete_before_replace=(
                request.deleteBeforeReplace if request.deleteBeforeReplaceDefined else None
            ),
            ignore_changes=list(request.ignoreChanges),
            replace_on_changes=list(request.replaceOnChanges),
        )
        outcome = self.engine.register(reg)
        self.resources[urn] = MockMonitor.ResourceRegistration(
            urn, outcome.id, to_sdk_value(outcome.outputs)
        )
        return resource_pb2.RegisterResourceResponse(
            urn=urn, id=outcome.id, object=to_struct(outcome.outputs)
        )

    def ReadResource(self, request: Any) -> Any:
        """Handle ``ReadResource`` (``Resource.get`` / ``opts.id``) with a provider Read."""
        urn = self.make_urn(request.parent, request.type, request.name)
        reg = Registration(
            type=request.type,
            name=request.name,
            urn=urn,
            inputs=from_struct(request.properties),
            parent=request.parent,
            provider=request.provider,
            id=request.id,
            read=True,
            dependencies=list(request.dependencies),
            additional_secret_outputs=list(request.additionalSecretOutputs),
        )
        outcome = self.engine.register(reg)
        self.resources[urn] = MockMonitor.ResourceRegistration(
            urn, outcome.id, to_sdk_value(outcome.outputs)
        )
        response: dict[str, Any] = {"urn": urn, "properties": to_struct(outcome.outputs)}
        if "id" in _READ_RESPONSE_FIELDS:  # a field since pulumi 3.271
            response["id"] = outcome.id
        return resource_pb2.ReadResourceResponse(**response)
