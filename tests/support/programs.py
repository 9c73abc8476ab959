"""Running a Pulumi program in this process under Pulumi's mocks, for the Pulumi face's tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pulumi
import pulumi.runtime

from pulumi_yc_websocket.testing import LookupMocks

Program = Callable[[], Mapping[str, Any]]
"""Creates resources and returns the values (Outputs or plain) the test wants resolved."""


@contextmanager
def lookup_mocks(server: Any, *, preview: bool = False) -> Iterator[LookupMocks]:
    """``LookupMocks`` on ``server`` installed with ``set_mocks`` for the ``with`` block."""
    mocks = LookupMocks(emulator=server)
    pulumi.runtime.set_mocks(mocks, project="test", stack="dev", preview=preview)
    try:
        yield mocks
    finally:
        mocks.close()
        pulumi.runtime.set_all_config({})  # the mocks' config must not reach the next test


def run(program: Program) -> dict[str, Any]:
    """Run ``program`` under the installed mocks and return its values, resolved.

    An unknown value (preview, from a resource not created yet) comes back as ``None`` with
    ``program``'s key in ``unknown``.
    """
    resolved: dict[str, Any] = {}

    @pulumi.runtime.test  # waits for every registration and output of the program
    def body() -> pulumi.Output[Any]:
        values = program()
        return pulumi.Output.all(**values).apply(resolved.update)

    body()
    return resolved
