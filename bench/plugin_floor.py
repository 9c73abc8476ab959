"""The plugin's floor: ``pulumi-resource-yc-websocket`` with every lookup answered by a constant.

:class:`NoLookupProvider` is the plugin's own provider class with ``_look_up`` returning one
``Connection`` built at import, without a request; everything else (Check, Diff, the outputs, the
gRPC server and its event loop, the thread pool the lookups would run on) is the plugin's code.
A deployment of N resources against it costs what the engine, the program and the plugin's
server cost, and nothing for the network: the floor the lookups are measured above.

:func:`install` writes an executable named ``pulumi-resource-yc-websocket`` into a directory,
for a ``Pulumi.yaml``'s ``plugins: providers:`` entry to point at.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pulumi.provider.experimental.property_value import PropertyValue

from pulumi_yc_websocket import _plugin
from pulumi_yc_websocket._model import Connection

from ._common import ROOT

EXECUTABLE = "pulumi-resource-yc-websocket"
CONNECTION = Connection.model_validate(
    {
        "id": "bench0000Kv47JSz6mjzNl3h9q",
        "gatewayId": "d5dm1lba80md4pmj2qke",
        "identity": {
            "sourceIp": "203.0.113.1",
            "userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari",
        },
        "connectedAt": "2024-05-01T10:00:00.123456789Z",
        "lastActiveAt": "2024-05-01T10:00:30.987654321Z",
    }
)
"""What every lookup finds (shaped as the emulator's connections)."""


class NoLookupProvider(_plugin.WebSocketConnectionProvider):
    """The plugin's provider; a lookup finds :data:`CONNECTION` at once, on the event loop."""

    async def _look_up(
        self, connection_id: PropertyValue, allow_missing: bool
    ) -> Connection | None:
        return CONNECTION


def main() -> None:
    """Serve :class:`NoLookupProvider` with the plugin's own ``main``."""
    _plugin.main(provider=NoLookupProvider())


def install(directory: Path) -> Path:
    """An executable ``pulumi-resource-yc-websocket`` in ``directory`` that serves the floor
    with this interpreter, as the console script serves the plugin."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / EXECUTABLE
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from bench.plugin_floor import main\n"
        "main()\n",
        "utf-8",
    )
    script.chmod(0o755)
    return script


if __name__ == "__main__":
    main()
