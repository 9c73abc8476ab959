"""Only this machine's own tools reach the emulator, not web pages: Host, Origin, Content-Type.

A web page the developer opens can send requests to 127.0.0.1 (a ``text/plain`` POST needs no
CORS preflight), and with DNS rebinding read the answers under its own host name. The emulator
answers only requests whose ``Host`` is its own address, refuses admin requests that carry
another ``Origin``, and takes admin writes only as JSON.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from typing import Any

import pytest
import requests

from pulumi_yc_websocket.emulator import EmulatorBackend, EmulatorServer

PREFIX = "/apigateways/websocket/v1/connections/"
METADATA = "/computeMetadata/v1/instance/service-accounts/default/token"
JSON = "application/json"


def _raw(server: EmulatorServer, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send a request byte for byte (any Host, or none); the status, headers and body."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def _get(server: EmulatorServer, path: str, *headers: str, version: str = "HTTP/1.1") -> Any:
    lines = [f"GET {path} {version}", *headers, "Connection: close", "", ""]
    return _raw(server, "\r\n".join(lines).encode())


def _status_message(body: bytes) -> str:
    error = json.loads(body)
    assert set(error) == {"code", "message", "details"}
    message: str = error["message"]
    assert "\n" not in message
    return message


@pytest.fixture
def seeded(backend: EmulatorBackend) -> EmulatorBackend:
    backend.add_connection(id="c", gateway_id="g")
    backend.set_metadata_roles(["api-gateway.websocketWriter"])
    backend.require_auth = False
    return backend


# -- Host --------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LocalHost:{port}"])
def test_its_own_addresses_are_served(
    server: EmulatorServer, seeded: EmulatorBackend, host: str
) -> None:
    status, _, body = _get(server, PREFIX + "c", f"Host: {host.format(port=server.port)}")
    assert status == 200
    assert json.loads(body)["id"] == "c"
    status, _, _ = _get(server, "/_emulator/requests", f"Host: {host.format(port=server.port)}")
    assert status == 200


def test_http_1_0_without_host_is_served(server: EmulatorServer, seeded: EmulatorBackend) -> None:
    # No browser sends a request without Host, so it cannot be a rebound web page.
    assert _get(server, PREFIX + "c", version="HTTP/1.0")[0] == 200


@pytest.mark.parametrize(
    "host",
    [
        "rebound.example:{port}",  # DNS rebinding: a web page's own name, resolved to 127.0.0.1
        "127.0.0.1:{other}",
        "127.0.0.1",
        "localhost",
        "127.0.0.2:{port}",
        "[::1]:{port}",
        "localhost.:{port}",
    ],
)
@pytest.mark.parametrize("path", ["/_emulator/requests", PREFIX + "c", "/iam/v1/tokens"])
def test_another_host_is_refused(
    server: EmulatorServer, seeded: EmulatorBackend, host: str, path: str
) -> None:
    given = host.format(port=server.port, other=server.port + 1)
    status, headers, body = _get(server, path, f"Host: {given}")
    assert status == 421
    assert headers["content-type"] == JSON
    assert _status_message(body) == (
        f"Host {given!r} is not this emulator's address: use "
        f"127.0.0.1:{server.port} or localhost:{server.port}"
    )


def test_a_rebound_page_gets_no_metadata_token(
    server: EmulatorServer, seeded: EmulatorBackend
) -> None:
    status, headers, body = _get(
        server, METADATA, "Host: rebound.example", "Metadata-Flavor: Google"
    )
    assert status == 421
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert body == b"Host 'rebound.example' is not this emulator's address: use " + (
        f"127.0.0.1:{server.port} or localhost:{server.port}\n".encode()
    )
    own = f"Host: 127.0.0.1:{server.port}"
    assert _get(server, METADATA, own, "Metadata-Flavor: Google")[0] == 200


def test_the_metadata_route_also_answers_to_its_address_on_a_vm(
    server: EmulatorServer, seeded: EmulatorBackend
) -> None:
    # As a client routed to the emulator in place of the real metadata service would send it.
    for host in ("169.254.169.254", "169.254.169.254:80"):
        status, _, body = _get(server, METADATA, f"Host: {host}", "Metadata-Flavor: Google")
        assert status == 200
        assert json.loads(body)["token_type"] == "Bearer"
    assert _get(server, PREFIX + "c", "Host: 169.254.169.254")[0] == 421
    assert _get(server, "/_emulator/requests", "Host: 169.254.169.254")[0] == 421


def test_a_path_that_serves_nothing_is_not_found_whatever_the_host(
    server: EmulatorServer, seeded: EmulatorBackend
) -> None:
    status, _, body = _get(server, "/elsewhere", "Host: rebound.example")
    assert status == 404
    assert json.loads(body)["code"] == 5


def test_a_refused_api_request_is_logged_and_an_admin_one_is_not(
    server: EmulatorServer, seeded: EmulatorBackend
) -> None:
    _get(server, PREFIX + "c", "Host: rebound.example")
    _get(server, "/_emulator/connections", "Host: rebound.example")
    assert [(r.service, r.status) for r in seeded.requests()] == [("connections", 421)]


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ((), "Send a Host header: HTTP/1.1 requires one"),
        (("Host: 127.0.0.1:{port}", "Host: rebound.example"), "Send one Host header, not 2"),
    ],
)
def test_http_1_1_needs_exactly_one_host(
    server: EmulatorServer, seeded: EmulatorBackend, headers: tuple[str, ...], message: str
) -> None:
    lines = [line.format(port=server.port) for line in headers]
    status, _, body = _get(server, "/_emulator/requests", *lines)
    assert status == 400
    assert _status_message(body) == message


# -- Origin ------------------------------------------------------------------------------------


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://127.0.0.1:1"])
def test_admin_requests_from_another_origin_are_refused(
    http: requests.Session, server: EmulatorServer, origin: str
) -> None:
    headers = {"Origin": origin}
    moved = http.post(
        f"{server.url}/_emulator/clock", json={"advanceSeconds": 600}, headers=headers, timeout=5
    )
    assert moved.status_code == 403
    assert moved.json()["message"] == (
        f"Origin {origin!r} is refused: admin requests come from this machine's tools, "
        "not from web pages"
    )
    read = http.get(f"{server.url}/_emulator/requests", headers=headers, timeout=5)
    assert read.status_code == 403
    assert server.backend.advanced_seconds == 0


@pytest.mark.parametrize("origin", ["http://127.0.0.1:{port}", "http://localhost:{port}"])
def test_its_own_origin_is_served(
    http: requests.Session, server: EmulatorServer, origin: str
) -> None:
    headers = {"Origin": origin.format(port=server.port)}
    moved = http.post(
        f"{server.url}/_emulator/clock", json={"advanceSeconds": 60}, headers=headers, timeout=5
    )
    assert moved.status_code == 200
    assert server.backend.advanced_seconds == 60


# -- Content-Type of admin writes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "content_type"),
    [
        ("POST", "clock", "text/plain"),  # a web page's simple request: no preflight
        ("POST", "clock", "application/x-www-form-urlencoded"),  # an HTML form, or curl -d
        ("POST", "clock", None),
        ("POST", "reset", None),
        ("POST", "connections", "multipart/form-data; boundary=x"),
        ("PATCH", "connections/c", "text/plain"),
        ("DELETE", "connections/c", "text/plain"),
    ],
)
def test_admin_writes_need_json(
    http: requests.Session,
    server: EmulatorServer,
    seeded: EmulatorBackend,
    method: str,
    path: str,
    content_type: str | None,
) -> None:
    body = b"" if path == "reset" else b'{"advanceSeconds": 600}'
    headers = {"Content-Type": content_type} if content_type else {}
    response = http.request(
        method, f"{server.url}/_emulator/{path}", data=body, headers=headers, timeout=5
    )
    assert response.status_code == 415
    given = repr(content_type) if content_type else "none"
    assert response.json()["message"] == (
        f"Send admin {method} requests with Content-Type: application/json (got {given})"
    )
    assert seeded.advanced_seconds == 0
    assert seeded.connection_status("c") == "open"


def test_json_with_a_charset_and_a_bodiless_delete_are_taken(
    http: requests.Session, server: EmulatorServer, seeded: EmulatorBackend
) -> None:
    moved = http.post(
        f"{server.url}/_emulator/clock",
        data=b'{"advanceSeconds": 60}',
        headers={"Content-Type": "Application/JSON; charset=utf-8"},
        timeout=5,
    )
    assert moved.status_code == 200
    # A DELETE cannot come from a form or a request without preflight: no body, no type needed.
    assert http.delete(f"{server.url}/_emulator/connections/c", timeout=5).status_code == 200
    assert http.delete(f"{server.url}/_emulator/requests", timeout=5).status_code == 200
    assert seeded.connection_status("c") == "closed"


def test_the_api_routes_take_any_content_type(
    http: requests.Session, server: EmulatorServer, seeded: EmulatorBackend
) -> None:
    seeded.add_oauth_token("y0_ok")
    body = b'{"yandexPassportOauthToken": "y0_ok"}'
    headers = {"Content-Type": "text/plain"}
    exchanged = http.post(f"{server.url}/iam/v1/tokens", data=body, headers=headers, timeout=5)
    assert exchanged.status_code == 200


def test_help_states_the_rules() -> None:
    command = [sys.executable, "-m", "pulumi_yc_websocket.emulator", "--help"]
    helped = subprocess.run(command, capture_output=True, text=True, timeout=30)
    text = " ".join(helped.stdout.split())
    assert "Requests must name the emulator as Host (127.0.0.1:PORT or localhost:PORT;" in text
    assert "Admin requests from web pages (another Origin) are refused" in text
    assert (
        "admin POST and PATCH requests need Content-Type: application/json "
        "(a DELETE without a body needs none)"
    ) in text
