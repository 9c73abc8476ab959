"""An offline stand-in for the Pulumi engine, for testing Python dynamic providers.

* :class:`ProviderServer` starts the real ``python -m pulumi.dynamic`` server and drives it over
  gRPC the way the engine does (``configure``/``check``/``diff``/``create``/``read``/``update``/
  ``delete``, with the engine's secret and unknown handling).
* :func:`run_program` (``preview``/``up``), :func:`refresh` and :func:`destroy` run a program
  under ``pulumi.runtime.set_mocks`` with :class:`DynamicProviderMocks`, which apply the engine's
  step logic through that server and keep a :class:`StackState` between runs.
* Property values use explicit markers: :data:`Unknown` and :class:`Secret`.

Example::

    with ProviderServer(python_path=[import_root(my_provider_module)]) as server:
        state = StackState()
        outputs = up(program, server=server, state=state, stack_config={"yandex:token": "t"},
                     secret_config_keys={"yandex:token"})
        assert outputs["ip"] == Secret("203.0.113.7")
        assert "203.0.113.7" not in state.to_json()

This module is generic: it drives any Python dynamic provider and imports only ``pulumi`` and
``grpc``.
"""

from .errors import CheckFailedError, CheckFailure, EngineError, ProviderError
from .mocks import DynamicProviderMocks, EngineMonitor, Registration, StepRecord, is_dynamic_type
from .properties import (
    UNKNOWN_SENTINEL,
    ResourceReference,
    Secret,
    Unknown,
    UnknownType,
    annotate_secrets,
    contains_secrets,
    contains_unknowns,
    from_struct,
    mark_secret_outputs,
    strip_secrets,
    to_struct,
)
from .provider_server import (
    CheckResult,
    ConfigureResult,
    CreateResult,
    DiffChanges,
    DiffResult,
    ProviderServer,
    ReadResult,
    import_root,
)
from .runner import StackOutputs, destroy, preview, refresh, run_program, up
from .state import ResourceState, StackState

__all__ = [
    "UNKNOWN_SENTINEL",
    "CheckFailedError",
    "CheckFailure",
    "CheckResult",
    "ConfigureResult",
    "CreateResult",
    "DiffChanges",
    "DiffResult",
    "DynamicProviderMocks",
    "EngineError",
    "EngineMonitor",
    "ProviderError",
    "ProviderServer",
    "ReadResult",
    "Registration",
    "ResourceReference",
    "ResourceState",
    "Secret",
    "StackOutputs",
    "StackState",
    "StepRecord",
    "Unknown",
    "UnknownType",
    "annotate_secrets",
    "contains_secrets",
    "contains_unknowns",
    "destroy",
    "from_struct",
    "import_root",
    "is_dynamic_type",
    "mark_secret_outputs",
    "preview",
    "refresh",
    "run_program",
    "strip_secrets",
    "to_struct",
    "up",
]
