"""The floor of the provider server: a dynamic provider whose ``check`` only sleeps 20 ms.

Run as a script it prints the serialized provider (pickled by value from ``__main__``). Its
wall time through ``python -m pulumi.dynamic`` is the best any provider can do there with
20 ms of latency per lookup: the rest is the server's own per-call overhead.
"""

from __future__ import annotations

import time
from typing import Any

from pulumi.dynamic import CheckResult, ResourceProvider
from pulumi.dynamic.dynamic import serialize_provider

LATENCY = 0.02


class SleepOnlyProvider(ResourceProvider):
    """Answers every Check after 20 ms, without any I/O."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Sleep, then return the inputs as found."""
        time.sleep(LATENCY)
        return CheckResult({**news, "found": True}, [])


if __name__ == "__main__":
    print(serialize_provider(SleepOnlyProvider()))
