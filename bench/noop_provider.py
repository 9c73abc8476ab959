"""The engine's own floor: a dynamic resource whose provider looks nothing up.

``NoLookup(name, connection_id)`` goes through the same engine steps as ``WebSocketConnection``
(Check, then Create) with a provider pickled by reference, like the package's, so a program of
N of them costs what the engine and the provider process cost, and nothing else.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi.dynamic
from pulumi.dynamic import CheckResult, CreateResult, ResourceProvider


class NoLookupProvider(ResourceProvider):
    """Accepts the inputs as they are; creates nothing anywhere."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """The inputs, marked found."""
        return CheckResult({**news, "found": True}, [])

    def create(self, props: dict[str, Any]) -> CreateResult:
        """The inputs as outputs; the connection id as the resource id."""
        return CreateResult(str(props["connectionId"]), props)


class NoLookup(pulumi.dynamic.Resource, module="bench", name="NoLookup"):
    """A resource shaped like a lookup, without one."""

    def __init__(self, resource_name: str, connection_id: str) -> None:
        super().__init__(
            NoLookupProvider(), resource_name, {"connectionId": connection_id, "found": None}
        )
