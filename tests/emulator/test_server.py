"""The emulator over real sockets: routes, errors, auth, token exchanges, faults, CLI."""

from __future__ import annotations

import http.client
import json
import logging
import re
import socket
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
import requests

from pulumi_yc_websocket.emulator import (
    Delay,
    Drop,
    EmulatorBackend,
    EmulatorServer,
    NotJson,
    Oversized,
    Redirect,
    Status,
    Truncated,
)

PREFIX = "/apigateways/websocket/v1/connections/"
METADATA = "/computeMetadata/v1/instance/service-accounts/default/token"
IAM_TOKEN = re.compile(r"^t1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
NANOS_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")


class Client:
    """Calls the started emulator the way a correct client would (id percent-encoded)."""

    def __init__(self, http: requests.Session, server: EmulatorServer, token: str) -> None:
        self.http = http
        self.server = server
        self.token = token

    def url(self, connection_id: str) -> str:
        return f"{self.server.url}{PREFIX}{quote(connection_id, safe='')}"

    def get(self, connection_id: str, token: str | None = "", **kwargs: Any) -> requests.Response:
        token = self.token if token == "" else token
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        kwargs.setdefault("timeout", 5)
        return self.http.get(self.url(connection_id), headers=headers, **kwargs)

    def exchange(self, payload: dict[str, Any]) -> requests.Response:
        return self.http.post(f"{self.server.url}/iam/v1/tokens", json=payload, timeout=5)

    def metadata(self, **headers: str) -> requests.Response:
        return self.http.get(f"{self.server.url}{METADATA}", headers=headers, timeout=5)


@pytest.fixture
def client(http: requests.Session, server: EmulatorServer, writer_token: str) -> Client:
    return Client(http, server, writer_token)


def raw_get(server: EmulatorServer, path: str) -> tuple[int, dict[str, str], bytes]:
    """GET with the path sent byte for byte (requests would normalize it)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def assert_status_body(response: requests.Response, code: int, http_status: int) -> dict[str, Any]:
    assert response.status_code == http_status
    assert response.headers["Content-Type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert body["details"] == [
        {
            "@type": "type.googleapis.com/google.rpc.RequestInfo",
            "requestId": response.headers["x-request-id"],
        }
    ]
    assert uuid.UUID(response.headers["x-request-id"]).version == 4
    return body


# -- Connection.Get ------------------------------------------------------------------------------


def test_get_connection_serves_proto3_json(client: Client, backend: EmulatorBackend) -> None:
    stored = backend.add_connection(
        {
            "id": "Ab3dEfGhIjKlMnOp12Qr",
            "gatewayId": "d5dm1lba80md4pmj2qke",
            "identity": {"sourceIp": "2001:db8::7", "userAgent": "Mozilla/5.0"},
            "connectedAt": "2024-05-14T09:41:07.412853196+03:00",
            "lastActiveAt": "2024-05-14T06:52:30.000000001Z",
        }
    )
    response = client.get("Ab3dEfGhIjKlMnOp12Qr")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Content-Length"] == str(len(response.content))
    uuid.UUID(response.headers["x-request-id"])
    assert response.json() == stored
    assert list(response.json()) == ["id", "gatewayId", "identity", "connectedAt", "lastActiveAt"]


def test_defaults_are_omitted_on_the_wire(client: Client, backend: EmulatorBackend) -> None:
    backend.add_connection(id="bare", gateway_id="g", connected_at="", last_active_at="")
    backend.add_connection(id="ip-only", gateway_id="g", source_ip="192.0.2.1")
    assert client.get("bare").json() == {"id": "bare", "gatewayId": "g"}
    assert client.get("ip-only").json()["identity"] == {"sourceIp": "192.0.2.1"}


def test_not_found_closed_and_removed(client: Client, backend: EmulatorBackend) -> None:
    body = assert_status_body(client.get("abc"), 5, 404)
    assert body["message"] == "Connection abc not found"
    backend.add_connection(id="c1", gateway_id="g")
    backend.add_connection(id="c2", gateway_id="g")
    assert client.get("c1").status_code == 200
    backend.close_connection("c1")
    backend.remove_connection("c2")
    assert_status_body(client.get("c1"), 5, 404)
    assert_status_body(client.get("c2"), 5, 404)


def test_updates_show_up(client: Client, backend: EmulatorBackend) -> None:
    backend.add_connection(id="c", gateway_id="g", last_active_at="2024-01-01T00:00:00Z")
    backend.update_connection("c", last_active_at="2024-01-01T00:09:59.999999999Z")
    assert client.get("c").json()["lastActiveAt"] == "2024-01-01T00:09:59.999999999Z"


def test_connection_id_longer_than_50_is_invalid(client: Client) -> None:
    body = assert_status_body(client.get("x" * 51), 3, 400)
    assert "50" in body["message"]
    assert_status_body(client.get("x" * 50), 5, 404)
    # Length counts characters, not encoded bytes.
    assert_status_body(client.get("ж" * 50), 5, 404)


@pytest.mark.parametrize(
    ("connection_id", "raw_segment"),
    [
        ("with space", "with%20space"),
        ("a/b", "a%2Fb"),
        ("ключ", "%D0%BA%D0%BB%D1%8E%D1%87"),
        ("50%?#", "50%25%3F%23"),
        ("Ab3dEfGhIjKlMnOp12Qr=", "Ab3dEfGhIjKlMnOp12Qr%3D"),
    ],
)
def test_ids_travel_as_one_encoded_segment(
    client: Client, backend: EmulatorBackend, connection_id: str, raw_segment: str
) -> None:
    backend.add_connection(id=connection_id, gateway_id="g")
    response = client.get(connection_id)
    assert response.status_code == 200
    assert response.json()["id"] == connection_id
    (logged,) = backend.requests_for("connections")
    assert logged.raw_path == PREFIX + raw_segment
    assert logged.connection_id == connection_id
    assert logged.status == 200


def test_raw_utf8_in_the_path_is_decoded_too(server: EmulatorServer) -> None:
    server.backend.require_auth = False
    server.backend.add_connection(id="ключ", gateway_id="g")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        path = (PREFIX + "ключ").encode()
        host = f"Host: 127.0.0.1:{server.port}".encode()
        sock.sendall(b"GET " + path + b" HTTP/1.1\r\n" + host + b"\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200")
    assert server.backend.requests()[0].connection_id == "ключ"


@pytest.mark.parametrize(
    "path",
    [
        PREFIX + "abc?x=1",
        PREFIX + "abc?",
        PREFIX + "a/b",
        PREFIX,
        PREFIX + ".",
        PREFIX + "..",
        "/apigateways/websocket/v1/connections",
        "/apigateways/websocket/v1/other/abc",
    ],
)
def test_anything_but_the_exact_route_is_not_found(server: EmulatorServer, path: str) -> None:
    server.backend.add_connection(id="abc", gateway_id="g")
    status, headers, body = raw_get(server, path)
    assert status == 404
    error = json.loads(body)
    assert error["code"] == 5
    assert error["details"][0]["requestId"] == headers["x-request-id"]
    (logged,) = server.backend.requests()
    assert logged.service == "connections"
    assert logged.raw_path == path
    assert logged.connection_id is None
    assert logged.status == 404


def test_invalid_utf8_segment_is_invalid_argument(server: EmulatorServer) -> None:
    status, _, body = raw_get(server, PREFIX + "%FF%FE")
    assert status == 400
    assert json.loads(body)["code"] == 3
    assert server.backend.requests()[0].connection_id is None


def test_wrong_method_and_unknown_paths(http: requests.Session, server: EmulatorServer) -> None:
    response = http.post(f"{server.url}{PREFIX}abc", timeout=5)
    assert_status_body(response, 12, 405)
    response = http.get(f"{server.url}/iam/v1/tokens", timeout=5)
    assert_status_body(response, 12, 405)
    response = http.get(f"{server.url}/nothing/here", timeout=5)
    assert_status_body(response, 5, 404)
    assert server.backend.requests()[-1].service == "other"
    response = http.head(f"{server.url}{PREFIX}abc", timeout=5)
    assert response.status_code == 501


def test_malformed_request_gets_a_status_body(server: EmulatorServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"GARBAGE\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") or head.startswith(b"HTTP/1.0 400")
    assert b"x-request-id" in head.lower()
    assert json.loads(body)["code"] == 3


# -- auth ----------------------------------------------------------------------------------------


def test_auth_outcomes_over_http(client: Client, backend: EmulatorBackend) -> None:
    backend.add_connection(id="c", gateway_id="g")
    backend.add_iam_token("t1.viewer.token", roles=["viewer"])
    assert client.get("c").status_code == 200
    assert_status_body(client.get("c", token=None), 16, 401)
    assert_status_body(client.get("c", token="t1.unknown.token"), 16, 401)
    assert_status_body(client.get("c", token="t1.viewer.token"), 7, 403)
    backend.expire_token(client.token)
    assert_status_body(client.get("c"), 16, 401)
    backend.require_auth = False
    assert client.get("c", token=None).status_code == 200


def test_credentials_are_never_echoed(
    client: Client, backend: EmulatorBackend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="pulumi_yc_websocket.emulator")
    backend.add_iam_token("t1.viewer.SECRET", roles=["viewer"])
    backend.add_connection(id="c", gateway_id="g")
    responses = [
        client.get("c", token="t1.viewer.SECRET"),
        client.get("c", token="t1.unknown.SECRET"),
        client.get("missing", token="t1.viewer.SECRET"),
        client.exchange({"yandexPassportOauthToken": "y0_SECRET"}),
        client.exchange({"jwt": "SECRET"}),
    ]
    assert [r.status_code for r in responses] == [403, 401, 403, 401, 400]
    for response in responses:
        assert b"SECRET" not in response.content
        assert "SECRET" not in str(response.headers)
    assert caplog.records, "requests are logged at DEBUG"
    assert "SECRET" not in caplog.text
    assert all("SECRET" not in repr(r) for r in backend.requests())


# -- IAM token exchange --------------------------------------------------------------------------


def test_oauth_exchange_over_http(client: Client, backend: EmulatorBackend) -> None:
    backend.add_oauth_token("y0_good")
    backend.add_connection(id="c", gateway_id="g")
    response = client.exchange({"yandexPassportOauthToken": "y0_good"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    answer = response.json()
    assert set(answer) == {"iamToken", "expiresAt"}
    assert IAM_TOKEN.match(answer["iamToken"])
    assert NANOS_UTC.match(answer["expiresAt"])
    assert client.get("c", token=answer["iamToken"]).status_code == 200
    assert_status_body(client.exchange({"yandexPassportOauthToken": "y0_bad"}), 16, 401)
    logged = backend.requests_for("iam")[0]
    assert logged.method == "POST"
    assert json.loads(logged.body) == {"yandexPassportOauthToken": "y0_good"}
    assert logged.headers["content-type"] == "application/json"


def test_iam_bad_bodies(http: requests.Session, server: EmulatorServer) -> None:
    url = f"{server.url}/iam/v1/tokens"
    assert_status_body(http.post(url, data=b"{not json", timeout=5), 3, 400)
    assert_status_body(http.post(url, json={}, timeout=5), 3, 400)
    assert_status_body(http.post(f"{url}?x=1", json={"jwt": "a"}, timeout=5), 5, 404)


def test_jwt_exchange_over_http(
    client: Client, backend: EmulatorBackend, make_jwt: Callable[..., str]
) -> None:
    key = backend.create_service_account_key(roles=["api-gateway.websocketWriter"])
    backend.add_connection(id="c", gateway_id="g")
    response = client.exchange({"jwt": make_jwt(key)})
    assert response.status_code == 200
    token = response.json()["iamToken"]
    assert IAM_TOKEN.match(token)
    assert client.get("c", token=token).status_code == 200


def test_jwt_rejections(
    client: Client, backend: EmulatorBackend, make_jwt: Callable[..., str]
) -> None:
    key = backend.create_service_account_key()
    other = EmulatorBackend().create_service_account_key()
    cases: list[tuple[dict[str, Any], int]] = [
        ({"kid": "ajeunknown"}, 401),
        ({"iss": "ajesomebodyelse"}, 401),
        ({"aud": "https://example.com"}, 401),
        ({"signing_key": other["private_key"]}, 401),
        ({"iat": int(time.time()) - 7200, "lifetime": 3600}, 401),  # expired
        ({"lifetime": 3601}, 400),
        ({"algorithm": "RS256"}, 400),
        ({"drop": ("exp",)}, 400),
    ]
    for knobs, expected in cases:
        response = client.exchange({"jwt": make_jwt(key, **knobs)})
        assert response.status_code == expected, sorted(knobs)
        assert response.json()["code"] == (16 if expected == 401 else 3)
    assert client.exchange({"jwt": "not.a.jwt"}).status_code == 400


# -- metadata ------------------------------------------------------------------------------------


def test_metadata_token(client: Client, backend: EmulatorBackend) -> None:
    assert client.metadata(**{"Metadata-Flavor": "Google"}).status_code == 404
    backend.set_metadata_roles(["api-gateway.websocketWriter"])
    assert client.metadata().status_code == 403
    assert client.metadata(**{"Metadata-Flavor": "google"}).status_code == 403
    response = client.metadata(**{"Metadata-Flavor": "Google"})
    assert response.status_code == 200
    answer = response.json()
    assert set(answer) == {"access_token", "expires_in", "token_type"}
    assert IAM_TOKEN.match(answer["access_token"])
    assert isinstance(answer["expires_in"], int)
    assert 43190 < answer["expires_in"] <= 43200
    backend.add_connection(id="c", gateway_id="g")
    assert client.get("c", token=answer["access_token"]).status_code == 200
    assert [r.status for r in backend.requests_for("metadata")] == [404, 403, 403, 200]


# -- faults --------------------------------------------------------------------------------------


def test_status_fault_with_retry_after(client: Client, backend: EmulatorBackend) -> None:
    backend.add_connection(id="c", gateway_id="g")
    date = "Wed, 21 Oct 2015 07:28:00 GMT"
    backend.faults.push("connections", Status(429, 8, "Too many requests", retry_after="1"))
    backend.faults.push("connections", Status(503, 14, "Unavailable", retry_after=date))
    backend.faults.push("connections", Status(504, 4, "Deadline"))
    first, second, third, fourth = (client.get("c") for _ in range(4))
    assert assert_status_body(first, 8, 429)["message"] == "Too many requests"
    assert first.headers["Retry-After"] == "1"
    assert_status_body(second, 14, 503)
    assert second.headers["Retry-After"] == date
    assert_status_body(third, 4, 504)
    assert "Retry-After" not in third.headers
    assert fourth.status_code == 200
    assert [r.status for r in backend.requests()] == [429, 503, 504, 200]


def test_faults_are_per_service(client: Client, backend: EmulatorBackend) -> None:
    backend.add_connection(id="c", gateway_id="g")
    backend.add_oauth_token("y0_ok")
    backend.faults.push("iam", Status(500, 13, "Internal"))
    assert client.get("c").status_code == 200
    assert client.exchange({"yandexPassportOauthToken": "y0_ok"}).status_code == 500
    assert client.exchange({"yandexPassportOauthToken": "y0_ok"}).status_code == 200


def test_pattern_fault_rate(client: Client, backend: EmulatorBackend) -> None:
    backend.add_connection(id="c", gateway_id="g")
    backend.faults.set_default("connections", Status(503, 14, "Unavailable"), every=3)
    statuses = [client.get("c").status_code for _ in range(9)]
    assert statuses == [200, 200, 503] * 3
    assert backend.count("connections", status=503) == 3


def test_delay_fault(client: Client, backend: EmulatorBackend) -> None:
    backend.add_connection(id="c", gateway_id="g")
    backend.faults.push("connections", Delay(0.3))
    started = time.monotonic()
    assert client.get("c").status_code == 200
    assert time.monotonic() - started >= 0.3
    backend.faults.push("connections", Delay(0.5))
    with pytest.raises(requests.exceptions.ReadTimeout):
        client.get("c", timeout=0.1)


def test_drop_fault(client: Client, backend: EmulatorBackend) -> None:
    backend.add_connection(id="c", gateway_id="g")
    backend.faults.push("connections", Drop())
    with pytest.raises(requests.exceptions.ConnectionError):
        client.get("c")
    backend.faults.push("connections", Drop(after_headers=True))
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        client.get("c")
    assert client.get("c").status_code == 200
    assert [r.status for r in backend.requests()] == [None, None, 200]
    assert all(r.connection_id == "c" for r in backend.requests())


def test_truncated_fault(client: Client, backend: EmulatorBackend) -> None:
    backend.add_connection(id="c", gateway_id="g", source_ip="192.0.2.1")
    whole = client.get("c").content
    backend.faults.push("connections", Truncated())
    response = client.get("c")
    assert response.status_code == 200
    assert response.content == whole[: len(whole) // 2]
    assert response.headers["Content-Length"] == str(len(response.content))
    with pytest.raises(ValueError, match=r"Expecting|Unterminated"):
        json.loads(response.content)


@pytest.mark.parametrize("status", [502, 200])
def test_not_json_fault(client: Client, backend: EmulatorBackend, status: int) -> None:
    backend.faults.push("connections", NotJson(status))
    response = client.get("c")
    assert response.status_code == status
    assert response.headers["Content-Type"] == "text/html"
    assert response.text.startswith("<html>")
    assert "Bad Gateway" in response.text


def test_oversized_fault_streams_valid_json(client: Client, backend: EmulatorBackend) -> None:
    size = 5 * 1024 * 1024 + 3
    backend.faults.push("connections", Oversized(size))
    response = client.get("c")
    assert response.status_code == 200
    assert response.headers["Content-Length"] == str(size)
    assert len(response.content) == size
    assert json.loads(response.content)["id"] == "oversized"
    # A client that stops reading early does not wedge the server.
    backend.faults.push("connections", Oversized(size))
    with client.http.get(client.url("c"), stream=True, timeout=5) as partial:
        assert len(partial.raw.read(1000)) == 1000
    backend.add_connection(id="c", gateway_id="g")
    assert client.get("c").status_code == 200


def test_redirect_fault(client: Client, backend: EmulatorBackend) -> None:
    backend.faults.push("connections", Redirect("http://elsewhere.invalid/x"))
    response = client.get("c", allow_redirects=False)
    assert response.status_code == 302
    assert response.headers["Location"] == "http://elsewhere.invalid/x"


def test_metadata_faults(client: Client, backend: EmulatorBackend) -> None:
    backend.set_metadata_roles(["admin"])
    backend.faults.push("metadata", Status(503, 14, "Unavailable", retry_after="2"))
    response = client.metadata(**{"Metadata-Flavor": "Google"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert client.metadata(**{"Metadata-Flavor": "Google"}).status_code == 200


# -- transport -----------------------------------------------------------------------------------


def test_keep_alive_reuses_one_fast_connection(client: Client, backend: EmulatorBackend) -> None:
    backend.add_connection(id="c", gateway_id="g")
    assert client.get("c").status_code == 200  # warm-up: connect once
    durations = []
    for _ in range(20):
        started = time.perf_counter()
        assert client.get("c").status_code == 200
        durations.append(time.perf_counter() - started)
    assert client.server.accepted_connections == 1
    # Nagle against delayed ACK would make each kept-alive request take about 40 ms.
    assert statistics.median(durations) < 0.02


def test_stop_closes_kept_alive_connections(http: requests.Session) -> None:
    server = EmulatorServer().start()
    assert http.get(f"{server.url}/x", timeout=5).status_code == 404
    server.stop()
    with pytest.raises(requests.exceptions.ConnectionError):
        http.get(f"{server.url}/x", timeout=5)


def test_only_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        EmulatorServer(host="0.0.0.0")
    with EmulatorServer(host="localhost") as server:
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert server.port > 0


# -- one server for a session: reset and wait_idle ------------------------------------------------


def test_wait_idle_waits_for_a_delayed_answer(client: Client, server: EmulatorServer) -> None:
    server.backend.add_connection(id="c", gateway_id="g")
    server.backend.faults.push("connections", Delay(0.5))
    started = threading.Thread(target=lambda: client.get("c"))
    started.start()
    deadline = time.monotonic() + 5
    while server.wait_idle(0) and time.monotonic() < deadline:
        time.sleep(0.01)  # until the request has arrived
    assert not server.wait_idle(0.05)
    assert server.wait_idle(5)
    started.join()
    assert [r.status for r in server.backend.requests()] == [200]


def test_reset_gives_the_next_test_a_fresh_state(http: requests.Session, writer_token: str) -> None:
    seed = {"iamTokens": [{"token": writer_token}]}
    with EmulatorServer(EmulatorBackend.from_seed(seed)) as server:
        client = Client(http, server, writer_token)
        backend = server.backend
        backend.add_connection(id="c", gateway_id="g")
        backend.add_iam_token("t1.added.later")
        backend.faults.push("connections", Status(503, 14))
        backend.require_auth = False
        assert client.get("c").status_code == 503
        assert server.reset() is backend
        assert backend.requests() == []
        assert backend.faults.pending("connections") == 0
        assert client.get("c").status_code == 404  # the seeded token still works
        assert client.get("c", token="t1.added.later").status_code == 401
        assert client.get("c", token=None).status_code == 401


def test_an_answer_still_in_flight_at_reset_stays_out_of_the_new_log(
    client: Client, server: EmulatorServer
) -> None:
    server.backend.add_connection(id="c", gateway_id="g")
    server.backend.faults.push("connections", Delay(0.6))
    late = threading.Thread(target=lambda: client.get("c"))
    late.start()
    while server.wait_idle(0):
        time.sleep(0.01)
    server.reset(timeout=0.05)  # gives up waiting: the delayed request is still being answered
    late.join()
    assert server.wait_idle(5)
    assert server.backend.requests() == []


def test_port_out_of_range_and_port_in_use() -> None:
    for port in (99999, -5):
        with pytest.raises(ValueError, match=r"out of range: use 0-65535 \(0 picks a free port\)"):
            EmulatorServer(port=port)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        with pytest.raises(OSError, match=rf"cannot listen on 127\.0\.0\.1:{taken}: .*in use"):
            EmulatorServer(port=taken)
