"""What the process masks in everything it shows: every credential it holds or sends, however it
comes back, for as long as it is held; short-lived ones up to a bound."""

from __future__ import annotations

import gc
from typing import Any
from urllib.parse import quote

import pytest

from pulumi_yc_websocket import (
    ConnectionsClient,
    InsecureEndpointError,
    OAuthToken,
    ServiceUnavailableError,
    Settings,
)
from pulumi_yc_websocket._redaction import RECENT_SECRETS, SecretRegistry, shown_text
from pulumi_yc_websocket._runtime import RUNTIME
from pulumi_yc_websocket.emulator import Status

TOKEN = "y0_AgAAAARedactionTestOAuthToken0123"


class Holder:
    """Something that holds a credential."""


@pytest.mark.parametrize(
    "written",
    [TOKEN, TOKEN.lower(), TOKEN.upper(), quote(TOKEN, safe=""), quote("=" + TOKEN + "/", safe="")],
)
def test_every_form_of_a_secret_is_masked(written: str) -> None:
    registry = SecretRegistry()
    holder = Holder()
    registry.hold(TOKEN, holder)
    assert TOKEN.lower() not in registry.redact(f"said: {written}").lower()


def test_a_held_secret_outlives_any_number_of_short_lived_ones() -> None:
    registry = SecretRegistry(recent_limit=4)
    holder = Holder()
    registry.hold(TOKEN, holder)
    for number in range(1000):
        registry.note(f"t1.exchanged{number:08}.token")
    assert registry.redact(TOKEN) == "***"
    assert registry.redact("t1.exchanged00000999.token") == "***"
    assert registry.redact("t1.exchanged00000000.token") != "***"  # the bound: oldest first
    del holder
    gc.collect()
    assert registry.redact(TOKEN) == TOKEN  # its holder is gone: nothing keeps it


def test_the_configured_oauth_token_stays_masked_after_many_renewals(emulator: Any) -> None:
    emulator.backend.add_oauth_token(TOKEN, roles=["api-gateway.websocketWriter"])
    client = emulator.client(OAuthToken(TOKEN, emulator.url, "YC_TOKEN"))
    for number in range(RECENT_SECRETS + 10):  # exchanged tokens, renewed after each 401
        RUNTIME.secrets.note(f"t1.renewed{number:08}.iamtoken")
    # An IAM that quotes the request body back in its error.
    quoted = f'invalid request {{"yandexPassportOauthToken": "{TOKEN}"}}'
    emulator.faults.set_default("iam", Status(503, 14, quoted))
    emulator.add_connection(id="redactionConnection1")
    with pytest.raises(ServiceUnavailableError) as caught:
        client.get("redactionConnection1")
    assert "yandexPassportOauthToken" in str(caught.value)
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    ("variable", "written"),
    [
        ("YC_IAM_ENDPOINT", TOKEN),
        ("YC_APIGATEWAY_CONNECTIONS_ENDPOINT", f"https://{TOKEN.lower()}.example"),
        ("YC_ENDPOINT", TOKEN),
        ("YC_ENDPOINT", TOKEN.upper() + ":443"),
        ("YC_METADATA_ADDR", quote(TOKEN, safe="")),
    ],
)
def test_a_credential_in_an_endpoint_is_neither_shown_nor_dialled(
    emulator: Any, network_violations: list[str], variable: str, written: str
) -> None:
    environ = {**emulator.env, "YC_TOKEN": TOKEN, variable: written}
    with pytest.raises(InsecureEndpointError) as caught:
        ConnectionsClient.from_settings(Settings.resolve(environ=environ)).get("any-connection")
    message = str(caught.value)
    assert message.startswith(f"{variable} holds the credential set in YC_TOKEN")
    assert TOKEN.lower() not in message.lower()
    assert network_violations == []
    assert emulator.count() == 0


def test_shown_text_is_one_line_escaped_and_capped() -> None:
    assert shown_text("a\nb\x1bc", 100) == "a b\\x1bc"
    assert shown_text("x" * 50, 10) == "x" * 9 + "\u2026"
