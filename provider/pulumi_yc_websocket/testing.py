"""Unit-test your own Pulumi programs' lookups with Pulumi's mocks (``pulumi.runtime.set_mocks``).

    import pulumi
    from pulumi_yc_websocket.testing import LookupMocks

    mocks = LookupMocks([{"id": "conn-1", "gatewayId": "d5dexample", "identity": {...}}])
    pulumi.runtime.set_mocks(mocks, preview=False)
    import my_stack  # the program under test, imported after set_mocks

    @pulumi.runtime.test
    def test_gateway():
        return my_stack.conn.gateway_id.apply(lambda gateway: ...)

:class:`LookupMocks` serves the given connection records (the API's JSON shape, as in an
emulator seed) from the package's emulator on 127.0.0.1 and points the program's stack config at
it. Every ``WebSocketConnection`` registration and ``.get()`` is answered with what the real
provider code returns: the check (the lookup, or the failure the engine would report), then the
create, or the read. Other resources go to the ``fallback`` mocks, or get their inputs as outputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pulumi
import pulumi.runtime
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks

from ._pulumi_config import PACKAGE_NAMESPACE, program_config_keys
from ._resource import WebSocketConnection
from .emulator import EmulatorBackend, EmulatorServer
from .provider import WebSocketConnectionProvider

__all__ = ["RESOURCE_TYPE", "CheckFailedError", "LookupMocks"]

_TOKEN = "t1.mocks.LookupMocksToken"  # noqa: S105 - the emulator's, for tests only
_READER_ROLE = "api-gateway.websocketWriter"
RESOURCE_TYPE = f"pulumi-python:{WebSocketConnection._resource_type_name}"
"""The type token ``WebSocketConnection`` registers under."""


class CheckFailedError(Exception):
    """The provider's check refused a resource's inputs, as the engine would report it."""


class LookupMocks(Mocks):
    """Pulumi mocks that answer ``WebSocketConnection`` with the real provider code."""

    def __init__(
        self,
        connections: Iterable[Mapping[str, Any]] = (),
        *,
        emulator: EmulatorServer | None = None,
        fallback: Mocks | None = None,
    ) -> None:
        """Serve ``connections``, or use a running ``emulator`` as it is, for the lookups.

        Sets the program's stack config so that lookups go there (:attr:`config`); a later
        ``pulumi.runtime.set_all_config`` replaces it, so include ``mocks.config`` in yours.
        """
        self._owns_emulator = emulator is None
        if emulator is None:
            emulator = EmulatorServer(EmulatorBackend.from_seed({"connections": list(connections)}))
            emulator.start()
        emulator.backend.add_iam_token(_TOKEN, roles=[_READER_ROLE])
        self.emulator = emulator
        """Where the lookups go: close or change connections between runs of the program."""
        self._fallback = fallback
        self.config = {
            "yandex:token": _TOKEN,
            f"{PACKAGE_NAMESPACE}:connectionsEndpoint": emulator.url,
            f"{PACKAGE_NAMESPACE}:iamEndpoint": emulator.url,
            f"{PACKAGE_NAMESPACE}:metadataAddr": f"{emulator.host}:{emulator.port}",
        }
        """The stack config the mocks set."""
        for key, value in self.config.items():
            pulumi.runtime.set_config(key, value)
        self.outputs: dict[str, dict[str, Any]] = {}
        """The outputs each ``WebSocketConnection`` got, by resource name."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        """``WebSocketConnection``: the provider's answer; anything else: the fallback's."""
        if args.typ != RESOURCE_TYPE:
            if self._fallback is not None:
                return self._fallback.new_resource(args)
            return f"{args.name}-id", dict(args.inputs)
        provider = WebSocketConnectionProvider()
        config = {key: pulumi.runtime.get_config(key) for key in program_config_keys()}
        provider.configure(ConfigureRequest(Config(config, pulumi.get_project())))
        if args.resource_id:  # WebSocketConnection.get
            read = provider.read(args.resource_id, dict(args.inputs))
            resource_id, outputs = read.id, dict(read.outs or {})
        else:
            checked = provider.check({}, dict(args.inputs))
            if checked.failures:
                failure = checked.failures[0]
                raise CheckFailedError(
                    f"resource {args.name!r}: property {failure.property} has a problem: "
                    f"{failure.reason}"
                )
            if pulumi.runtime.is_dry_run():  # preview plans the checked inputs, creates nothing
                self.outputs[args.name] = dict(checked.inputs)
                return None, dict(checked.inputs)
            created = provider.create(checked.inputs)
            resource_id, outputs = created.id, dict(created.outs or {})
        self.outputs[args.name] = outputs
        return resource_id, outputs

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        """Function calls go to the fallback mocks (this package's functions need none)."""
        if self._fallback is not None:
            return self._fallback.call(args)
        return {}, None

    def close(self) -> None:
        """Stop the emulator these mocks started."""
        if self._owns_emulator:
            self.emulator.stop()
