"""Settings: resolution order, config key forms, token shapes, endpoint checks, no secrets shown."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from pulumi_yc_websocket._auth import MetadataCredentials
from pulumi_yc_websocket._errors import (
    ConfigurationError,
    ConflictingCredentialsError,
    InsecureEndpointError,
    InvalidCredentialsError,
)
from pulumi_yc_websocket._pulumi_config import program_layers
from pulumi_yc_websocket._settings import CredentialSource, Settings, looks_like_iam_token
from pulumi_yc_websocket._urls import (
    is_loopback_host,
    redacted,
    validate_endpoint,
    validate_metadata_addr,
)

IAM = "t1.9euelZqSecretPartOne.SecretPartTwo-Signature_x"
OAUTH = "y0_AgAAAAASecretOAuthTokenValue"
KEY_JSON = '{"id": "ajeKEY", "service_account_id": "ajeSA", "private_key": "SECRET-PEM"}'
METADATA_ORIGIN = "the VM metadata service (no other credential is set)"


def resolve(*, config: Mapping[str, str] | None = None, **kwargs: Any) -> Settings:
    """``Settings.resolve`` with a stack's config as the layer after the arguments."""
    layers = list(program_layers(config)) if config is not None else []
    return Settings.resolve(*layers, **kwargs)


# -- credential resolution order -------------------------------------------------------------


def test_explicit_argument_beats_config_env_and_metadata() -> None:
    settings = resolve(
        token=IAM,
        config={"yandex:token": OAUTH},
        environ={"YC_TOKEN": "y0_env", "YC_SERVICE_ACCOUNT_KEY_FILE": "/k.json"},
    )
    assert settings.credential == CredentialSource("iam_token", "the token argument", IAM)


def test_config_beats_environment() -> None:
    settings = resolve(
        config={"yandex:token": OAUTH}, environ={"YC_IAM_TOKEN": IAM, "YC_TOKEN": "y0_env"}
    )
    assert settings.credential == CredentialSource(
        "oauth_token", "Pulumi config yandex:token", OAUTH
    )


def test_environment_beats_metadata() -> None:
    settings = resolve(environ={"YC_IAM_TOKEN": IAM})
    assert settings.credential == CredentialSource("iam_token", "YC_IAM_TOKEN", IAM)


def test_metadata_when_nothing_is_configured() -> None:
    settings = resolve(config={"other:token": OAUTH}, environ={"HOME": "/root"})
    assert settings.credential == CredentialSource("metadata", METADATA_ORIGIN, "")
    assert settings.metadata_addr == "169.254.169.254"


@pytest.mark.parametrize(
    ("token", "key", "expected"),
    [
        (
            None,
            KEY_JSON,
            CredentialSource("service_account_key", "the service_account_key argument", KEY_JSON),
        ),
        (OAUTH, None, CredentialSource("oauth_token", "the token argument", OAUTH)),
    ],
)
def test_each_argument_kind(token: str | None, key: str | None, expected: CredentialSource) -> None:
    assert resolve(token=token, service_account_key=key, environ={}).credential == expected


def test_service_account_key_from_config_and_environment() -> None:
    from_config = resolve(config={"yandex:serviceAccountKeyFile": "/keys/sa.json"}, environ={})
    assert from_config.credential == CredentialSource(
        "service_account_key", "Pulumi config yandex:serviceAccountKeyFile", "/keys/sa.json"
    )
    from_env = resolve(environ={"YC_SERVICE_ACCOUNT_KEY_FILE": "/keys/sa.json"})
    assert from_env.credential == CredentialSource(
        "service_account_key", "YC_SERVICE_ACCOUNT_KEY_FILE", "/keys/sa.json"
    )


def test_process_environment_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YC_TOKEN", OAUTH)
    monkeypatch.setenv("YC_APIGATEWAY_CONNECTIONS_ENDPOINT", "http://127.0.0.1:9")
    settings = resolve()
    assert settings.credential == CredentialSource("oauth_token", "YC_TOKEN", OAUTH)
    assert settings.connections_endpoint == "http://127.0.0.1:9"


def test_empty_environment_variables_count_as_unset() -> None:
    settings = resolve(environ={"YC_IAM_TOKEN": "  ", "YC_TOKEN": OAUTH, "YC_ENDPOINT": ""})
    assert settings.credential == CredentialSource("oauth_token", "YC_TOKEN", OAUTH)
    assert settings.connections_endpoint == "https://apigateway-connections.api.cloud.yandex.net"


@pytest.mark.parametrize(
    ("kwargs", "origin"),
    [
        ({"token": ""}, "the token argument"),
        ({"config": {"yandex:token": ""}}, "Pulumi config yandex:token"),
        (
            {"config": {"yandex:serviceAccountKeyFile": " "}},
            "Pulumi config yandex:serviceAccountKeyFile",
        ),
    ],
)
def test_an_empty_credential_setting_is_refused(kwargs: dict[str, Any], origin: str) -> None:
    # Falling back to the metadata service would act as another identity on a VM.
    with pytest.raises(InvalidCredentialsError) as caught:
        resolve(environ={"YC_TOKEN": OAUTH}, **kwargs)
    assert str(caught.value) == f"{origin} is set but empty; give the credential or unset it"


def test_namespace_config_key_form_is_accepted() -> None:
    settings = resolve(
        config={
            "yandex:config:token": OAUTH,
            "yandex:config:endpoint": "api.example.com:8443",
            "yc-websocket:config:iamEndpoint": "https://iam.example.org",
            "yc-websocket:config:metadataAddr": "127.0.0.1:8081",
        },
        environ={},
    )
    assert settings.credential == CredentialSource(
        "oauth_token", "Pulumi config yandex:token", OAUTH
    )
    assert settings.connections_endpoint == "https://apigateway-connections.api.example.com:8443"
    assert settings.iam_endpoint == "https://iam.example.org"
    assert settings.metadata_addr == "127.0.0.1:8081"


def test_keys_without_namespace_or_of_other_namespaces_are_ignored() -> None:
    settings = resolve(config={"token": OAUTH, "aws:token": OAUTH}, environ={})
    assert settings.credential.kind == "metadata"


def test_the_providers_own_namespace_comes_before_yandex() -> None:
    settings = resolve(config={"yc-websocket:token": OAUTH, "yandex:token": IAM}, environ={})
    assert settings.credential.kind == "oauth_token"
    assert settings.credential.origin == "Pulumi config yc-websocket:token"


# -- conflicts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        (
            {"token": IAM, "service_account_key": KEY_JSON, "environ": {}},
            "both the token argument and the service_account_key argument are set",
        ),
        (
            {
                "config": {"yandex:token": OAUTH, "yandex:serviceAccountKeyFile": "/k.json"},
                "environ": {},
            },
            "both Pulumi config yandex:token and Pulumi config yandex:serviceAccountKeyFile "
            "are set",
        ),
        (
            {"environ": {"YC_IAM_TOKEN": IAM, "YC_TOKEN": OAUTH}},
            "both YC_IAM_TOKEN and YC_TOKEN are set",
        ),
        (
            {"environ": {"YC_TOKEN": OAUTH, "YC_SERVICE_ACCOUNT_KEY_FILE": "/k.json"}},
            "both YC_TOKEN and YC_SERVICE_ACCOUNT_KEY_FILE are set",
        ),
        (
            {
                "environ": {
                    "YC_IAM_TOKEN": IAM,
                    "YC_TOKEN": OAUTH,
                    "YC_SERVICE_ACCOUNT_KEY_FILE": KEY_JSON,
                }
            },
            "YC_IAM_TOKEN, YC_TOKEN and YC_SERVICE_ACCOUNT_KEY_FILE are all set",
        ),
    ],
)
def test_two_credentials_at_one_level_conflict(kwargs: dict[str, object], names: str) -> None:
    with pytest.raises(ConflictingCredentialsError) as caught:
        resolve(**kwargs)  # type: ignore[arg-type]
    message = str(caught.value)
    assert message == f"conflicting credentials: {names}; keep only one of them"
    for secret in (IAM, OAUTH, "SECRET-PEM", "/k.json"):
        assert secret not in message
    assert isinstance(caught.value, ConfigurationError)
    assert isinstance(caught.value, ValueError)


def test_a_conflict_below_the_winning_level_does_not_matter() -> None:
    settings = resolve(
        config={"yandex:token": OAUTH},
        environ={"YC_IAM_TOKEN": IAM, "YC_SERVICE_ACCOUNT_KEY_FILE": "/k.json"},
    )
    assert settings.credential.origin == "Pulumi config yandex:token"


# -- YC_TOKEN shape --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "secret"),
    [
        ("t1.abc.def", "iam_token", "t1.abc.def"),
        (IAM, "iam_token", IAM),
        (f"  {IAM}\n", "iam_token", IAM),
        ("t1.abc", "oauth_token", "t1.abc"),
        ("t1.a.b.c", "oauth_token", "t1.a.b.c"),
        ("t1..b", "oauth_token", "t1..b"),
        ("t2.abc.def", "oauth_token", "t2.abc.def"),
        ("T1.abc.def", "oauth_token", "T1.abc.def"),
        (OAUTH, "oauth_token", OAUTH),
    ],
)
def test_yc_token_is_iam_or_oauth_by_shape(value: str, kind: str, secret: str) -> None:
    credential = resolve(environ={"YC_TOKEN": value}).credential
    assert credential == CredentialSource(kind, "YC_TOKEN", secret)  # type: ignore[arg-type]
    assert looks_like_iam_token(value) is (kind == "iam_token")


def test_yc_iam_token_is_always_an_iam_token() -> None:
    credential = resolve(environ={"YC_IAM_TOKEN": OAUTH}).credential
    assert credential == CredentialSource("iam_token", "YC_IAM_TOKEN", OAUTH)


def test_config_token_is_iam_or_oauth_by_shape() -> None:
    assert resolve(config={"yandex:token": IAM}, environ={}).credential.kind == "iam_token"
    assert resolve(config={"yandex:token": OAUTH}, environ={}).credential.kind == "oauth_token"


# -- endpoints -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("api_root", "connections", "iam"),
    [
        (
            "api.cloud.yandex.net:443",
            "https://apigateway-connections.api.cloud.yandex.net",
            "https://iam.api.cloud.yandex.net",
        ),
        (
            "api.example.com",
            "https://apigateway-connections.api.example.com",
            "https://iam.api.example.com",
        ),
        (
            "api.example.com:8443",
            "https://apigateway-connections.api.example.com:8443",
            "https://iam.api.example.com:8443",
        ),
        (
            "https://api.example.com",
            "https://apigateway-connections.api.example.com",
            "https://iam.api.example.com",
        ),
        (
            "https://api.example.com:8443/",
            "https://apigateway-connections.api.example.com:8443",
            "https://iam.api.example.com:8443",
        ),
        (
            " api.example.com:443 ",
            "https://apigateway-connections.api.example.com",
            "https://iam.api.example.com",
        ),
    ],
)
def test_yc_endpoint_derives_service_urls(api_root: str, connections: str, iam: str) -> None:
    settings = resolve(environ={"YC_ENDPOINT": api_root})
    assert settings.connections_endpoint == connections
    assert settings.iam_endpoint == iam


def test_default_endpoints() -> None:
    settings = resolve(environ={})
    assert settings.connections_endpoint == "https://apigateway-connections.api.cloud.yandex.net"
    assert settings.iam_endpoint == "https://iam.api.cloud.yandex.net"
    assert settings.metadata_addr == "169.254.169.254"


def test_api_endpoint_order_argument_config_environment() -> None:
    env = {"YC_ENDPOINT": "env.example"}
    cfg = {"yandex:endpoint": "cfg.example"}
    assert (
        resolve(api_endpoint="arg.example", config=cfg, environ=env).iam_endpoint
        == "https://iam.arg.example"
    )
    assert resolve(config=cfg, environ=env).iam_endpoint == "https://iam.cfg.example"
    assert resolve(environ=env).iam_endpoint == "https://iam.env.example"


def test_service_endpoint_order_argument_config_environment_derived() -> None:
    env = {
        "YC_APIGATEWAY_CONNECTIONS_ENDPOINT": "https://conn-env.example",
        "YC_IAM_ENDPOINT": "https://iam-env.example",
        "YC_METADATA_ADDR": "127.0.0.3",
        "YC_ENDPOINT": "root.example",
    }
    cfg = {
        "yc-websocket:connectionsEndpoint": "https://conn-cfg.example",
        "yc-websocket:iamEndpoint": "https://iam-cfg.example",
        "yc-websocket:metadataAddr": "127.0.0.2",
    }
    explicit = resolve(
        connections_endpoint="https://conn-arg.example",
        iam_endpoint="https://iam-arg.example",
        metadata_addr="127.0.0.1",
        config=cfg,
        environ=env,
    )
    assert (explicit.connections_endpoint, explicit.iam_endpoint, explicit.metadata_addr) == (
        "https://conn-arg.example",
        "https://iam-arg.example",
        "127.0.0.1",
    )
    from_config = resolve(config=cfg, environ=env)
    assert (from_config.connections_endpoint, from_config.iam_endpoint) == (
        "https://conn-cfg.example",
        "https://iam-cfg.example",
    )
    assert from_config.metadata_addr == "127.0.0.2"
    from_env = resolve(environ=env)
    assert (from_env.connections_endpoint, from_env.iam_endpoint, from_env.metadata_addr) == (
        "https://conn-env.example",
        "https://iam-env.example",
        "127.0.0.3",
    )
    derived = resolve(environ={"YC_ENDPOINT": "root.example"})
    assert derived.connections_endpoint == "https://apigateway-connections.root.example"


API_ROOT_SHAPE = "host[:port] or https://host[:port], e.g. api.cloud.yandex.net:443"


@pytest.mark.parametrize(
    ("api_root", "error", "message"),
    [
        (
            "http://api.example.com",
            ConfigurationError,
            f"API endpoint 'http://api.example.com' from YC_ENDPOINT must be {API_ROOT_SHAPE} "
            "(the services under it are reached over https; for a local emulator set the "
            "connections and IAM endpoints instead)",
        ),
        (
            "https://api.example.com:8443/v1",
            ConfigurationError,
            f"API endpoint 'https://api.example.com:8443/v1' from YC_ENDPOINT must be "
            f"{API_ROOT_SHAPE} (the services",
        ),
        ("https://api.example.com?x=1", ConfigurationError, "must be host[:port] or https://"),
        (
            "api.example.com:https",
            ConfigurationError,
            f"API endpoint 'api.example.com:https' from YC_ENDPOINT is not host[:port]; "
            f"use {API_ROOT_SHAPE}",
        ),
        ("a:b:c", ConfigurationError, "API endpoint 'a:b:c' from YC_ENDPOINT is not host[:port]"),
        (":443", ConfigurationError, "is not host[:port]"),
        (
            "user:pw@api.example.com",
            InsecureEndpointError,
            "API endpoint '***@api.example.com' from YC_ENDPOINT has credentials in the URL",
        ),
        ("api.exa$mple.com", InsecureEndpointError, "has a host that URL parsers read differently"),
    ],
)
def test_bad_api_roots_are_refused(
    api_root: str, error: type[ConfigurationError], message: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve(environ={"YC_ENDPOINT": api_root})
    assert type(caught.value) is error
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://conn.example", "https://conn.example"),
        ("https://conn.example/", "https://conn.example"),
        (" https://conn.example:8443 ", "https://conn.example:8443"),
        ("HTTPS://conn.example", "https://conn.example"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://127.9.8.7", "http://127.9.8.7"),
        ("http://localhost:1", "http://localhost:1"),
        ("http://[::1]:8080/", "http://[::1]:8080"),
    ],
)
def test_valid_endpoints(url: str, expected: str) -> None:
    assert validate_endpoint(url, "connections endpoint") == expected


PLAIN_HTTP = (
    "uses plain http: a bearer token is only sent over https, or over http to a loopback "
    "address such as a local emulator"
)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://conn.example", f"connections endpoint 'http://conn.example' {PLAIN_HTTP}"),
        ("http://169.254.169.254", f"connections endpoint 'http://169.254.169.254' {PLAIN_HTTP}"),
        ("http://10.0.0.1:80", f"connections endpoint 'http://10.0.0.1:80' {PLAIN_HTTP}"),
        (
            "http://localhost.evil.example/x",
            f"connections endpoint 'http://localhost.evil.example/x' {PLAIN_HTTP}",
        ),
        (
            "https://user:hunter2@conn.example",
            "connections endpoint 'https://***@conn.example' has credentials in the URL; remove "
            "them and configure a token instead",
        ),
        (
            "https://user@conn.example",
            "connections endpoint 'https://***@conn.example' has credentials in the URL; remove "
            "them and configure a token instead",
        ),
        (
            "https://evil.example#@conn.example",
            "connections endpoint 'https://***@conn.example' has credentials in the URL; remove "
            "them and configure a token instead",
        ),
        (
            "http://127.0.0.1%2f.evil.example",
            "connections endpoint 'http://127.0.0.1%2f.evil.example' has a host that URL "
            "parsers read differently; use a host name or an IP address",
        ),
    ],
)
def test_unsafe_endpoints_are_refused_as_insecure(url: str, message: str) -> None:
    with pytest.raises(InsecureEndpointError) as caught:
        validate_endpoint(url, "connections endpoint")
    assert str(caught.value) == message
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "http://127.0.0.1:33767/foo",
            "connections endpoint 'http://127.0.0.1:33767/foo' has a path; give the base URL "
            "only, 'http://127.0.0.1:33767'",
        ),
        (
            "https://conn.example:8443/apigateways",
            "connections endpoint 'https://conn.example:8443/apigateways' has a path; give the "
            "base URL only, 'https://conn.example:8443'",
        ),
        (
            "https://conn.example?token=1",
            "connections endpoint 'https://conn.example?token=1' has a query; give the base URL "
            "only, 'https://conn.example'",
        ),
        (
            "https://conn.example/x?y#z",
            "connections endpoint 'https://conn.example/x?y#z' has a path and a query and a "
            "fragment; give the base URL only, 'https://conn.example'",
        ),
        (
            "conn.example",
            "connections endpoint 'conn.example' must start with https:// (http:// only for a "
            "loopback address); use 'https://conn.example'",
        ),
        (
            "ftp://conn.example:21",
            "connections endpoint 'ftp://conn.example:21' must start with https:// (http:// "
            "only for a loopback address); use 'https://conn.example:21'",
        ),
        (
            "ws://127.0.0.1:8080",
            "connections endpoint 'ws://127.0.0.1:8080' must start with https:// (http:// only "
            "for a loopback address); use 'http://127.0.0.1:8080'",
        ),
        (
            "https://",
            "connections endpoint 'https://' must start with https:// (http:// only for a "
            "loopback address); use e.g. https://HOST[:PORT]",
        ),
        (
            "https://conn.example:99999",
            "connections endpoint 'https://conn.example:99999' is not a valid URL (a port is "
            "1-65535); expected https://HOST[:PORT]",
        ),
    ],
)
def test_endpoint_shape_problems_are_configuration_errors(url: str, message: str) -> None:
    """Not a security refusal: shown as given (port, path), with the shape to use instead."""
    with pytest.raises(ConfigurationError) as caught:
        validate_endpoint(url, "connections endpoint")
    assert type(caught.value) is ConfigurationError
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "url", ["https://conn.example?", "https://conn.example#", "http://[::1]:8080?"]
)
def test_empty_query_or_fragment_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match=r"has a (query|fragment); give the base URL"):
        validate_endpoint(url, "connections endpoint")


@pytest.mark.parametrize(
    "url",
    [
        "https://iam.api.cloud.yandex.net/iam/v1/tokens",
        "https://iam.api.cloud.yandex.net/iam/v1/tokens/",
        "https://iam.api.cloud.yandex.net/",
    ],
)
def test_the_iam_endpoint_takes_the_token_url_users_copy(url: str) -> None:
    settings = resolve(environ={"YC_IAM_ENDPOINT": url})
    assert settings.iam_endpoint == "https://iam.api.cloud.yandex.net"


def test_another_path_on_the_iam_endpoint_says_what_is_accepted() -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve(environ={"YC_IAM_ENDPOINT": "https://iam.example:8443/iam/v1"})
    assert type(caught.value) is ConfigurationError
    assert str(caught.value) == (
        "IAM endpoint 'https://iam.example:8443/iam/v1' from YC_IAM_ENDPOINT has a path; give "
        "the base URL only, 'https://iam.example:8443' (or the token URL "
        "https://iam.example:8443/iam/v1/tokens)"
    )


def test_the_connections_endpoint_takes_no_path() -> None:
    with pytest.raises(ConfigurationError, match="has a path"):
        resolve(environ={"YC_APIGATEWAY_CONNECTIONS_ENDPOINT": "https://c.example/iam/v1/tokens"})


def test_messages_name_the_setting_the_value_came_from() -> None:
    url = "http://conn.example:8080"
    for kwargs, origin in (
        ({"connections_endpoint": url, "environ": {}}, "the connections_endpoint argument"),
        (
            {"config": {"yc-websocket:connectionsEndpoint": url}, "environ": {}},
            "Pulumi config yc-websocket:connectionsEndpoint",
        ),
        (
            {"environ": {"YC_APIGATEWAY_CONNECTIONS_ENDPOINT": url}},
            "YC_APIGATEWAY_CONNECTIONS_ENDPOINT",
        ),
    ):
        with pytest.raises(InsecureEndpointError) as caught:
            resolve(**kwargs)  # type: ignore[arg-type]
        assert str(caught.value) == f"connections endpoint '{url}' from {origin} {PLAIN_HTTP}"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("https://admin:Pa55/word@host.example", "'https://***@host.example'"),
        ("https://admin:Pa55?word@host.example/x", "'https://***@host.example/x'"),
        ("https://admin:Pa55#word@host.example", "'https://***@host.example'"),
        ("https://admin:p@ss@host.example", "'https://***@host.example'"),
        ("admin:Pa55/word@host.example:443", "'***@host.example:443'"),
        ("https://host.example", "'https://host.example'"),
        ("https://\x00\x1b[31m", "'https://\\x00\\x1b[31m'"),
    ],
)
def test_redacted_masks_userinfo_up_to_the_last_at(text: str, shown: str) -> None:
    assert redacted(text) == shown


def test_resolve_validates_every_endpoint() -> None:
    with pytest.raises(
        InsecureEndpointError, match=r"^connections endpoint 'http://conn\.example'"
    ):
        resolve(connections_endpoint="http://conn.example", environ={})
    with pytest.raises(InsecureEndpointError, match=r"^IAM endpoint 'http://iam\.example' "):
        resolve(environ={"YC_IAM_ENDPOINT": "http://iam.example"})
    with pytest.raises(ConfigurationError) as caught:
        resolve(config={"yc-websocket:metadataAddr": "a/b"}, environ={})
    assert str(caught.value).startswith(
        "metadata address 'a/b' from Pulumi config yc-websocket:metadataAddr must be host[:port], "
        "e.g. 169.254.169.254; it is used because no credential is set: fix or unset it, or set "
        "YC_IAM_TOKEN"
    )


def test_a_bad_metadata_address_matters_only_when_the_metadata_service_is_used() -> None:
    settings = resolve(environ={"YC_IAM_TOKEN": IAM, "YC_METADATA_ADDR": ":::"})
    assert settings.credential == CredentialSource("iam_token", "YC_IAM_TOKEN", IAM)
    assert settings.metadata_addr == ":::"  # unchecked, and unused
    own = Settings.resolve(environ={"YC_METADATA_ADDR": ":::"}, resolve_credential=False)
    with pytest.raises(ConfigurationError) as caught:
        MetadataCredentials(own.metadata_addr)
    assert str(caught.value) == "metadata address ':::' must be host[:port], e.g. 169.254.169.254"
    with pytest.raises(ConfigurationError, match="it is used because no credential is set"):
        resolve(environ={"YC_METADATA_ADDR": ":::"})


@pytest.mark.parametrize(
    ("addr", "expected"),
    [
        ("169.254.169.254", "169.254.169.254"),
        ("127.0.0.1:8080", "127.0.0.1:8080"),
        ("http://127.0.0.1:8080/", "127.0.0.1:8080"),
        (" metadata.internal ", "metadata.internal"),
        ("[::1]:80", "[::1]:80"),
    ],
)
def test_valid_metadata_addresses(addr: str, expected: str) -> None:
    assert validate_metadata_addr(addr) == expected


@pytest.mark.parametrize(
    "addr", ["", "host/path", "user@host", "user:pw@host:80", "host:port", "host?x=1", "https://h"]
)
def test_invalid_metadata_addresses(addr: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        validate_metadata_addr(addr)
    shown = repr(addr.replace("user:pw@", "***@").replace("user@", "***@"))
    assert str(caught.value) == (
        f"metadata address {shown} must be host[:port], e.g. 169.254.169.254"
    )
    assert "pw" not in str(caught.value)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST", True),
        ("127.0.0.1", True),
        ("127.255.0.9", True),
        ("::1", True),
        ("[::1]", True),
        ("128.0.0.1", False),
        ("169.254.169.254", False),
        ("example.com", False),
        ("localhost.example.com", False),
        ("", False),
    ],
)
def test_is_loopback_host(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


# -- secrets never shown ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"token": OAUTH},
        {"token": IAM},
        {"service_account_key": KEY_JSON},
        {"config": {"yandex:token": OAUTH}},
        {"environ": {"YC_TOKEN": OAUTH}},
    ],
)
def test_secrets_never_appear_in_repr_or_str(kwargs: dict[str, object]) -> None:
    settings = resolve(**{"environ": {}, **kwargs})  # type: ignore[arg-type]
    shown = [repr(settings), str(settings), repr(settings.credential), str(settings.credential)]
    for text in shown:
        for secret in (OAUTH, IAM, KEY_JSON, "SECRET-PEM", "SecretPart", "SecretOAuth"):
            assert secret not in text
    assert settings.credential.secret in (OAUTH, IAM, KEY_JSON)


def test_credential_source_str_says_kind_and_origin() -> None:
    assert str(CredentialSource("oauth_token", "YC_TOKEN", OAUTH)) == "oauth token from YC_TOKEN"
    assert (
        str(CredentialSource("service_account_key", "the service_account_key argument", "x"))
        == "service account key from the service_account_key argument"
    )
    assert repr(CredentialSource("iam_token", "YC_IAM_TOKEN", IAM)) == (
        "CredentialSource(kind='iam_token', origin='YC_IAM_TOKEN')"
    )
