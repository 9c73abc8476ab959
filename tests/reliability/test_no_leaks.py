"""Credentials never leak: distinctive secrets are searched for wherever text comes out.

Secrets: an IAM token, an OAuth token, a service-account private key (its base64 lines), the
JWT signed with it and the IAM tokens the emulator minted (both captured from the emulator's
request log). Places searched: messages, reprs, tracebacks, pickles and attributes of every
error, and of every error chained to it (file names, documents, validation inputs included);
reprs of clients, credentials and settings; every log record at DEBUG (urllib3 and the
emulator included); CLI stdout/stderr; the serialized provider; and, through the engine
stand-in, the stack state and the provider process's stderr. Servers that quote the request
back (Authorization header, OAuth token, JWT) come from ``_raw_server.RawServer``.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import pickle
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pulumi_yc_websocket import ConnectionsClient, HttpTransport, Settings
from pulumi_yc_websocket import _cli as cli
from pulumi_yc_websocket._errors import ConfigurationError, YandexWebSocketError
from pulumi_yc_websocket._retry import RetryPolicy
from pulumi_yc_websocket._runtime import RUNTIME
from pulumi_yc_websocket.emulator import (
    Delay,
    Drop,
    EmulatorServer,
    NotJson,
    Oversized,
    Redirect,
    Status,
    Truncated,
)
from tests.support.clients import environment_client
from tests.support.emulator import WRITER_ROLE, Emulator, start_server

from ._raw_server import RawServer, Respond, head

IAM_SECRET = "t1.9euelZqLEAKCANARYiamTokenAAAAAAAA.LEAKCANARYiamSignatureBBBBBBBBBBBBBBBBBB"
OAUTH_SECRET = "y0_AgAAAAALEAKCANARYoauthTokenCCCCCCCCCCCCCCCCCCCC"
BROKEN_KEY_MATERIAL = "LEAKCANARYbrokenPrivateKeyMaterialDDDDDDDDDDDD"
CONNECTION_ID = "leak-connection-0001"
FAST = RetryPolicy(initial=0.001, maximum=0.005)


@dataclass
class Secrets:
    """Everything that must never come out, gathered as the test goes."""

    values: set[str] = field(default_factory=set)

    def add(self, value: str) -> None:
        if value and len(value) >= 16:
            self.values.add(value)

    def add_private_key(self, pem: str) -> None:
        for line in pem.splitlines():
            if line and not line.startswith(("-----", "PLEASE")):
                self.add(line)

    def add_from_log(self, emu: Emulator) -> None:
        """Tokens and JWTs the client sent (exchanged tokens, signed JWTs, metadata tokens)."""
        for request in emu.backend.requests():
            authorization = request.headers.get("authorization") or ""
            self.add(authorization.removeprefix("Bearer ").strip())
            if request.service == "iam" and request.body:
                try:
                    payload = json.loads(request.body)
                except ValueError:
                    continue
                if isinstance(payload, dict):
                    jwt = payload.get("jwt")
                    if isinstance(jwt, str):
                        self.add(jwt)
                        self.add(jwt.rsplit(".", 1)[-1])  # the signature alone


@dataclass
class Surfaces:
    """Text that came out, with where it came from."""

    texts: list[tuple[str, str]] = field(default_factory=list)

    def add(self, where: str, text: Any) -> None:
        if isinstance(text, bytes):
            text = text.decode("latin-1")
        self.texts.append((where, str(text)))

    def add_error(self, where: str, error: BaseException) -> None:
        self.add(f"{where}: str", str(error))
        self.add(f"{where}: repr", repr(error))
        self.add(f"{where}: traceback", "".join(traceback.format_exception(error)))
        self.add(f"{where}: attributes", repr(vars(error)))
        self.add(f"{where}: args", repr(error.args))
        try:
            self.add(f"{where}: pickle", pickle.dumps(error))
        except Exception as exc:  # an unpicklable error is a finding of its own
            self.add(f"{where}: pickle failed", repr(exc))
        chained: BaseException | None = error.__cause__ or error.__context__
        depth = 0
        while chained is not None and depth < 10:
            name = f"{where}: chained {type(chained).__name__}"
            self.add(name, repr(chained))
            # What a repr leaves out: an OSError's file name, a JSONDecodeError's document,
            # the inputs of a pydantic ValidationError.
            self.add(f"{name} attributes", repr(getattr(chained, "__dict__", {})))
            for attribute in ("filename", "filename2", "doc"):
                self.add(f"{name} {attribute}", repr(getattr(chained, attribute, None)))
            errors = getattr(chained, "errors", None)
            if callable(errors):
                try:
                    self.add(f"{name} errors()", repr(errors()))
                except Exception as exc:
                    self.add(f"{name} errors() failed", repr(exc))
            chained = chained.__cause__ or chained.__context__
            depth += 1

    def add_logs(self, records: list[logging.LogRecord]) -> None:
        formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
        for record in records:
            self.add(f"log {record.name}", formatter.format(record))
            self.add(f"log {record.name} args", repr(record.args))

    def leaks(self, secrets: Secrets) -> list[str]:
        found = []
        for where, text in self.texts:
            for secret in secrets.values:
                if secret in text:
                    found.append(f"{where} contains {secret[:12]}…")
        return found


@dataclass
class LeakSetup:
    emu: Emulator
    key: dict[str, str]
    key_path: Path
    secrets: Secrets
    surfaces: Surfaces
    elsewhere: EmulatorServer

    def environ(self, kind: str) -> dict[str, str]:
        env = dict(self.emu.env)
        if kind == "iam token":
            env["YC_IAM_TOKEN"] = IAM_SECRET
        elif kind == "oauth token":
            env["YC_TOKEN"] = OAUTH_SECRET
        elif kind == "key file":
            env["YC_SERVICE_ACCOUNT_KEY_FILE"] = str(self.key_path)
        elif kind == "key json":
            env["YC_SERVICE_ACCOUNT_KEY_FILE"] = json.dumps(self.key)
        return env  # "metadata": no credential at all


KINDS = ["iam token", "oauth token", "key file", "key json", "metadata"]


@pytest.fixture
def leak(emu: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Iterator[LeakSetup]:
    backend = emu.backend
    backend.add_iam_token(IAM_SECRET, roles=[WRITER_ROLE])
    backend.add_oauth_token(OAUTH_SECRET, roles=[WRITER_ROLE])
    backend.set_metadata_roles([WRITER_ROLE])
    key = backend.create_service_account_key(roles=[WRITER_ROLE])
    key_path = tmp_path / "authorized_key.json"
    key_path.write_text(json.dumps(key))
    backend.add_connection(
        id=CONNECTION_ID, gateway_id="d5dleak0000000000001", source_ip="192.0.2.7"
    )
    secrets = Secrets()
    for value in (IAM_SECRET, OAUTH_SECRET, BROKEN_KEY_MATERIAL):
        secrets.add(value)
    secrets.add_private_key(key["private_key"])
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")
    elsewhere = start_server()
    setup = LeakSetup(emu, key, key_path, secrets, Surfaces(), elsewhere)
    try:
        yield setup
    finally:
        elsewhere.stop()


def finish(setup: LeakSetup, caplog: pytest.LogCaptureFixture) -> None:
    setup.secrets.add_from_log(setup.emu)
    setup.surfaces.add_logs(caplog.records)
    assert len(setup.secrets.values) >= 6
    assert setup.surfaces.leaks(setup.secrets) == []


def connection_faults(setup: LeakSetup) -> list[tuple[str, Callable[[], None]]]:
    """Faults of the Connection service, each set up before one lookup."""
    faults = setup.emu.backend.faults
    other = f"{setup.elsewhere.url}/apigateways/websocket/v1/connections/{CONNECTION_ID}"
    return [
        ("401 twice", lambda: faults.push("connections", Status(401, 16, "Unauthorized"), 2)),
        ("403", lambda: faults.push("connections", Status(403, 7, "Permission denied"))),
        ("404", lambda: faults.push("connections", Status(404, 5, "Not found"))),
        ("400", lambda: faults.push("connections", Status(400, 3, "Invalid"))),
        ("429", lambda: faults.push("connections", Status(429, 8, retry_after="0"), 5)),
        ("503", lambda: faults.push("connections", Status(503, 14), 5)),
        ("drop", lambda: faults.push("connections", Drop(after_headers=True), 5)),
        ("truncated", lambda: faults.push("connections", Truncated())),
        ("html 200", lambda: faults.push("connections", NotJson(200))),
        ("oversized", lambda: faults.push("connections", Oversized(1 << 20))),
        ("redirect", lambda: faults.push("connections", Redirect(other, 307))),
    ]


def iam_faults(setup: LeakSetup) -> list[tuple[str, Callable[[], None]]]:
    """Faults of the IAM exchange (or metadata), each set up after clearing the token cache."""
    faults = setup.emu.backend.faults
    elsewhere = f"{setup.elsewhere.url}/iam/v1/tokens"
    result = []
    for service in ("iam", "metadata"):
        result += [
            (f"{service} 401", lambda s=service: faults.push(s, Status(401, 16))),
            (f"{service} 503", lambda s=service: faults.push(s, Status(503, 14), 5)),
            (f"{service} html", lambda s=service: faults.push(s, NotJson(200))),
            (f"{service} truncated", lambda s=service: faults.push(s, Truncated())),
            (f"{service} redirect", lambda s=service: faults.push(s, Redirect(elsewhere, 302))),
        ]
    return result


@pytest.mark.parametrize("kind", KINDS)
def test_client_errors_reprs_and_logs(
    leak: LeakSetup, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    surfaces = leak.surfaces
    environ = leak.environ(kind)
    settings = Settings.resolve(environ=environ)
    client = leak.emu.track(
        ConnectionsClient.from_settings(
            settings, transport=HttpTransport(environ=environ), timeout=3.0, retry=FAST
        )
    )
    for where, text in (
        ("client", repr(client)),
        ("client vars", repr(vars(client))),
        ("credentials", repr(client.credentials)),
        ("credentials str", str(client.credentials)),
        ("settings", repr(settings)),
        ("settings str", str(settings)),
        ("credential source", repr(settings.credential)),
        ("credential source str", str(settings.credential)),
        ("description", client.credentials.description),
    ):
        surfaces.add(where, text)
    surfaces.add("found", repr(client.get(CONNECTION_ID)))

    for name, arrange in connection_faults(leak):
        arrange()
        try:
            client.get(CONNECTION_ID)
        except YandexWebSocketError as error:
            surfaces.add_error(name, error)
        leak.emu.backend.faults.clear()

    if kind != "iam token":
        for name, arrange in iam_faults(leak):
            RUNTIME.token_cache.clear()
            arrange()
            try:
                client.get(CONNECTION_ID)
            except YandexWebSocketError as error:
                surfaces.add_error(name, error)
            leak.emu.backend.faults.clear()

    # A deadline passing mid-exchange or mid-lookup, on a second server over the same backend:
    # the delayed answer is logged after this test, and must land in this test's backend.
    RUNTIME.token_cache.clear()
    with EmulatorServer(leak.emu.backend) as slow_server:
        environ = leak.environ(kind)
        for name in ("YC_APIGATEWAY_CONNECTIONS_ENDPOINT", "YC_IAM_ENDPOINT"):
            environ[name] = slow_server.url
        environ["YC_METADATA_ADDR"] = f"{slow_server.host}:{slow_server.port}"
        slow = leak.emu.track(environment_client(environ=environ, timeout=0.3, retry=FAST))
        for service in ("connections", "iam", "metadata"):
            leak.emu.backend.faults.push(service, Delay(0.6))  # type: ignore[arg-type]
        with pytest.raises(YandexWebSocketError) as caught:
            slow.get(CONNECTION_ID)
        slow.close()
    surfaces.add_error("deadline", caught.value)
    finish(leak, caplog)
    if kind.startswith("key"):
        assert any(value.startswith("eyJ") for value in leak.secrets.values), "no JWT captured"
    if kind != "iam token":
        assert any(v.startswith("t1.") and v != IAM_SECRET for v in leak.secrets.values)


def test_the_search_finds_a_planted_secret(leak: LeakSetup) -> None:
    """The search itself works: a secret hidden in a chained error's repr is found."""
    try:
        try:
            raise ValueError(f"header {OAUTH_SECRET}")
        except ValueError:
            raise YandexWebSocketError("outer") from None
    except YandexWebSocketError as error:
        leak.surfaces.add_error("planted", error)
    assert leak.surfaces.leaks(leak.secrets) == [
        f"planted: chained ValueError contains {OAUTH_SECRET[:12]}…"
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_cli_output(
    leak: LeakSetup, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    for name, value in leak.environ(kind).items():
        monkeypatch.setenv(name, value)
    runs: list[tuple[str, Callable[[], None] | None, list[str]]] = [
        ("table", None, []),
        ("json", None, ["--output", "json"]),
    ]
    # The client test goes through every fault; the CLI prints str(error): a sample suffices.
    sample = {"401 twice", "403", "404", "503", "redirect", "html 200"}
    sample |= {"iam 401", "iam 503", "iam redirect", "metadata 401", "metadata redirect"}
    runs += [(n, arrange, []) for n, arrange in connection_faults(leak) if n in sample]
    if kind != "iam token":
        runs += [(n, arrange, []) for n, arrange in iam_faults(leak) if n in sample]
    for name, arrange, extra in runs:
        RUNTIME.reset()
        if arrange is not None:
            arrange()
        out, err = io.StringIO(), io.StringIO()
        # A short deadline ends retries of exhausting faults early (the CLI's default backoff).
        timeout = "5" if arrange is None else "0.4"
        code = cli.main(["get", CONNECTION_ID, "--timeout", timeout, *extra], out, err)
        leak.emu.backend.faults.clear()
        leak.surfaces.add(f"cli {name} stdout (exit {code})", out.getvalue())
        leak.surfaces.add(f"cli {name} stderr (exit {code})", err.getvalue())
    finish(leak, caplog)


def test_configuration_errors(leak: LeakSetup, caplog: pytest.LogCaptureFixture) -> None:
    env = leak.emu.env
    key_json = json.dumps(leak.key)
    broken_pem = f"-----BEGIN PRIVATE KEY-----\n{BROKEN_KEY_MATERIAL}\n-----END PRIVATE KEY-----\n"
    broken_key = json.dumps({**leak.key, "private_key": broken_pem})
    cases: list[tuple[str, dict[str, Any]]] = [
        ("IAM + OAuth", {"environ": {**env, "YC_IAM_TOKEN": IAM_SECRET, "YC_TOKEN": OAUTH_SECRET}}),
        (
            "token + key",
            {"environ": {**env, "YC_TOKEN": OAUTH_SECRET, "YC_SERVICE_ACCOUNT_KEY_FILE": key_json}},
        ),
        (
            "config token + key",
            {
                "environ": env,
                "config": {"yandex:token": IAM_SECRET, "yandex:serviceAccountKeyFile": key_json},
            },
        ),
        ("broken key", {"environ": {**env, "YC_SERVICE_ACCOUNT_KEY_FILE": broken_key}}),
        (
            "key not JSON",
            {"environ": {**env, "YC_SERVICE_ACCOUNT_KEY_FILE": "{" + BROKEN_KEY_MATERIAL}},
        ),
        ("key is the PEM", {"environ": {**env, "YC_SERVICE_ACCOUNT_KEY_FILE": broken_pem}}),
        (
            "key lacks fields",
            {
                "environ": {
                    **env,
                    "YC_SERVICE_ACCOUNT_KEY_FILE": json.dumps({"private_key": broken_pem}),
                }
            },
        ),
    ]
    for name, kwargs in cases:
        with pytest.raises(ConfigurationError) as caught:
            environment_client(**kwargs)
        leak.surfaces.add_error(name, caught.value)
    assert leak.emu.backend.requests() == []
    finish(leak, caplog)


# -- the provider ----------------------------------------------------------------------------


def _decoded_providers(value: Any) -> Iterator[bytes]:
    """Every serialized ``__provider`` inside a state/property structure, decoded."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "__provider" and isinstance(item, str):
                yield base64.b64decode(item)
            else:
                yield from _decoded_providers(item)
    elif isinstance(value, list):
        for item in value:
            yield from _decoded_providers(item)


def test_serialized_provider_holds_no_credential(
    leak: LeakSetup, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The provider is pickled into every resource's state: after configure and lookups too."""
    from pulumi.dynamic import ConfigureRequest
    from pulumi.dynamic.config import Config
    from pulumi.dynamic.dynamic import serialize_provider

    from pulumi_yc_websocket import _resource as resource_module
    from pulumi_yc_websocket import provider as provider_module

    for name, value in leak.environ("key json").items():
        monkeypatch.setenv(name, value)
    provider = provider_module.WebSocketConnectionProvider()
    config = {
        "yandex:token": OAUTH_SECRET,
        "yc-websocket:connectionsEndpoint": leak.emu.url,
        "yc-websocket:iamEndpoint": leak.emu.url,
        "other:password": IAM_SECRET,
    }
    provider.configure(ConfigureRequest(Config(config, "test")))
    result = provider.check({}, {"connectionId": CONNECTION_ID})
    assert result.failures == []
    leak.surfaces.add("check inputs", repr(result.inputs))
    missing = provider.check({}, {"connectionId": "not-there"})
    leak.surfaces.add("check failure", repr(missing.failures))
    leak.surfaces.add("read", repr(provider.read(CONNECTION_ID, {"connectionId": CONNECTION_ID})))
    for where, instance in (
        ("provider", provider),
        ("resource _PROVIDER", resource_module._PROVIDER),
    ):
        serialized = serialize_provider(instance)
        leak.surfaces.add(f"{where} serialized", serialized)
        leak.surfaces.add(f"{where} pickle", base64.b64decode(serialized))
        leak.surfaces.add(f"{where} vars", repr(vars(instance)))
    finish(leak, caplog)


# -- servers that quote the request back -----------------------------------------------------


def echo(status: str, form: str) -> Respond:
    """An error answer quoting the whole request: as a google.rpc.Status, as HTML, in headers."""

    def respond(sock: Any, request: bytes) -> None:
        text = request.decode("latin-1")
        authorization = next(
            (line for line in text.split("\r\n") if line.lower().startswith("authorization:")),
            "Authorization: none",
        )
        if form == "status":
            body = json.dumps(
                {
                    "code": 16,
                    "message": f"rejected, you sent: {text}",
                    "details": [
                        {
                            "@type": "type.googleapis.com/google.rpc.RequestInfo",
                            "requestId": authorization,
                        }
                    ],
                }
            ).encode()
        else:
            body = f"<html><body><pre>{text}</pre></body></html>".encode("latin-1")
        bearer = authorization.split(" ", 2)[-1]
        sock.sendall(head(status, Content_Length=len(body), X_Request_Id=bearer) + body)

    return respond


ECHOES = {
    "401 status": ("401 Unauthorized", "status"),
    "403 status": ("403 Forbidden", "status"),
    "400 html": ("400 Bad Request", "html"),
    "502 html": ("502 Bad Gateway", "html"),
}


@pytest.mark.parametrize("echo_name", list(ECHOES))
@pytest.mark.parametrize("kind", ["iam token", "oauth token", "key json"])
def test_servers_quoting_credentials_back(
    leak: LeakSetup,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    raw_server: Callable[[Respond], RawServer],
    kind: str,
    echo_name: str,
) -> None:
    """The token in Authorization, the OAuth token or JWT in the exchange: never shown again.

    An IAM token goes to the Connection service, which echoes it; the others go to the IAM
    endpoint, which echoes the exchange.
    """
    server = raw_server(echo(*ECHOES[echo_name]))
    environ = leak.environ(kind)
    variable = "YC_APIGATEWAY_CONNECTIONS_ENDPOINT" if kind == "iam token" else "YC_IAM_ENDPOINT"
    environ[variable] = server.url
    client = leak.emu.track(environment_client(environ=environ, timeout=2.0, retry=FAST))
    with pytest.raises(YandexWebSocketError) as caught:
        client.get(CONNECTION_ID)
    assert server.heads, "the server was not reached"
    leak.surfaces.add_error("lookup", caught.value)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    RUNTIME.reset()
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["get", CONNECTION_ID, "--timeout", "2"], out, err)
    leak.surfaces.add(f"cli stdout (exit {code})", out.getvalue())
    leak.surfaces.add(f"cli stderr (exit {code})", err.getvalue())
    if echo_name == "401 status":
        from pulumi.dynamic import ConfigureRequest
        from pulumi.dynamic.config import Config

        from pulumi_yc_websocket import provider as provider_module

        RUNTIME.reset()
        provider = provider_module.WebSocketConnectionProvider()
        config = {
            "yc-websocket:connectionsEndpoint": environ["YC_APIGATEWAY_CONNECTIONS_ENDPOINT"],
            "yc-websocket:iamEndpoint": environ["YC_IAM_ENDPOINT"],
        }
        provider.configure(ConfigureRequest(Config(config, "test")))
        result = provider.check({}, {"connectionId": CONNECTION_ID})
        assert result.failures, "the check did not fail"
        leak.surfaces.add("check failures", repr(result.failures))
    for request in server.heads:
        _, _, body = request.partition(b"\r\n\r\n")
        jwt = json.loads(body).get("jwt") if body.startswith(b"{") else None
        if jwt:
            leak.secrets.add(jwt)
    finish(leak, caplog)


# -- errors chained to ours ------------------------------------------------------------------

MINTED_SECRET = "t1.9euelZqLEAKCANARYmintedByIamEEEE.LEAKCANARYmintedSignatureFFFFFFFFFFFF"


@pytest.mark.parametrize(
    ("service", "body"),
    [
        ("iam", {"iamToken": MINTED_SECRET, "expiresAt": 5}),
        ("iam", {"iamToken": MINTED_SECRET, "expiresAt": "not a time"}),
        ("iam", {"iamToken": MINTED_SECRET}),
        ("metadata", {"access_token": MINTED_SECRET, "expires_in": "soon"}),
        ("connections", {"id": 5, "gatewayId": MINTED_SECRET}),
    ],
    ids=[
        "iam wrong type",
        "iam bad time",
        "iam missing field",
        "metadata wrong type",
        "connection",
    ],
)
def test_invalid_answers_chain_nothing_that_holds_them(
    leak: LeakSetup,
    caplog: pytest.LogCaptureFixture,
    raw_server: Callable[[Respond], RawServer],
    service: str,
    body: dict[str, Any],
) -> None:
    """pydantic's ValidationError holds the input it read: it must not hang off our error."""
    data = json.dumps(body).encode()
    server = raw_server(
        lambda sock, _: sock.sendall(
            head(Content_Type="application/json", Content_Length=len(data)) + data
        )
    )
    kind = {"iam": "oauth token", "metadata": "metadata", "connections": "iam token"}[service]
    environ = leak.environ(kind)
    if service == "metadata":
        environ["YC_METADATA_ADDR"] = server.url.removeprefix("http://")
    else:
        variable = "YC_IAM_ENDPOINT" if service == "iam" else "YC_APIGATEWAY_CONNECTIONS_ENDPOINT"
        environ[variable] = server.url
    client = leak.emu.track(environment_client(environ=environ, timeout=2.0, retry=FAST))
    with pytest.raises(YandexWebSocketError) as caught:
        client.get(CONNECTION_ID)
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None
    leak.secrets.add(MINTED_SECRET)
    leak.surfaces.add_error(service, caught.value)
    finish(leak, caplog)


@pytest.mark.parametrize(
    "value",
    [OAUTH_SECRET, IAM_SECRET, "{" + OAUTH_SECRET, f"/nonexistent/{OAUTH_SECRET}.json"],
    ids=["OAuth token", "IAM token", "broken JSON", "missing file"],
)
def test_a_token_in_the_key_file_variable_is_not_kept_by_the_error(
    leak: LeakSetup, caplog: pytest.LogCaptureFixture, value: str
) -> None:
    """A token put in YC_SERVICE_ACCOUNT_KEY_FILE is read as a path: FileNotFoundError.filename."""
    environ = {**leak.emu.env, "YC_SERVICE_ACCOUNT_KEY_FILE": value}
    with pytest.raises(ConfigurationError) as caught:
        environment_client(environ=environ)
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None
    leak.surfaces.add_error("key file", caught.value)
    finish(leak, caplog)
