"""HttpTransport and the client's network side: body cap, redirects, drops, timeouts, proxies.

Proxy tests never leave the machine: ``dials`` records (and may redirect to loopback) every
address urllib3 dials, and the network guard refuses any other name lookup.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from pulumi_yc_websocket._errors import (
    ConfigurationError,
    DeadlineExceededError,
    InsecureProxyError,
    InvalidResponseError,
    ServiceUnavailableError,
)
from pulumi_yc_websocket._retry import Deadline, RetryPolicy
from pulumi_yc_websocket._transport import HttpTransport, origin_of
from pulumi_yc_websocket.emulator import (
    Delay,
    Drop,
    EmulatorBackend,
    EmulatorServer,
    Oversized,
    Redirect,
)

CONNECTION_ID = "TransportConnection1"
PATH = f"/apigateways/websocket/v1/connections/{CONNECTION_ID}"


@pytest.fixture
def transport() -> Iterator[HttpTransport]:
    transport = HttpTransport(
        max_body_bytes=1024, connect_timeout=1.0, read_timeout=2.0, environ={}
    )
    yield transport
    transport.close()


def get(transport: HttpTransport, url: str, deadline: float = 5.0, **kwargs: Any) -> Any:
    return transport.request(
        "GET", url, service="connections", deadline=Deadline(deadline), **kwargs
    )


@pytest.fixture
def other_server() -> Iterator[EmulatorServer]:
    """A second emulator: a redirect target or a proxy that must (not) be reached."""
    with EmulatorServer(EmulatorBackend()) as server:
        yield server


# -- plain requests --------------------------------------------------------------------------


def test_request_returns_status_headers_and_body(emulator: Any, transport: HttpTransport) -> None:
    emulator.add_connection(id=CONNECTION_ID, gateway_id="d5dtransport00000000")
    response = get(
        transport,
        emulator.url + PATH,
        headers={"Authorization": f"Bearer {emulator.token}", "Accept": "application/json"},
    )
    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    (recorded,) = emulator.requests()
    assert response.headers["X-Request-Id"] == recorded.request_id
    assert b'"gatewayId": "d5dtransport00000000"' in response.body
    assert recorded.headers["Accept"] == "application/json"
    assert recorded.raw_path == PATH


def test_error_statuses_are_returned_not_raised(emulator: Any, transport: HttpTransport) -> None:
    response = get(transport, emulator.url + PATH)
    assert response.status == 401
    assert b'"code": 16' in response.body


def test_origin_of() -> None:
    assert origin_of("https://host.example:8443/a/b?c=d") == "https://host.example:8443"
    assert origin_of("http://127.0.0.1:9/x") == "http://127.0.0.1:9"


# -- body cap --------------------------------------------------------------------------------


def test_body_exactly_at_the_cap_is_read(emulator: Any, transport: HttpTransport) -> None:
    emulator.faults.push("connections", Oversized(1024))
    response = get(transport, emulator.url + PATH)
    assert response.status == 200
    assert len(response.body) == 1024


def test_body_over_the_cap_is_refused(emulator: Any, transport: HttpTransport) -> None:
    emulator.faults.push("connections", Oversized(1025))
    with pytest.raises(InvalidResponseError) as caught:
        get(transport, emulator.url + PATH)
    error = caught.value
    assert error.summary == "the answer of connections is larger than 1024 bytes and was not read"
    assert error.http_status == 200
    assert error.service == "connections"


def test_client_refuses_oversized_answers_without_retrying(emulator: Any) -> None:
    emulator.faults.push("connections", Oversized(300_000))
    client = emulator.client()
    with pytest.raises(InvalidResponseError) as caught:
        client.get("oversized")
    assert caught.value.summary == (
        "the answer of connections is larger than 262144 bytes and was not read"
    )
    assert emulator.count("connections") == 1
    assert emulator.retries == 0


def test_client_body_cap_is_configurable(emulator: Any) -> None:
    # The Oversized fault serves a connection whose id is "oversized": ask for that one.
    emulator.faults.push("connections", Oversized(600))
    client = emulator.client(max_body_bytes=600)
    assert client.get("oversized").gateway_id == "d5d00000000000000000"
    emulator.faults.push("connections", Oversized(601))
    with pytest.raises(InvalidResponseError, match="larger than 600 bytes"):
        client.get("oversized")


@pytest.fixture
def chunked_server() -> Iterator[str]:
    """A loopback server answering 200 with a chunked body of 4 KiB and no Content-Length."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                head += b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                chunk = b"x" * 512
                body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(8))
                conn.sendall(head + body + b"0\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(2)
    listener.close()


def test_streamed_body_without_length_is_capped(chunked_server: str) -> None:
    small = HttpTransport(max_body_bytes=1000, environ={})
    with pytest.raises(InvalidResponseError, match="larger than 1000 bytes"):
        get(small, chunked_server + "/x")
    small.close()
    large = HttpTransport(max_body_bytes=4096, environ={})
    assert len(get(large, chunked_server + "/x").body) == 4096
    large.close()


# -- redirects -------------------------------------------------------------------------------


def test_redirects_are_not_followed(
    emulator: Any, transport: HttpTransport, other_server: EmulatorServer
) -> None:
    target = other_server.url + PATH
    emulator.faults.push("connections", Redirect(target))
    response = get(transport, emulator.url + PATH, headers={"Authorization": "Bearer t1.a.b"})
    assert response.status == 302
    assert response.headers["Location"] == target
    assert other_server.backend.requests() == []


@pytest.mark.parametrize("http_status", [301, 302, 303, 307, 308])
def test_client_never_sends_the_token_to_a_redirect_target(
    emulator: Any, other_server: EmulatorServer, http_status: int
) -> None:
    target = other_server.url + PATH
    emulator.faults.push("connections", Redirect(target, http_status))
    client = emulator.client()
    with pytest.raises(InvalidResponseError) as caught:
        client.get(CONNECTION_ID)
    error = caught.value
    assert error.http_status == http_status
    assert error.summary == (
        f"connections at {emulator.url} answered with a redirect, which is never followed"
    )
    assert error.hint == "point the endpoint at the service itself"
    assert other_server.backend.requests() == []
    assert emulator.count("connections") == 1
    assert emulator.token not in str(error)


# -- dropped connections and timeouts --------------------------------------------------------


def test_dropped_connection(emulator: Any, transport: HttpTransport) -> None:
    emulator.faults.push("connections", Drop())
    with pytest.raises(ServiceUnavailableError) as caught:
        get(transport, emulator.url + PATH)
    assert type(caught.value) is ServiceUnavailableError
    assert caught.value.summary == (
        f"could not get an answer from connections at {emulator.url} "
        "(connection closed before the answer)"
    )
    assert caught.value.http_status is None


def test_connection_dropped_mid_body(emulator: Any, transport: HttpTransport) -> None:
    emulator.add_connection(id=CONNECTION_ID)
    emulator.faults.push("connections", Drop(after_headers=True))
    with pytest.raises(ServiceUnavailableError) as caught:
        get(transport, emulator.url + PATH, headers={"Authorization": f"Bearer {emulator.token}"})
    assert caught.value.summary == (
        f"could not get an answer from connections at {emulator.url} "
        "(connection closed in the middle of the answer)"
    )


def test_connection_refused(transport: HttpTransport, closed_port: int) -> None:
    with pytest.raises(ServiceUnavailableError) as caught:
        get(transport, f"http://127.0.0.1:{closed_port}{PATH}")
    assert caught.value.summary == (
        f"could not get an answer from connections at http://127.0.0.1:{closed_port} "
        "(connection refused)"
    )


def test_read_timeout_within_the_deadline(emulator: Any) -> None:
    emulator.faults.push("connections", Delay(0.5))
    transport = HttpTransport(read_timeout=0.1, environ={})
    started = time.monotonic()
    with pytest.raises(ServiceUnavailableError) as caught:
        get(transport, emulator.url + PATH)
    assert time.monotonic() - started < 0.4
    assert type(caught.value) is ServiceUnavailableError
    assert caught.value.summary == (
        f"could not get an answer from connections at {emulator.url} (no answer within 0.1s)"
    )
    transport.close()
    emulator.wait_for_requests(1)


def test_deadline_passing_while_waiting(emulator: Any, transport: HttpTransport) -> None:
    emulator.faults.push("connections", Delay(0.6))
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError) as caught:
        get(transport, emulator.url + PATH, deadline=0.2)
    assert time.monotonic() - started < 0.45
    assert caught.value.summary == (
        f"the lookup's deadline of 0.2s passed waiting for connections at {emulator.url}"
    )
    emulator.wait_for_requests(1)


@pytest.fixture
def trickle_server() -> Iterator[str]:
    """A loopback server that sends a valid 200 body one byte every 50 ms (about 2 s in all)."""
    body = b'{"id": "slow", "gatewayId": "d5dslow0000000000000"}'
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body))
            for byte in body:
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(0.05)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    thread.join(5)
    listener.close()


def test_deadline_holds_against_a_trickled_body(trickle_server: str) -> None:
    from pulumi_yc_websocket import ConnectionsClient
    from pulumi_yc_websocket._auth import IamToken

    client = ConnectionsClient(
        IamToken("t1.a.b"),
        endpoint=trickle_server,
        timeout=0.4,
        transport=HttpTransport(environ={}),
    )
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError):
        client.get("slow")
    assert time.monotonic() - started < 0.4 + 0.25
    client.close()


def test_expired_deadline_sends_nothing(emulator: Any, transport: HttpTransport) -> None:
    with pytest.raises(DeadlineExceededError) as caught:
        get(transport, emulator.url + PATH, deadline=0.0)
    assert caught.value.summary == "the lookup's deadline of 0s passed before calling connections"
    assert emulator.requests() == []


@pytest.mark.parametrize("fault", [Drop(), Drop(after_headers=True)])
def test_client_retries_dropped_connections_then_fails(emulator: Any, fault: Drop) -> None:
    emulator.add_connection(id=CONNECTION_ID)
    emulator.faults.push("connections", fault, times=3)
    client = emulator.client(retry=RetryPolicy(initial=0.01, maximum=0.05, max_attempts=3))
    with pytest.raises(ServiceUnavailableError) as caught:
        client.get(CONNECTION_ID)
    assert type(caught.value) is ServiceUnavailableError
    assert emulator.count("connections") == 3
    assert [r.status for r in emulator.requests()] == [None, None, None]
    assert emulator.retries == 2
    assert caught.value.hint == (
        "check the endpoint and the network; the lookup was retried while time allowed"
    )


def test_client_recovers_after_a_dropped_connection(emulator: Any) -> None:
    emulator.add_connection(id=CONNECTION_ID)
    emulator.faults.push("connections", Drop())
    client = emulator.client()
    assert client.get(CONNECTION_ID).id == CONNECTION_ID
    assert [r.status for r in emulator.requests()] == [None, 200]
    assert emulator.retries == 1


# -- keep-alive and proxies ------------------------------------------------------------------


def test_connections_are_kept_alive(emulator: Any) -> None:
    emulator.add_connection(id=CONNECTION_ID)
    client = emulator.client()
    before = emulator.server.accepted_connections
    for _ in range(5):
        client.get(CONNECTION_ID)
    assert emulator.server.accepted_connections - before == 1


@pytest.fixture
def proxy() -> Iterator[Any]:
    """A loopback "proxy" that records each request head and refuses it with 403."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    heads: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                head = b""
                while b"\r\n\r\n" not in head:
                    data = conn.recv(65536)
                    if not data:
                        break
                    head += data
                heads.append(head)
                conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    stub = type("Proxy", (), {})()
    stub.url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    stub.heads = heads
    yield stub
    stop.set()
    thread.join(2)
    listener.close()


@pytest.fixture
def dials(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Every address urllib3 dials, recorded; ``routes[host] = (ip, port)`` redirects one.

    Host names are never resolved unless routed to loopback here: the network guard refuses
    anything else, so nothing leaves the machine.
    """
    import urllib3.util.connection as connection

    original = connection.create_connection
    record = type("Dials", (), {})()
    record.seen = []
    record.routes = {}

    def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
        record.seen.append(address)
        return original(record.routes.get(address[0], address), *args, **kwargs)

    monkeypatch.setattr(connection, "create_connection", create_connection)
    return record


SECRET_HEADERS = {"Authorization": "Bearer t1.proxyTestSecretToken.signature"}


def test_https_goes_through_the_proxy_as_a_tunnel(proxy: Any, dials: Any) -> None:
    """The proxy sees CONNECT host:443 only: the token travels inside TLS, never to the proxy."""
    tunnelled = HttpTransport(environ={"HTTPS_PROXY": proxy.url})
    with pytest.raises(ServiceUnavailableError) as caught:
        get(tunnelled, "https://conn.example.test" + PATH, headers=SECRET_HEADERS)
    tunnelled.close()
    assert caught.value.summary == (
        "could not get an answer from connections at https://conn.example.test "
        "(the proxy refused the connection)"
    )
    (head,) = proxy.heads
    assert head.startswith(b"CONNECT conn.example.test:443 HTTP/1."), head
    assert b"proxyTestSecretToken" not in head
    assert dials.seen == [("127.0.0.1", int(proxy.url.rsplit(":", 1)[1]))]


@pytest.mark.parametrize(
    "variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY"]
)
def test_loopback_is_never_proxied(emulator: Any, proxy: Any, variable: str) -> None:
    """A proxy cannot reach this machine's loopback, and must not see the emulator's token."""
    for setting in (proxy.url, "http://192.0.2.10:3128"):  # TEST-NET-1: never routed
        direct = HttpTransport(environ={variable: setting})
        assert get(direct, emulator.url + PATH, headers=SECRET_HEADERS).status == 401
        direct.close()
    assert proxy.heads == []
    assert emulator.count("connections") == 2


def test_loopback_is_never_proxied_from_the_process_environment(
    emulator: Any, proxy: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://192.0.2.10:3128")
    monkeypatch.setenv("http_proxy", proxy.url)
    direct = HttpTransport()
    assert get(direct, emulator.url + PATH).status == 401
    direct.close()
    assert proxy.heads == []


def test_link_local_is_never_proxied(emulator: Any, proxy: Any, dials: Any) -> None:
    """The VM metadata service is on the VM's own link: no proxy reaches it."""
    dials.routes["169.254.169.254"] = (emulator.server.host, emulator.server.port)
    direct = HttpTransport(environ={"HTTP_PROXY": proxy.url})
    response = get(direct, "http://169.254.169.254/computeMetadata/v1/x")
    direct.close()
    assert response.status == 404
    assert dials.seen == [("169.254.169.254", 80)]
    assert proxy.heads == []


def test_plain_http_through_a_proxy_is_refused_before_anything_is_sent(
    proxy: Any, dials: Any
) -> None:
    refusing = HttpTransport(environ={"http_proxy": proxy.url})
    with pytest.raises(InsecureProxyError) as caught:
        get(refusing, "http://metadata.internal/token", headers=SECRET_HEADERS)
    refusing.close()
    assert str(caught.value) == (
        f"plain http to connections at http://metadata.internal would go through the proxy "
        f"{proxy.url!r} set in the environment, which would read the token in clear text; "
        "add metadata.internal to NO_PROXY, or use https"
    )
    assert dials.seen == []
    assert proxy.heads == []


def test_no_proxy_is_honoured(emulator: Any, proxy: Any, dials: Any) -> None:
    dials.routes["metadata.internal"] = (emulator.server.host, emulator.server.port)
    environ = {"HTTP_PROXY": proxy.url, "NO_PROXY": "example.com, .internal"}
    direct = HttpTransport(environ=environ)
    assert get(direct, "http://metadata.internal/x").status == 404
    direct.close()
    assert dials.seen == [("metadata.internal", 80)]
    assert proxy.heads == []


@pytest.mark.parametrize(
    ("environ", "proxied"),
    [
        ({"HTTPS_PROXY": "http://192.0.2.10:1", "https_proxy": "<proxy>"}, True),
        ({"HTTPS_PROXY": "<proxy>", "https_proxy": ""}, False),
        ({"ALL_PROXY": "<proxy>"}, True),
        ({"HTTPS_PROXY": "<proxy>", "NO_PROXY": "*"}, False),
        ({"HTTPS_PROXY": "<proxy>", "no_proxy": "conn.example.test"}, False),
    ],
    ids=["lower case wins", "empty lower case unsets", "ALL_PROXY", "NO_PROXY *", "no_proxy"],
)
def test_proxy_variables_follow_the_standard_library(
    proxy: Any, dials: Any, environ: dict[str, str], proxied: bool
) -> None:
    environ = {name: proxy.url if value == "<proxy>" else value for name, value in environ.items()}
    dials.routes["conn.example.test"] = ("127.0.0.1", 9)  # discard port: refused at once
    transport = HttpTransport(environ=environ, connect_timeout=0.5)
    with pytest.raises(ServiceUnavailableError):
        get(transport, "https://conn.example.test" + PATH)
    transport.close()
    assert len(proxy.heads) == int(proxied)
    assert dials.seen[0][0] == ("127.0.0.1" if proxied else "conn.example.test")


def test_process_proxy_variables_are_ignored_when_environ_is_given(
    proxy: Any, dials: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    dials.routes["conn.example.test"] = ("127.0.0.1", 9)
    direct = HttpTransport(environ={}, connect_timeout=0.5)
    with pytest.raises(ServiceUnavailableError):
        get(direct, "https://conn.example.test" + PATH)
    direct.close()
    assert proxy.heads == []
    assert dials.seen == [("conn.example.test", 443)]


@pytest.mark.parametrize("setting", ["socks5://127.0.0.1:1080", "http://[::1", "http://"])
def test_unusable_proxy_settings_are_configuration_errors(dials: Any, setting: str) -> None:
    transport = HttpTransport(environ={"HTTPS_PROXY": setting})
    with pytest.raises(ConfigurationError, match="is not an http:// or https:// URL"):
        get(transport, "https://conn.example.test" + PATH)
    transport.close()
    assert dials.seen == []


def test_only_proxy_settings_are_kept_from_the_environment() -> None:
    secret = "y0_AgAAAAAEnvironmentSecretOAuthToken"
    transport = HttpTransport(
        environ={"YC_TOKEN": secret, "yc_token": secret, "HTTPS_PROXY": "http://p.example:3128"}
    )
    assert secret not in repr(vars(transport))
    transport.close()


# -- the guard -------------------------------------------------------------------------------


def test_the_network_guard_refuses_non_loopback(network_violations: list[str]) -> None:
    transport = HttpTransport(connect_timeout=0.5, environ={})
    with pytest.raises(ServiceUnavailableError):
        get(transport, "http://192.0.2.1:9/x")  # TEST-NET-1: never routed
    with pytest.raises(OSError, match="test network guard"):
        socket.getaddrinfo("example.com", 443)
    transport.close()
    found = list(network_violations)
    network_violations.clear()
    assert found == ["name lookup of '192.0.2.1'", "name lookup of 'example.com'"]
    # A raw connect is refused too, before any packet leaves.
    with socket.socket() as raw, pytest.raises(OSError, match="test network guard"):
        raw.connect(("169.254.169.254", 80))
    found = list(network_violations)
    network_violations.clear()
    assert found == ["connect to ('169.254.169.254', 80)"]
