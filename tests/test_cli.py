"""The command line: output formats, exit codes, one-line errors on stderr, no token printed."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pulumi_yc_websocket import __version__
from pulumi_yc_websocket._cli import EXIT_CODES, main
from pulumi_yc_websocket._errors import (
    EXIT_CREDENTIALS,
    EXIT_ERROR,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_PERMISSION,
    EXIT_USAGE,
)
from pulumi_yc_websocket.emulator import Delay, Status

CONNECTION_ID = "EfKvQ47JSz6mjzNl3h9qBrAM"
VIEWER_TOKEN = "t1.9euelZqCliViewerToken.dmlld2VyLXNlY3JldA"
OAUTH = "y0_AgAAAAACliOAuthSecret987654321"
PREFIX = "pulumi-yc-websocket: error: "


class Run:
    """One in-process CLI run."""

    def __init__(self, code: int, stdout: str, stderr: str) -> None:
        self.code, self.stdout, self.stderr = code, stdout, stderr


@pytest.fixture
def cli(emulator: Any, emulator_environ: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """Runs ``main`` with the emulator in the environment and the writer token in YC_IAM_TOKEN."""
    monkeypatch.setenv("YC_IAM_TOKEN", emulator.token)

    def run(*argv: str) -> Run:
        out, err = io.StringIO(), io.StringIO()
        code = main(list(argv), out, err)
        result = Run(code, out.getvalue(), err.getvalue())
        for secret in (emulator.token, VIEWER_TOKEN, OAUTH):
            assert secret not in result.stdout
            assert secret not in result.stderr
        return result

    return run


@pytest.fixture
def connection(emulator: Any) -> dict[str, Any]:
    return emulator.add_connection(
        id=CONNECTION_ID,
        gateway_id="d5dm1lba80md4pmj2qke",
        source_ip="203.0.113.42",
        user_agent="curl/8.5.0",
        connected_at="2024-05-01T10:00:00.123456789+03:00",
        last_active_at="2024-05-01T07:12:30.000Z",
    )


def one_error_line(stderr: str) -> str:
    assert stderr.startswith(PREFIX)
    assert stderr.endswith("\n")
    assert stderr.count("\n") == 1
    return stderr[len(PREFIX) : -1]


# -- output ----------------------------------------------------------------------------------


def test_table_output(cli: Any, connection: dict[str, Any]) -> None:
    result = cli("get", CONNECTION_ID)
    assert result.code == EXIT_OK
    assert result.stderr == ""
    assert result.stdout == (
        "id              EfKvQ47JSz6mjzNl3h9qBrAM\n"
        "gateway id      d5dm1lba80md4pmj2qke\n"
        "source ip       203.0.113.42\n"
        "user agent      curl/8.5.0\n"
        "connected at    2024-05-01T07:00:00.123456789Z\n"
        "last active at  2024-05-01T07:12:30.000Z\n"
    )


def test_table_shows_dashes_for_absent_fields(cli: Any, emulator: Any) -> None:
    emulator.backend.add_connection(
        {"id": "bare", "gatewayId": "", "connectedAt": "", "lastActiveAt": ""}
    )
    result = cli("get", "bare", "--output", "table")
    assert result.code == EXIT_OK
    assert result.stdout == (
        "id              bare\n"
        "gateway id      -\n"
        "source ip       -\n"
        "user agent      -\n"
        "connected at    -\n"
        "last active at  -\n"
    )


def test_json_output(cli: Any, connection: dict[str, Any]) -> None:
    result = cli("get", CONNECTION_ID, "-o", "json")
    expected = {
        "id": CONNECTION_ID,
        "gatewayId": "d5dm1lba80md4pmj2qke",
        "identity": {"sourceIp": "203.0.113.42", "userAgent": "curl/8.5.0"},
        "connectedAt": "2024-05-01T07:00:00.123456789Z",
        "lastActiveAt": "2024-05-01T07:12:30.000Z",
    }
    assert result.code == EXIT_OK
    assert result.stderr == ""
    assert json.loads(result.stdout) == expected
    assert result.stdout == json.dumps(expected, indent=2) + "\n"


def test_endpoint_option_wins_over_the_environment(
    cli: Any,
    connection: dict[str, Any],
    emulator: Any,
    monkeypatch: pytest.MonkeyPatch,
    closed_port: int,
) -> None:
    monkeypatch.setenv("YC_APIGATEWAY_CONNECTIONS_ENDPOINT", f"http://127.0.0.1:{closed_port}")
    result = cli("get", CONNECTION_ID, "--endpoint", emulator.url, "-o", "json")
    assert result.code == EXIT_OK
    assert json.loads(result.stdout)["id"] == CONNECTION_ID
    assert emulator.count("connections", status=200) == 1


# -- exit codes ------------------------------------------------------------------------------


def test_not_found_exits_3(cli: Any, emulator: Any) -> None:
    result = cli("get", "ClosedLongAgo")
    assert result.code == EXIT_NOT_FOUND == 3
    assert result.stdout == ""
    request_id = emulator.requests()[0].request_id
    assert one_error_line(result.stderr) == (
        f"Connection 'ClosedLongAgo' was not found at {emulator.url}. It has closed or never "
        "existed (connections close after 10 idle minutes and live at most 60). (service said: "
        f"Connection ClosedLongAgo not found; HTTP 404; gRPC code 5; request id {request_id})"
    )


@pytest.mark.parametrize(
    ("connection_id", "message"),
    [
        ("..", "connection id '..' is not a valid id (it would leave the connections path)"),
        ("x" * 51, "connection id is 51 characters long; Yandex Cloud ids have at most 50"),
        ("", "connection id is empty; pass the id API Gateway gave the connection"),
        (
            "abc\n",
            "connection id has a control character (U+000A) at position 3; check for stray "
            "newlines or tabs",
        ),
    ],
)
def test_invalid_id_exits_2(cli: Any, emulator: Any, connection_id: str, message: str) -> None:
    result = cli("get", connection_id)
    assert result.code == EXIT_USAGE == 2
    assert one_error_line(result.stderr) == message
    assert emulator.requests() == []


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        ((), "the following arguments are required: command"),
        (("get",), "the following arguments are required: CONNECTION_ID"),
        (("get", "x", "-o", "yaml"), "argument --output/-o: invalid choice: 'yaml'"),
        (("get", "x", "--timeout", "soon"), "argument --timeout: invalid float value: 'soon'"),
        (("delete", "x"), "argument command: invalid choice: 'delete'"),
    ],
)
def test_bad_usage_exits_2(cli: Any, emulator: Any, argv: tuple[str, ...], fragment: str) -> None:
    result = cli(*argv)
    assert result.code == EXIT_USAGE
    assert result.stdout == ""
    assert result.stderr.startswith("usage: pulumi-yc-websocket")
    assert fragment in result.stderr
    assert emulator.requests() == []


def test_unsafe_endpoint_exits_2(cli: Any, emulator: Any) -> None:
    result = cli("get", CONNECTION_ID, "--endpoint", "http://conn.example")
    assert result.code == EXIT_USAGE
    assert one_error_line(result.stderr) == (
        "connections endpoint 'http://conn.example' from the connections_endpoint argument uses "
        "plain http: a bearer token is only sent over https, or over http to a loopback address "
        "such as a local emulator"
    )


def test_version_and_help(cli: Any) -> None:
    version = cli("--version")
    assert (version.code, version.stdout, version.stderr) == (
        EXIT_OK,
        f"pulumi-yc-websocket {__version__}\n",
        "",
    )
    usage = cli("get", "--help")
    assert usage.code == EXIT_OK
    assert usage.stdout.startswith("usage: pulumi-yc-websocket get [-h]")
    top = cli("--help")
    shown = " ".join(top.stdout.split())
    for code, meaning in EXIT_CODES.items():
        assert f"{code} {meaning}" in shown


def test_no_credentials_exits_4(
    cli: Any, emulator: Any, connection: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("YC_IAM_TOKEN")
    result = cli("get", CONNECTION_ID)
    assert result.code == EXIT_CREDENTIALS == 4
    assert one_error_line(result.stderr).startswith(
        "this VM has no service account attached: attach one to the VM (`yc compute instance "
        "update --service-account-name`), or set YC_IAM_TOKEN"
    )
    assert [r.service for r in emulator.requests()] == ["metadata"]


def test_conflicting_credentials_exit_4(
    cli: Any, emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YC_TOKEN", OAUTH)
    result = cli("get", CONNECTION_ID)
    assert result.code == EXIT_CREDENTIALS
    assert one_error_line(result.stderr) == (
        "conflicting credentials: both YC_IAM_TOKEN and YC_TOKEN are set; keep only one of them"
    )
    assert emulator.requests() == []


def test_rejected_token_exits_4(cli: Any, emulator: Any, connection: dict[str, Any]) -> None:
    emulator.backend.expire_token(emulator.token)
    result = cli("get", CONNECTION_ID)
    assert result.code == EXIT_CREDENTIALS
    assert one_error_line(result.stderr).startswith(
        "The IAM token from YC_IAM_TOKEN was rejected by connections. The IAM token has expired "
        "or is invalid: create a new one with `yc iam create-token`."
    )


def test_bad_key_file_exits_4(
    cli: Any, emulator: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("YC_IAM_TOKEN")
    monkeypatch.setenv("YC_SERVICE_ACCOUNT_KEY_FILE", str(tmp_path / "absent.json"))
    result = cli("get", CONNECTION_ID)
    assert result.code == EXIT_CREDENTIALS
    assert one_error_line(result.stderr).startswith(
        "YC_SERVICE_ACCOUNT_KEY_FILE is neither valid JSON of an authorized key nor an existing "
        "file"
    )


def test_permission_denied_exits_5(
    cli: Any, emulator: Any, connection: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.backend.add_iam_token(VIEWER_TOKEN, roles=["viewer"])
    monkeypatch.setenv("YC_IAM_TOKEN", VIEWER_TOKEN)
    result = cli("get", CONNECTION_ID)
    assert result.code == EXIT_PERMISSION == 5
    line = one_error_line(result.stderr)
    assert line.startswith("The IAM token from YC_IAM_TOKEN may not use connections. Grant its ")
    assert "api-gateway.websocketWriter" in line


def test_other_api_errors_exit_1(cli: Any, emulator: Any, connection: dict[str, Any]) -> None:
    emulator.faults.push("connections", Status(400, 3, "Request validation error:\nbad\tid"))
    result = cli("get", CONNECTION_ID)
    assert result.code == EXIT_ERROR == 1
    request_id = emulator.requests()[0].request_id
    assert one_error_line(result.stderr) == (
        f"Connections at {emulator.url} refused the request. (service said: Request validation "
        f"error: bad id; HTTP 400; gRPC code 3; request id {request_id})"
    )


def test_deadline_exits_1(cli: Any, emulator: Any, connection: dict[str, Any]) -> None:
    emulator.faults.push("connections", Delay(0.5))
    result = cli("get", CONNECTION_ID, "--timeout", "0.2")
    assert result.code == EXIT_ERROR
    assert one_error_line(result.stderr) == (
        f"The lookup's deadline of 0.2s passed waiting for connections at {emulator.url}. "
        "Raise the timeout, or check the network path to the service."
    )
    emulator.wait_for_requests(1)


def test_exchanged_token_is_never_printed(
    cli: Any, emulator: Any, connection: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.backend.add_oauth_token(OAUTH, roles=["viewer"])
    monkeypatch.delenv("YC_IAM_TOKEN")
    monkeypatch.setenv("YC_TOKEN", OAUTH)
    result = cli("get", CONNECTION_ID)
    assert result.code == EXIT_PERMISSION
    minted = emulator.requests("connections")[0].headers["Authorization"].removeprefix("Bearer ")
    assert minted not in result.stderr
    assert one_error_line(result.stderr).startswith("The OAuth token from YC_TOKEN may not use")


# -- as a real process -----------------------------------------------------------------------


def run_process(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=30, check=False)


def test_python_m_subprocess(emulator: Any, connection: dict[str, Any]) -> None:
    env = {**os.environ, **emulator.env, "YC_IAM_TOKEN": emulator.token}
    done = run_process(
        [sys.executable, "-m", "pulumi_yc_websocket", "get", CONNECTION_ID, "-o", "json"], env
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert json.loads(done.stdout) == {
        "id": CONNECTION_ID,
        "gatewayId": "d5dm1lba80md4pmj2qke",
        "identity": {"sourceIp": "203.0.113.42", "userAgent": "curl/8.5.0"},
        "connectedAt": "2024-05-01T07:00:00.123456789Z",
        "lastActiveAt": "2024-05-01T07:12:30.000Z",
    }
    (request,) = emulator.requests()
    assert request.headers["Authorization"] == f"Bearer {emulator.token}"
    assert emulator.token not in done.stdout


def test_console_script_subprocess_not_found(emulator: Any) -> None:
    script = Path(sys.executable).with_name("pulumi-yc-websocket")
    env = {**os.environ, **emulator.env, "YC_IAM_TOKEN": emulator.token}
    done = run_process([str(script), "get", "gone/one"], env)
    assert done.returncode == 3
    assert done.stdout == ""
    assert one_error_line(done.stderr).startswith(
        f"Connection 'gone/one' was not found at {emulator.url}."
    )
    assert emulator.token not in done.stderr
    assert emulator.requests()[0].connection_id == "gone/one"
