"""The resource's options refused before anything is registered, and the names they accept."""

from __future__ import annotations

import pulumi
import pytest

from pulumi_yc_websocket import WebSocketConnection
from pulumi_yc_websocket._outputs import secret_paths


@pytest.mark.parametrize(
    ("names", "paths"),
    [
        (["identity"], ["identity"]),
        (["source_ip"], ["identity.sourceIp"]),
        (["sourceIp", "user_agent"], ["identity.sourceIp", "identity.userAgent"]),
        (["identity.sourceIp"], ["identity.sourceIp"]),
        (["gateway_id", "gatewayId"], ["gatewayId"]),
        (["identity", "source_ip"], ["identity"]),  # the whole identity covers its parts
        (["last_active_at", "connectedAt"], ["connectedAt", "lastActiveAt"]),
    ],
)
def test_secret_outputs_in_any_spelling(names: list[str], paths: list[str]) -> None:
    assert secret_paths(names) == paths


@pytest.mark.parametrize("name", ["sourceip", "ip", "identity.port", "connection_id", "found"])
def test_an_unknown_secret_output_is_refused(name: str) -> None:
    opts = pulumi.ResourceOptions(additional_secret_outputs=[name])
    with pytest.raises(ValueError, match="is not an output of WebSocketConnection") as caught:
        WebSocketConnection("conn", "id", opts)
    assert "source_ip" in str(caught.value)  # the message lists what can be kept secret
