"""Verification, the trust list and the revocation list read from a real streaming standby; skipped when it lags
or stops; and the bound on how long a revoked code can still read `valid` (webapp/db/replicas.py).

The proof that a read came from the standby: with its replay paused, a change made on the primary is not there
yet, so an answer without it can only have come from the standby.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.replication import Cluster, by_api, with_registry
from tests.webapp.pages import MOTHER, code_text, csrf, logged_in
from webapp.db import replicas
from webapp.db.engines import REPLICA_ANSWER_TIMEOUT, REPLICA_APPLICATION_NAME
from webapp.registry import lifecycle
from webapp.registry.keys import rotation

Build = Callable[..., Flask]


def on_clinic_page(client: FlaskClient, text: str) -> str:
    page = client.post("/clinic/verify", data={"code": text, "csrf_token": csrf(client, "/clinic/")})
    match = re.search(r'data-verdict="([a-z_]+)"', page.get_data(as_text=True))
    assert page.status_code == 200
    assert match, page.get_data(as_text=True)
    return match.group(1)


def health(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/healthz")
    assert response.status_code == 200
    return response.get_json()  # type: ignore[no-any-return]


def replica_state(client: FlaskClient) -> dict[str, Any]:
    (state,) = health(client)["replicas"]
    return state  # type: ignore[no-any-return]


def fresh_check(client: FlaskClient) -> dict[str, Any]:
    """/healthz after a check of the replicas: it runs at most once a second per worker."""
    time.sleep(replicas.CHECK_SECONDS + 0.05)
    return health(client)


def proven(client: FlaskClient) -> dict[str, Any]:
    """/healthz after a worker's second check: its first may find the primary a record or two past what the standby
    has replayed (background WAL on a busy machine) and leaves the standby unchecked, reads on the primary."""
    fresh_check(client)
    return fresh_check(client)


def until(condition: Callable[[], bool], timeout: float) -> float:
    """Poll `condition` until it holds; how long that took."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, "not within the time allowed"
        time.sleep(0.05)
    return time.monotonic() - started


def test_verification_and_the_published_lists_are_read_from_the_standby(cluster: Cluster, replicated: Build) -> None:
    app = replicated(MAX_REPLICA_LAG=60)  # the paused standby stays within the bound for this test
    token = with_registry(app)
    text = code_text(app, MOTHER)
    cluster.caught_up()
    api, clinic = app.test_client(), logged_in(app, "clinic")
    assert by_api(api, token, text) == "valid"
    assert proven(api)["verification_reads"] == "replica-1"
    keys_before = len(api.get("/api/v1/trust-list").get_json()["keys"])
    cursor_before = api.get("/api/v1/revocations").get_json()["cursor"]

    cluster.standby.value("SELECT pg_wal_replay_pause()")
    with app.app_context():
        lifecycle.revoke(MOTHER, "test", "украден")
        rotation.rotate("77002", "test")

    assert by_api(api, token, text) == "valid", "only the paused standby does not know of the revocation"
    assert on_clinic_page(clinic, text) == "valid"
    assert len(api.get("/api/v1/trust-list").get_json()["keys"]) == keys_before
    assert api.get("/api/v1/revocations").get_json()["cursor"] == cursor_before
    assert cluster.standby.value(
        f"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{REPLICA_APPLICATION_NAME}'"
    ), "the app's reads connection is open on the standby"

    cluster.standby.value("SELECT pg_wal_replay_resume()")
    cluster.caught_up()
    assert by_api(api, token, text) == "revoked"
    assert on_clinic_page(clinic, text) == "revoked"
    assert len(api.get("/api/v1/trust-list").get_json()["keys"]) == keys_before + 1
    assert api.get("/api/v1/revocations").get_json()["cursor"] > cursor_before
    assert health(api)["verification_reads"] == "replica-1"


def test_an_idle_caught_up_standby_is_not_lagging(cluster: Cluster, replicated: Build) -> None:
    """Nothing written for longer than MAX_REPLICA_LAG: the standby's last replayed commit grows old (the
    usual `now() - pg_last_xact_replay_timestamp()` would call it lagging), but it holds everything."""
    app = replicated(MAX_REPLICA_LAG=1)
    client = app.test_client()
    cluster.caught_up()
    age = "SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp())"
    until(lambda: float(cluster.standby.value(age)) > 3, timeout=60)
    answer = proven(client)
    assert answer["verification_reads"] == "replica-1"
    assert answer["replicas"][0]["state"] == "caught_up"
    assert answer["replicas"][0]["lag_seconds"] < 1


def test_a_paused_standby_is_skipped_and_a_revocation_is_refused_within_the_bound(
    cluster: Cluster, replicated: Build, caplog: pytest.LogCaptureFixture
) -> None:
    """The worst case: the standby stops replaying just before a revocation. It goes on answering `valid` until
    MAX_REPLICA_LAG has passed since it was last proven caught up (before the revocation), then it is skipped:
    every verification that starts MAX_REPLICA_LAG or more after the revocation answers `revoked`. The bound
    is checked against the moment before the revocation began, which is earlier than its commit, and against
    when each verification started, so the machine's speed cannot make it pass or fail."""
    max_lag = 2
    app = replicated(MAX_REPLICA_LAG=max_lag)
    token = with_registry(app)
    text = code_text(app, MOTHER)
    client = app.test_client()
    cluster.caught_up()
    assert proven(client)["verification_reads"] == "replica-1"
    assert by_api(client, token, text) == "valid"

    cluster.standby.value("SELECT pg_wal_replay_pause()")
    with app.app_context(), caplog.at_level(logging.INFO, logger=replicas.__name__):
        before = time.monotonic()
        lifecycle.revoke(MOTHER, "test", "украден")
        answers: list[tuple[float, str]] = []  # (when the verification started, from the revocation; its verdict)
        while not answers or answers[-1][1] != "revoked":
            started = time.monotonic()
            answers.append((started - before, by_api(client, token, text)))
            assert started - before < max_lag + 5, "never refused"
            time.sleep(0.05)

        assert answers[0][1] == "valid", "the standby answered until the bound, not the primary all along"
        last_valid = max(at for at, verdict in answers if verdict == "valid")
        assert last_valid < max_lag, f"a verification {last_valid:.2f} s after the revocation read valid"
        assert answers[-1][0] < max_lag + 1, "refused soon after the bound"
        answer = fresh_check(client)
        assert answer["verification_reads"] == "primary"
        assert answer["replicas"][0]["state"] == "lagging"
        assert answer["replicas"][0]["lag_seconds"] > max_lag
        assert "replica-1 skipped for verification reads" in caplog.text
        assert "behind the primary, more than MAX_REPLICA_LAG (2 s)" in caplog.text

        cluster.standby.value("SELECT pg_wal_replay_resume()")
        cluster.caught_up()
        until(lambda: fresh_check(client)["verification_reads"] == "replica-1", timeout=5)
        assert by_api(client, token, text) == "revoked"
        assert "replica-1 is caught up with the primary" in caplog.text


def test_a_revocation_is_refused_through_a_streaming_standby(cluster: Cluster, replicated: Build) -> None:
    """The usual case: the standby replays within milliseconds, and goes on serving the reads."""
    app = replicated(MAX_REPLICA_LAG=2)
    token = with_registry(app)
    text = code_text(app, MOTHER)
    client = app.test_client()
    cluster.caught_up()
    assert proven(client)["verification_reads"] == "replica-1"
    with app.app_context():
        lifecycle.revoke(MOTHER, "test", "украден")
    took = until(lambda: by_api(client, token, text) == "revoked", timeout=5)
    assert took <= 2
    assert cluster.standby.value(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
        f"'{REPLICA_APPLICATION_NAME}' AND query LIKE '%issued_codes%'"
    ), "the last statement of the app's connection on the standby was the registry read"
    assert health(client)["verification_reads"] == "replica-1"


def reading_from_the_standby(cluster: Cluster, replicated: Build) -> tuple[FlaskClient, str, str]:
    """A client whose verification reads go to the standby: the client, a clinic token, and a valid code."""
    app = replicated(MAX_REPLICA_LAG=5)
    token = with_registry(app)
    text = code_text(app, MOTHER)
    client = app.test_client()
    cluster.caught_up()
    assert by_api(client, token, text) == "valid"
    assert proven(client)["verification_reads"] == "replica-1"
    return client, token, text


def test_a_stopped_standby_sends_verification_to_the_primary(
    cluster: Cluster, replicated: Build, caplog: pytest.LogCaptureFixture
) -> None:
    client, token, text = reading_from_the_standby(cluster, replicated)

    cluster.standby.stop()
    with caplog.at_level(logging.WARNING, logger=replicas.__name__):
        assert by_api(client, token, text) == "valid", "read again on the primary, no error"
        with client.application.app_context():
            lifecycle.revoke(MOTHER, "test", "украден")
        assert by_api(client, token, text) == "revoked"
        answer = fresh_check(client)
    assert answer["verification_reads"] == "primary"
    assert answer["replicas"] == [{"name": "replica-1", "state": "unreachable", "lag_seconds": None}]
    # OperationalError when it refuses the connection, AdminShutdown when its shutdown ends one in use.
    assert "replica-1 skipped for verification reads: it did not answer (" in caplog.text

    cluster.standby.start()
    until(lambda: fresh_check(client)["verification_reads"] == "replica-1", timeout=10)
    assert by_api(client, token, text) == "revoked"


def test_healthz_names_no_server(cluster: Cluster, replicated: Build) -> None:
    app = replicated()
    body = app.test_client().get("/healthz").get_data(as_text=True)
    for secret in ("127.0.0.1", str(cluster.standby.port), "postgres", "oms"):
        assert secret not in body
    assert set(health(app.test_client())) == {"status", "verification_reads", "max_replica_lag_seconds", "replicas"}


def standby_processes(cluster: Cluster) -> list[int]:
    """The standby's postmaster, then every process under it."""
    postmaster = int((cluster.standby.data / "postmaster.pid").read_text().split()[0])
    children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(postmaster)], capture_output=True, text=True)
    return [postmaster, *map(int, children.stdout.split())]


def test_a_frozen_standby_sends_verification_to_the_primary_within_its_timeout(
    cluster: Cluster, replicated: Build
) -> None:
    """A standby that stops answering without closing its connections (a frozen machine, a stalled disk: here
    SIGSTOP) holds a read for REPLICA_ANSWER_TIMEOUT, not for ever, nor again on a fresh connection; and
    while it stays frozen, checks ask it only every UNREACHABLE_RETRY_SECONDS, so requests go on at speed."""
    client, token, text = reading_from_the_standby(cluster, replicated)
    frozen = standby_processes(cluster)

    def thaw() -> None:
        for pid in frozen:
            os.kill(pid, signal.SIGCONT)

    for pid in frozen:
        os.kill(pid, signal.SIGSTOP)
    unfreezing = threading.Timer(30, thaw)  # were the bound broken, a read would wait for this, then fail below
    unfreezing.start()
    try:
        started = time.monotonic()
        assert by_api(client, token, text) == "valid", "read again on the primary"
        took = time.monotonic() - started
        assert took < REPLICA_ANSWER_TIMEOUT + 1, f"{took:.1f} s: the frozen replica was asked again"
        assert replica_state(client)["state"] == "unreachable"
        started = time.monotonic()
        answers = [by_api(client, token, text) for _ in range(20)]
        assert answers == ["valid"] * 20
        assert time.monotonic() - started < replicas.UNREACHABLE_RETRY_SECONDS, "no request waits on the frozen one"
    finally:
        unfreezing.cancel()
        thaw()
    until(lambda: fresh_check(client)["verification_reads"] == "replica-1", timeout=30)
    assert by_api(client, token, text) == "valid"
