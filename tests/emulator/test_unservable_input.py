"""Input the emulator could not serve back is refused at the door, on one line, and not stored.

Over HTTP (admin bodies, IAM bodies) and through the command line (seed files): a lone surrogate,
JSON nested too deep, a seed file without end. The admin interface and the seed loader apply the
same rules.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from pulumi_yc_websocket.emulator import EmulatorBackend, EmulatorServer

PREFIX = "/apigateways/websocket/v1/connections/"
JSON = {"Content-Type": "application/json"}
PROG = "python -m pulumi_yc_websocket.emulator"


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _admin(
    http: requests.Session, server: EmulatorServer, method: str, path: str, body: str
) -> requests.Response:
    url = f"{server.url}/_emulator/{path}"
    return http.request(method, url, data=body.encode(), headers=JSON, timeout=10)


def _one_line_error(response: requests.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    message: str = response.json()["message"]
    assert "\n" not in message
    return message


def _lookup(http: requests.Session, server: EmulatorServer, token: str, connection_id: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return http.get(f"{server.url}{PREFIX}{connection_id}", headers=headers, timeout=5).status_code


@pytest.mark.parametrize(
    ("method", "path", "body", "problem"),
    [
        (
            "POST",
            "connections",
            r'{"id":"q4","identity":{"sourceIp":"\ud800"}}',
            r'identity.sourceIp: "\ud800" is not Unicode text (a lone surrogate)',
        ),
        (
            "POST",
            "connections",
            r'[{"id":"ok"},{"id":"q4","extra":{"\udc00":1}}]',
            r'[1].extra: key "\udc00" is not Unicode text (a lone surrogate)',
        ),
        (
            "POST",
            "connections",
            r'{"id":"q4\udbff"}',
            r'id: "q4\udbff" is not Unicode text (a lone surrogate)',
        ),
        (
            "PATCH",
            "connections/stored",
            r'{"gatewayId":"\ud800"}',
            r'gatewayId: "\ud800" is not Unicode text (a lone surrogate)',
        ),
    ],
)
def test_a_lone_surrogate_is_refused_and_nothing_is_stored(
    http: requests.Session,
    server: EmulatorServer,
    backend: EmulatorBackend,
    writer_token: str,
    method: str,
    path: str,
    body: str,
    problem: str,
) -> None:
    backend.add_connection(id="stored", gateway_id="g")
    assert _one_line_error(_admin(http, server, method, path, body), 400) == problem
    listed = http.get(f"{server.url}/_emulator/connections", timeout=5)
    assert listed.status_code == 200
    assert [entry["connection"]["id"] for entry in listed.json()["connections"]] == ["stored"]
    assert _lookup(http, server, writer_token, "stored") == 200
    assert listed.json()["connections"][0]["connection"]["gatewayId"] == "g"
    assert _lookup(http, server, writer_token, "q4") == 404


@pytest.mark.parametrize("depth", [65, 900, 100_000])
def test_json_nested_too_deep_is_refused_and_nothing_is_stored(
    http: requests.Session,
    server: EmulatorServer,
    backend: EmulatorBackend,
    writer_token: str,
    depth: int,
) -> None:
    backend.add_connection(id="stored", gateway_id="g")
    body = '{"id":"deep","extra":' + _nested(depth - 1) + "}"
    message = _one_line_error(_admin(http, server, "POST", "connections", body), 400)
    assert message == "request body: JSON nested deeper than 64 levels"
    patched = _admin(http, server, "PATCH", "connections/stored", _nested(depth))
    assert _one_line_error(patched, 400) == "request body: JSON nested deeper than 64 levels"
    assert _lookup(http, server, writer_token, "deep") == 404
    assert _lookup(http, server, writer_token, "stored") == 200
    assert http.get(f"{server.url}/_emulator/connections", timeout=5).status_code == 200


def test_64_levels_are_served(
    http: requests.Session, server: EmulatorServer, writer_token: str
) -> None:
    body = '{"id":"deep","extra":' + _nested(63) + "}"
    assert _admin(http, server, "POST", "connections", body).status_code == 200
    headers = {"Authorization": f"Bearer {writer_token}"}
    found = http.get(f"{server.url}{PREFIX}deep", headers=headers, timeout=5)
    assert found.status_code == 200
    assert found.json()["extra"] == json.loads(_nested(63))


@pytest.mark.parametrize(
    "body",
    [
        b'{"jwt":' + _nested(100_000).encode() + b"}",
        b'{"jwt":' + _nested(900).encode() + b"}",
        rb'{"jwt":"ey\ud800.x.y"}',
        rb'{"yandexPassportOauthToken":"y0_\ud800"}',
    ],
    ids=["deep", "900 levels", "surrogate in a JWT", "surrogate in an OAuth token"],
)
def test_the_iam_endpoint_answers_unservable_bodies(
    http: requests.Session, server: EmulatorServer, body: bytes
) -> None:
    response = http.post(f"{server.url}/iam/v1/tokens", data=body, headers=JSON, timeout=10)
    assert response.status_code in (400, 401)
    assert response.json()["code"] in (3, 16)
    assert "\n" not in response.json()["message"]


def test_the_python_api_refuses_the_same_input() -> None:
    backend = EmulatorBackend()
    with pytest.raises(ValueError, match=r'^identity\.sourceIp: "\\ud800" is not Unicode text'):
        backend.add_connection({"id": "q4", "identity": {"sourceIp": "\ud800"}})
    deep: list[object] = []
    for _ in range(70):
        deep = [deep]
    with pytest.raises(ValueError, match=r"^JSON nested deeper than 64 levels$"):
        backend.add_connection({"id": "deep", "extra": deep})
    backend.add_connection(id="c")
    with pytest.raises(ValueError, match=r'^gateway_id: "\\udfff" is not Unicode text'):
        backend.update_connection("c", gateway_id="\udfff")
    assert backend.connections() == [backend.connections(include_closed=True)[0]]
    assert [c["id"] for c in backend.connections()] == ["c"]


# -- seed files through the command line ------------------------------------------------------


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pulumi_yc_websocket.emulator", "--port", "0", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def _assert_one_line_exit_2(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stdout == ""
    assert result.stderr == f"{PROG}: error: {message}\n"


@pytest.mark.parametrize("depth", [65, 900, 100_000])
def test_a_seed_file_nested_too_deep(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"connections": [{"extra": ' + _nested(depth - 3) + "}]}", encoding="utf-8")
    _assert_one_line_exit_2(_run("--seed", str(path)), f"{path}: JSON nested deeper than 64 levels")


def test_a_seed_file_with_a_lone_surrogate(tmp_path: Path) -> None:
    path = tmp_path / "surrogate.json"
    path.write_text(r'{"connections": [{"id": "q4\ud800"}]}', encoding="utf-8")
    _assert_one_line_exit_2(
        _run("--seed", str(path)),
        rf'{path}:connections[0].id: "q4\ud800" is not Unicode text (a lone surrogate)',
    )


def test_a_seed_file_without_end_is_read_only_so_far() -> None:
    _assert_one_line_exit_2(
        _run("--seed", "/dev/zero"), "/dev/zero: larger than 16 MiB, the most a seed file may hold"
    )
