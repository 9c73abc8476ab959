"""`python -m pulumi_yc_websocket.emulator` in a real subprocess: output, errors, admin API."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

MODULE = [sys.executable, "-m", "pulumi_yc_websocket.emulator"]
PROG = "python -m pulumi_yc_websocket.emulator"
PREFIX = "/apigateways/websocket/v1/connections/"
METADATA = "/computeMetadata/v1/instance/service-accounts/default/token"
TOKEN = "t1.commandLineTestToken9eue.Y29tbWFuZC1saW5lLXRlc3QtdG9rZW4"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """The emulator's command line, for one that must fail at once."""
    return subprocess.run([*MODULE, *args], capture_output=True, text=True, timeout=30)


def assert_usage_error(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"{PROG}: error: ")
    assert "Traceback" not in result.stderr
    assert message in result.stderr, result.stderr


class Running:
    """A started emulator process and what it printed."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        assert process.stdout is not None
        first = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", first)
        assert match, first + (process.stderr.read() if process.stderr else "")
        self.url = match.group(0)
        self.port = int(match.group(1))
        self.lines: list[str] = []
        while not (line := process.stdout.readline()).startswith("# admin interface"):
            self.lines.append(line.strip())
        self.admin_line = line.strip()
        self.exports = dict(line.removeprefix("export ").split("=", 1) for line in self.lines)


@pytest.fixture
def start() -> Iterator[Any]:
    processes: list[subprocess.Popen[str]] = []

    def _start(*args: str) -> Running:
        process = subprocess.Popen(
            [*MODULE, "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        processes.append(process)
        return Running(process)

    yield _start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def _seed(tmp_path: Path, seed: Any, name: str = "seed.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(seed), encoding="utf-8")
    return path


# -- running -------------------------------------------------------------------------------------


def test_runs_the_demo_seed_until_sigterm(start: Any, http: requests.Session) -> None:
    emulator = start("--demo-seed")
    # No metadata address: a forgotten or mistyped token fails as it would in production,
    # instead of succeeding through the emulator's metadata service.
    assert emulator.exports == {
        "YC_APIGATEWAY_CONNECTIONS_ENDPOINT": emulator.url,
        "YC_IAM_ENDPOINT": emulator.url,
        "YC_IAM_TOKEN": emulator.exports["YC_IAM_TOKEN"],
    }
    assert emulator.exports["YC_IAM_TOKEN"].startswith("t1.demo")
    assert f"{emulator.url}/_emulator/connections" in emulator.admin_line
    response = http.get(
        f"{emulator.url}{PREFIX}EfKvQ47JSz6mjzNl3h9qBrAM",
        headers={"Authorization": f"Bearer {emulator.exports['YC_IAM_TOKEN']}"},
        timeout=5,
    )
    assert response.status_code == 200
    assert response.json()["gatewayId"] == "d5dm1lba80md4pmj2qke"
    emulator.process.send_signal(signal.SIGTERM)
    assert emulator.process.wait(timeout=10) == 0


def test_close_and_age_connections_through_the_admin_interface(
    start: Any, http: requests.Session, tmp_path: Path
) -> None:
    seed = _seed(
        tmp_path,
        {
            "connections": [
                {"id": "closes", "lastActiveAt": {"secondsAgo": 5}},
                {"id": "ages", "lastActiveAt": {"minutesAgo": 7}},
                {"id": "stays", "lastActiveAt": {"secondsAgo": 1}},
            ],
            "iamTokens": [{"token": TOKEN}],
        },
    )
    emulator = start("--seed", str(seed))
    admin = f"{emulator.url}/_emulator"

    def status(connection_id: str) -> int:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        url = f"{emulator.url}{PREFIX}{connection_id}"
        return http.get(url, headers=headers, timeout=5).status_code

    assert [status(c) for c in ("closes", "ages", "stays")] == [200, 200, 200]
    assert http.delete(f"{admin}/connections/closes", timeout=5).status_code == 200
    moved = http.post(f"{admin}/clock", json={"advanceSeconds": 180}, timeout=5)
    assert moved.json()["advancedSeconds"] == 180
    assert [status(c) for c in ("closes", "ages", "stays")] == [404, 404, 200]
    added = http.post(f"{admin}/connections", json={"id": "new"}, timeout=5)
    assert added.status_code == 200
    assert status("new") == 200
    log = http.get(f"{admin}/requests?service=connections", timeout=5).json()["requests"]
    assert [(r["connectionId"], r["status"]) for r in log][-4:] == [
        ("closes", 404),
        ("ages", 404),
        ("stays", 200),
        ("new", 200),
    ]
    reset = http.post(f"{admin}/reset", headers={"Content-Type": "application/json"}, timeout=5)
    assert reset.status_code == 200
    assert [status(c) for c in ("closes", "ages", "stays", "new")] == [200, 200, 200, 404]
    emulator.process.send_signal(signal.SIGINT)
    assert emulator.process.wait(timeout=10) == 0


def test_the_metadata_address_is_printed_only_when_asked(
    start: Any, http: requests.Session
) -> None:
    quiet = start("--demo-seed")
    assert "YC_METADATA_ADDR" not in quiet.exports
    assert not any("YC_METADATA_ADDR" in line for line in quiet.lines)
    asked = start("--demo-seed", "--print-metadata-addr")
    assert asked.exports == {
        "YC_APIGATEWAY_CONNECTIONS_ENDPOINT": asked.url,
        "YC_IAM_ENDPOINT": asked.url,
        "YC_METADATA_ADDR": f"127.0.0.1:{asked.port}",
        "YC_IAM_TOKEN": asked.exports["YC_IAM_TOKEN"],
    }
    # The address printed is the emulator's metadata service, answering as on a VM.
    metadata = f"http://{asked.exports['YC_METADATA_ADDR']}{METADATA}"
    answer = http.get(metadata, headers={"Metadata-Flavor": "Google"}, timeout=5)
    assert answer.status_code == 200
    assert answer.json()["token_type"] == "Bearer"
    helped = " ".join(run("--help").stdout.split())
    assert (
        "--print-metadata-addr also print export YC_METADATA_ADDR=..., so that a lookup without "
        "a credential uses the emulator's VM metadata service; without it, a missing or "
        "mistyped credential fails as in production"
    ) in helped


def test_help_lists_the_admin_endpoints() -> None:
    helped = run("--help")
    assert helped.returncode == 0
    assert "--demo-seed" in helped.stdout
    assert "PATCH  /_emulator/connections/{id}" in helped.stdout
    assert '{"advanceSeconds": 600}' in helped.stdout


# -- errors: one line on stderr, exit status 2 -----------------------------------------------------


@pytest.mark.parametrize("port", ["99999", "-5", "http", "65536"])
def test_a_port_out_of_range(port: str) -> None:
    assert_usage_error(
        run("--port", port),
        f"argument --port: '{port}' is not a port number: use 0-65535 (0 picks a free port)",
    )


def test_a_port_in_use_names_it_and_suggests_port_0() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        assert_usage_error(
            run("--port", str(taken)),
            f"port {taken} on 127.0.0.1 is already in use (another emulator?): stop what holds "
            "it, or pass --port 0 to pick a free port",
        )


def test_a_host_that_is_not_loopback() -> None:
    assert_usage_error(
        run("--port", "0", "--host", "0.0.0.0"),
        "--host: the emulator listens on IPv4 loopback only (127.0.0.1), not '0.0.0.0'",
    )


@pytest.mark.parametrize(
    ("seed", "problem"),
    [
        ({"requireAuth": "false"}, 'requireAuth: expected true or false, got "false"'),
        ({"connections": [{"closed": "no"}]}, "connections[0].closed: expected true or false"),
        ({"connections": [{"identity": "1.2.3.4"}]}, "connections[0].identity: expected a JSON"),
        ({"iamTokenTtlSeconds": "abc"}, 'iamTokenTtlSeconds: expected a number, got "abc"'),
        (
            {"connections": [{"lastActiveAt": {"minutesAgo": 1e308}}]},
            'connections[0].lastActiveAt: {"minutesAgo": 1e+308} is out of range',
        ),
        ({"nope": 1}, "nope: unknown key; expected one of requireAuth, "),
    ],
)
def test_a_bad_seed_names_file_and_key(tmp_path: Path, seed: Any, problem: str) -> None:
    path = _seed(tmp_path, seed)
    assert_usage_error(run("--port", "0", "--seed", str(path)), f"error: {path}:{problem}")


def test_seed_files_that_are_no_json(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"connections": [}', encoding="utf-8")
    assert_usage_error(
        run("--port", "0", "--seed", str(broken)),
        f"error: {broken}:1:18: not valid JSON: Expecting value",
    )
    missing = tmp_path / "missing.json"
    assert_usage_error(
        run("--port", "0", "--seed", str(missing)),
        f"error: {missing}: cannot read it: No such file or directory",
    )


def test_no_auth_wins_over_the_seeds(start: Any, http: requests.Session, tmp_path: Path) -> None:
    seed = _seed(tmp_path, {"requireAuth": True, "connections": [{"id": "c"}]})
    emulator = start("--seed", str(seed), "--no-auth")
    assert "YC_IAM_TOKEN" not in emulator.exports
    assert http.get(f"{emulator.url}{PREFIX}c", timeout=5).status_code == 200
