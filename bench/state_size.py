"""4. State: bytes one WebSocketConnection adds to the stack's state, package vs naive provider.

The engine stores a dynamic resource's checked inputs and its outputs, each carrying the
serialized provider (``__provider``). Both come from the real provider server here (Check,
then Create); sizes are of compact JSON.
"""

from __future__ import annotations

import json
from typing import Any

from ._common import JSON, Peer, goal
from ._driver import ProviderProcess
from .provider_server import VARIANTS, check_news, provider_env, serialized_providers


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), sort_keys=True).encode())


def run(quick: bool) -> JSON:
    """Check and Create one resource per variant; measure what the state would hold."""
    providers = serialized_providers()
    variants: dict[str, JSON] = {}
    with Peer("bench._emulator_proc", ["-"]) as emulator:
        env = provider_env(emulator, {"YC_TOKEN": emulator.ready["oauth_token"]})
        for variant in VARIANTS:
            with ProviderProcess(env) as process:
                process.configure({})
                inputs, failures = process.check(
                    check_news(providers[variant], emulator.ready["ids"][0])
                )
                if failures:
                    raise RuntimeError(f"{variant}: check failed: {failures}")
                _, outputs = process.create(inputs)
            without_provider = {k: v for k, v in outputs.items() if k != "__provider"}
            variants[variant] = {
                "provider_bytes": len(providers[variant]),
                "outputs_bytes": _size(outputs),
                "outputs_without_provider_bytes": _size(without_provider),
                "inputs_bytes": _size(inputs),
                "state_bytes": _size(inputs) + _size(outputs),
            }
    ours, naive = variants["package"], variants["naive"]
    return {
        "title": "State size per WebSocketConnection",
        "setup": {"json": "compact, keys sorted", "state_bytes": "checked inputs + outputs"},
        "variants": variants,
        "ratios": {
            "naive_vs_package_state": naive["state_bytes"] / ours["state_bytes"],
            "naive_vs_package_provider": naive["provider_bytes"] / ours["provider_bytes"],
        },
        "goals": [goal("4", "serialized provider <= 300 bytes", ours["provider_bytes"], "<=", 300)],
    }
