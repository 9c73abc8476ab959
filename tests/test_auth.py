"""Credentials against the emulator: IAM, OAuth, service-account keys, metadata, the token cache."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from pathlib import Path
from typing import Any

import jwt
import pytest

from pulumi_yc_websocket._auth import (
    IAM_TOKEN_AUDIENCE,
    IamToken,
    MetadataCredentials,
    OAuthToken,
    ServiceAccountKey,
    credentials_for,
)
from pulumi_yc_websocket._errors import (
    AuthenticationError,
    ConfigurationError,
    CredentialsNotFoundError,
    DeadlineExceededError,
    InvalidResponseError,
)
from pulumi_yc_websocket._retry import Deadline
from pulumi_yc_websocket._settings import CredentialSource, Settings
from pulumi_yc_websocket._token_cache import TokenCache
from pulumi_yc_websocket.emulator import Delay, NotJson, Status

WRITER = "api-gateway.websocketWriter"
OAUTH = "y0_AgAAAAAOAuthSecretForTests0123456789"
CONNECTION_ID = "Ab3dEfGhIjKlMnOp12Qr"
HELP_FRAGMENT = (
    "set YC_IAM_TOKEN (e.g. `export YC_IAM_TOKEN=$(yc iam create-token)`), YC_TOKEN (OAuth) or "
    "YC_SERVICE_ACCOUNT_KEY_FILE, or Pulumi config yc-websocket:token / "
    "yc-websocket:serviceAccountKeyFile"
)


@pytest.fixture
def connection(emulator: Any) -> dict[str, Any]:
    return emulator.add_connection(id=CONNECTION_ID, gateway_id="d5dgateway000000000a")


def bearer(request: Any) -> str:
    header = request.headers.get("Authorization") or ""
    assert header.startswith("Bearer "), request
    return str(header.removeprefix("Bearer "))


def jwt_of(request: Any) -> str:
    body = json.loads(request.body)
    assert set(body) == {"jwt"}
    return str(body["jwt"])


# -- IAM token -------------------------------------------------------------------------------


def test_iam_token_is_sent_as_is(emulator: Any, connection: dict[str, Any]) -> None:
    client = emulator.client_for(environ={**emulator.env, "YC_IAM_TOKEN": f" {emulator.token}\n"})
    assert client.get(CONNECTION_ID).id == CONNECTION_ID
    (request,) = emulator.requests()
    assert request.service == "connections"
    assert request.headers["Authorization"] == f"Bearer {emulator.token}"
    assert client.credentials.refreshable is False
    assert repr(client.credentials) == "IamToken(<the IAM token from YC_IAM_TOKEN>)"


def test_iam_token_object() -> None:
    token = IamToken("  t1.a.b \n", "YC_IAM_TOKEN")
    assert token.token(lambda *a, **k: b"", Deadline(1)) == "t1.a.b"  # type: ignore[arg-type,return-value]
    assert token.description == "the IAM token from YC_IAM_TOKEN"
    token.invalidate("t1.a.b")
    assert token.token(lambda *a, **k: b"", Deadline(1)) == "t1.a.b"  # type: ignore[arg-type,return-value]


# -- OAuth -----------------------------------------------------------------------------------


def test_oauth_token_is_exchanged_for_an_iam_token(
    emulator: Any, connection: dict[str, Any]
) -> None:
    emulator.backend.add_oauth_token(OAUTH, roles=[WRITER])
    client = emulator.client_for(environ={**emulator.env, "YC_TOKEN": OAUTH})
    assert client.get(CONNECTION_ID).gateway_id == "d5dgateway000000000a"

    exchange, lookup = emulator.requests()
    assert (exchange.service, exchange.method, exchange.raw_path) == (
        "iam",
        "POST",
        "/iam/v1/tokens",
    )
    assert json.loads(exchange.body) == {"yandexPassportOauthToken": OAUTH}
    assert exchange.headers["Content-Type"] == "application/json"
    assert "Authorization" not in exchange.headers
    assert exchange.status == 200
    iam_token = bearer(lookup)
    assert iam_token != OAUTH
    assert iam_token.startswith("t1.")
    assert emulator.backend.is_token_valid(iam_token)
    assert client.credentials.refreshable is True


def test_rejected_oauth_token(emulator: Any, connection: dict[str, Any]) -> None:
    client = emulator.client_for(environ={**emulator.env, "YC_TOKEN": OAUTH})
    with pytest.raises(AuthenticationError) as caught:
        client.get(CONNECTION_ID)
    error = caught.value
    assert (error.http_status, error.grpc_code, error.service) == (401, 16, "iam")
    assert error.message == "The OAuth token is invalid"
    assert error.request_id == emulator.requests("iam")[0].request_id
    assert str(error).startswith("The OAuth token from YC_TOKEN was rejected by iam. ")
    assert OAUTH not in str(error)
    assert OAUTH not in repr(error)
    assert emulator.count("iam") == 1
    assert emulator.count("connections") == 0


def test_exchange_is_retried_on_unavailable_iam(emulator: Any, connection: dict[str, Any]) -> None:
    emulator.backend.add_oauth_token(OAUTH)
    emulator.faults.push("iam", Status(503, 14, "IAM is down"))
    client = emulator.client_for(environ={**emulator.env, "YC_TOKEN": OAUTH})
    assert client.get(CONNECTION_ID).id == CONNECTION_ID
    assert [r.status for r in emulator.requests("iam")] == [503, 200]
    assert emulator.retries == 1


def test_unusable_iam_answer(emulator: Any, connection: dict[str, Any]) -> None:
    emulator.backend.add_oauth_token(OAUTH)
    emulator.faults.push("iam", NotJson(http_status=200))
    client = emulator.client_for(environ={**emulator.env, "YC_TOKEN": OAUTH})
    with pytest.raises(InvalidResponseError) as caught:
        client.get(CONNECTION_ID)
    assert caught.value.service == "iam"
    assert caught.value.summary == "the IAM endpoint answered without a usable iamToken/expiresAt"
    assert emulator.count("iam") == 1
    assert emulator.count("connections") == 0


# -- service-account keys --------------------------------------------------------------------


def test_service_account_key_file(
    emulator: Any, connection: dict[str, Any], tmp_path: Path
) -> None:
    key = emulator.backend.create_service_account_key(roles=[WRITER])
    assert key["private_key"].startswith("PLEASE DO NOT REMOVE THIS LINE! Yandex.Cloud SA Key ID")
    path = tmp_path / "key.json"
    path.write_text(json.dumps(key, indent=2), encoding="utf-8")
    client = emulator.client_for(environ={**emulator.env, "YC_SERVICE_ACCOUNT_KEY_FILE": str(path)})
    before = int(time.time())
    assert client.get(CONNECTION_ID).id == CONNECTION_ID
    after = int(time.time())

    exchange, lookup = emulator.requests()
    assert exchange.service == "iam"
    assert exchange.status == 200
    token = jwt_of(exchange)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "PS256"
    assert header["kid"] == key["id"]
    claims = jwt.decode(
        token,
        key["public_key"],
        algorithms=["PS256"],
        audience=IAM_TOKEN_AUDIENCE,
        issuer=key["service_account_id"],
        options={"require": ["iss", "aud", "iat", "exp"]},
    )
    assert claims["aud"] == "https://iam.api.cloud.yandex.net/iam/v1/tokens"
    assert before <= claims["iat"] <= after
    assert 0 < claims["exp"] - claims["iat"] <= 3600
    assert emulator.backend.is_token_valid(bearer(lookup))
    assert repr(client.credentials) == (
        f"ServiceAccountKey(<the key {key['id']} of service account "
        f"{key['service_account_id']} from YC_SERVICE_ACCOUNT_KEY_FILE>)"
    )


@pytest.mark.parametrize("banner", [True, False])
def test_service_account_key_json_text_from_config(
    emulator: Any, connection: dict[str, Any], banner: bool
) -> None:
    key = emulator.backend.create_service_account_key(roles=[WRITER])
    if not banner:
        key["private_key"] = key["private_key"].split("\n", 1)[1]
    client = emulator.client_for(
        config={"yandex:serviceAccountKeyFile": "\n " + json.dumps(key) + "\n"},
        environ=emulator.env,
    )
    assert client.get(CONNECTION_ID).id == CONNECTION_ID
    assert emulator.count("iam", status=200) == 1
    claims = jwt.decode(
        jwt_of(emulator.requests("iam")[0]),
        key["public_key"],
        algorithms=["PS256"],
        audience=IAM_TOKEN_AUDIENCE,
    )
    assert claims["iss"] == key["service_account_id"]


def test_jwt_is_signed_for_the_key(emulator: Any) -> None:
    key = emulator.backend.create_service_account_key(key_id="ajekeyid000000000001")
    credentials = ServiceAccountKey(json.dumps(key), emulator.url, "a test")
    token = credentials.jwt()
    assert jwt.get_unverified_header(token) == {
        "alg": "PS256",
        "typ": "JWT",
        "kid": "ajekeyid000000000001",
    }
    claims = jwt.decode(token, key["public_key"], algorithms=["PS256"], audience=IAM_TOKEN_AUDIENCE)
    assert set(claims) == {"iss", "aud", "iat", "exp"}
    assert claims["exp"] - claims["iat"] == 3600
    other = emulator.backend.create_service_account_key()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, other["public_key"], algorithms=["PS256"], audience=IAM_TOKEN_AUDIENCE)


def test_unknown_service_account_key_is_rejected_by_iam(
    emulator: Any, connection: dict[str, Any]
) -> None:
    key = emulator.backend.create_service_account_key()
    key["id"] = "ajeunknownkey0000000"
    client = emulator.client_for(
        config={"yandex:serviceAccountKeyFile": json.dumps(key)}, environ=emulator.env
    )
    with pytest.raises(AuthenticationError) as caught:
        client.get(CONNECTION_ID)
    assert caught.value.message == "Unknown service account key ajeunknownkey0000000"
    assert "PRIVATE KEY" not in str(caught.value)


CREATE_KEY = "`yc iam key create --service-account-name NAME -o key.json`"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", f"is not valid JSON; create a key with {CREATE_KEY}"),
        (
            '{"service_account_id": "aje1"}',
            "lacks id, private_key; use the JSON that `yc iam key create` writes",
        ),
        (
            '{"id": 5, "service_account_id": "", "private_key": "x"}',
            "lacks id, service_account_id; use the JSON that `yc iam key create` writes",
        ),
    ],
)
def test_bad_key_files(emulator: Any, tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "key.json"
    path.write_text(content, encoding="utf-8")
    # As a file path (named in the message), and as the JSON text itself.
    for value, source in (
        (
            str(path),
            f"the service-account key file {str(path)!r} named by YC_SERVICE_ACCOUNT_KEY_FILE",
        ),
        (content, "the service-account key JSON from YC_SERVICE_ACCOUNT_KEY_FILE"),
    ):
        environ = {**emulator.env, "YC_SERVICE_ACCOUNT_KEY_FILE": value}
        with pytest.raises(ConfigurationError) as caught:
            emulator.client_for(environ=environ)
        assert str(caught.value) == f"{source} {problem}"
    assert emulator.requests() == []


def _key_json(private_key: str) -> str:
    banner = "PLEASE DO NOT REMOVE THIS LINE! Yandex.Cloud SA Key ID <ajekey>\n"
    return json.dumps(
        {"id": "ajekey", "service_account_id": "ajesa", "private_key": banner + private_key}
    )


def _pem(key: Any, password: bytes | None = None) -> str:
    from cryptography.hazmat.primitives import serialization

    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    ).decode()


def _private_keys() -> dict[str, str]:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    return {
        "EC": _pem(ec.generate_private_key(ec.SECP256R1())),
        "Ed25519": _pem(ed25519.Ed25519PrivateKey.generate()),
        "encrypted RSA": _pem(rsa.generate_private_key(65537, 2048), b"hunter2-pass"),
        "not PEM": "PRIVATE-SECRET",
        "banner only": "",
    }


KEY_PROBLEMS = {
    "EC": "is an EC (secp256r1) key, not RSA: IAM takes JWTs signed with PS256, an RSA "
    f"signature; {CREATE_KEY} makes an RSA key",
    "Ed25519": "is an Ed25519 key, not RSA: IAM takes JWTs signed with PS256, an RSA "
    f"signature; {CREATE_KEY} makes an RSA key",
    "encrypted RSA": "is encrypted (password-protected); use the unencrypted RSA key that "
    f"{CREATE_KEY} writes",
    "not PEM": f"is not a PEM private key; use the JSON that {CREATE_KEY} writes",
    "banner only": f"is not a PEM private key; use the JSON that {CREATE_KEY} writes",
}


@pytest.mark.parametrize("kind", list(KEY_PROBLEMS))
def test_unusable_private_keys_say_what_they_are(emulator: Any, tmp_path: Path, kind: str) -> None:
    """One typed line naming the file: no traceback from the JWT library."""
    path = tmp_path / "key.json"
    path.write_text(_key_json(_private_keys()[kind]), encoding="utf-8")
    setting = "Pulumi config yandex:serviceAccountKeyFile"
    for value, source in (
        (str(path), f"the service-account key file {str(path)!r} named by {setting}"),
        (path.read_text("utf-8"), f"the service-account key JSON from {setting}"),
    ):
        with pytest.raises(ConfigurationError) as caught:
            emulator.client_for(config={"yandex:serviceAccountKeyFile": value})
        assert str(caught.value) == f"the private_key in {source} {KEY_PROBLEMS[kind]}"
        assert "PRIVATE" not in str(caught.value)
    assert emulator.requests() == []


@pytest.mark.parametrize(
    "value", ["[1,2]", "[]", "id: x", "x" * 5000, "a\x00b", "y0_AgAAAAAtokenInTheWrongPlace"]
)
def test_a_key_setting_that_is_neither_json_nor_a_file(emulator: Any, value: str) -> None:
    environ = {**emulator.env, "YC_SERVICE_ACCOUNT_KEY_FILE": value}
    with pytest.raises(ConfigurationError) as caught:
        emulator.client_for(environ=environ)
    assert str(caught.value) == (
        "YC_SERVICE_ACCOUNT_KEY_FILE is neither valid JSON of an authorized key nor an existing "
        f"file; give the path of the key file or its JSON (create one with {CREATE_KEY})"
    )
    assert emulator.requests() == []


def test_unreadable_key_file(emulator: Any, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        emulator.client_for(config={"yandex:serviceAccountKeyFile": str(tmp_path)})
    assert str(caught.value) == (
        "cannot read the service-account key file named by Pulumi config "
        "yandex:serviceAccountKeyFile: Is a directory; give a readable path or the key's JSON"
    )
    assert emulator.requests() == []


def test_an_oauth_token_in_yc_iam_token_is_told_to_use_yc_token(
    emulator: Any, connection: dict[str, Any]
) -> None:
    emulator.backend.add_oauth_token(OAUTH, roles=[WRITER])
    client = emulator.client_for(environ={**emulator.env, "YC_IAM_TOKEN": OAUTH})
    with pytest.raises(AuthenticationError) as caught:
        client.get(CONNECTION_ID)
    assert str(caught.value).startswith(
        "The IAM token from YC_IAM_TOKEN was rejected by connections. It does not look like an "
        "IAM token (t1. and two dots): if it is an OAuth token, set it as YC_TOKEN (or Pulumi "
        "config yandex:token) instead, which exchanges it for IAM tokens. (service said: "
    )
    assert OAUTH not in str(caught.value)


def test_a_rejected_iam_shaped_token_keeps_the_expiry_hint(
    emulator: Any, connection: dict[str, Any]
) -> None:
    emulator.backend.expire_token(emulator.token)
    client = emulator.client_for(environ={**emulator.env, "YC_IAM_TOKEN": emulator.token})
    with pytest.raises(AuthenticationError) as caught:
        client.get(CONNECTION_ID)
    assert "The IAM token has expired or is invalid: create a new one" in str(caught.value)
    assert "YC_TOKEN" not in str(caught.value)


# -- metadata --------------------------------------------------------------------------------


def test_metadata_token(emulator: Any, connection: dict[str, Any]) -> None:
    emulator.backend.set_metadata_roles([WRITER])
    client = emulator.client_for(environ=emulator.env)
    assert isinstance(client.credentials, MetadataCredentials)
    assert client.get(CONNECTION_ID).id == CONNECTION_ID
    assert client.get(CONNECTION_ID).id == CONNECTION_ID

    metadata, first, second = emulator.requests()
    assert (metadata.service, metadata.method, metadata.raw_path, metadata.status) == (
        "metadata",
        "GET",
        "/computeMetadata/v1/instance/service-accounts/default/token",
        200,
    )
    assert metadata.headers["Metadata-Flavor"] == "Google"
    assert "Authorization" not in metadata.headers
    assert bearer(first) == bearer(second) != emulator.token
    assert emulator.backend.is_token_valid(bearer(first))
    assert repr(client.credentials) == (
        "MetadataCredentials(<the VM's service account (metadata service)>)"
    )


def test_metadata_without_service_account(emulator: Any, connection: dict[str, Any]) -> None:
    client = emulator.client_for(environ=emulator.env)
    with pytest.raises(CredentialsNotFoundError) as caught:
        client.get(CONNECTION_ID)
    message = str(caught.value)
    attach = "attach one to the VM (`yc compute instance update --service-account-name`)"
    assert message == (
        f"this VM has no service account attached: {attach}, or {HELP_FRAGMENT} "
        "(`pulumi config set --secret yc-websocket:token ...`; Python programs also read "
        "yandex:token / yandex:serviceAccountKeyFile)"
    )
    assert message.count("service account attached") == 1
    assert [(r.service, r.status) for r in emulator.requests()] == [("metadata", 404)]


def test_metadata_unreachable(emulator: Any, connection: dict[str, Any], closed_port: int) -> None:
    client = emulator.client_for(
        environ={**emulator.env, "YC_METADATA_ADDR": f"127.0.0.1:{closed_port}"}
    )
    started = time.monotonic()
    with pytest.raises(CredentialsNotFoundError) as caught:
        client.get(CONNECTION_ID)
    assert time.monotonic() - started < 2.0
    message = str(caught.value)
    assert message.startswith("no credential is configured and no VM metadata service answered; ")
    assert HELP_FRAGMENT in message
    assert emulator.requests() == []


def test_process_environment_reaches_the_emulator_metadata(
    emulator: Any, connection: dict[str, Any]
) -> None:
    # The autouse fixture points YC_METADATA_ADDR at the emulator: nothing leaves loopback.
    emulator.backend.set_metadata_roles([WRITER])
    settings = Settings.resolve(connections_endpoint=emulator.url)
    assert settings.metadata_addr == emulator.metadata_addr
    client = emulator.client(credentials_for(settings), endpoint=emulator.url)
    assert client.get(CONNECTION_ID).id == CONNECTION_ID
    assert emulator.count("metadata", status=200) == 1


# -- the process-wide cache ------------------------------------------------------------------


def test_one_exchange_per_token_lifetime_shared_by_clients(
    emulator: Any, connection: dict[str, Any]
) -> None:
    emulator.backend.add_oauth_token(OAUTH)
    environ = {**emulator.env, "YC_TOKEN": OAUTH}
    first = emulator.client_for(environ=environ)
    for _ in range(3):
        first.get(CONNECTION_ID)
    second = emulator.client_for(environ=environ)
    second.get(CONNECTION_ID)
    assert emulator.count("iam") == 1
    assert emulator.count("connections", status=200) == 4
    assert len({bearer(r) for r in emulator.requests("connections")}) == 1


def test_different_credentials_do_not_share_tokens(
    emulator: Any, connection: dict[str, Any]
) -> None:
    emulator.backend.add_oauth_token(OAUTH)
    emulator.backend.add_oauth_token(OAUTH + "2")
    emulator.client_for(environ={**emulator.env, "YC_TOKEN": OAUTH}).get(CONNECTION_ID)
    emulator.client_for(environ={**emulator.env, "YC_TOKEN": OAUTH + "2"}).get(CONNECTION_ID)
    assert emulator.count("iam") == 2
    assert len({bearer(r) for r in emulator.requests("connections")}) == 2


def test_renewal_shortly_before_expiry_with_a_clock(
    emulator: Any, connection: dict[str, Any]
) -> None:
    emulator.backend.add_oauth_token(OAUTH)
    emulator.backend.iam_token_ttl = 100.0
    now = [1_000_000.0]
    cache = TokenCache(clock=lambda: now[0])
    client = emulator.client(credentials=OAuthToken(OAUTH, emulator.url, "a test", cache))
    client.get(CONNECTION_ID)
    old = bearer(emulator.requests("connections")[-1])

    now[0] += 89.0  # renewal is due 10% (10 s) before the 100 s lifetime ends
    client.get(CONNECTION_ID)
    assert emulator.count("iam") == 1
    now[0] += 1.5
    assert emulator.backend.is_token_valid(old)  # still valid: renewed *before* expiry
    client.get(CONNECTION_ID)
    assert emulator.count("iam") == 2
    new = bearer(emulator.requests("connections")[-1])
    assert new != old


def test_renewal_margin_is_at_most_five_minutes(emulator: Any, connection: dict[str, Any]) -> None:
    emulator.backend.add_oauth_token(OAUTH)  # default TTL: 12 hours
    now = [0.0]
    cache = TokenCache(clock=lambda: now[0])
    client = emulator.client(credentials=OAuthToken(OAUTH, emulator.url, "a test", cache))
    client.get(CONNECTION_ID)
    now[0] = 12 * 3600 - 301
    client.get(CONNECTION_ID)
    assert emulator.count("iam") == 1
    now[0] = 12 * 3600 - 299
    client.get(CONNECTION_ID)
    assert emulator.count("iam") == 2


def test_renewal_with_a_short_real_lifetime(emulator: Any, connection: dict[str, Any]) -> None:
    emulator.backend.add_oauth_token(OAUTH)
    emulator.backend.iam_token_ttl = 2.0  # renewal due at 1.8 s, expiry at 2.0 s
    client = emulator.client_for(environ={**emulator.env, "YC_TOKEN": OAUTH})
    client.get(CONNECTION_ID)
    client.get(CONNECTION_ID)
    assert emulator.count("iam") == 1
    time.sleep(1.85)
    client.get(CONNECTION_ID)
    assert emulator.count("iam") == 2
    statuses = [r.status for r in emulator.requests("connections")]
    assert statuses == [200, 200, 200]


def test_sixteen_threads_share_one_exchange(emulator: Any, connection: dict[str, Any]) -> None:
    emulator.backend.add_oauth_token(OAUTH)
    emulator.faults.push("iam", Delay(0.3))  # the exchange is slow: everyone waits for it
    environ = {**emulator.env, "YC_TOKEN": OAUTH}
    clients = [emulator.client_for(environ=environ) for _ in range(16)]
    barrier = threading.Barrier(16)
    results: list[str] = []
    errors: list[BaseException] = []

    def lookup(index: int) -> None:
        barrier.wait()
        try:
            results.append(clients[index].get(CONNECTION_ID).id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=lookup, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == []
    assert results == [CONNECTION_ID] * 16
    assert emulator.count("iam") == 1
    assert emulator.count("connections", status=200) == 16
    assert len({bearer(r) for r in emulator.requests("connections")}) == 1


def test_concurrent_401s_renew_the_token_once(emulator: Any, connection: dict[str, Any]) -> None:
    emulator.backend.add_oauth_token(OAUTH)
    client = emulator.client_for(environ={**emulator.env, "YC_TOKEN": OAUTH})
    client.get(CONNECTION_ID)
    old = bearer(emulator.requests("connections")[0])
    emulator.backend.expire_all_tokens()
    barrier = threading.Barrier(4)
    results: list[str] = []

    def lookup() -> None:
        barrier.wait()
        results.append(client.get(CONNECTION_ID).id)

    threads = [threading.Thread(target=lookup) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results == [CONNECTION_ID] * 4
    assert emulator.count("iam") == 2
    after = emulator.requests("connections")[1:]
    renewed = {bearer(r) for r in after if r.status == 200}
    assert len(renewed) == 1
    assert old not in renewed
    assert all(bearer(r) == old for r in after if r.status == 401)


# -- TokenCache directly ---------------------------------------------------------------------


def test_token_cache_fetches_once_and_invalidates_only_the_current_token() -> None:
    now = [0.0]
    cache = TokenCache(clock=lambda: now[0])
    tokens = iter(["A", "B", "C"])
    fetched: list[str] = []

    def fetch() -> tuple[str, float]:
        fetched.append(next(tokens))
        return fetched[-1], 100.0

    assert cache.get("k", Deadline(1), fetch) == "A"
    assert cache.get("k", Deadline(1), fetch) == "A"
    cache.invalidate("k", "A")
    assert cache.get("k", Deadline(1), fetch) == "B"
    cache.invalidate("k", "A")  # a stale token: another caller already renewed it
    assert cache.get("k", Deadline(1), fetch) == "B"
    cache.clear()
    assert cache.get("k", Deadline(1), fetch) == "C"
    assert fetched == ["A", "B", "C"]


def test_token_cache_does_not_keep_failures() -> None:
    cache = TokenCache()
    calls = [0]

    def failing() -> tuple[str, float]:
        calls[0] += 1
        raise AuthenticationError("rejected", service="iam")

    for _ in range(2):
        with pytest.raises(AuthenticationError):
            cache.get("k", Deadline(1), failing)
    assert calls[0] == 2
    assert cache.get("k", Deadline(1), lambda: ("T", 100.0)) == "T"


def test_waiting_for_another_exchange_respects_the_deadline() -> None:
    cache = TokenCache()
    started, release = threading.Event(), threading.Event()

    def slow() -> tuple[str, float]:
        started.set()
        release.wait(5)
        return "T", 100.0

    holder = threading.Thread(target=cache.get, args=("k", Deadline(5), slow))
    holder.start()
    assert started.wait(5)
    begin = time.monotonic()
    with pytest.raises(DeadlineExceededError) as caught:
        cache.get("k", Deadline(0.1), lambda: ("other", 100.0))
    assert 0.08 <= time.monotonic() - begin < 1.0
    assert str(caught.value) == "The lookup's deadline of 0.1s passed waiting for a token."
    assert caught.value.service == "iam"
    release.set()
    holder.join(5)
    assert cache.get("k", Deadline(1), lambda: ("other", 100.0)) == "T"


# -- building credentials --------------------------------------------------------------------


def test_credentials_for(emulator: Any) -> None:
    settings = Settings.resolve(environ=emulator.env)
    key = json.dumps(emulator.backend.create_service_account_key())
    built = {
        kind: credentials_for(
            dataclasses.replace(settings, credential=CredentialSource(kind, "origin", secret))
        )
        for kind, secret in (
            ("iam_token", "t1.a.b"),
            ("oauth_token", OAUTH),
            ("service_account_key", key),
            ("metadata", ""),
        )
    }
    assert type(built["iam_token"]) is IamToken
    assert type(built["oauth_token"]) is OAuthToken
    assert type(built["service_account_key"]) is ServiceAccountKey
    assert type(built["metadata"]) is MetadataCredentials
    for credentials in built.values():
        for secret in (OAUTH, "t1.a.b", "PRIVATE KEY"):
            assert secret not in repr(credentials)
            assert secret not in credentials.description
