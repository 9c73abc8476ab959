"""Hostile settings: refused before any connection, with a clear message that keeps secrets.

Endpoints with credentials (passwords holding URL delimiters included), a path or query, plain
http to a non-loopback host, another scheme, a malformed port, or characters parsers read
differently; through the client argument, ``Settings.resolve``, the environment, the CLI's
``--endpoint``; tokens HTTP cannot carry; and proxies that would see a token in clear text.
Nothing may connect anywhere: a spy on ``socket.socket.connect`` records every attempt during
the test, and the network guard refuses any non-loopback dial.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from pulumi_yc_websocket import _cli as cli
from pulumi_yc_websocket._auth import IamToken
from pulumi_yc_websocket._errors import (
    ConfigurationError,
    InsecureEndpointError,
    InsecureProxyError,
)
from pulumi_yc_websocket._pulumi_config import program_layers
from pulumi_yc_websocket._settings import Settings
from tests.support.clients import environment_client, explicit_client
from tests.support.emulator import WRITER_TOKEN, Emulator

PASSWORD = "pa55-W0rd-LEAK-canary"
USER = "leaky-user"


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every address a socket tried to connect to during the test (after setup)."""
    attempts: list[Any] = []
    original = socket.socket.connect

    def spy(self: socket.socket, address: Any) -> Any:
        attempts.append(address)
        return original(self, address)

    monkeypatch.setattr(socket.socket, "connect", spy)
    return attempts


def endpoints(emu_url: str) -> dict[str, tuple[str, type[Exception]]]:
    """Hostile connection/IAM endpoints and the error each must raise: the security type for
    what would put the token at risk, a plain ConfigurationError for a shape problem."""
    loopback = emu_url.removeprefix("http://")
    host, _, port = loopback.partition(":")
    return {
        "userinfo https": (f"https://{USER}:{PASSWORD}@api.example.net", InsecureEndpointError),
        "userinfo loopback": (f"http://{USER}:{PASSWORD}@{loopback}", InsecureEndpointError),
        "userinfo password only": (f"https://:{PASSWORD}@api.example.net", InsecureEndpointError),
        "userinfo malformed port": (
            f"https://{USER}:{PASSWORD}@api.example.net:44x3",
            InsecureEndpointError,
        ),
        "userinfo no host": (f"https://{USER}:{PASSWORD}@", InsecureEndpointError),
        "userinfo ftp": (f"ftp://{USER}:{PASSWORD}@api.example.net", InsecureEndpointError),
        "userinfo with path": (
            f"https://{USER}:{PASSWORD}@api.example.net/x",
            InsecureEndpointError,
        ),
        "backslash userinfo": (f"https://api.example.net\\@{loopback}", InsecureEndpointError),
        "path": ("https://api.example.net/apigateways", ConfigurationError),
        "path to loopback": (
            f"{emu_url}/apigateways/websocket/v1/connections/x",
            ConfigurationError,
        ),
        "query": ("https://api.example.net?x=1", ConfigurationError),
        "fragment": ("https://evil.example#@api.example.net", InsecureEndpointError),
        "http non-loopback name": ("http://api.example.net", InsecureEndpointError),
        "http private address": ("http://10.0.0.1:8080", InsecureEndpointError),
        "http metadata address": ("http://169.254.169.254", InsecureEndpointError),
        "http localhost lookalike": ("http://localhost.evil.example", InsecureEndpointError),
        "http loopback lookalike": ("http://127.0.0.1.nip.io", InsecureEndpointError),
        "http integer loopback": ("http://2130706433", InsecureEndpointError),
        "http short loopback": (f"http://127.1:{port}", InsecureEndpointError),
        "ftp": ("ftp://api.example.net", ConfigurationError),
        "file": ("file:///etc/passwd", ConfigurationError),
        "ws": ("ws://127.0.0.1:80", ConfigurationError),
        "javascript": ("javascript:alert(1)", ConfigurationError),
        "no scheme": ("api.example.net:443", ConfigurationError),
        "scheme-relative": ("//api.example.net", ConfigurationError),
        "empty host": ("https://", ConfigurationError),
        "port letters": ("https://api.example.net:abc", ConfigurationError),
        "port too large": ("https://api.example.net:99999", ConfigurationError),
        "port negative": ("https://api.example.net:-1", ConfigurationError),
        "port twice": ("https://api.example.net:443:443", ConfigurationError),
        "unclosed IPv6": ("https://[::1", ConfigurationError),
        "loopback port letters": (f"http://{host}:8o8o", ConfigurationError),
    }


def _check_refusal(
    error: BaseException, expected: type[Exception], *, check_secret: bool = True
) -> list[str]:
    problems = []
    if type(error) is not expected:
        problems.append(f"{type(error).__name__} instead of {expected.__name__}: {error}")
    text = f"{error} {error!r}"
    if check_secret and PASSWORD in text:
        problems.append(f"the message echoes the password: {error}")
    if "endpoint" not in str(error).lower() and "url" not in str(error).lower():
        problems.append(f"the message does not say which setting: {error}")
    return problems


def _report(problems: dict[str, list[str]]) -> None:
    bad = {name: found for name, found in problems.items() if found}
    assert not bad, "\n".join(f"{name}: {'; '.join(found)}" for name, found in bad.items())


def test_client_endpoint_argument(emu: Emulator, connects: list[Any]) -> None:
    problems: dict[str, list[str]] = {}
    for name, (url, expected) in endpoints(emu.url).items():
        try:
            client = explicit_client(url, IamToken(WRITER_TOKEN), environ=emu.env)
        except Exception as error:
            problems[name] = _check_refusal(error, expected)
        else:
            client.close()
            problems[name] = [f"accepted as {client.endpoint!r}"]
    _report(problems)
    assert connects == []
    assert emu.backend.requests() == []


@pytest.mark.parametrize("variable", ["YC_APIGATEWAY_CONNECTIONS_ENDPOINT", "YC_IAM_ENDPOINT"])
def test_environment(emu: Emulator, connects: list[Any], variable: str) -> None:
    problems: dict[str, list[str]] = {}
    for name, (url, expected) in endpoints(emu.url).items():
        environ = {**emu.env, "YC_IAM_TOKEN": WRITER_TOKEN, variable: url}
        try:
            client = environment_client(environ=environ)
        except Exception as error:
            problems[name] = _check_refusal(error, expected)
        else:
            client.close()
            problems[name] = ["accepted"]
    _report(problems)
    assert connects == []
    assert emu.backend.requests() == []


@pytest.mark.parametrize(
    "key", ["yc-websocket:connectionsEndpoint", "yc-websocket:config:iamEndpoint"]
)
def test_pulumi_config(emu: Emulator, connects: list[Any], key: str) -> None:
    problems: dict[str, list[str]] = {}
    for name, (url, expected) in endpoints(emu.url).items():
        try:
            Settings.resolve(
                *program_layers({key: url, "yandex:token": WRITER_TOKEN}), environ=emu.env
            )
        except Exception as error:
            problems[name] = _check_refusal(error, expected)
        else:
            problems[name] = ["accepted"]
    _report(problems)
    assert connects == []


USERINFO_CASES = sorted(name for name in endpoints("http://127.0.0.1:1") if "userinfo" in name)


@pytest.mark.parametrize("name", USERINFO_CASES)
def test_userinfo_password_is_never_echoed(
    emu: Emulator, connects: list[Any], monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """Client argument, environment and CLI: the refusal never shows the URL's password."""
    url, _ = endpoints(emu.url)[name]
    shown: list[str] = []
    with pytest.raises(ConfigurationError) as caught:
        explicit_client(url, IamToken(WRITER_TOKEN), environ=emu.env)
    shown += [str(caught.value), repr(caught.value)]
    with pytest.raises(ConfigurationError) as caught:
        environment_client(
            environ={**emu.env, "YC_IAM_TOKEN": WRITER_TOKEN, "YC_IAM_ENDPOINT": url}
        )
    shown += [str(caught.value), repr(caught.value)]
    monkeypatch.setenv("YC_IAM_TOKEN", WRITER_TOKEN)
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["get", "--endpoint", url, "abc"], out, err) != cli.EXIT_OK
    shown += [out.getvalue(), err.getvalue()]
    assert [text for text in shown if PASSWORD in text] == []
    assert connects == []
    assert emu.backend.requests() == []


API_ROOTS = {
    "userinfo": f"{USER}:{PASSWORD}@api.example.net:443",
    "userinfo https": f"https://{USER}:{PASSWORD}@api.example.net",
    "userinfo malformed port": f"https://{USER}:{PASSWORD}@api.example.net:x",
    "userinfo no port": f"{USER}:{PASSWORD}@api.example.net",
    "http": "http://api.example.net",
    "path": "https://api.example.net/v1",
    "query": "https://api.example.net?x",
    "port letters": "api.example.net:abc",
    "empty host": ":443",
    "ftp": "ftp://api.example.net",
}


@pytest.mark.parametrize("name", list(API_ROOTS))
def test_api_root(emu: Emulator, connects: list[Any], name: str) -> None:
    """YC_ENDPOINT / yandex:endpoint is host[:port]; the service hosts derive from it."""
    value = API_ROOTS[name]
    environ = {"YC_IAM_TOKEN": WRITER_TOKEN, "YC_METADATA_ADDR": emu.metadata_addr}
    for layers, env in (
        ((), {**environ, "YC_ENDPOINT": value}),
        (program_layers({"yandex:endpoint": value}), environ),
    ):
        with pytest.raises(ConfigurationError) as caught:
            Settings.resolve(*layers, environ=env)
        assert PASSWORD not in f"{caught.value} {caught.value!r}"
        assert "endpoint" in str(caught.value).lower()
    assert connects == []


METADATA_ADDRS = {
    "userinfo": f"{USER}:{PASSWORD}@169.254.169.254",
    "userinfo with scheme": f"http://{USER}:{PASSWORD}@169.254.169.254",
    "path": "169.254.169.254/latest",
    "query": "169.254.169.254?x=1",
    "port letters": "169.254.169.254:abc",
}


@pytest.mark.parametrize("name", list(METADATA_ADDRS))
def test_metadata_address(emu: Emulator, connects: list[Any], name: str) -> None:
    value = METADATA_ADDRS[name]
    with pytest.raises(ConfigurationError) as caught:
        Settings.resolve(environ={"YC_METADATA_ADDR": value})
    assert PASSWORD not in f"{caught.value} {caught.value!r}"
    assert "metadata" in str(caught.value).lower()
    assert connects == []


def test_cli_endpoint_option(
    emu: Emulator, connects: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YC_IAM_TOKEN", WRITER_TOKEN)
    problems: dict[str, list[str]] = {}
    for name, (url, _) in endpoints(emu.url).items():
        out, err = io.StringIO(), io.StringIO()
        code = cli.main(["get", "--endpoint", url, "abc"], out, err)
        found = []
        if code != cli.EXIT_USAGE:  # an endpoint problem is a usage error, never "credentials"
            found.append(f"exit code {code}")
        if PASSWORD in out.getvalue() + err.getvalue():
            found.append("printed the password")
        if out.getvalue() or not err.getvalue().strip():
            found.append(f"stdout {out.getvalue()!r}, stderr {err.getvalue()!r}")
        problems[name] = found
    _report(problems)
    assert connects == []
    assert emu.backend.requests() == []


# -- tokens --------------------------------------------------------------------------------


HOSTILE_TOKENS = {
    "CRLF header injection": "t1.abc\r\nX-Injected: 1.def",
    "LF": "t1.abc\n.def",
    "NUL": "t1.abc\x00.def",
    "non-Latin-1": "t1.abc\u20ac.def",
    "emoji": "t1.\U0001f511.def",
    "smart quotes": "\u201ct1.abc.def\u201d",
}


@pytest.mark.parametrize("name", list(HOSTILE_TOKENS))
def test_token_http_cannot_carry(emu: Emulator, name: str) -> None:
    """Refused with a typed, non-retried error; nothing reaches the service; the token stays out."""
    token = HOSTILE_TOKENS[name]
    client = emu.track(explicit_client(emu.url, IamToken(token), environ=emu.env, timeout=5))
    with pytest.raises(ConfigurationError) as caught:
        client.get("abc")
    error = caught.value
    assert emu.backend.requests() == []
    for text in (str(error), repr(error), repr(error.__cause__), repr(error.__context__)):
        assert token.strip() not in text
        assert "abc\r" not in text
    assert "token" in str(error)


def test_token_http_cannot_carry_through_the_cli(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = HOSTILE_TOKENS["CRLF header injection"]
    monkeypatch.setenv("YC_IAM_TOKEN", token)
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["get", "--endpoint", emu.url, "abc"], out, err)
    assert code == cli.EXIT_CREDENTIALS
    assert "X-Injected" not in err.getvalue()
    assert emu.backend.requests() == []


# -- key files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    ["", "not json", "[]", '{"id": 1}', json.dumps({"id": "a", "service_account_id": "b"})],
)
def test_broken_key_file(emu: Emulator, tmp_path: Any, content: str) -> None:
    path = tmp_path / "key.json"
    path.write_text(content)
    with pytest.raises(ConfigurationError) as caught:
        environment_client(environ={**emu.env, "YC_SERVICE_ACCOUNT_KEY_FILE": str(path)})
    assert "key" in str(caught.value)


_ENDLESS_KEY_FILE = textwrap.dedent(
    """
    import resource, sys
    from pulumi_yc_websocket import ConfigurationError, Settings
    from pulumi_yc_websocket._auth import credentials_for
    limit = 768 << 20  # address space: the endless read fails here, not the machine
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    print("ready", flush=True)
    env = {"YC_SERVICE_ACCOUNT_KEY_FILE": "/dev/zero", "YC_METADATA_ADDR": sys.argv[1]}
    settings = Settings.resolve(environ=env)
    try:
        credentials_for(settings)
    except ConfigurationError as error:
        print("refused:", error)
    """
)


def test_endless_key_file_is_refused(emu: Emulator) -> None:
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    result = subprocess.run(
        [sys.executable, "-c", _ENDLESS_KEY_FILE, emu.metadata_addr],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "ready" in result.stdout, f"the probe could not start: {result.stderr[-500:]}"
    assert result.returncode == 0, result.stderr[-500:]
    assert "refused:" in result.stdout


# -- URLs that parsers read differently --------------------------------------------------------

PARSER_SPLITS = {
    "backslash before a bracketed loopback": "http://evil.example\\[::1]",
    "backslash before a loopback port": "http://evil.example\\@127.0.0.1:8080",
    "NUL host": "https://\x00",
    "trailing backslash": "https://api.example.net\\",
    "tab in the host": "http://127.0.0.1\t.evil.example",
    "newline in the host": "https://api.example.net\n.evil.example",
    "space in the host": "https://api.example.net .evil.example",
    "fullwidth digits": "http://\uff11\uff12\uff17.0.0.1:8080",
    "percent-encoded host": "http://127.0.0.1%2f.evil.example",
    "DEL": "https://api.example.net\x7f",
}


def test_the_parser_split_is_real(network_violations: list[str]) -> None:
    """Why these are refused: urllib.parse and urllib3 read two different hosts."""
    import urllib.parse

    import urllib3

    url = PARSER_SPLITS["backslash before a bracketed loopback"]
    assert urllib.parse.urlsplit(url).hostname == "::1"
    with pytest.raises(urllib3.exceptions.HTTPError):
        urllib3.PoolManager().request("GET", url, retries=False, timeout=0.5)
    found = list(network_violations)
    network_violations.clear()
    assert found == ["name lookup of 'evil.example'"]


@pytest.mark.parametrize("name", list(PARSER_SPLITS))
def test_urls_parsers_read_differently_are_refused_before_connecting(
    emu: Emulator, connects: list[Any], monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """Client argument, environment and CLI: a configuration error, and no dial anywhere."""
    url = PARSER_SPLITS[name]
    errors: list[BaseException] = []
    with pytest.raises(InsecureEndpointError) as caught:
        explicit_client(url, IamToken(WRITER_TOKEN), environ=emu.env)
    errors.append(caught.value)
    for variable in ("YC_APIGATEWAY_CONNECTIONS_ENDPOINT", "YC_IAM_ENDPOINT"):
        with pytest.raises(InsecureEndpointError) as caught:
            environment_client(environ={**emu.env, "YC_IAM_TOKEN": WRITER_TOKEN, variable: url})
        errors.append(caught.value)
    for error in errors:
        assert "endpoint" in str(error)
        assert str(error).isprintable(), repr(str(error))
        assert error.__context__ is None
    monkeypatch.setenv("YC_IAM_TOKEN", WRITER_TOKEN)
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["get", "--endpoint", url, "abc"], out, err) == cli.EXIT_USAGE
    assert err.getvalue().count("\n") == 1
    assert connects == []
    assert emu.backend.requests() == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "https://\x00",
            "connections endpoint 'https://\\x00' holds the character U+0000, which URL "
            "parsers read differently; remove it",
        ),
        (
            "https://api.example.net\\",
            "connections endpoint 'https://api.example.net\\\\' holds a backslash, which URL "
            "parsers read differently; remove it",
        ),
    ],
)
def test_unparsable_endpoints_say_what_to_fix(url: str, message: str) -> None:
    with pytest.raises(InsecureEndpointError) as caught:
        explicit_client(url, IamToken(WRITER_TOKEN), environ={})
    assert str(caught.value) == message


# -- passwords that hold URL delimiters ------------------------------------------------------


@pytest.mark.parametrize("delimiter", ["/", "?", "#", "@", "\\", ":", "[", "%2F"])
def test_passwords_holding_url_delimiters_are_never_echoed(
    emu: Emulator, connects: list[Any], monkeypatch: pytest.MonkeyPatch, delimiter: str
) -> None:
    """Wherever parsers think the userinfo ends, no part of the password is shown."""
    before, after = "Pa55LEAKpartOne", "partTwoLEAK"
    userinfo = f"admin:{before}{delimiter}{after}@"
    shown: list[str] = []

    def refused(**kwargs: Any) -> None:
        build = explicit_client if "credentials" in kwargs else environment_client
        with pytest.raises(ConfigurationError) as caught:
            build(**kwargs)
        chained = caught.value.__cause__ or caught.value.__context__
        shown.extend([str(caught.value), repr(caught.value), repr(chained)])

    url = f"https://{userinfo}api.example.net"
    refused(endpoint=url, credentials=IamToken(WRITER_TOKEN), environ=emu.env)  # explicit
    base = {**emu.env, "YC_IAM_TOKEN": WRITER_TOKEN}
    # YC_ENDPOINT is read only to derive the service endpoints that are not set, the metadata
    # address only when no credential is set.
    derived = {"YC_IAM_TOKEN": WRITER_TOKEN, "YC_METADATA_ADDR": emu.metadata_addr}
    for environ in (
        {**base, "YC_APIGATEWAY_CONNECTIONS_ENDPOINT": url},
        {**base, "YC_IAM_ENDPOINT": url},
        {**derived, "YC_ENDPOINT": url},
        {**derived, "YC_ENDPOINT": f"{userinfo}api.example.net:443"},
        {**emu.env, "YC_METADATA_ADDR": f"{userinfo}169.254.169.254"},
        {**emu.env, "YC_METADATA_ADDR": f"http://{userinfo}169.254.169.254"},
    ):
        refused(environ=environ)
    monkeypatch.setenv("YC_IAM_TOKEN", WRITER_TOKEN)
    for argv in (["--endpoint", url], []):
        if not argv:
            for variable in ("YC_APIGATEWAY_CONNECTIONS_ENDPOINT", "YC_IAM_ENDPOINT"):
                monkeypatch.delenv(variable)
            monkeypatch.setenv("YC_ENDPOINT", url)
        out, err = io.StringIO(), io.StringIO()
        assert cli.main(["get", *argv, "abc"], out, err) != cli.EXIT_OK
        shown += [out.getvalue(), err.getvalue()]
    leaked = [text for text in shown if before in text or after in text]
    assert leaked == []
    assert connects == []


# -- proxies -----------------------------------------------------------------------------------

REMOTE_PROXY = "http://192.0.2.10:3128"
"""TEST-NET-1, never routed; the network guard refuses it anyway, and fails the test."""


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
@pytest.mark.parametrize("source", ["environ argument", "process environment"])
def test_a_proxy_never_sees_the_token_sent_to_a_loopback_endpoint(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch, variable: str, source: str
) -> None:
    """The issue's case: HTTP_PROXY set, endpoint http://127.0.0.1: the lookup goes direct."""
    emu.backend.add_connection(id="abc")
    if source == "environ argument":
        client = explicit_client(
            emu.url, IamToken(WRITER_TOKEN), environ={**emu.env, variable: REMOTE_PROXY}
        )
    else:
        monkeypatch.setenv(variable, REMOTE_PROXY)
        monkeypatch.setenv("YC_IAM_TOKEN", WRITER_TOKEN)
        client = environment_client()
    with emu.track(client):
        assert client.get("abc").id == "abc"
    (request,) = emu.backend.requests()
    assert request.headers["Authorization"] == f"Bearer {WRITER_TOKEN}"


def test_plain_http_metadata_through_a_proxy_is_refused(emu: Emulator) -> None:
    """A metadata address that is neither loopback nor link-local, and a proxy: nothing sent."""
    environ = {**emu.env, "YC_METADATA_ADDR": "metadata.internal", "HTTP_PROXY": REMOTE_PROXY}
    client = emu.track(environment_client(environ=environ, timeout=2))
    with pytest.raises(InsecureProxyError) as caught:
        client.get("abc")
    assert "NO_PROXY" in str(caught.value)
    assert caught.value.__context__ is None
    assert emu.backend.requests() == []
