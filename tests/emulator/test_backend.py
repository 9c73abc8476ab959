"""The emulator's state model, fault plan and seeds, without sockets."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from pulumi_yc_websocket.emulator import (
    DEMO_SEED_PATH,
    Delay,
    Drop,
    EmulatorBackend,
    FaultPlan,
    NotJson,
    Oversized,
    RecordedRequest,
    Status,
    Truncated,
)
from pulumi_yc_websocket.emulator._backend import (
    CONNECTION_ROLES,
    EmulatedStatusError,
    Headers,
    http_status_for,
)
from pulumi_yc_websocket.emulator._seed import format_timestamp

NANOS_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")
IAM_TOKEN = re.compile(r"^t1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")


def _age_seconds(stamp: str) -> float:
    return time.time() - datetime.fromisoformat(stamp).timestamp()


def _api_error(call: Callable[[], object]) -> EmulatedStatusError:
    with pytest.raises(EmulatedStatusError) as info:
        call()
    return info.value


# -- connections -------------------------------------------------------------------------------


def test_add_connection_from_snake_case_fields_fills_defaults() -> None:
    backend = EmulatorBackend()
    stored = backend.add_connection(source_ip="203.0.113.1", user_agent="curl/8.5.0")
    assert len(stored["id"]) == 20
    assert re.fullmatch(r"d5d[0-9a-v]{17}", stored["gatewayId"])
    assert NANOS_UTC.match(stored["connectedAt"])
    assert stored["lastActiveAt"] == stored["connectedAt"]
    assert abs(_age_seconds(stored["connectedAt"])) < 5
    assert backend.get_connection(stored["id"]) == stored


def test_add_connection_from_api_dict_keeps_timestamps_verbatim() -> None:
    backend = EmulatorBackend()
    data = {
        "id": "conn-1",
        "gatewayId": "d5dm1lba80md4pmj2qke",
        "identity": {"sourceIp": "2001:db8::1", "userAgent": "Safari"},
        "connectedAt": "2024-05-14T09:41:07.412853196+03:00",
        "lastActiveAt": "2024-05-14T06:52:30Z",
    }
    assert backend.add_connection(data) == data
    assert backend.get_connection("conn-1") == data
    assert list(backend.get_connection("conn-1") or {}) == list(data)


def test_keyword_arguments_override_the_dict() -> None:
    backend = EmulatorBackend()
    stored = backend.add_connection(
        {"id": "c", "gatewayId": "g1", "identity": {"sourceIp": "192.0.2.1"}},
        gateway_id="g2",
        user_agent="ua",
        last_active_at=datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=timezone(timedelta(hours=3))),
    )
    assert stored["gatewayId"] == "g2"
    assert stored["identity"] == {"sourceIp": "192.0.2.1", "userAgent": "ua"}
    assert stored["lastActiveAt"] == "2024-01-02T00:04:05.123456000Z"


def test_naive_datetime_is_rejected() -> None:
    with pytest.raises(ValueError, match="naive"):
        EmulatorBackend().add_connection(connected_at=datetime(2024, 1, 1))


def test_served_connection_omits_proto3_defaults() -> None:
    backend = EmulatorBackend()
    backend.add_connection(id="no-ua", gateway_id="g", source_ip="192.0.2.1", user_agent="")
    backend.add_connection(id="no-identity", gateway_id="g")
    backend.add_connection(id="no-times", gateway_id="g", connected_at="", last_active_at="")
    assert backend.get_connection("no-ua") is not None
    assert backend.get_connection("no-ua")["identity"] == {"sourceIp": "192.0.2.1"}  # type: ignore[index]
    assert "identity" not in (backend.get_connection("no-identity") or {})
    assert set(backend.get_connection("no-times") or {}) == {"id", "gatewayId"}
    # Stored state keeps the defaults; only the served form drops them.
    whole = backend.connections()
    assert whole[1]["identity"] == {"sourceIp": "", "userAgent": ""}


def test_unknown_fields_are_kept_and_served() -> None:
    backend = EmulatorBackend()
    backend.add_connection({"id": "c", "gatewayId": "g", "futureField": {"x": 1}, "zero": 0})
    served = backend.get_connection("c")
    assert served is not None
    assert served["futureField"] == {"x": 1}
    assert "zero" not in served


def test_update_close_remove() -> None:
    backend = EmulatorBackend()
    backend.add_connection(id="c", gateway_id="g", connected_at="2024-01-01T00:00:00Z")
    updated = backend.update_connection(
        "c", last_active_at="2024-01-01T00:05:00.000000001Z", user_agent="ua"
    )
    assert updated["lastActiveAt"] == "2024-01-01T00:05:00.000000001Z"
    assert updated["connectedAt"] == "2024-01-01T00:00:00Z"
    assert updated["identity"]["userAgent"] == "ua"
    backend.update_connection("c", last_active_at={"secondsAgo": 0})
    assert abs(_age_seconds(backend.connections()[0]["lastActiveAt"])) < 5

    backend.close_connection("c")
    assert backend.get_connection("c") is None
    assert backend.connections() == []
    assert len(backend.connections(include_closed=True)) == 1
    backend.remove_connection("c")
    assert backend.connections(include_closed=True) == []
    with pytest.raises(KeyError):
        backend.update_connection("c", user_agent="x")
    with pytest.raises(KeyError):
        backend.close_connection("c")
    with pytest.raises(KeyError):
        backend.remove_connection("c")


def test_returned_dicts_are_copies() -> None:
    backend = EmulatorBackend()
    stored = backend.add_connection(id="c", gateway_id="g", source_ip="192.0.2.1")
    stored["identity"]["sourceIp"] = "mutated"
    served = backend.get_connection("c")
    assert served is not None
    served["gatewayId"] = "mutated"
    assert backend.get_connection("c") == {
        **served,
        "gatewayId": "g",
        "identity": {"sourceIp": "192.0.2.1"},
    }


# -- timestamps --------------------------------------------------------------------------------


def test_timestamps_strings_verbatim_relative_on_the_clock() -> None:
    assert format_timestamp(1_700_000_000_000_000_001) == "2023-11-14T22:13:20.000000001Z"
    backend = EmulatorBackend(clock=lambda: 1_700_000_000_000_000_000)
    stored = backend.add_connection(
        connected_at="2024-01-01T00:00:00+05:30",
        last_active_at={"minutesAgo": 1.5, "secondsAgo": 0.25},
    )
    assert stored["connectedAt"] == "2024-01-01T00:00:00+05:30"
    assert stored["lastActiveAt"] == "2023-11-14T22:11:49.750000000Z"
    later = backend.add_connection(connected_at={"hoursFromNow": 1})
    assert later["connectedAt"] == "2023-11-14T23:13:20.000000000Z"
    assert later["lastActiveAt"] == later["connectedAt"]
    at = backend.add_connection(connected_at=datetime(2024, 1, 1, tzinfo=UTC))
    assert at["connectedAt"] == "2024-01-01T00:00:00.000000000Z"
    with pytest.raises(ValueError, match=r"connectedAt\.fortnightsAgo: unknown unit"):
        backend.add_connection(connected_at={"fortnightsAgo": 1})
    with pytest.raises(ValueError, match=r'lastActiveAt\.minutesAgo: expected a number, got "5"'):
        backend.add_connection(last_active_at={"minutesAgo": "5"})  # type: ignore[dict-item]


# -- credentials -------------------------------------------------------------------------------


def test_auth_outcomes(writer_token: str) -> None:
    backend = EmulatorBackend()
    backend.add_iam_token(writer_token)
    backend.add_iam_token("t1.viewer.only", roles=["viewer"])
    backend.add_connection(id="c", gateway_id="g")
    assert backend.api_get_connection("c", f"Bearer {writer_token}")["id"] == "c"
    assert _api_error(lambda: backend.api_get_connection("c", None)).grpc_code == 16
    assert _api_error(lambda: backend.api_get_connection("c", "Basic abc")).grpc_code == 16
    assert _api_error(lambda: backend.api_get_connection("c", "Bearer t1.x.y")).grpc_code == 16
    denied = _api_error(lambda: backend.api_get_connection("c", "Bearer t1.viewer.only"))
    assert (denied.grpc_code, denied.http_status) == (7, 403)
    backend.expire_token(writer_token)
    expired = _api_error(lambda: backend.api_get_connection("c", f"Bearer {writer_token}"))
    assert (expired.grpc_code, expired.message) == (16, "The token has expired")
    backend.require_auth = False
    assert backend.api_get_connection("c", None)["id"] == "c"


@pytest.mark.parametrize("role", sorted(CONNECTION_ROLES))
def test_every_connection_role_is_enough(role: str) -> None:
    backend = EmulatorBackend()
    backend.add_iam_token("t1.a.b", roles=[role, "viewer"])
    backend.add_connection(id="c", gateway_id="g")
    assert backend.api_get_connection("c", "Bearer t1.a.b")["id"] == "c"


def test_token_expiry_by_time_and_on_demand() -> None:
    backend = EmulatorBackend()
    backend.add_iam_token("t1.past.x", expires_at=time.time() - 1)
    backend.add_iam_token("t1.future.x", expires_at="2999-01-01T00:00:00.123456789Z")
    backend.add_iam_token("t1.relative.x", expires_at={"minutesFromNow": 5})
    minted = backend.mint_iam_token(ttl=60)
    assert IAM_TOKEN.match(minted)
    assert not backend.is_token_valid("t1.past.x")
    assert backend.is_token_valid("t1.future.x")
    assert backend.is_token_valid("t1.relative.x")
    assert backend.is_token_valid(minted)
    backend.expire_all_tokens()
    assert not any(backend.is_token_valid(t) for t in ("t1.future.x", "t1.relative.x", minted))
    with pytest.raises(KeyError):
        backend.expire_token("t1.unknown.x")


def test_connection_id_validation() -> None:
    backend = EmulatorBackend(require_auth=False)
    error = _api_error(lambda: backend.api_get_connection("x" * 51, None))
    assert (error.grpc_code, error.http_status) == (3, 400)
    assert "50" in error.message
    assert _api_error(lambda: backend.api_get_connection("x" * 50, None)).grpc_code == 5
    assert _api_error(lambda: backend.api_get_connection("", None)).grpc_code == 3


def test_oauth_exchange() -> None:
    backend = EmulatorBackend(iam_token_ttl=120)
    backend.add_oauth_token("y0_good", roles=["viewer"])
    answer = backend.api_create_iam_token(b'{"yandexPassportOauthToken": "y0_good"}')
    assert IAM_TOKEN.match(answer["iamToken"])
    assert NANOS_UTC.match(answer["expiresAt"])
    assert -125 < _age_seconds(answer["expiresAt"]) < -115
    backend.add_connection(id="c", gateway_id="g")
    # The minted token carries the OAuth token's roles: viewer alone is denied.
    bearer = f"Bearer {answer['iamToken']}"
    assert _api_error(lambda: backend.api_get_connection("c", bearer)).grpc_code == 7
    bad = b'{"yandexPassportOauthToken": "y0_bad"}'
    assert _api_error(lambda: backend.api_create_iam_token(bad)).grpc_code == 16
    backend.require_auth = False
    assert backend.api_create_iam_token(b'{"yandexPassportOauthToken": "y0_any"}')["iamToken"]


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b"{}", b'{"jwt": "a", "yandexPassportOauthToken": "b"}', b'{"jwt": 5}'],
)
def test_iam_exchange_rejects_bad_bodies(body: bytes) -> None:
    error = _api_error(lambda: EmulatorBackend().api_create_iam_token(body))
    assert (error.grpc_code, error.http_status) == (3, 400)


def test_service_account_key_has_the_yandex_shape() -> None:
    key = EmulatorBackend().create_service_account_key("ajeservice0000000000", key_id="ajekey")
    assert set(key) == {
        "id",
        "service_account_id",
        "created_at",
        "key_algorithm",
        "public_key",
        "private_key",
    }
    assert key["id"] == "ajekey"
    assert key["service_account_id"] == "ajeservice0000000000"
    assert key["key_algorithm"] == "RSA_2048"
    assert NANOS_UTC.match(key["created_at"])
    first, rest = key["private_key"].split("\n", 1)
    assert first == "PLEASE DO NOT REMOVE THIS LINE! Yandex.Cloud SA Key ID <ajekey>"
    assert rest.startswith("-----BEGIN PRIVATE KEY-----\n")
    assert key["public_key"].startswith("-----BEGIN PUBLIC KEY-----\n")
    generated = EmulatorBackend().create_service_account_key()
    assert re.fullmatch(r"aje[0-9a-v]{17}", generated["id"])
    assert re.fullmatch(r"aje[0-9a-v]{17}", generated["service_account_id"])


def test_jwt_exchange(make_jwt: Callable[..., str]) -> None:
    backend = EmulatorBackend()
    key = backend.create_service_account_key(roles=["editor"])
    answer = backend.api_create_iam_token(json.dumps({"jwt": make_jwt(key)}).encode())
    backend.add_connection(id="c", gateway_id="g")
    assert backend.api_get_connection("c", f"Bearer {answer['iamToken']}")["id"] == "c"


def test_metadata_token_is_cached_until_expired() -> None:
    backend = EmulatorBackend()
    assert _api_error(lambda: backend.api_metadata_token("Google")).http_status == 404
    backend.set_metadata_roles(["api-gateway.websocketWriter"])
    assert _api_error(lambda: backend.api_metadata_token(None)).http_status == 403
    first = backend.api_metadata_token("Google")
    assert first["token_type"] == "Bearer"
    assert 43190 < first["expires_in"] <= 43200
    assert backend.api_metadata_token("Google")["access_token"] == first["access_token"]
    backend.expire_token(first["access_token"])
    assert backend.api_metadata_token("Google")["access_token"] != first["access_token"]
    backend.set_metadata_roles(None)
    assert _api_error(lambda: backend.api_metadata_token("Google")).http_status == 404


def test_http_status_mapping() -> None:
    expected = {3: 400, 5: 404, 7: 403, 8: 429, 14: 503, 16: 401, 4: 504, 13: 500}
    assert {code: http_status_for(code) for code in expected} == expected
    assert http_status_for(2) == 500


# -- seeds ---------------------------------------------------------------------------------------


def test_seed_from_dict_and_file(tmp_path: Path) -> None:
    seed = {
        "_comment": "ignored",
        "iamTokenTtlSeconds": 60,
        "connections": [
            {
                "id": "a",
                "gatewayId": "g",
                "identity": {"sourceIp": "192.0.2.1"},
                "connectedAt": {"minutesAgo": 12.5},
                "lastActiveAt": {"secondsAgo": 30},
            },
            {"id": "gone", "gatewayId": "g", "closed": True},
        ],
        "iamTokens": [{"token": "t1.seed.token", "roles": ["viewer"]}],
        "oauthTokens": [{"token": "y0_seed"}],
        "metadataRoles": None,
    }
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed))
    for backend in (EmulatorBackend.from_seed(seed), EmulatorBackend.from_seed(path)):
        served = backend.get_connection("a")
        assert served is not None
        assert NANOS_UTC.match(served["connectedAt"])
        assert 12.5 * 60 - 5 < _age_seconds(served["connectedAt"]) < 12.5 * 60 + 5
        assert 25 < _age_seconds(served["lastActiveAt"]) < 35
        assert backend.get_connection("gone") is None
        assert len(backend.connections(include_closed=True)) == 2
        assert backend.is_token_valid("t1.seed.token")
        assert backend.iam_token_ttl == 60
        minted = backend.api_create_iam_token(b'{"yandexPassportOauthToken": "y0_seed"}')
        assert backend.is_token_valid(minted["iamToken"])
        with pytest.raises(EmulatedStatusError, match="No service account"):
            backend.api_metadata_token("Google")


def test_seed_with_service_account_key(make_jwt: Callable[..., str]) -> None:
    key = EmulatorBackend().create_service_account_key()
    public = {k: key[k] for k in ("id", "service_account_id", "public_key")}
    backend = EmulatorBackend.from_seed({"serviceAccountKeys": [{**public, "roles": ["admin"]}]})
    answer = backend.api_create_iam_token(json.dumps({"jwt": make_jwt(key)}).encode())
    assert backend.is_token_valid(answer["iamToken"])


@pytest.mark.parametrize(
    ("seed", "match"),
    [
        ({"connection": []}, "connection: unknown key; expected one of requireAuth, "),
        ({"connections": {"id": "a"}}, 'connections: expected a JSON list, got {"id": "a"}'),
        ({"iamTokens": [{"roles": ["admin"]}]}, r"iamTokens\[0\]\.token: missing"),
        (
            {"connections": [{"id": "a", "connectedAt": {"weeksAgo": 1}}]},
            r"connections\[0\]\.connectedAt\.weeksAgo: unknown unit",
        ),
    ],
)
def test_bad_seeds_are_rejected(seed: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        EmulatorBackend.from_seed(seed)


def test_demo_seed_is_realistic() -> None:
    raw = json.loads(DEMO_SEED_PATH.read_text())
    backend = EmulatorBackend.demo()
    everything = backend.connections(include_closed=True)
    live = backend.connections()
    assert len(everything) == 8
    assert len(live) == 7
    gateways = {c["gatewayId"] for c in everything}
    assert len(gateways) == 3
    assert all(re.fullmatch(r"d5d[0-9a-v]{17}", g) for g in gateways)
    assert all(20 <= len(c["id"]) <= 28 for c in everything)
    ips = [c["identity"]["sourceIp"] for c in everything if c["identity"]["sourceIp"]]
    assert any(":" in ip for ip in ips)
    assert any("." in ip for ip in ips)
    assert any(c["identity"]["userAgent"] == "" for c in live)
    assert all(NANOS_UTC.match(c["connectedAt"]) or "+" in c["connectedAt"] for c in live)
    token = raw["iamTokens"][0]["token"]
    assert token.startswith("t1.demo")
    assert token.count(".") == 2
    backend.api_get_connection(live[0]["id"], f"Bearer {token}")


# -- faults --------------------------------------------------------------------------------------


def test_fault_queue_is_fifo_per_service() -> None:
    plan = FaultPlan()
    unavailable = Status(503, 14, "try later", retry_after="1")
    plan.push("connections", unavailable, times=2)
    plan.push("connections", Drop())
    plan.push("iam", Truncated())
    assert plan.pending("connections") == 3
    assert [plan.next("connections") for _ in range(4)] == [unavailable, unavailable, Drop(), None]
    assert plan.next("metadata") is None
    assert plan.next("iam") == Truncated()


def test_fault_patterns_cycle_after_the_queue() -> None:
    plan = FaultPlan()
    plan.set_default("connections", NotJson(), every=3)
    plan.push("connections", Delay(0.0))
    assert [plan.next("connections") for _ in range(7)] == [
        Delay(0.0),
        None,
        None,
        NotJson(),
        None,
        None,
        NotJson(),
    ]
    plan.push_pattern("iam", [Drop(), None])
    assert [plan.next("iam") for _ in range(4)] == [Drop(), None, Drop(), None]
    plan.set_default("iam", Truncated())
    assert [plan.next("iam") for _ in range(2)] == [Truncated(), Truncated()]
    plan.set_default("iam", None)
    assert plan.next("iam") is None
    plan.push("metadata", Drop())
    plan.clear()
    assert plan.next("connections") is None
    assert plan.next("metadata") is None


def test_fault_plan_validates_arguments() -> None:
    plan = FaultPlan()
    with pytest.raises(ValueError, match="unknown service"):
        plan.push("other", Drop())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="times"):
        plan.push("iam", Drop(), times=0)
    with pytest.raises(ValueError, match="every"):
        plan.set_default("iam", Drop(), every=0)
    with pytest.raises(ValueError, match="empty"):
        plan.push_pattern("iam", [])
    with pytest.raises(ValueError, match="at least"):
        Oversized(10)


# -- request log ---------------------------------------------------------------------------------


def test_request_log_helpers_and_redacted_repr() -> None:
    backend = EmulatorBackend()

    def entry(service: str, status: int | None) -> RecordedRequest:
        return RecordedRequest(
            service=service,  # type: ignore[arg-type]
            method="GET",
            raw_path="/x",
            connection_id=None,
            headers=Headers([("Authorization", "Bearer t1.secret.token")]),
            body=b'{"yandexPassportOauthToken": "y0_secret"}',
            status=status,
            received_at=time.time(),
        )

    for service, status in [("connections", 200), ("connections", 404), ("iam", 200)]:
        backend.record(entry(service, status))
    assert backend.count() == 3
    assert backend.count("connections") == 2
    assert backend.count("connections", status=404) == 1
    assert backend.count(status=200) == 2
    assert [r.status for r in backend.requests_for("iam")] == [200]
    first = backend.requests()[0]
    assert first.headers["authorization"] == first.headers["AUTHORIZATION"]
    assert "Authorization" in first.headers
    assert "secret" not in repr(first)
    backend.requests().clear()
    assert backend.count() == 3
    backend.clear_requests()
    assert backend.requests() == []


def test_backend_is_thread_safe() -> None:
    backend = EmulatorBackend(require_auth=False)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(200):
                cid = f"c{n}-{i}"
                backend.add_connection(id=cid, gateway_id="g")
                backend.update_connection(cid, last_active_at={"secondsAgo": 0})
                assert backend.api_get_connection(cid, None)["id"] == cid
                backend.close_connection(cid)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(backend.connections(include_closed=True)) == 800
