"""Crafted connection ids through the client, the CLI and the resource's ``check``.

Each id is either refused before any request (``InvalidConnectionIdError`` / exit code 2 / a
``CheckFailure`` on ``connectionId``), or reaches the emulator as exactly one request whose raw
path is the connections prefix plus one percent-encoded segment (no further ``/``, no query)
that decodes to the id itself, and the lookup returns the connection seeded under that id.
"""

from __future__ import annotations

import io
import json
import unicodedata
from dataclasses import dataclass
from typing import Any

import pytest

from pulumi_yc_websocket import _cli as cli
from pulumi_yc_websocket._auth import IamToken
from pulumi_yc_websocket._client import MAX_CONNECTION_ID_LENGTH
from pulumi_yc_websocket._errors import InvalidConnectionIdError
from pulumi_yc_websocket._model import Connection
from pulumi_yc_websocket._retry import RetryPolicy
from tests.support.clients import explicit_client
from tests.support.emulator import CONNECTIONS_PATH, WRITER_TOKEN, Emulator

HOSTILE_IDS: dict[str, str] = {
    "empty": "",
    "51 characters": "a" * 51,
    "50 characters": "b" * 50,
    "very long": "x" * 100_000,
    "dot": ".",
    "dot dot": "..",
    "three dots": "...",
    "dot dot slash x": "../x",
    "dot dot encoded slash": "..%2F",
    "encoded slash": "%2F",
    "encoded dot dot": "%2e%2e",
    "encoded dot dot upper": "%2E%2E",
    "mixed dot encoded dot": ".%2e",
    "encoded NUL": "%00",
    "percent": "%",
    "double percent": "%%",
    "question mark": "?",
    "query": "?a=b&c=d",
    "hash": "#",
    "fragment": "a#b",
    "at": "@",
    "userinfo-like": "user:pass@evil.example",
    "backslash": "\\",
    "backslash traversal": "..\\..\\x",
    "space": " ",
    "spaces around": " a b ",
    "tab": "a\tb",
    "CR": "a\rb",
    "LF": "a\nb",
    "CRLF header injection": "a\r\nX-Injected: 1",
    "NUL": "a\x00b",
    "C0 SOH": "\x01",
    "ESC sequence": "\x1b[31mred",
    "DEL": "a\x7fb",
    "C1 PAD": "\x80",
    "C1 NEL": "a\x85b",
    "C1 CSI": "\x9b31m",
    "non-ASCII Latin": "caf\u00e9-\u00fc\u00df",
    "Cyrillic": "\u0441\u043e\u0435\u0434\u0438\u043d\u0435\u043d\u0438\u0435",
    "CJK": "\u63a5\u7d9a",
    "emoji": "\U0001f600",
    "ZWJ emoji": "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "50 emoji": "\U0001f600" * 50,
    "51 emoji": "\U0001f600" * 51,
    "RTL mark": "abc\u200fdef",
    "RTL override": "\u202egnp.exe",
    "zero-width space": "a\u200bb",
    "BOM": "\ufeffabc",
    "line separator": "a\u2028b",
    "combining mark": "e\u0301",
    "noncharacter": "a\uffffb",
    "lone surrogate": "a\ud800b",
    "semicolon": "a;b",
    "lone semicolon": ";",
    "matrix param": ";jsessionid=1",
    "double slash": "//",
    "inner double slash": "a//b",
    "slash": "a/b",
    "lone slash": "/",
    "dot segment inside": "a/../b",
    "fullwidth dots": "\uff0e\uff0e",
    "fullwidth dot": "\uff0e",
    "one dot leader": "\u2024\u2024",
    "fullwidth solidus": "\uff0f",
    "plus": "a+b",
    "ampersand equals": "&=",
    "quotes": "'\"",
    "angle brackets": "<script>alert(1)</script>",
    "tilde dash underscore": "~-_",
    "leading dash": "-x",
    "looks like an option": "--help",
    "JSON-ish": '{"id":"x"}',
    "legit id": "EfKvQ47JSz6mjzNl3h9qBrAM",
}

PROPERTY = "connectionId"


def _has_forbidden_char(value: str) -> bool:
    return any(unicodedata.category(c) in ("Cc", "Cs") for c in value)


def must_be_refused(value: str) -> bool:
    """Ids no lookup may send: the API would reject them or their path would leave the route."""
    return (
        value in ("", ".", "..")
        or len(value) > MAX_CONNECTION_ID_LENGTH
        or _has_forbidden_char(value)
    )


@dataclass
class Seeded:
    """The emulator holds one connection per sendable id (gateway id tells them apart)."""

    emu: Emulator
    gateways: dict[str, str]

    def requests_since(self, start: int) -> list[Any]:
        return self.emu.backend.requests()[start:]


@pytest.fixture
def seeded(emu: Emulator) -> Seeded:
    gateways: dict[str, str] = {}
    for n, value in enumerate(HOSTILE_IDS.values()):
        if value and not _has_forbidden_char(value):
            gateway = f"d5dhostile{n:010d}"
            emu.backend.add_connection(id=value, gateway_id=gateway, source_ip="192.0.2.1")
            gateways[value] = gateway
    return Seeded(emu, gateways)


def check_request_path(seeded: Seeded, start: int, value: str) -> list[str]:
    """Problems with how ``value`` reached the emulator (exactly one single-segment GET)."""
    logged = seeded.requests_since(start)
    if len(logged) != 1:
        return [f"{len(logged)} requests reached the emulator: {logged!r}"]
    request = logged[0]
    problems = []
    if request.service != "connections" or request.method != "GET":
        problems.append(f"unexpected request {request!r}")
    if not request.raw_path.startswith(CONNECTIONS_PATH):
        problems.append(f"raw path {request.raw_path!r} left the connections route")
    segment = request.raw_path.removeprefix(CONNECTIONS_PATH)
    if "/" in segment or "?" in segment or "#" in segment:
        problems.append(f"raw path {request.raw_path!r} is not one segment without a query")
    if request.connection_id != value:
        problems.append(f"the emulator decoded {request.connection_id!r}")
    return problems


def assert_no_problems(problems: dict[str, list[str]]) -> None:
    bad = {name: found for name, found in problems.items() if found}
    assert not bad, "\n".join(f"{name}: {'; '.join(found)}" for name, found in bad.items())


def test_the_list_covers_the_brief() -> None:
    assert len(HOSTILE_IDS) >= 40
    values = set(HOSTILE_IDS.values())
    for required in ("", "a" * 51, "..", ".", "../x", "%2F", "%2e%2e", "?", "#", "@", "\\"):
        assert required in values
    for required in (";", "%00", "//", "a/../b", "\uff0e\uff0e"):
        assert required in values
    refused = [v for v in values if must_be_refused(v)]
    sent = [v for v in values if not must_be_refused(v)]
    assert len(refused) >= 15
    assert len(sent) >= 25


def test_client(seeded: Seeded) -> None:
    client = seeded.emu.track(
        explicit_client(
            seeded.emu.url,
            IamToken(WRITER_TOKEN, "the hostile-input tests"),
            environ=seeded.emu.env,
            timeout=5.0,
            retry=RetryPolicy(initial=0.005, maximum=0.05),
        )
    )
    problems: dict[str, list[str]] = {}
    for name, value in HOSTILE_IDS.items():
        start = len(seeded.emu.backend.requests())
        found: list[str] = []
        try:
            connection = client.get(value)
        except InvalidConnectionIdError as error:
            if seeded.requests_since(start):
                found.append("refused, but a request was sent")
            if not must_be_refused(value):
                found.append(f"refused an id that can be sent safely: {error}")
            if not str(error):
                found.append("refused without a message")
        except Exception as error:
            found.append(f"{type(error).__name__}: {error}")
        else:
            if must_be_refused(value):
                found.append("sent an id that must be refused")
            found += check_request_path(seeded, start, value)
            if not isinstance(connection, Connection) or connection.id != value:
                found.append(f"returned {connection!r}")
            elif connection.gateway_id != seeded.gateways[value]:
                found.append(f"returned another connection: {connection!r}")
        problems[name] = found
    assert_no_problems(problems)


def test_client_refuses_non_strings(emu: Emulator) -> None:
    client = emu.track(explicit_client(emu.url, IamToken(WRITER_TOKEN), environ=emu.env))
    for value in (None, 42, b"abc", ["a"], {"id": "a"}, 1.5):
        with pytest.raises(InvalidConnectionIdError):
            client.get(value)  # type: ignore[arg-type]
    assert emu.backend.requests() == []


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        code = cli.main(argv, out, err)
    except SystemExit as exit_:  # argparse, on versions of cli.main that let it through
        code = exit_.code if isinstance(exit_.code, int) else 2
    return code, out.getvalue(), err.getvalue()


def test_cli(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YC_IAM_TOKEN", WRITER_TOKEN)
    problems: dict[str, list[str]] = {}
    for name, value in HOSTILE_IDS.items():
        start = len(seeded.emu.backend.requests())
        argv = ["get", "--endpoint", seeded.emu.url, "--output", "json", "--timeout", "5"]
        code, out, err = run_cli([*argv, "--", value])
        found: list[str] = []
        if code == cli.EXIT_USAGE:
            if seeded.requests_since(start):
                found.append("exit 2, but a request was sent")
            if not must_be_refused(value):
                found.append(f"refused an id that can be sent safely: {err.strip()}")
            if out:
                found.append(f"printed to stdout on an error: {out!r}")
        elif code == cli.EXIT_OK:
            if must_be_refused(value):
                found.append("sent an id that must be refused")
            found += check_request_path(seeded, start, value)
            printed = json.loads(out)
            if printed.get("id") != value or printed.get("gatewayId") != seeded.gateways[value]:
                found.append(f"printed {printed!r}")
        else:
            found.append(f"exit code {code}: {err.strip()}")
        problems[name] = found
    assert_no_problems(problems)


def test_cli_without_separator_never_looks_up_an_option(seeded: Seeded, emu: Emulator) -> None:
    """``get -x`` is a usage error (exit 2), not a lookup of "-x"."""
    code, _, err = run_cli(["get", "--endpoint", emu.url, "-x"])
    assert code == cli.EXIT_USAGE
    assert err
    assert emu.backend.requests() == []


def test_provider_check(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    """``check`` in-process; its config comes from os.environ (no ``configure`` call)."""
    from pulumi_yc_websocket import provider as provider_module

    monkeypatch.setenv("YC_IAM_TOKEN", WRITER_TOKEN)
    provider = provider_module.WebSocketConnectionProvider()
    problems: dict[str, list[str]] = {}
    for name, value in HOSTILE_IDS.items():
        start = len(seeded.emu.backend.requests())
        found: list[str] = []
        try:
            result = provider.check({}, {PROPERTY: value})
        except Exception as error:
            problems[name] = [f"check raised {type(error).__name__}: {error}"]
            continue
        failures = list(result.failures or [])
        if failures:
            if [f.property for f in failures] != [PROPERTY]:
                found.append(f"failures {[(f.property, f.reason) for f in failures]}")
            if not all(f.reason for f in failures):
                found.append("a failure without a reason")
            if seeded.requests_since(start):
                found.append("refused, but a request was sent")
            if not must_be_refused(value):
                found.append(f"refused an id that can be sent safely: {failures[0].reason}")
        else:
            if must_be_refused(value):
                found.append("sent an id that must be refused")
            found += check_request_path(seeded, start, value)
            inputs = result.inputs
            if inputs.get("found") is not True or inputs.get("gatewayId") != seeded.gateways[value]:
                found.append(f"checked inputs {inputs!r}")
        problems[name] = found
    assert_no_problems(problems)


def test_provider_check_refuses_non_strings(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    from pulumi_yc_websocket import provider as provider_module

    monkeypatch.setenv("YC_IAM_TOKEN", WRITER_TOKEN)
    provider = provider_module.WebSocketConnectionProvider()
    for value in (None, 42, 1.5, True, ["a"], {"id": "a"}):
        result = provider.check({}, {PROPERTY: value})
        assert [f.property for f in result.failures] == [PROPERTY], value
    assert emu.backend.requests() == []
