"""The JSON API: every verdict and every error status, and the signed lists."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import schemathesis
from flask import Flask, request
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings

from policy_codes import PREFIX
from policy_codes.base45 import b45decode, b45encode
from policy_codes.revocation import digest_of_text
from signing import KeyRing, TrustList, sign1
from signing.jws import verify_compact
from tests.helpers.registry import make_app, person_data, register
from tests.test_legacy import type_02
from webapp.extensions import db, limiter
from webapp.registry import accounts, lifecycle, mass_reissue, people
from webapp.registry.codes import live_code
from webapp.registry.keys import keystore, publication

ENP = str(person_data().enp)


@pytest.fixture
def token(registry: Flask) -> str:
    return accounts.create_token("GP-001", "МИС", "test")[1]


@pytest.fixture
def client(registry: Flask) -> FlaskClient:
    return registry.test_client()


def verify(client: FlaskClient, token: str, code: object, **headers: str) -> tuple[int, dict]:
    response = client.post(
        "/api/v1/verify", json={"code": code}, headers={"Authorization": f"Bearer {token}", **headers}
    )
    return response.status_code, response.get_json()


def now() -> datetime:
    return datetime.now(UTC)


def test_valid_answers_the_documented_shape(client: FlaskClient, token: str) -> None:
    code = register(at=now()).text
    status, body = verify(client, token, code)
    assert status == 200
    assert set(body) >= {"verdict", "message", "holder", "policy", "checked_at"}
    assert body["verdict"] == "valid"
    assert body["message"].startswith("Полис действителен")
    assert body["holder"] == {"name": "Иванова Мария Петровна", "birth_date": "1990-04-12"}
    assert body["policy"]["insurer_code"] == "77001"
    assert verify(client, token, code, **{"Accept-Language": "en"})[1]["message"].startswith("The policy is valid")


def test_every_verdict_through_the_api(client: FlaskClient, token: str) -> None:
    moment = now()
    first = register(at=moment)
    seen = {verify(client, token, first.text)[1]["verdict"]}
    live = live_code(first, moment)
    seen.add(verify(client, token, live)[1]["verdict"])
    stale = live_code(first, moment - timedelta(minutes=5))
    seen.add(verify(client, token, stale)[1]["verdict"])  # expired
    second = lifecycle.reissue(ENP, "test", "потерян", now=moment).text
    seen.add(verify(client, token, first.text)[1]["verdict"])  # superseded
    lifecycle.revoke(ENP, "test", "украден", now=moment)
    seen.add(verify(client, token, second)[1]["verdict"])  # revoked
    for enp15, change in (("770000000000004", "suspend"), ("770000000000005", "terminate")):
        other = register(person_data(enp15, "Петров", "Пётр"), at=moment)
        getattr(lifecycle, change)(str(person_data(enp15).enp), "test", "причина", now=moment)
        seen.add(verify(client, token, other.text)[1]["verdict"])
    seen.add(verify(client, token, "1234567890123452")[1]["verdict"])  # not_found
    message = b45decode(first.text[len(PREFIX) :])
    seen.add(verify(client, token, PREFIX + b45encode(message[:-1] + bytes([message[-1] ^ 1])))[1]["verdict"])
    stranger = KeyRing().create("77001", moment - timedelta(days=1))
    seen.add(verify(client, token, PREFIX + b45encode(sign1(b"\xa0", stranger, at=moment)))[1]["verdict"])
    seen.add(verify(client, token, "OMS1:%%%")[1]["verdict"])  # malformed
    seen.add(verify(client, token, "https://example.org")[1]["verdict"])
    legacy = bytearray(type_02("ПЕТРОВ|ПЁТР|ПЕТРОВНА", 2, datetime(1990, 4, 12).date(), None))
    legacy[1:9] = int(person_data("770000000000004").enp).to_bytes(8, "big")
    seen.add(verify(client, token, bytes(legacy).decode("latin-1"))[1]["verdict"])
    third = register(person_data("770000000000006", "Сидоров", "Иван"), at=moment)
    mass_reissue.compromise(third.kid, "test")
    seen.add(verify(client, token, third.text)[1]["verdict"])
    assert seen == {
        "valid",
        "expired",
        "superseded",
        "revoked",
        "suspended",
        "terminated",
        "not_found",
        "forged",
        "unknown_key",
        "malformed",
        "not_a_policy_code",
        "legacy_paper",
        "key_compromised",
    }


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ('["OMS1:"]', "application/json"),
        ('{"code": 5}', "application/json"),
        ('{"text": "x"}', "application/json"),
        ("", "application/json"),
        ("\xff\xfe", "text/plain"),
    ],
)
def test_bad_json_is_400(client: FlaskClient, token: str, body: str, content_type: str) -> None:
    response = client.post(
        "/api/v1/verify",
        data=body.encode("latin-1"),
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
    )
    assert response.status_code == 400
    assert "JSON" in response.get_json()["message"]


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer wrong", "Basic abc", "bearer oms_x"])
def test_no_token_or_a_bad_one_is_401(client: FlaskClient, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.post("/api/v1/verify", json={"code": "x"}, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_is_401(client: FlaskClient) -> None:
    record, token = accounts.create_token("GP-001", "старый", "test")
    assert verify(client, token, "x")[0] == 200
    accounts.revoke_token(record.id, "test")
    assert verify(client, token, "x")[0] == 401


def test_other_workers_drop_a_revoked_token_within_the_trust_window(
    registry: Flask, client: FlaskClient, database_url: str
) -> None:
    """Each worker trusts a live token for API_TOKEN_TRUST_SECONDS; the revoking worker forgets it at once."""
    # 2 s: the revocation and the other worker's next request must fit in the window on a loaded machine too
    registry.config["API_TOKEN_TRUST_SECONDS"] = 2
    record, token = accounts.create_token("GP-001", "МИС", "test")
    revoking_worker = make_app(database_url, API_TOKEN_TRUST_SECONDS=2)
    revoking_client = revoking_worker.test_client()
    assert verify(client, token, "x")[0] == verify(revoking_client, token, "x")[0] == 200
    with revoking_worker.app_context():
        accounts.revoke_token(record.id, "test")
    assert verify(revoking_client, token, "x")[0] == 401
    assert verify(client, token, "x")[0] == 200, "still trusted by the other worker"
    time.sleep(2.1)
    assert verify(client, token, "x")[0] == 401


def test_an_oversized_body_is_413(client: FlaskClient, token: str) -> None:
    status, body = verify(client, token, "A" * 10_000)
    assert status == 413
    assert body["error"] == 413


def test_the_rate_limit_is_per_token(
    registry: Flask, database_url: str, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Windows are whole minutes of the clock: the counts' clock stops mid-minute, so none ends mid-test.
    monkeypatch.setattr("webapp.db.shared_counts.time", SimpleNamespace(time=lambda: 1_800_000_030.0))
    client = make_app(database_url, API_VERIFY_RATE_LIMIT="3 per minute").test_client()
    other = accounts.create_token("GP-001", "второй", "test")[1]
    assert [verify(client, token, "x")[0] for _ in range(4)] == [200, 200, 200, 429]
    refused = client.post("/api/v1/verify", json={"code": "x"}, headers={"Authorization": f"Bearer {token}"})
    assert (refused.status_code, refused.headers.get("Retry-After")) == (429, "30"), "the token's minute ends in 30 s"
    assert verify(client, other, "x")[0] == 200
    assert [verify(client, "made-up", "x")[0] for _ in range(5)] == [401] * 5, "only live tokens are counted"
    spelled_otherwise = client.post(
        "/api/v1/verify", json={"code": "x"}, headers={"Authorization": f"bearer  {token} "}
    )
    assert spelled_otherwise.status_code == 429, "the same token, however the header spells it, has one limit"


@pytest.fixture
def app_wide_limits() -> Iterator[None]:
    """Flask-Limiter's object is one for the process and keeps the limits an app configured: put them back."""
    manager = limiter.limit_manager
    kept = (list(manager._application_limits), list(manager._default_limits), list(limiter._meta_limits))
    yield
    manager.set_application_limits(kept[0])
    manager.set_default_limits(kept[1])
    limiter._meta_limits = kept[2]


@pytest.mark.usefixtures("app_wide_limits")
def test_the_api_uses_no_session_and_leaves_limits_to_itself(
    database_url: str, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bearer tokens only: no cookie is read or set, and Flask-Limiter's limits (for the pages) pass it by,
    meta and application-wide limits included: the API counts its own, per token. Its check before each
    request does not even look for the app's limits for the API (webapp/web/api/limits.py): that search
    cost a verification ~40 µs (docs/benchmarks.md, "Issue 17")."""
    app = make_app(
        database_url, RATELIMIT_DEFAULT="2 per minute", RATELIMIT_APPLICATION="2 per minute", RATELIMIT_META="2/minute"
    )
    client = app.test_client()
    searched: list[str] = []
    search = limiter.limit_manager.resolve_limits

    def counted(*args: object, **kwargs: object) -> object:
        searched.append(request.path)
        return search(*args, **kwargs)

    monkeypatch.setattr(limiter.limit_manager, "resolve_limits", counted)
    assert client.post("/language", data={"language": "en"}).headers["Set-Cookie"].startswith("session=")
    for _ in range(4):
        response = client.post("/api/v1/verify", json={"code": ENP}, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers
        assert response.get_json()["message"].startswith("Такого номера"), "the session's English is not read"
    assert searched == ["/language"]
    # The pages share the application-wide 2 a minute: the language choice above, then one page.
    assert [client.get("/").status_code for _ in range(2)] == [200, 429]


def test_trust_list_is_signed_and_cacheable(client: FlaskClient) -> None:
    register(at=now())
    response = client.get("/api/v1/trust-list")
    assert response.status_code == 200
    document = response.get_json()
    owners = {key["insurer"]: key["status"] for key in document["keys"]}
    assert owners == {"77001": "active", "77002": "active", "registry": "active"}
    registry_keys = {key.kid: key for key in keystore.trust_list() if key.owner == "registry"}
    signed = json.loads(verify_compact(document["jws"], registry_keys))
    assert signed["keys"] == document["keys"]
    assert client.get("/api/v1/trust-list", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    keystore.retire_active("77002")
    keystore.create_key("77002", people.insurer_by_code("77002"))
    db.session.commit()
    assert client.get("/api/v1/trust-list", headers={"If-None-Match": response.headers["ETag"]}).status_code == 200


def test_revocations_are_signed_and_incremental(client: FlaskClient) -> None:
    code = register(at=now())
    first = client.get("/api/v1/revocations").get_json()
    assert (first["since"], first["cursor"], first["revoked"]) == (0, 0, "")
    lifecycle.revoke(ENP, "test", "украден", now=now())
    second = client.get(f"/api/v1/revocations?since={first['cursor']}").get_json()
    assert second["cursor"] > first["cursor"]
    assert base64.b64decode(second["revoked"]) == digest_of_text(code.text)
    empty = client.get(f"/api/v1/revocations?since={second['cursor']}").get_json()
    assert (empty["revoked"], empty["superseded"]) == ("", "")
    assert client.get("/api/v1/revocations?since=-1").status_code == 400


def test_unknown_api_paths_answer_json(client: FlaskClient) -> None:
    assert client.get("/api/v1/nothing").get_json()["error"] == 404
    assert client.get("/api/v1/verify").get_json()["error"] == 405


def test_schemathesis_finds_no_5xx_and_no_schema_violation(registry: Flask) -> None:
    """Every operation of docs/openapi.yaml, with generated and mutated requests, through the real app."""
    register(at=now())
    token = accounts.create_token("GP-001", "schemathesis", "test")[1]
    registry.config["API_VERIFY_RATE_LIMIT"] = "100000 per minute"
    api_schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.yaml", registry)
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {operation.path for operation in operations} >= {
        "/api/v1/verify",
        "/api/v1/trust-list",
        "/api/v1/revocations",
    }
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def exercise(case: schemathesis.Case) -> None:
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"})

        exercise()


def test_registry_signs_with_its_own_key(registry: Flask) -> None:
    key = publication.registry_key()
    assert key.public.owner == "registry"
    assert publication.registry_key().kid == key.kid
    assert len(TrustList(k for k in keystore.trust_list() if k.owner == "registry")) == 1


def test_no_personal_data_in_the_logs(registry: Flask, token: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    client = registry.test_client()
    code = register(at=now()).text
    verify(client, token, code)
    verify(client, token, ENP)
    verify(client, token, "OMS1:%%%")
    client.get("/api/v1/revocations")
    logged = caplog.text + "".join(str(record.args) for record in caplog.records)
    for secret in (ENP, "ИВАНОВА", "Иванова", "1990-04-12", code[:40]):
        assert secret not in logged
