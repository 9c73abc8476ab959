"""Seeds are validated strictly, and every problem is one line ``file:key: problem``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pulumi_yc_websocket.emulator import EmulatorBackend

# Each case: a seed with one problem, and what the one-line error says after "<file>:".
BAD_SEEDS: dict[str, tuple[Any, str]] = {
    "requireAuth as a string": (
        {"requireAuth": "false"},
        'requireAuth: expected true or false, got "false"',
    ),
    "closed as a string": (
        {"connections": [{"id": "a"}, {"id": "b", "closed": "no"}]},
        'connections[1].closed: expected true or false, got "no"',
    ),
    "identity as a string": (
        {"connections": [{"id": "a", "identity": "1.2.3.4"}]},
        'connections[0].identity: expected a JSON object, got "1.2.3.4"',
    ),
    "token lifetime as a string": (
        {"iamTokenTtlSeconds": "abc"},
        'iamTokenTtlSeconds: expected a number, got "abc"',
    ),
    "token lifetime out of range": (
        {"iamTokenTtlSeconds": 1e308},
        "iamTokenTtlSeconds: must be at most 3.15576e+09, got 1e+308",
    ),
    "relative time out of range": (
        {"connections": [{"lastActiveAt": {"minutesAgo": 1e308}}]},
        'connections[0].lastActiveAt: {"minutesAgo": 1e+308} is out of range: '
        "relative times reach at most 100 years either way",
    ),
    "relative amount as a string": (
        {"connections": [{"connectedAt": {"minutesAgo": "5"}}]},
        'connections[0].connectedAt.minutesAgo: expected a number, got "5"',
    ),
    "timestamp as a number": (
        {"connections": [{"connectedAt": 1714557600}]},
        "connections[0].connectedAt: expected an RFC 3339 string or a relative time such as "
        '{"minutesAgo": 5}, got 1714557600',
    ),
    "id as a number": (
        {"connections": [{"id": 7}]},
        "connections[0].id: expected a string, got 7",
    ),
    "roles as a string": (
        {"oauthTokens": [{"token": "y0_x", "roles": "admin"}]},
        'oauthTokens[0].roles: expected a JSON list, got "admin"',
    ),
    "token missing": (
        {"iamTokens": [{"roles": ["admin"]}]},
        "iamTokens[0].token: missing (required)",
    ),
    "token expiry not a time": (
        {"iamTokens": [{"token": "t1.a.b", "expiresAt": "tomorrow"}]},
        'iamTokens[0].expiresAt: "tomorrow" is not an RFC 3339 time',
    ),
    "service account key not RSA PEM": (
        {"serviceAccountKeys": [{"id": "k", "service_account_id": "s", "public_key": "x"}]},
        "serviceAccountKeys[0].public_key: expected an RSA public key in PEM form "
        "(-----BEGIN PUBLIC KEY-----...)",
    ),
    "misspelt key": (
        {"connection": []},
        "connection: unknown key; expected one of requireAuth, iamTokenTtlSeconds, "
        "replayConnections, connections, iamTokens, oauthTokens, serviceAccountKeys, "
        "metadataRoles (keys starting with _ are comments)",
    ),
    "two problems": (
        {"requireAuth": 1, "replayConnections": "yes"},
        "requireAuth: expected true or false, got 1 (and 1 more problem)",
    ),
}


def _error_of(source: Any) -> str:
    """The one-line error of ``EmulatorBackend.from_seed(source)``."""
    try:
        EmulatorBackend.from_seed(source)
    except ValueError as exc:
        return str(exc)
    raise AssertionError(f"{source!r} was accepted")


def _write(tmp_path: Path, seed: Any) -> Path:
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed), encoding="utf-8")
    return path


@pytest.mark.parametrize(("seed", "problem"), list(BAD_SEEDS.values()), ids=list(BAD_SEEDS))
def test_a_bad_seed_file_is_one_line_naming_file_and_key(
    tmp_path: Path, seed: Any, problem: str
) -> None:
    path = _write(tmp_path, seed)
    assert _error_of(path) == f"{path}:{problem}"
    assert _error_of(seed) == problem


def test_json_syntax_errors_name_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "requireAuth": true\n  "connections": []\n}\n', encoding="utf-8")
    assert _error_of(path) == f"{path}:3:3: not valid JSON: Expecting ',' delimiter"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"iamTokenTtlSeconds": NaN}', "not valid JSON: NaN is not a JSON number"),
        ('{"iamTokenTtlSeconds": -Infinity}', "not valid JSON: -Infinity is not a JSON number"),
        ("[]", "expected a JSON object, got []"),
    ],
)
def test_what_python_json_allows_and_seeds_do_not(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "seed.json"
    path.write_text(text, encoding="utf-8")
    assert _error_of(path) == f"{path}: {problem}"


def test_unreadable_seed_files(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    with pytest.raises(ValueError, match=r"missing\.json: cannot read it: No such file"):
        EmulatorBackend.from_seed(missing)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe{}")
    with pytest.raises(ValueError, match=r"binary\.json: not UTF-8 text"):
        EmulatorBackend.from_seed(binary)


def test_comments_anywhere_and_served_data_of_any_type() -> None:
    backend = EmulatorBackend.from_seed(
        {
            "_comment": "top",
            "$schema": "ignored",
            "connections": [
                {
                    "_why": "a client must survive wrong types",
                    "id": "typed",
                    "gatewayId": 123,
                    "identity": {"sourceIp": ["203.0.113.7"], "_note": "x"},
                    "futureField": {"nested": True},
                }
            ],
            "iamTokens": [{"token": "t1.a.b", "_comment": "a writer"}],
        }
    )
    assert backend.get_connection("typed") == {
        "id": "typed",
        "gatewayId": 123,
        "identity": {"sourceIp": ["203.0.113.7"]},
        "connectedAt": backend.connections()[0]["connectedAt"],
        "lastActiveAt": backend.connections()[0]["lastActiveAt"],
        "futureField": {"nested": True},
    }


def test_the_python_api_reports_the_same_way() -> None:
    backend = EmulatorBackend()
    with pytest.raises(ValueError, match=r"^closed: expected true or false, got \"no\"$"):
        backend.add_connection({"id": "c", "closed": "no"})
    with pytest.raises(ValueError, match=r"^identity: expected a JSON object"):
        backend.add_connection({"id": "c", "identity": "1.2.3.4"})
    backend.add_connection(id="c")
    with pytest.raises(ValueError, match=r"^last_active_at: empty relative time: use one of "):
        backend.update_connection("c", last_active_at={})
