"""Which config keys the package reads, and the typos it reports with the key they meant."""

from __future__ import annotations

import pytest

from pulumi_yc_websocket._pulumi_config import (
    mistyped_yandex_keys,
    program_layers,
    provider_layer,
    unknown_provider_keys,
)


def test_the_provider_reads_its_own_keys_bare_or_namespaced() -> None:
    layer = provider_layer({"token": "t1.a.b", "yc-websocket:endpoint": "x:443", "other": "y"})
    assert {name: setting.origin for name, setting in layer.items()} == {
        "token": "Pulumi config yc-websocket:token",
        "api_endpoint": "Pulumi config yc-websocket:endpoint",
    }


def test_a_program_reads_both_namespaces_its_own_first() -> None:
    own, yandex = program_layers(
        {"yc-websocket:token": "a", "yandex:token": "b", "token": "c", "yandex:zone": "d"}
    )
    assert {name: setting.value for name, setting in own.items()} == {"token": "a"}
    assert {name: setting.value for name, setting in yandex.items()} == {"token": "b"}


@pytest.mark.parametrize(
    ("key", "meant"),
    [
        ("yc-websocket:connectionsEndpont", "yc-websocket:connectionsEndpoint"),
        ("connectionEndpoint", "yc-websocket:connectionsEndpoint"),
        ("yc-websocket:tokn", "yc-websocket:token"),
        ("yc-websocket:config:metadataAddress", "yc-websocket:metadataAddr"),
        ("yc-websocket:proxy", ""),
    ],
)
def test_unknown_keys_of_the_package(key: str, meant: str) -> None:
    [unknown] = unknown_provider_keys([key, "yc-websocket:token", "version", "aws:region"])
    expected = key.replace(":config:", ":") if ":" in key else f"yc-websocket:{key}"
    assert unknown.key == expected
    assert (f"did you mean {meant}?" in unknown.reason) == bool(meant)
    assert "its keys: token, serviceAccountKeyFile, endpoint" in unknown.reason


def test_near_misses_of_the_yandex_keys_read_but_not_pulumi_yandexs_own() -> None:
    found = mistyped_yandex_keys(
        ["yandex:tokn", "yandex:serviceAccountKey", "yandex:folderId", "yandex:zone", "aws:tokn"]
    )
    assert [(k.key, k.reason.rsplit(" ", 1)[-1]) for k in found] == [
        ("yandex:tokn", "yandex:token?"),
        ("yandex:serviceAccountKey", "yandex:serviceAccountKeyFile?"),
    ]
