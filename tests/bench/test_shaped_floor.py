"""The benchmark's shaped floor registers what ``WebSocketConnection`` registers."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi.runtime
from pulumi.runtime import MockResourceArgs

from bench.shaped_floor import INPUT_ONLY, shaped_inputs
from pulumi_yc_websocket import WebSocketConnection
from pulumi_yc_websocket._outputs import OUTPUT_FIELDS
from pulumi_yc_websocket.testing import LookupMocks
from tests.support.programs import run

RECORD = {"id": "shapedFloorConnection1", "gatewayId": "d5dshaped00000000001"}


class RecordingMocks(LookupMocks):
    """``LookupMocks`` that keep the names of the inputs each resource registered."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        super().__init__(records)
        self.inputs: dict[str, set[str]] = {}

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.inputs[args.name] = set(args.inputs)
        return super().new_resource(args)


def test_the_same_properties_as_the_package_resource() -> None:
    mocks = RecordingMocks([RECORD])
    try:
        pulumi.runtime.set_mocks(mocks, project="test", stack="dev", preview=False)
        run(lambda: {"found": WebSocketConnection("conn", RECORD["id"]).found})
    finally:
        mocks.close()
        pulumi.runtime.set_all_config({})
    assert mocks.inputs["conn"] - {"__provider"} == set(shaped_inputs("c"))
    assert set(shaped_inputs("c")) - set(INPUT_ONLY) == set(OUTPUT_FIELDS)
