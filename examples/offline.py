"""Run the example stacks offline: the real provider server, driven by the engine stand-in.

Used by the demo and by the tests; the examples themselves hold no test-only code. Stack config
is what ``pulumi config set`` would hold for the example's project.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pulumi_yc_websocket.testing import (
    ProviderServer,
    Secret,
    StackOutputs,
    StackState,
    Unknown,
    run_program,
)

EXAMPLES_DIR = Path(__file__).resolve().parent
EXAMPLES = ("connection-info", "monitoring", "routing")


def project_name(example: str) -> str:
    """The project name in the example's Pulumi.yaml."""
    for line in (EXAMPLES_DIR / example / "Pulumi.yaml").read_text(encoding="utf-8").splitlines():
        if line.startswith("name:"):
            return line.split(":", 1)[1].strip()
    raise ValueError(f"{example}/Pulumi.yaml has no name")


def program_of(example: str) -> Callable[[], None]:
    """The example's ``__main__.py`` as a program the stand-in can run."""
    path = EXAMPLES_DIR / example / "__main__.py"
    module_name = "example_" + example.replace("-", "_")

    def program() -> None:
        # A real module that stays importable while Pulumi resolves the program's classes
        # later (as the CLI's ``__main__`` does), executed afresh on every run.
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)

    return program


def run_example(
    example: str,
    *,
    server: ProviderServer,
    state: StackState,
    config: Mapping[str, Any],
    preview: bool,
    secret_config: Mapping[str, str] | None = None,
) -> StackOutputs:
    """``pulumi preview`` or ``pulumi up`` of an example; ``config`` keys without a namespace
    belong to the example's project, values that are not strings are stored as JSON."""
    project = project_name(example)
    stack_config = {
        (key if ":" in key else f"{project}:{key}"): value
        if isinstance(value, str)
        else json.dumps(value)
        for key, value in config.items()
    }
    stack_config.update(secret_config or {})
    return run_program(
        program_of(example),
        server=server,
        state=state,
        preview=preview,
        stack_config=stack_config,
        secret_config_keys=set(secret_config or {}),
        project=project,
    )


def readable(value: Any) -> Any:
    """Outputs as plain JSON-able values: secrets shown as ``[secret]``, unknowns as ``?``."""
    if isinstance(value, Secret):
        return "[secret]"
    if value is Unknown:
        return "(known after up)"
    if isinstance(value, dict):
        return {key: readable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [readable(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the engine's numbers are float64; show 2, not 2.0
    return value
