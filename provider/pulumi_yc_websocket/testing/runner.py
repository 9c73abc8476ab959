"""Run a Pulumi program offline: preview / up / refresh / destroy against a real provider server.

:func:`run_program` calls ``pulumi.runtime.set_mocks`` with :class:`~.mocks.DynamicProviderMocks`,
sets the stack configuration so ``pulumi.Config`` works, runs the program, waits for every
resource registration and output (``run_pulumi_func``, as the ``@pulumi.runtime.test`` decorator
does), then serializes the stack exports like the SDK does when it registers the stack outputs.

Each run happens on a fresh thread with a fresh event loop: the Pulumi runtime keeps its
settings, root stack and config in context variables, which a new thread starts without, so many
programs can run one after another in one process.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from pulumi.runtime import config as pulumi_config
from pulumi.runtime import rpc, settings
from pulumi.runtime.mocks import set_mocks
from pulumi.runtime.stack import massage, run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from .errors import EngineError, ProviderError
from .mocks import DynamicProviderMocks, StepRecord, is_dynamic_type
from .properties import from_struct, mark_secret_outputs

if TYPE_CHECKING:
    from .provider_server import ProviderServer
    from .state import StackState

__all__ = ["StackOutputs", "destroy", "preview", "refresh", "run_program", "up"]

_T = TypeVar("_T")

Program = Callable[[], object]


class StackOutputs(dict[str, Any]):
    """The stack exports of a run, with :data:`Unknown`/:class:`Secret` markers, and its steps."""

    def __init__(self, outputs: Mapping[str, Any], steps: Sequence[StepRecord]) -> None:
        super().__init__(outputs)
        self.steps: list[StepRecord] = list(steps)

    def ops(self, name: str) -> list[str]:
        """The step operations of the resource(s) with this name, in order."""
        return [step.op for step in self.steps if step.name == name]


def _in_thread(fn: Callable[[], _T]) -> _T:
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as err:
            box["error"] = err

    thread = threading.Thread(target=target, name="pulumi-program", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


def _quiet_about_reported_errors(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    # A failed step fails every output future that depends on it; the run raises the error
    # itself, so asyncio's "exception was never retrieved" for those futures is noise.
    if isinstance(context.get("exception"), EngineError | ProviderError):
        return
    loop.default_exception_handler(context)


def _execute(
    program: Program,
    mocks: DynamicProviderMocks,
    *,
    project: str,
    stack: str,
    preview: bool,
    config: Mapping[str, str],
    secret_keys: Collection[str],
) -> dict[str, Any]:
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(_quiet_about_reported_errors)
    asyncio.set_event_loop(loop)
    try:
        settings.reset_options(project=project, stack=stack, preview=preview)
        pulumi_config.set_all_config(dict(config), list(secret_keys))
        set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=mocks.monitor())

        def body() -> Awaitable[None] | None:
            result = program()
            return result if inspect.isawaitable(result) else None

        _sync_await(run_pulumi_func(body))
        root = settings.get_root_resource()
        exported = getattr(root, "outputs", {})
        serialized = _sync_await(rpc.serialize_properties(massage(exported, []), {}))
        return from_struct(serialized)
    finally:
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_default_executor())
        asyncio.set_event_loop(None)
        loop.close()


def run_program(
    program: Program,
    *,
    server: ProviderServer,
    state: StackState,
    preview: bool = False,
    stack_config: Mapping[str, str] | None = None,
    secret_config_keys: Collection[str] = (),
    project: str | None = None,
    stack: str | None = None,
    configure: bool = True,
) -> StackOutputs:
    """Run ``program`` (which creates resources when called) as ``pulumi preview`` or ``up``.

    ``stack_config`` holds namespaced keys (``"yandex:token"``, ``"<project>:name"``); keys in
    ``secret_config_keys`` are secrets. The dynamic provider is configured with the whole config,
    as the engine does. ``up`` records the new state in ``state``; ``preview`` leaves it alone.
    Errors (a provider exception as :class:`~.errors.ProviderError`, check failures as
    :class:`~.errors.CheckFailedError`) are raised after the program has settled.

    The program runs on its own thread and event loop: create every ``Output`` (including
    ``pulumi.Output.secret(...)``) inside ``program``, not before calling this. A program may
    also be a coroutine function.
    """
    project = project or state.project
    stack = stack or state.stack
    state.project, state.stack = project, stack
    config = dict(stack_config or {})
    secret_keys = set(secret_config_keys)
    if configure:
        server.configure(config, secret_keys=secret_keys)
    mocks = DynamicProviderMocks(server, state, preview=preview)
    exports = _in_thread(
        lambda: _execute(
            program,
            mocks,
            project=project,
            stack=stack,
            preview=preview,
            config=config,
            secret_keys=secret_keys,
        )
    )
    mocks.finish()
    if not preview:
        state.outputs = exports
        state.config = config
        state.secret_config_keys = secret_keys
    return StackOutputs(exports, mocks.steps)


def up(program: Program, **kwargs: Any) -> StackOutputs:
    """:func:`run_program` with ``preview=False``."""
    return run_program(program, preview=False, **kwargs)


def preview(program: Program, **kwargs: Any) -> StackOutputs:
    """:func:`run_program` with ``preview=True``."""
    return run_program(program, preview=True, **kwargs)


def _configure_from_state(
    server: ProviderServer,
    state: StackState,
    stack_config: Mapping[str, str] | None,
    secret_config_keys: Collection[str] | None,
) -> None:
    config = dict(state.config if stack_config is None else stack_config)
    keys = state.secret_config_keys if secret_config_keys is None else set(secret_config_keys)
    server.configure(config, secret_keys=keys)


def refresh(
    *,
    server: ProviderServer,
    state: StackState,
    preview: bool = False,
    stack_config: Mapping[str, str] | None = None,
    secret_config_keys: Collection[str] | None = None,
    configure: bool = True,
) -> list[StepRecord]:
    """``pulumi refresh``: Read every dynamic resource; an empty id drops it from the state.

    The provider is configured with the config of the last ``up`` unless ``stack_config`` is
    given. Steps are ``refresh`` (detail ``same``/``update``) or ``discard`` (gone).
    """
    if configure:
        _configure_from_state(server, state, stack_config, secret_config_keys)
    steps: list[StepRecord] = []
    for res in state.resources:
        if not res.custom or not is_dynamic_type(res.type):
            continue
        result = server.read(res.id, res.urn, res.outputs, res.inputs)
        if not result.id:
            steps.append(StepRecord("discard", res.urn, res.type, res.id))
            if not preview:
                state.remove(res.urn)
            continue
        inputs = result.inputs if result.inputs is not None else res.inputs
        outputs = result.outputs
        mark_secret_outputs(outputs, inputs, res.additional_secret_outputs)
        # The engine diffs only the outputs of an external (read) resource on refresh.
        changed = outputs != res.outputs or result.id != res.id
        changed = changed or (not res.external and inputs != res.inputs)
        steps.append(
            StepRecord("refresh", res.urn, res.type, result.id, "update" if changed else "same")
        )
        if not preview:
            res.id, res.inputs, res.outputs = result.id, inputs, outputs
            state.put(res)
    return steps


def destroy(
    *,
    server: ProviderServer,
    state: StackState,
    preview: bool = False,
    stack_config: Mapping[str, str] | None = None,
    secret_config_keys: Collection[str] | None = None,
    configure: bool = True,
) -> list[StepRecord]:
    """``pulumi destroy``: Delete every resource in reverse order (read resources are only
    forgotten: discarded, never deleted), leaving an empty state."""
    if configure:
        _configure_from_state(server, state, stack_config, secret_config_keys)
    steps: list[StepRecord] = []
    for res in reversed(state.resources):
        if not preview and res.custom and not res.external and is_dynamic_type(res.type):
            server.delete(res.id, res.urn, res.outputs, old_inputs=res.inputs)
        # The engine forgets a read resource with a `discard` step; it deletes the others.
        op = "discard" if res.external else "delete"
        steps.append(StepRecord(op, res.urn, res.type, res.id))
        if not preview:
            state.remove(res.urn)
    if not preview:
        state.clear()
    return steps
