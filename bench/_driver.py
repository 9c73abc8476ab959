"""The real dynamic-provider server (``python -m pulumi.dynamic``), timed from its start.

Started and spoken to the way the Pulumi engine does it (``tools/provider_process.py``): the
process prints its port, then gets ``Configure`` and ``Check``/``Create`` calls whose properties
carry ``__provider``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tools.provider_process import ProviderProcess as _Process

from ._common import ROOT, now


class ProviderProcess:
    """One provider process, connected; ``started_at``/``ready_at`` are ``perf_counter`` readings.

    ``ready_at``: the process printed its port and the channel is connected (as the engine
    does before its first call).
    """

    def __init__(self, env: Mapping[str, str]) -> None:
        self.started_at = now()
        self._process = _Process(env, cwd=ROOT, project="bench")
        self.ready_at = now()

    def configure(self, config: Mapping[str, str]) -> None:
        """Send the stack config, as the engine does before any resource call."""
        self._process.configure(config)

    def check(self, news: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """Check a new resource: the checked inputs and the failure reasons."""
        checked = self._process.check(news)
        return checked.inputs, [f"{name}: {reason}" for name, reason in checked.failures]

    def create(self, properties: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """Create a resource from checked inputs: its id and output properties."""
        return self._process.create(properties)

    def stderr(self) -> str:
        """The end of what the process wrote to stderr."""
        return self._process.stderr()

    def cpu_seconds(self) -> float:
        """CPU time the provider process has used so far (NaN where it cannot be read)."""
        return self._process.cpu_seconds()

    def close(self) -> None:
        """End the process."""
        self._process.close()

    def __enter__(self) -> ProviderProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
