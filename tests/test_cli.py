"""The command line: output formats, exit codes, one-line errors on stderr, no token printed."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
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
    EXIT_SEVERITY,
    EXIT_USAGE,
    worst_exit_code,
)
from pulumi_yc_websocket._settings import ENVIRONMENT_VARIABLES, SETTING_MEANINGS
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
        (("get",), "the following arguments are required: ID"),
        (("get", "--"), "the following arguments are required: ID"),
        (("get", "x", "-o", "yaml"), "argument --output/-o: invalid choice: 'yaml'"),
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
        "connections endpoint 'http://conn.example' from --endpoint uses plain http: a bearer "
        "token is only sent over https, or over http to a loopback address such as a local "
        "emulator"
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


def cli_process(
    emulator: Any, *argv: str, env: dict[str, str | None] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m pulumi_yc_websocket ARGV`` against the emulator with the writer token;
    ``env`` adds variables (``None``: removes one)."""
    environ: dict[str, str | None] = {
        **os.environ,
        **emulator.env,
        "YC_IAM_TOKEN": emulator.token,
        **(env or {}),
    }
    command = [sys.executable, "-m", "pulumi_yc_websocket", *argv]
    done = run_process(command, {k: v for k, v in environ.items() if v is not None})
    assert "Traceback" not in done.stderr
    assert emulator.token not in done.stdout + done.stderr
    return done


def last_error_line(stderr: str) -> str:
    """The line argparse ends a usage error with, without its prefix."""
    line = stderr.splitlines()[-1]
    assert line.startswith("pulumi-yc-websocket get: error: "), stderr
    return line.removeprefix("pulumi-yc-websocket get: error: ")


JSON_OF_CONNECTION = {
    "id": CONNECTION_ID,
    "gatewayId": "d5dm1lba80md4pmj2qke",
    "identity": {"sourceIp": "203.0.113.42", "userAgent": "curl/8.5.0"},
    "connectedAt": "2024-05-01T07:00:00.123456789Z",
    "lastActiveAt": "2024-05-01T07:12:30.000Z",
}
DASH_ID = "-Xk3vQ47JSz6mjzNl3h9qBrA"
"""A base64url id that starts with a dash, as about 1 in 64 do."""


# -- ids that start with "-" -----------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ("get", DASH_ID),
        ("get", DASH_ID, "-o", "table"),
        ("get", "--output=table", DASH_ID),
        ("get", "-otable", "--", DASH_ID),
    ],
)
def test_an_id_starting_with_a_dash_is_looked_up(emulator: Any, argv: tuple[str, ...]) -> None:
    emulator.add_connection(id=DASH_ID, gateway_id="d5dm1lba80md4pmj2qke")
    done = cli_process(emulator, *argv)
    assert done.returncode == EXIT_OK, done.stderr
    assert done.stdout.startswith(
        f"id              {DASH_ID}\ngateway id      d5dm1lba80md4pmj2qke"
    )
    assert [r.connection_id for r in emulator.requests()] == [DASH_ID]


@pytest.mark.parametrize("token", ["-x", "-1", "--xyz", "--timeot", "-hAbc", "-oAbc", "-o=yaml"])
def test_an_id_that_may_be_a_mistyped_option_is_told_to_follow_the_separator(
    emulator: Any, token: str
) -> None:
    done = cli_process(emulator, "get", token)
    assert done.returncode == EXIT_USAGE
    assert done.stdout == ""
    assert last_error_line(done.stderr).endswith(
        f"; if {token!r} is a connection id, put it after --: pulumi-yc-websocket get -- {token}"
    )
    assert emulator.requests() == []
    emulator.add_connection(id=token)
    after = cli_process(emulator, "get", "-o", "json", "--", token)
    assert after.returncode == EXIT_OK, after.stderr
    assert json.loads(after.stdout)["id"] == token


def test_long_options_may_be_abbreviated_and_values_may_start_with_a_dash(
    cli: Any, connection: dict[str, Any], emulator: Any
) -> None:
    found = cli("get", "--out", "json", "--time", "5", CONNECTION_ID)
    assert (found.code, json.loads(found.stdout)) == (EXIT_OK, JSON_OF_CONNECTION)
    negative = cli("get", CONNECTION_ID, "--timeout", "-1")
    assert negative.code == EXIT_USAGE
    assert last_error_line(negative.stderr) == (
        "argument --timeout: must be a number of seconds above 0 and at most 86400, not '-1'"
    )
    endpoint = cli("get", CONNECTION_ID, "--endpoint", "-abc")
    assert endpoint.code == EXIT_USAGE
    assert one_error_line(endpoint.stderr).startswith("connections endpoint '-abc' from --endpoint")


# -- flag values -----------------------------------------------------------------------------

TIMEOUT = "argument --timeout: must be a number of seconds above 0 and at most 86400, not "
EMPTY_ENDPOINT = (
    "argument --endpoint: is empty; give the Connection service's base URL (e.g. "
    "http://127.0.0.1:8080 for a local emulator) or leave the option out"
)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--timeout", "-1"), f"{TIMEOUT}'-1'"),
        (("--timeout", "0"), f"{TIMEOUT}'0'"),
        (("--timeout", "nan"), f"{TIMEOUT}'nan'"),
        (("--timeout", "inf"), f"{TIMEOUT}'inf'"),
        (("--timeout", "1e308"), f"{TIMEOUT}'1e308'"),
        (("--timeout", "soon"), f"{TIMEOUT}'soon'"),
        (("--parallel", "0"), "argument --parallel: must be a whole number from 1 to 16, not '0'"),
        (
            ("--parallel", "2.5"),
            "argument --parallel: must be a whole number from 1 to 16, not '2.5'",
        ),
        (("--endpoint", ""), EMPTY_ENDPOINT),
        (("--endpoint=",), EMPTY_ENDPOINT),
        (("--endpoint", " "), EMPTY_ENDPOINT),
    ],
)
def test_bad_flag_values_are_usage_errors(
    emulator: Any, argv: tuple[str, ...], message: str
) -> None:
    done = cli_process(emulator, "get", CONNECTION_ID, *argv)
    assert done.returncode == EXIT_USAGE
    assert done.stdout == ""
    assert done.stderr.startswith("usage: pulumi-yc-websocket get ")
    assert last_error_line(done.stderr) == message
    assert emulator.requests() == []


# -- exit codes by category ------------------------------------------------------------------


def _setup_nothing(emulator: Any) -> dict[str, str | None]:
    return {}


def _setup_found(emulator: Any) -> dict[str, str | None]:
    emulator.add_connection(id=CONNECTION_ID)
    return {}


def _setup_service_error(emulator: Any) -> dict[str, str | None]:
    emulator.faults.push("connections", Status(400, 3, "Request validation error"))
    return {}


def _setup_no_service_account(emulator: Any) -> dict[str, str | None]:
    return {"YC_IAM_TOKEN": None}  # the emulator's metadata service answers 404


def _setup_viewer(emulator: Any) -> dict[str, str | None]:
    emulator.add_connection(id=CONNECTION_ID)
    emulator.backend.add_iam_token(VIEWER_TOKEN, roles=["viewer"])
    return {"YC_IAM_TOKEN": VIEWER_TOKEN}


def _setup_bad_api_root(emulator: Any) -> dict[str, str | None]:
    # Only the API root: the service endpoints derive from it.
    return {
        "YC_ENDPOINT": "a:b:c",
        "YC_APIGATEWAY_CONNECTIONS_ENDPOINT": None,
        "YC_IAM_ENDPOINT": None,
    }


def _setup_bad_metadata_address(emulator: Any) -> dict[str, str | None]:
    return {"YC_IAM_TOKEN": None, "YC_METADATA_ADDR": ":::"}


CATEGORIES = {
    "found": (_setup_found, CONNECTION_ID, EXIT_OK, "id "),
    "service error": (_setup_service_error, CONNECTION_ID, EXIT_ERROR, "Connections at "),
    "invalid id": (_setup_nothing, "..", EXIT_USAGE, "connection id '..' is not a valid id"),
    "bad API root": (
        _setup_bad_api_root,
        CONNECTION_ID,
        EXIT_USAGE,
        "API endpoint 'a:b:c' from YC_ENDPOINT is not host[:port]; use host[:port] or "
        "https://host[:port], e.g. api.cloud.yandex.net:443",
    ),
    "bad metadata address": (
        _setup_bad_metadata_address,
        CONNECTION_ID,
        EXIT_USAGE,
        "metadata address ':::' from YC_METADATA_ADDR must be host[:port], e.g. "
        "169.254.169.254; it is used because no credential is set: fix or unset it, or set "
        "YC_IAM_TOKEN",
    ),
    "not found": (_setup_nothing, "gone", EXIT_NOT_FOUND, "Connection 'gone' was not found at "),
    "no service account": (
        _setup_no_service_account,
        CONNECTION_ID,
        EXIT_CREDENTIALS,
        "this VM has no service account attached",
    ),
    "permission denied": (
        _setup_viewer,
        CONNECTION_ID,
        EXIT_PERMISSION,
        "The IAM token from YC_IAM_TOKEN may not use connections.",
    ),
}


def test_every_exit_code_category_is_tested() -> None:
    assert {code for _, _, code, _ in CATEGORIES.values()} == set(EXIT_CODES)


@pytest.mark.parametrize("case", list(CATEGORIES))
def test_exit_code_by_category(emulator: Any, case: str) -> None:
    setup, connection_id, code, start = CATEGORIES[case]
    done = cli_process(emulator, "get", connection_id, env=setup(emulator))
    assert done.returncode == code, done.stderr
    if code == EXIT_OK:
        assert done.stdout.startswith(start)
        assert done.stderr == ""
    else:
        assert done.stdout == ""
        assert one_error_line(done.stderr).startswith(start)


def test_a_bad_metadata_address_is_ignored_when_another_credential_is_set(
    emulator: Any, connection: dict[str, Any]
) -> None:
    done = cli_process(
        emulator, "get", CONNECTION_ID, "-o", "json", env={"YC_METADATA_ADDR": ":::"}
    )
    assert done.returncode == EXIT_OK, done.stderr
    assert json.loads(done.stdout) == JSON_OF_CONNECTION


def test_an_endpoint_problem_is_a_usage_error_whatever_the_credential(
    emulator: Any, tmp_path: Path
) -> None:
    """Exit 2 even when the credential would have failed too (checked later, exit 4)."""
    done = cli_process(
        emulator,
        "get",
        CONNECTION_ID,
        env={
            "YC_IAM_TOKEN": None,
            "YC_SERVICE_ACCOUNT_KEY_FILE": str(tmp_path / "absent.json"),
            "YC_APIGATEWAY_CONNECTIONS_ENDPOINT": "http://127.0.0.1:33767/foo",
        },
    )
    assert done.returncode == EXIT_USAGE
    assert one_error_line(done.stderr) == (
        "connections endpoint 'http://127.0.0.1:33767/foo' from "
        "YC_APIGATEWAY_CONNECTIONS_ENDPOINT has a path; give the base URL only, "
        "'http://127.0.0.1:33767'"
    )


# -- credentials, as the CLI shows them --------------------------------------------------------


def _ec_key_file(tmp_path: Path) -> Path:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path = tmp_path / "ec-key.json"
    key = {"id": "ajekey", "service_account_id": "ajesa", "private_key": pem.decode()}
    path.write_text(json.dumps(key), "utf-8")
    return path


def test_an_ec_key_file_is_one_line_naming_the_file(emulator: Any, tmp_path: Path) -> None:
    path = _ec_key_file(tmp_path)
    done = cli_process(
        emulator,
        "get",
        CONNECTION_ID,
        env={"YC_IAM_TOKEN": None, "YC_SERVICE_ACCOUNT_KEY_FILE": str(path)},
    )
    assert done.returncode == EXIT_CREDENTIALS
    assert one_error_line(done.stderr) == (
        f"the private_key in the service-account key file {str(path)!r} named by "
        "YC_SERVICE_ACCOUNT_KEY_FILE is an EC (secp256r1) key, not RSA: IAM takes JWTs signed "
        "with PS256, an RSA signature; `yc iam key create --service-account-name NAME -o "
        "key.json` makes an RSA key"
    )
    assert emulator.requests() == []


@pytest.mark.parametrize("value", ["[1,2]", "[]", "id: x"])
def test_a_key_setting_that_is_neither_json_nor_a_file(emulator: Any, value: str) -> None:
    done = cli_process(
        emulator,
        "get",
        CONNECTION_ID,
        env={"YC_IAM_TOKEN": None, "YC_SERVICE_ACCOUNT_KEY_FILE": value},
    )
    assert done.returncode == EXIT_CREDENTIALS
    assert one_error_line(done.stderr).startswith(
        "YC_SERVICE_ACCOUNT_KEY_FILE is neither valid JSON of an authorized key nor an existing "
        "file; give the path of the key file or its JSON"
    )


def test_an_oauth_token_in_yc_iam_token_gets_a_hint(
    emulator: Any, connection: dict[str, Any]
) -> None:
    emulator.backend.add_oauth_token(OAUTH, roles=["api-gateway.websocketWriter"])
    done = cli_process(emulator, "get", CONNECTION_ID, env={"YC_IAM_TOKEN": OAUTH})
    assert done.returncode == EXIT_CREDENTIALS
    line = one_error_line(done.stderr)
    assert line.startswith(
        "The IAM token from YC_IAM_TOKEN was rejected by connections. It does not look like an "
        "IAM token (t1. and two dots): if it is an OAuth token, set it as YC_TOKEN"
    )
    assert OAUTH not in line
    with_yc_token = cli_process(
        emulator, "get", CONNECTION_ID, env={"YC_IAM_TOKEN": None, "YC_TOKEN": OAUTH}
    )
    assert with_yc_token.returncode == EXIT_OK, with_yc_token.stderr


def test_an_id_with_a_leading_space_gets_a_hint(emulator: Any, connection: dict[str, Any]) -> None:
    done = cli_process(emulator, "get", f" {CONNECTION_ID}")
    assert done.returncode == EXIT_NOT_FOUND
    assert one_error_line(done.stderr).startswith(
        f"Connection ' {CONNECTION_ID}' was not found at {emulator.url}. The id starts with "
        "whitespace, which API Gateway's ids never do: strip it and try again. (service said: "
    )


# -- several ids -----------------------------------------------------------------------------


def test_several_ids_print_json_lines_in_the_order_given(
    emulator: Any, connection: dict[str, Any]
) -> None:
    emulator.add_connection(id=DASH_ID, gateway_id="d5dother0000000000000")
    done = cli_process(emulator, "get", CONNECTION_ID, "gone", DASH_ID, CONNECTION_ID)
    assert done.returncode == EXIT_NOT_FOUND
    assert done.stderr == ""
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["id"] for line in lines] == [CONNECTION_ID, "gone", DASH_ID, CONNECTION_ID]
    assert lines[0] == lines[3] == JSON_OF_CONNECTION
    assert lines[2]["gatewayId"] == "d5dother0000000000000"
    error = lines[1]["error"]
    assert lines[1] == {"id": "gone", "error": error}
    assert error["type"] == "ConnectionNotFoundError"
    assert error["message"].startswith(f"Connection 'gone' was not found at {emulator.url}.")
    assert (error["exitCode"], error["retryable"]) == (EXIT_NOT_FOUND, False)
    assert emulator.count("connections") == 3  # the id given twice is looked up once


@pytest.mark.parametrize(
    ("ids", "fault", "code"),
    [
        ((CONNECTION_ID, CONNECTION_ID), None, EXIT_OK),
        ((CONNECTION_ID, "gone"), None, EXIT_NOT_FOUND),
        (("gone", "..", CONNECTION_ID), None, EXIT_USAGE),
        (("first", "gone"), Status(403, 7, "Permission denied"), EXIT_PERMISSION),
        (("first", "gone"), Status(400, 3, "Bad request"), EXIT_ERROR),
        (("first", "gone", ".."), Status(401, 16, "Unauthenticated"), EXIT_USAGE),
        (("first", "gone"), Status(401, 16, "Unauthenticated"), EXIT_CREDENTIALS),
    ],
)
def test_several_ids_exit_with_the_worst_outcome(
    cli: Any, emulator: Any, connection: dict[str, Any], ids: tuple[str, ...], fault: Any, code: int
) -> None:
    if fault is not None:
        emulator.faults.push("connections", fault)  # the first lookup: one at a time below
    result = cli("get", "--parallel", "1", *ids)
    assert result.code == code
    codes = [
        json.loads(line).get("error", {}).get("exitCode", 0) for line in result.stdout.splitlines()
    ]
    assert len(codes) == len(ids)
    assert worst_exit_code(codes) == code


def test_worst_is_by_severity_not_by_number() -> None:
    assert EXIT_SEVERITY == (
        EXIT_USAGE,
        EXIT_CREDENTIALS,
        EXIT_PERMISSION,
        EXIT_ERROR,
        EXIT_NOT_FOUND,
        EXIT_OK,
    )
    assert set(EXIT_SEVERITY) == set(EXIT_CODES)
    assert worst_exit_code([EXIT_NOT_FOUND, EXIT_ERROR]) == EXIT_ERROR
    assert worst_exit_code([EXIT_PERMISSION, EXIT_USAGE]) == EXIT_USAGE
    assert worst_exit_code([EXIT_OK, EXIT_NOT_FOUND]) == EXIT_NOT_FOUND
    assert worst_exit_code([]) == EXIT_OK


def test_several_ids_are_looked_up_concurrently_through_one_client(
    cli: Any, emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [f"conn{n}" for n in range(4)]
    for connection_id in ids:
        emulator.add_connection(id=connection_id)
    emulator.backend.add_oauth_token(OAUTH, roles=["api-gateway.websocketWriter"])
    monkeypatch.delenv("YC_IAM_TOKEN")
    monkeypatch.setenv("YC_TOKEN", OAUTH)
    emulator.faults.push("connections", Delay(0.4), times=4)
    started = time.monotonic()
    result = cli("get", *ids, "--parallel", "4")
    elapsed = time.monotonic() - started
    assert result.code == EXIT_OK, result.stdout
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ids
    assert elapsed < 1.2  # one after another: at least 1.6 s
    assert emulator.count("iam") == 1  # one client, one token exchange


def test_one_id_as_json_lines(cli: Any, emulator: Any, connection: dict[str, Any]) -> None:
    found = cli("get", "-o", "jsonl", CONNECTION_ID)
    assert (found.code, found.stdout) == (EXIT_OK, json.dumps(JSON_OF_CONNECTION) + "\n")
    missing = cli("get", "-o", "jsonl", "gone")
    assert missing.code == EXIT_NOT_FOUND
    assert missing.stderr == ""
    assert json.loads(missing.stdout)["error"]["type"] == "ConnectionNotFoundError"


@pytest.mark.parametrize("output", ["table", "json"])
def test_formats_for_one_connection_refuse_several_ids(
    cli: Any, emulator: Any, output: str
) -> None:
    result = cli("get", "a", "b", "-o", output)
    assert result.code == EXIT_USAGE
    assert last_error_line(result.stderr) == (
        f"--output {output} shows one connection; for 2 ids use --output jsonl (the default "
        "for several)"
    )
    assert emulator.requests() == []


def test_settings_that_stop_every_lookup_go_to_stderr_once(cli: Any, emulator: Any) -> None:
    result = cli("get", "a", "b", "--endpoint", "http://conn.example")
    assert result.code == EXIT_USAGE
    assert result.stdout == ""
    assert one_error_line(result.stderr).startswith("connections endpoint 'http://conn.example'")
    assert emulator.requests() == []


# -- help and the README ---------------------------------------------------------------------


def test_get_help_lists_the_environment_and_the_exit_codes(cli: Any) -> None:
    text = cli("get", "--help").stdout
    for name, variable in ENVIRONMENT_VARIABLES.items():
        assert re.search(rf"^  {variable} +{re.escape(SETTING_MEANINGS[name])}$", text, re.M), name
    assert "yandex:* and yc-websocket:* keys" in text
    for code, meaning in EXIT_CODES.items():
        assert f"\n  {code}  {meaning}\n" in text
    assert "worst first: 2, 4, 5, 1, 3, 0" in text
    assert "pulumi-yc-websocket get -- -o" in text
    assert max(len(line) for line in text.splitlines()) <= 100


def test_the_readme_documents_the_exit_codes_and_the_variables() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    flat = " ".join(readme.split())
    for code, meaning in EXIT_CODES.items():
        assert f"`{code}` {meaning}" in flat, code
    assert "worst first: `2`, `4`, `5`, `1`, `3`, `0`" in flat
    for variable in ENVIRONMENT_VARIABLES.values():
        assert f"`{variable}`" in readme


def test_a_configuration_error_of_one_lookup_is_not_retried_for_every_id(
    cli: Any, emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No credential and a VM without a service account: asked once, reported for every id."""
    monkeypatch.delenv("YC_IAM_TOKEN")
    result = cli("get", "--parallel", "1", "a", "b", "c")
    assert result.code == EXIT_CREDENTIALS
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["id"] for line in lines] == ["a", "b", "c"]
    assert {line["error"]["type"] for line in lines} == {"CredentialsNotFoundError"}
    assert emulator.count("metadata") == 1


def test_a_reader_that_goes_away_ends_the_command_quietly(
    emulator: Any, connection: dict[str, Any]
) -> None:
    env = {**os.environ, **emulator.env, "YC_IAM_TOKEN": emulator.token}
    # An id given again is printed again: far more output than a pipe holds.
    ids = [CONNECTION_ID] * 3000
    command = [sys.executable, "-m", "pulumi_yc_websocket", "get", *ids]
    with subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        assert json.loads(process.stdout.readline())["id"] == CONNECTION_ID
        process.stdout.close()  # like `| head -1`
        stderr = process.stderr.read()
        code = process.wait(timeout=30)
    assert (code, stderr) == (141, "")
    assert emulator.count("connections") == 1
