"""ConnectionsClient on the emulator: lookups, typed errors, retries, ids, deadline, threads."""

from __future__ import annotations

import pickle
import threading
import time
from typing import Any
from urllib.parse import quote

import pytest

from pulumi_yc_websocket import ConnectionsClient, HttpTransport, Settings
from pulumi_yc_websocket._auth import IamToken
from pulumi_yc_websocket._client import connection_url, validate_connection_id
from pulumi_yc_websocket._errors import (
    ApiError,
    AuthenticationError,
    ConfigurationError,
    ConnectionNotFoundError,
    DeadlineExceededError,
    InsecureEndpointError,
    InvalidConnectionIdError,
    InvalidResponseError,
    PermissionDeniedError,
    ServiceUnavailableError,
    ThrottledError,
)
from pulumi_yc_websocket._retry import RetryPolicy
from pulumi_yc_websocket.emulator import Delay, NotJson, Status, Truncated

PREFIX = "/apigateways/websocket/v1/connections/"
CONNECTION_ID = "Ab3dEfGhIjKlMnOp12Qr"
OAUTH = "y0_AgAAAAAClientOAuthSecret0123456789"
VIEWER_TOKEN = "t1.9euelZqViewerOnlyToken.c2VjcmV0LXZpZXdlcg"


@pytest.fixture
def connection(emulator: Any) -> dict[str, Any]:
    return emulator.add_connection(
        id=CONNECTION_ID,
        gateway_id="d5dm1lba80md4pmj2qke",
        source_ip="2001:db8::7",
        user_agent="Mozilla/5.0 (X11; Linux x86_64)",
        connected_at="2024-05-01T10:00:00.123456789+03:00",
        last_active_at="2024-05-01T07:09:59.5Z",
    )


def three_tries(**overrides: Any) -> RetryPolicy:
    return RetryPolicy(**{"initial": 0.01, "maximum": 0.05, "max_attempts": 3, **overrides})


def secrets_absent(error: BaseException, *secrets: str) -> None:
    shown = [str(error), repr(error), *(repr(v) for v in vars(error).values())]
    for secret in secrets:
        for text in shown:
            assert secret not in text


# -- happy path ------------------------------------------------------------------------------


def test_get_returns_the_connection(emulator: Any, connection: dict[str, Any]) -> None:
    client = emulator.client()
    found = client.get(CONNECTION_ID)
    assert found.id == CONNECTION_ID
    assert found.gateway_id == "d5dm1lba80md4pmj2qke"
    assert found.identity.source_ip == "2001:db8::7"
    assert found.identity.user_agent == "Mozilla/5.0 (X11; Linux x86_64)"
    assert found.connected_at is not None
    assert found.connected_at.rfc3339() == "2024-05-01T07:00:00.123456789Z"
    assert found.last_active_at is not None
    assert found.last_active_at.rfc3339() == "2024-05-01T07:09:59.5Z"

    (request,) = emulator.requests()
    assert (request.service, request.method, request.status) == ("connections", "GET", 200)
    assert request.raw_path == PREFIX + CONNECTION_ID
    assert request.connection_id == CONNECTION_ID
    assert request.headers["Authorization"] == f"Bearer {emulator.token}"
    assert request.headers["Accept"] == "application/json"
    assert request.body == b""
    assert emulator.retries == 0


def test_connection_with_defaults_omitted(emulator: Any) -> None:
    emulator.add_connection(id="bare", source_ip="", user_agent="", last_active_at="")
    found = emulator.client().get("bare")
    assert found.identity.source_ip == ""
    assert found.identity.user_agent == ""
    assert found.last_active_at is None
    assert found.connected_at is not None


def test_unknown_fields_in_the_answer_are_ignored(emulator: Any) -> None:
    emulator.backend.add_connection({"id": "extra", "status": "OPEN", "subprotocol": "graphql-ws"})
    assert emulator.client().get("extra").id == "extra"


def test_client_from_settings_in_the_environment(
    emulator: Any, connection: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in emulator.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("YC_IAM_TOKEN", emulator.token)
    with ConnectionsClient.from_settings(retry=three_tries()) as client:
        assert client.endpoint == emulator.url
        assert client.get(CONNECTION_ID).id == CONNECTION_ID


def test_repr_names_endpoint_and_credential_source_only(emulator: Any) -> None:
    client = emulator.client()
    assert repr(client) == (
        f"ConnectionsClient(endpoint={emulator.url!r}, "
        "credentials=IamToken(<the IAM token from the test fixture>))"
    )
    assert emulator.token not in repr(client)


# -- typed errors ----------------------------------------------------------------------------


def test_not_found(emulator: Any) -> None:
    client = emulator.client()
    with pytest.raises(ConnectionNotFoundError) as caught:
        client.get("GoneConnection")
    error = caught.value
    (request,) = emulator.requests()
    assert (error.http_status, error.grpc_code, error.service) == (404, 5, "connections")
    assert error.message == "Connection GoneConnection not found"
    assert error.request_id == request.request_id
    assert str(error) == (
        f"Connection 'GoneConnection' was not found at {emulator.url}. It has closed or never "
        "existed (connections close after 10 idle minutes and live at most 60). (service said: "
        "Connection GoneConnection not found; HTTP 404; gRPC code 5; "
        f"request id {request.request_id})"
    )
    secrets_absent(error, emulator.token)


def test_closed_connection_is_not_found(emulator: Any, connection: dict[str, Any]) -> None:
    client = emulator.client()
    assert client.get(CONNECTION_ID).id == CONNECTION_ID
    emulator.backend.close_connection(CONNECTION_ID)
    with pytest.raises(ConnectionNotFoundError):
        client.get(CONNECTION_ID)
    assert [r.status for r in emulator.requests()] == [200, 404]


def test_permission_denied_names_the_role(emulator: Any, connection: dict[str, Any]) -> None:
    emulator.backend.add_iam_token(VIEWER_TOKEN, roles=["viewer"])
    client = emulator.client(credentials=IamToken(VIEWER_TOKEN, "YC_IAM_TOKEN"))
    with pytest.raises(PermissionDeniedError) as caught:
        client.get(CONNECTION_ID)
    error = caught.value
    (request,) = emulator.requests()
    assert (error.http_status, error.grpc_code) == (403, 7)
    assert error.message == "Permission denied"
    assert error.request_id == request.request_id
    assert str(error) == (
        "The IAM token from YC_IAM_TOKEN may not use connections. Grant its account the role "
        "api-gateway.websocketWriter (or api-gateway.websocketBroadcaster) on the gateway's "
        f"folder. (service said: Permission denied; HTTP 403; gRPC code 7; request id "
        f"{request.request_id})"
    )
    secrets_absent(error, VIEWER_TOKEN)


def test_unauthenticated_static_token_is_not_retried(
    emulator: Any, connection: dict[str, Any]
) -> None:
    emulator.backend.expire_token(emulator.token)
    client = emulator.client()
    with pytest.raises(AuthenticationError) as caught:
        client.get(CONNECTION_ID)
    error = caught.value
    assert (error.http_status, error.grpc_code) == (401, 16)
    assert error.message == "The token has expired"
    assert error.hint == (
        "the IAM token has expired or is invalid: create a new one with `yc iam create-token`"
    )
    assert str(error).startswith("The IAM token from the test fixture was rejected by connections.")
    assert emulator.count("connections") == 1
    assert emulator.count("iam") == 0
    secrets_absent(error, emulator.token)


def test_unknown_token(emulator: Any, connection: dict[str, Any]) -> None:
    client = emulator.client(credentials=IamToken("t1.unknown.token", "YC_IAM_TOKEN"))
    with pytest.raises(AuthenticationError) as caught:
        client.get(CONNECTION_ID)
    assert caught.value.message == "The token is invalid"
    secrets_absent(caught.value, "t1.unknown.token")


@pytest.mark.parametrize(
    ("fault", "error_type", "grpc_code", "summary"),
    [
        (Status(429, 8, "Too many requests"), ThrottledError, 8, "kept rate-limiting the request"),
        (Status(503, 14, "Service unavailable"), ServiceUnavailableError, 14, "kept failing"),
        (Status(500, 13, "Internal"), ServiceUnavailableError, 13, "kept failing"),
        (Status(502, 14, "Bad gateway"), ServiceUnavailableError, 14, "kept failing"),
        (Status(504, 4, "Deadline exceeded"), ServiceUnavailableError, 4, "kept failing"),
    ],
)
def test_retryable_statuses_are_retried_then_raised(
    emulator: Any,
    connection: dict[str, Any],
    fault: Status,
    error_type: type[ApiError],
    grpc_code: int,
    summary: str,
) -> None:
    emulator.faults.push("connections", fault, times=3)
    client = emulator.client(retry=three_tries())
    with pytest.raises(error_type) as caught:
        client.get(CONNECTION_ID)
    error = caught.value
    requests = emulator.requests()
    assert type(error) is error_type
    assert [r.status for r in requests] == [fault.http_status] * 3
    assert (error.http_status, error.grpc_code, error.message) == (
        fault.http_status,
        grpc_code,
        fault.message,
    )
    assert error.request_id == requests[-1].request_id
    assert error.summary == f"connections at {emulator.url} {summary}"
    assert emulator.retries == 2


@pytest.mark.parametrize("http_status", [429, 500, 502, 503, 504])
def test_retryable_statuses_recover(
    emulator: Any, connection: dict[str, Any], http_status: int
) -> None:
    emulator.faults.push("connections", Status(http_status, 14), times=2)
    client = emulator.client(retry=three_tries())
    assert client.get(CONNECTION_ID).id == CONNECTION_ID
    assert [r.status for r in emulator.requests()] == [http_status, http_status, 200]
    assert emulator.retries == 2


def test_proxy_html_is_retried_and_reported(emulator: Any, connection: dict[str, Any]) -> None:
    emulator.faults.push("connections", NotJson(502), times=3)
    client = emulator.client(retry=three_tries())
    with pytest.raises(ServiceUnavailableError) as caught:
        client.get(CONNECTION_ID)
    error = caught.value
    assert error.message == "502 Bad Gateway 502 Bad Gateway nginx"
    assert error.grpc_code is None
    assert error.request_id == emulator.requests()[-1].request_id  # from x-request-id
    assert emulator.count("connections") == 3


@pytest.mark.parametrize(
    ("fault", "error_type"),
    [
        (Status(400, 3, "Request validation error"), ApiError),
        (Status(404, 5, "Not found"), ConnectionNotFoundError),
        (Status(403, 7, "Permission denied"), PermissionDeniedError),
        (Status(401, 16, "Unauthenticated"), AuthenticationError),
        (Status(409, 6, "Already exists"), ApiError),
        (Status(413, 3, "Too large"), ApiError),
        (NotJson(400), ApiError),
    ],
)
def test_other_errors_are_never_retried(
    emulator: Any, connection: dict[str, Any], fault: Any, error_type: type[ApiError]
) -> None:
    emulator.faults.push("connections", fault, times=3)
    client = emulator.client(retry=three_tries())
    with pytest.raises(error_type) as caught:
        client.get(CONNECTION_ID)
    assert type(caught.value) is error_type
    assert caught.value.http_status == fault.http_status
    assert emulator.count("connections") == 1
    assert emulator.retries == 0


def test_bad_request_error(emulator: Any, connection: dict[str, Any]) -> None:
    emulator.faults.push("connections", Status(400, 3, "Request validation error: bad id"))
    with pytest.raises(ApiError) as caught:
        emulator.client().get(CONNECTION_ID)
    error = caught.value
    request_id = emulator.requests()[0].request_id
    assert str(error) == (
        f"Connections at {emulator.url} refused the request. (service said: Request validation "
        f"error: bad id; HTTP 400; gRPC code 3; request id {request_id})"
    )


def test_service_message_with_newlines_stays_one_line(
    emulator: Any, connection: dict[str, Any]
) -> None:
    emulator.faults.push("connections", Status(400, 3, "first line\nsecond line\r\n"))
    with pytest.raises(ApiError) as caught:
        emulator.client().get(CONNECTION_ID)
    assert caught.value.message == "first line second line"
    assert "\n" not in str(caught.value)


# -- invalid answers -------------------------------------------------------------------------


def test_truncated_answer(emulator: Any, connection: dict[str, Any]) -> None:
    emulator.faults.push("connections", Truncated())
    client = emulator.client(retry=three_tries())
    with pytest.raises(InvalidResponseError) as caught:
        client.get(CONNECTION_ID)
    error = caught.value
    assert error.http_status == 200
    assert error.summary == f"the answer for connection {CONNECTION_ID!r} is not a valid Connection"
    assert error.message.startswith("body: Invalid JSON: EOF while parsing")
    assert error.message.endswith("(1 problem(s))")
    assert emulator.count("connections") == 1


def test_html_with_status_200(emulator: Any, connection: dict[str, Any]) -> None:
    emulator.faults.push("connections", NotJson(200))
    with pytest.raises(InvalidResponseError) as caught:
        emulator.client().get(CONNECTION_ID)
    assert caught.value.message.startswith("body: Invalid JSON: expected value")
    assert emulator.count("connections") == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"id": "typed", "gatewayId": 123}, "gatewayId: Input should be a valid string"),
        (
            {"id": "typed", "identity": {"sourceIp": ["203.0.113.7"]}},
            "identity.sourceIp: Input should be a valid string",
        ),
        (
            {"id": "typed", "connectedAt": "yesterday", "lastActiveAt": "2024-05-01T10:00:00Z"},
            "connectedAt: Value error, 'yesterday' is not an RFC 3339 timestamp",
        ),
        (
            {"id": "typed", "lastActiveAt": "2024-05-01T10:00:60Z"},
            "lastActiveAt: Value error, '2024-05-01T10:00:60Z' is not a valid timestamp",
        ),
    ],
)
def test_wrongly_typed_answer(emulator: Any, body: dict[str, Any], message: str) -> None:
    emulator.backend.add_connection(body)
    with pytest.raises(InvalidResponseError) as caught:
        emulator.client().get("typed")
    assert caught.value.message.startswith(message)
    assert caught.value.message.endswith("(1 problem(s))")
    assert caught.value.hint == "check that the endpoint points at the Yandex Cloud API"
    assert caught.value.__context__ is None, "pydantic's error (holding the body) is chained"


# -- refresh on 401 --------------------------------------------------------------------------


def test_exchanged_token_is_renewed_once_after_401(
    emulator: Any, connection: dict[str, Any]
) -> None:
    emulator.backend.add_oauth_token(OAUTH)
    client = emulator.client_for(environ={**emulator.env, "YC_TOKEN": OAUTH})
    client.get(CONNECTION_ID)
    emulator.backend.expire_all_tokens()
    assert client.get(CONNECTION_ID).id == CONNECTION_ID

    lookups = emulator.requests("connections")
    assert [r.status for r in lookups] == [200, 401, 200]
    assert emulator.count("iam") == 2
    tokens = [r.headers["Authorization"] for r in lookups]
    assert tokens[0] == tokens[1] != tokens[2]
    assert emulator.retries == 0


def test_renewed_token_rejected_again_gives_up(emulator: Any, connection: dict[str, Any]) -> None:
    emulator.backend.add_oauth_token(OAUTH)
    emulator.faults.push("connections", Status(401, 16, "The token is invalid"), times=3)
    client = emulator.client_for(environ={**emulator.env, "YC_TOKEN": OAUTH})
    with pytest.raises(AuthenticationError) as caught:
        client.get(CONNECTION_ID)
    assert [r.status for r in emulator.requests("connections")] == [401, 401]
    assert emulator.count("iam") == 2
    assert caught.value.hint == (
        "the token was renewed once and still rejected: check that the OAuth token or "
        "service-account key is valid and not revoked"
    )
    assert caught.value.__context__ is None, "the first 401 is chained to the second"
    secrets_absent(
        caught.value,
        OAUTH,
        *(r.headers["Authorization"][7:] for r in emulator.requests("connections")),
    )


def test_permission_denied_does_not_renew(emulator: Any, connection: dict[str, Any]) -> None:
    emulator.backend.add_oauth_token(OAUTH, roles=["viewer"])
    client = emulator.client_for(environ={**emulator.env, "YC_TOKEN": OAUTH})
    with pytest.raises(PermissionDeniedError):
        client.get(CONNECTION_ID)
    assert emulator.count("iam") == 1
    assert emulator.count("connections") == 1


# -- deadline --------------------------------------------------------------------------------


def test_overall_deadline(emulator: Any, connection: dict[str, Any]) -> None:
    emulator.faults.push("connections", Delay(0.6))
    client = emulator.client(timeout=0.3)
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError) as caught:
        client.get(CONNECTION_ID)
    elapsed = time.monotonic() - started
    assert 0.25 <= elapsed < 0.3 + 0.25
    assert caught.value.summary == (
        f"the lookup's deadline of 0.3s passed waiting for connections at {emulator.url}"
    )
    assert caught.value.hint == "raise the timeout, or check the network path to the service"
    emulator.wait_for_requests(1)


def test_deadline_bounds_retries(emulator: Any, connection: dict[str, Any]) -> None:
    emulator.faults.set_default("connections", Status(503, 14))
    client = emulator.client(
        timeout=0.3, retry=RetryPolicy(initial=0.05, maximum=0.1, max_attempts=1000)
    )
    started = time.monotonic()
    with pytest.raises(ServiceUnavailableError) as caught:
        client.get(CONNECTION_ID)
    assert time.monotonic() - started < 0.3 + 0.1
    # Either the next backoff did not fit (the last 503 is raised), or, on a loaded machine,
    # the last attempt's read timeout was cut short by the deadline.
    if type(caught.value) is DeadlineExceededError:
        assert caught.value.http_status is None
    else:
        assert type(caught.value) is ServiceUnavailableError
        assert caught.value.http_status == 503
    assert 2 <= emulator.count("connections") <= 8


def test_deadline_covers_the_token_exchange(emulator: Any, connection: dict[str, Any]) -> None:
    emulator.backend.add_oauth_token(OAUTH)
    emulator.faults.push("iam", Delay(0.6))
    client = emulator.client_for(environ={**emulator.env, "YC_TOKEN": OAUTH}, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError) as caught:
        client.get(CONNECTION_ID)
    assert time.monotonic() - started < 0.3 + 0.25
    assert caught.value.service == "iam"
    emulator.wait_for_requests(1, "iam")
    assert emulator.count("connections") == 0


# -- connection ids --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("connection_id", "message"),
    [
        ("", "connection id is empty; pass the id API Gateway gave the connection"),
        ("x" * 51, "connection id is 51 characters long; Yandex Cloud ids have at most 50"),
        (".", "connection id '.' is not a valid id (it would leave the connections path)"),
        ("..", "connection id '..' is not a valid id (it would leave the connections path)"),
        (
            "abc\n",
            "connection id has a control character (U+000A) at position 3; "
            "check for stray newlines or tabs",
        ),
        (
            "\x00",
            "connection id has a control character (U+0000) at position 0; "
            "check for stray newlines or tabs",
        ),
        (
            "a\tb",
            "connection id has a control character (U+0009) at position 1; "
            "check for stray newlines or tabs",
        ),
        (
            "a\x7f",
            "connection id has a control character (U+007F) at position 1; "
            "check for stray newlines or tabs",
        ),
        (
            "a\x85",
            "connection id has a control character (U+0085) at position 1; "
            "check for stray newlines or tabs",
        ),
        (
            "a\ud800",
            "connection id has an unpaired surrogate (U+D800) at position 1; "
            "check for stray newlines or tabs",
        ),
        (123, 'connection id must be a string, not the number 123; pass it as text, e.g. "123"'),
        # Pulumi carries every number as a float: 5 arrives as 5.0.
        (5.0, 'connection id must be a string, not the number 5; pass it as text, e.g. "5"'),
        (True, "connection id must be a string, not the boolean True"),
        (None, "connection id is missing (None); pass the id API Gateway gave the connection"),
        (b"abc", "connection id must be a string, not bytes; decode it first (value.decode())"),
        (["abc"], "connection id must be a string, not a list"),
    ],
)
def test_invalid_ids_are_refused_before_any_request(
    emulator: Any, connection_id: Any, message: str
) -> None:
    emulator.backend.add_oauth_token(OAUTH)
    for client in (
        emulator.client(),
        emulator.client_for(environ={**emulator.env, "YC_TOKEN": OAUTH}),
    ):
        with pytest.raises(InvalidConnectionIdError) as caught:
            client.get(connection_id)
        assert str(caught.value) == message
        assert isinstance(caught.value, ValueError)
    assert emulator.requests() == []


def test_fifty_characters_is_the_limit(emulator: Any) -> None:
    emulator.add_connection(id="x" * 50)
    assert emulator.client().get("x" * 50).id == "x" * 50
    assert emulator.requests()[0].connection_id == "x" * 50
    assert validate_connection_id("é" * 50) == "é" * 50


@pytest.mark.parametrize(
    "connection_id",
    [
        "a b",
        "x/y",
        "%2F",
        "%2e%2e",
        "?",
        "#",
        "a?b=c#d",
        "a+b",
        "a;b,c",
        "...",
        ".a",
        "a.",
        "./",
        "../x",
        "~user",
        "%",
        "\\",
        "'\"<>`{}|^",
        "Привет",
        "日本語の接続",
        "🙂",
        "\u2028",
        "e\u0301",
        " ",
        "😀" * 50,
    ],
)
def test_ids_needing_encoding_reach_the_service_as_one_segment(
    emulator: Any, connection_id: str
) -> None:
    emulator.add_connection(id=connection_id, gateway_id="d5dencoding000000000")
    client = emulator.client()
    found = client.get(connection_id)
    assert found.id == connection_id
    assert found.gateway_id == "d5dencoding000000000"
    (request,) = emulator.requests()
    assert request.status == 200
    assert request.connection_id == connection_id
    segment = request.raw_path.removeprefix(PREFIX)
    assert request.raw_path == PREFIX + segment
    assert "/" not in segment
    assert "?" not in segment
    assert "#" not in segment
    assert segment == quote(connection_id, safe="")


def test_not_found_message_shows_the_decoded_id(emulator: Any) -> None:
    with pytest.raises(ConnectionNotFoundError) as caught:
        emulator.client().get("x/y z")
    assert caught.value.summary == f"connection 'x/y z' was not found at {emulator.url}"


def test_connection_url() -> None:
    assert connection_url("https://h.example", "a/b") == (
        "https://h.example/apigateways/websocket/v1/connections/a%2Fb"
    )
    with pytest.raises(InvalidConnectionIdError):
        connection_url("https://h.example", "..")


# -- endpoints -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "endpoint", ["http://conn.example", "http://169.254.169.254", "http://10.1.2.3:8080"]
)
def test_plain_http_to_a_remote_host_is_refused_before_connecting(
    emulator: Any, endpoint: str, network_violations: list[str]
) -> None:
    with pytest.raises(InsecureEndpointError, match="uses plain http"):
        ConnectionsClient(IamToken(emulator.token), endpoint=endpoint)
    environ = {"YC_APIGATEWAY_CONNECTIONS_ENDPOINT": endpoint, "YC_IAM_TOKEN": emulator.token}
    with pytest.raises(InsecureEndpointError, match="uses plain http"):
        ConnectionsClient.from_settings(Settings.resolve(environ=environ))
    assert network_violations == []
    assert emulator.requests() == []


def test_endpoint_with_a_path_is_refused(emulator: Any) -> None:
    with pytest.raises(ConfigurationError) as caught:
        ConnectionsClient(IamToken(emulator.token), endpoint=emulator.url + "/apigateways")
    assert str(caught.value) == (
        f"connections endpoint '{emulator.url}/apigateways' has a path; give the base URL only, "
        f"'{emulator.url}'"
    )


# -- sharing ---------------------------------------------------------------------------------


def test_context_manager_closes_pooled_connections(
    emulator: Any, connection: dict[str, Any]
) -> None:
    before = emulator.server.accepted_connections
    with emulator.client() as client:
        assert client.get(CONNECTION_ID).id == CONNECTION_ID
        assert client.get(CONNECTION_ID).id == CONNECTION_ID
        assert emulator.server.accepted_connections - before == 1
    # The pool was closed: the next lookup needs a new connection.
    assert client.get(CONNECTION_ID).id == CONNECTION_ID
    assert emulator.server.accepted_connections - before == 2


def test_client_shared_by_eight_threads(emulator: Any) -> None:
    ids = [f"Shared{index:02d}" for index in range(8)]
    for connection_id in ids:
        emulator.add_connection(id=connection_id, gateway_id=f"gw-{connection_id}")
    client = emulator.client()
    barrier = threading.Barrier(8)
    results: dict[str, list[str]] = {}
    errors: list[BaseException] = []

    def work(connection_id: str) -> None:
        barrier.wait()
        try:
            results[connection_id] = [client.get(connection_id).gateway_id for _ in range(10)]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert errors == []
    assert results == {i: [f"gw-{i}"] * 10 for i in ids}
    assert emulator.count("connections", status=200) == 80
    assert sorted({r.connection_id for r in emulator.requests()}) == ids
    assert emulator.retries == 0


# -- errors are safe to show and to pickle ---------------------------------------------------


def test_errors_pickle_with_their_fields(emulator: Any) -> None:
    with pytest.raises(ConnectionNotFoundError) as caught:
        emulator.client().get("missing")
    restored = pickle.loads(pickle.dumps(caught.value))  # noqa: S301
    assert type(restored) is ConnectionNotFoundError
    assert str(restored) == str(caught.value)
    assert (restored.http_status, restored.grpc_code, restored.request_id) == (
        404,
        5,
        caught.value.request_id,
    )


@pytest.mark.parametrize(
    "fault",
    [
        Status(401, 16, "The token is invalid"),
        Status(403, 7, "Permission denied"),
        Status(429, 8, "Quota"),
        Status(503, 14, "Down"),
        NotJson(502),
        Truncated(),
    ],
)
def test_no_token_in_any_error(emulator: Any, connection: dict[str, Any], fault: Any) -> None:
    emulator.backend.add_oauth_token(OAUTH)
    client = emulator.client_for(environ={**emulator.env, "YC_TOKEN": OAUTH}, retry=three_tries())
    emulator.faults.push("connections", fault, times=4)
    with pytest.raises(ApiError) as caught:
        client.get(CONNECTION_ID)
    sent = {r.headers["Authorization"][7:] for r in emulator.requests("connections")}
    assert sent
    secrets_absent(caught.value, OAUTH, *sent)
    assert OAUTH not in repr(client)


# -- known bugs (client.py is owned elsewhere) -----------------------------------------------


@pytest.mark.parametrize(
    "environ",
    [
        {"YC_IAM_TOKEN": "t1.a.b", "YC_TOKEN": "y0_other"},
        {"YC_SERVICE_ACCOUNT_KEY_FILE": "/nonexistent/key.json", "YC_TOKEN": "y0_other"},
    ],
)
def test_explicit_credentials_ignore_environment_credentials(
    emulator: Any, connection: dict[str, Any], environ: dict[str, str]
) -> None:
    # The credentials are the caller's: no settings are resolved, so the environment's
    # credentials are neither used nor checked.
    client = ConnectionsClient(
        IamToken(emulator.token, "the caller"),
        endpoint=emulator.url,
        transport=HttpTransport(environ=environ),
        retry=three_tries(),
    )
    with client:
        assert client.get(CONNECTION_ID).id == CONNECTION_ID
