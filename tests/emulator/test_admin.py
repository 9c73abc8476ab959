"""The admin interface over real HTTP: change the emulator's data while it runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import requests

from pulumi_yc_websocket.emulator import EmulatorBackend, EmulatorServer, Status

PREFIX = "/apigateways/websocket/v1/connections/"


class Admin:
    """Talks to the admin interface and to Connection.Get of one started emulator."""

    def __init__(self, http: requests.Session, server: EmulatorServer, token: str) -> None:
        self.http = http
        self.url = f"{server.url}/_emulator"
        self.api = f"{server.url}{PREFIX}"
        self.token = token

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        if method != "GET":  # admin writes are JSON, even without a body
            kwargs.setdefault("headers", {"Content-Type": "application/json"})
        return self.http.request(method, f"{self.url}/{path}", json=body, timeout=5, **kwargs)

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        response = self.call(method, path, body)
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"] == "application/json"
        return response.json()

    def lookup(self, connection_id: str) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.http.get(f"{self.api}{connection_id}", headers=headers, timeout=5)


@pytest.fixture
def admin(http: requests.Session, server: EmulatorServer, writer_token: str) -> Admin:
    return Admin(http, server, writer_token)


def _seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def test_add_one_connection_then_look_it_up(admin: Admin) -> None:
    body = {
        "id": "added",
        "gatewayId": "d5dadmin000000000001",
        "connectedAt": {"minutesAgo": 1},
        "lastActiveAt": {"secondsAgo": 3},
    }
    stored = admin.ok("POST", "connections", body)
    assert stored["id"] == "added"
    assert stored["identity"] == {"sourceIp": "", "userAgent": ""}
    found = admin.lookup("added")
    assert found.status_code == 200
    assert found.json() == {k: v for k, v in stored.items() if k != "identity"}
    assert _seconds(found.json()["connectedAt"]) - _seconds(found.json()["lastActiveAt"]) == (
        pytest.approx(-57, abs=0.01)
    )


def test_add_a_list_and_replace_by_id(admin: Admin, backend: EmulatorBackend) -> None:
    backend.add_connection(id="old", gateway_id="g1", source_ip="192.0.2.1")
    stored = admin.ok("POST", "connections", [{"id": "old", "gatewayId": "g2"}, {}])
    assert stored[0]["gatewayId"] == "g2"
    assert len(stored[1]["id"]) == 20  # generated
    assert admin.lookup("old").json()["gatewayId"] == "g2"
    assert "identity" not in admin.lookup("old").json()  # replaced whole


def test_list_connections_with_their_status(admin: Admin, backend: EmulatorBackend) -> None:
    backend.add_connection(id="open")
    backend.add_connection(id="closed", closed=True)
    backend.add_connection(id="idle", last_active_at={"minutesAgo": 5})
    backend.advance_clock(300)
    listed = admin.ok("GET", "connections")["connections"]
    assert [(entry["status"], entry["connection"]["id"]) for entry in listed] == [
        ("open", "open"),
        ("closed", "closed"),
        ("idle-timeout", "idle"),
    ]


def test_close_a_connection(admin: Admin, backend: EmulatorBackend) -> None:
    backend.add_connection(id="Ab3dEfGhIjKlMnOp12Qr=")
    assert admin.lookup("Ab3dEfGhIjKlMnOp12Qr%3D").status_code == 200
    closed = admin.ok("DELETE", "connections/Ab3dEfGhIjKlMnOp12Qr%3D")
    assert closed["status"] == "closed"
    assert closed["connection"]["id"] == "Ab3dEfGhIjKlMnOp12Qr="
    gone = admin.lookup("Ab3dEfGhIjKlMnOp12Qr%3D")
    assert gone.status_code == 404
    assert gone.json()["message"] == "Connection Ab3dEfGhIjKlMnOp12Qr= not found"
    assert admin.ok("DELETE", "connections/Ab3dEfGhIjKlMnOp12Qr%3D")["status"] == "closed"


def test_change_fields_of_a_connection(admin: Admin, backend: EmulatorBackend) -> None:
    backend.add_connection(id="c", last_active_at={"minutesAgo": 9}, source_ip="192.0.2.1")
    changed = admin.ok(
        "PATCH",
        "connections/c",
        {"lastActiveAt": {"secondsAgo": 0}, "identity": {"userAgent": "curl/8.5.0"}},
    )
    assert changed["status"] == "open"
    assert changed["connection"]["identity"] == {"sourceIp": "192.0.2.1", "userAgent": "curl/8.5.0"}
    backend.advance_clock(120)  # idle 2 minutes now, not 11
    assert admin.lookup("c").status_code == 200


def test_move_the_clock_between_two_lookups(admin: Admin, backend: EmulatorBackend) -> None:
    backend.add_connection(id="busy", last_active_at={"secondsAgo": 10})
    backend.add_connection(id="quiet", last_active_at={"minutesAgo": 8})
    first = admin.lookup("busy").json()
    clock = admin.ok("POST", "clock", {"advanceSeconds": 150})
    assert clock["advancedSeconds"] == 150
    assert abs(_seconds(clock["now"]) - datetime.now().timestamp()) < 5
    assert admin.lookup("quiet").status_code == 404
    aged = admin.lookup("busy").json()
    assert _seconds(first["lastActiveAt"]) - _seconds(aged["lastActiveAt"]) == pytest.approx(150)
    assert admin.ok("GET", "clock")["advancedSeconds"] == 150


def test_the_request_log_without_credentials(admin: Admin, backend: EmulatorBackend) -> None:
    backend.add_connection(id="c")
    admin.lookup("c")
    admin.lookup("missing")
    admin.http.post(f"{admin.url.removesuffix('/_emulator')}/iam/v1/tokens", json={}, timeout=5)
    log = admin.ok("GET", "requests")["requests"]
    assert [(r["service"], r["connectionId"], r["status"]) for r in log] == [
        ("connections", "c", 200),
        ("connections", "missing", 404),
        ("iam", None, 400),
    ]
    assert set(log[0]) == {
        "service",
        "method",
        "path",
        "connectionId",
        "status",
        "receivedAt",
        "requestId",
    }
    assert admin.token not in str(log)
    only = admin.ok("GET", "requests?service=iam")["requests"]
    assert [r["service"] for r in only] == ["iam"]
    assert admin.ok("DELETE", "requests") == {"requests": []}
    assert admin.ok("GET", "requests") == {"requests": []}  # admin calls are not logged
    assert backend.requests() == []


def test_reset_goes_back_to_the_seeds(http: requests.Session, writer_token: str) -> None:
    seed = {"connections": [{"id": "seeded"}], "iamTokens": [{"token": writer_token}]}
    with EmulatorServer(EmulatorBackend.from_seed(seed)) as server:
        admin = Admin(http, server, writer_token)
        admin.ok("POST", "connections", {"id": "added"})
        admin.ok("DELETE", "connections/seeded")
        admin.ok("POST", "clock", {"advanceSeconds": 60})
        listed = admin.ok("POST", "reset")["connections"]
        assert [(e["status"], e["connection"]["id"]) for e in listed] == [("open", "seeded")]
        assert admin.lookup("seeded").status_code == 200
        assert admin.lookup("added").status_code == 404
        assert admin.ok("GET", "clock")["advancedSeconds"] == 0


def test_admin_requests_are_never_faulted(admin: Admin, backend: EmulatorBackend) -> None:
    backend.faults.set_default("connections", Status(503, 14))
    assert admin.ok("GET", "connections") == {"connections": []}
    assert admin.lookup("x").status_code == 503


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("POST", "connections", {"id": "c", "closed": "no"}, 400, "closed: expected true or false"),
        ("POST", "connections", [{}, {"identity": "1.2.3.4"}], 400, "[1].identity: expected a"),
        ("POST", "connections", "c", 400, "request body: expected a connection object"),
        ("POST", "clock", {"advanceSeconds": -5}, 400, "advanceSeconds: must be at least 0"),
        ("POST", "clock", {"advanceSecs": 5}, 400, "advanceSecs: unknown key; expected one of"),
        ("PATCH", "connections/nope", {"gatewayId": "g"}, 404, "No connection 'nope' is stored"),
        ("DELETE", "connections/nope", None, 404, "No connection 'nope' is stored"),
        ("PATCH", "connections/nope", {"closed": True}, 400, "closed: unknown key"),
        ("GET", "requests?service=dns", None, 400, "service=dns: use one of connections, iam"),
        ("GET", "nothing", None, 404, "No admin endpoint /_emulator/nothing; the endpoints: GET"),
    ],
)
def test_bad_admin_requests_say_what_is_wrong(
    admin: Admin, method: str, path: str, body: Any, status: int, message: str
) -> None:
    response = admin.call(method, path, body)
    assert response.status_code == status
    assert message in response.json()["message"]
    assert "\n" not in response.json()["message"]


def test_bad_json_and_wrong_methods(admin: Admin) -> None:
    broken = admin.call("POST", "clock", data=b'{"advanceSeconds": ')
    assert broken.status_code == 400
    assert broken.json()["message"].startswith("request body: not valid JSON")
    wrong = admin.call("PUT", "clock", {"advanceSeconds": 5})
    assert wrong.status_code == 405
    assert wrong.headers["Allow"] == "GET, POST"
