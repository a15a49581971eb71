"""A replica is proven caught up by what the server at its address answers now, never by what another server
answered there before (webapp/db/replicas.py): a replica restored from an older backup, or rebuilt, at the same
address must not serve reads on the proof of the one it replaced."""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.registry import make_app
from tests.helpers.replication import Cluster, by_api, with_registry
from tests.replication import servers
from tests.replication.test_replicas import proven
from tests.webapp.pages import MOTHER, code_text
from webapp.config import DEFAULT_MAX_REPLICA_LAG
from webapp.db import poolers, replicas
from webapp.db.engines import dispose_engines
from webapp.registry import lifecycle

Build = Callable[..., Flask]


@contextmanager
def revoked_long_ago(
    cluster: Cluster, replicated: Build, max_lag: int, **settings: object
) -> Iterator[tuple[FlaskClient, str, str, servers.Postgres]]:
    """A code revoked more than `max_lag` ago, a client reading verification from the standby, which is proven
    caught up (after the revocation) as this starts; and a standby restored from a backup taken before the
    revocation, on the standby's address, not started. The client, a clinic token, the code, the restored one."""
    app = replicated(MAX_REPLICA_LAG=max_lag, **settings)
    token = with_registry(app)
    text = code_text(app, MOTHER)
    client = app.test_client()
    restored = servers.make_restored_standby(
        cluster.primary.data.parent, cluster.primary, "restored", cluster.standby.port
    )
    try:
        with app.app_context():
            lifecycle.revoke(MOTHER, "test", "украден")
        revoked_at = time.monotonic()
        cluster.caught_up()
        assert proven(client)["verification_reads"] == "replica-1"
        assert by_api(client, token, text) == "revoked"
        while time.monotonic() - revoked_at < max_lag + 1:
            assert proven(client)["replicas"][0]["state"] == "caught_up"  # the standby's proof stays fresh
        yield client, token, text, restored
    finally:
        if restored.running():
            restored.stop()
        shutil.rmtree(restored.data, ignore_errors=True)


def valid_only_until_a_check_after_the_swap(
    cluster: Cluster,
    restored: servers.Postgres,
    client: FlaskClient,
    token: str,
    text: str,
    max_lag: int,
    unnoticed: float = 0.0,
) -> None:
    """The standby's machine comes back restored from the older backup; verify until any proof of the old one is
    past. The revoked code reads `valid` only for `unnoticed` seconds after the swap, never on the old proof, and
    the restored one reads `lagging`."""
    cluster.standby.stop()
    restored.start()
    swapped = time.monotonic()
    answers = []
    while time.monotonic() - swapped < max_lag + 2:
        answers.append((time.monotonic() - swapped, by_api(client, token, text)))
        time.sleep(0.1)
    valid = [round(at, 2) for at, verdict in answers if verdict == "valid"]
    assert all(at < unnoticed for at in valid), f"the restored replica's old copy read as caught up: {valid}"
    assert answers[-1][1] == "revoked"
    assert client.get("/healthz").get_json()["replicas"][0]["state"] == "lagging"


def test_a_replica_restored_from_an_older_backup_does_not_inherit_the_proof_of_the_one_it_replaced(
    cluster: Cluster, replicated: Build
) -> None:
    """Asked again after it went away, the restored server answers a replayed position from before the revocation:
    that, not the proof of the server it replaced, says how far behind it is. (MAX_REPLICA_LAG above the 5 s a
    replica that did not answer waits to be asked again, UNREACHABLE_RETRY_SECONDS.)"""
    max_lag = 10
    with revoked_long_ago(cluster, replicated, max_lag) as (client, token, text, restored):
        valid_only_until_a_check_after_the_swap(cluster, restored, client, token, text, max_lag)


def test_a_replica_restored_behind_pgbouncer_does_not_inherit_the_proof_of_the_one_it_replaced(
    cluster: Cluster, replicated: Build, bouncer: servers.PgBouncer
) -> None:
    """The same behind PgBouncer, as docs/deploy has it, with the default MAX_REPLICA_LAG: PgBouncer keeps the app's
    connection and gives it the restored server the next time, so the app sees no failure at all. Until the worker's
    next check (CHECK_SECONDS) nothing tells it the server changed: that much is a limit (docs/threat-model.md);
    before, the old server's proof vouched for the restored one until MAX_REPLICA_LAG had passed."""
    with revoked_long_ago(
        cluster,
        replicated,
        DEFAULT_MAX_REPLICA_LAG,
        DATABASE_REPLICA_URLS=[bouncer.url("oms_replica_1")],
        DATABASE_POOLER=poolers.PGBOUNCER_TRANSACTION,
    ) as (client, token, text, restored):
        valid_only_until_a_check_after_the_swap(
            cluster, restored, client, token, text, DEFAULT_MAX_REPLICA_LAG, unnoticed=replicas.CHECK_SECONDS + 0.3
        )


def test_a_standby_of_another_cluster_is_not_taken_for_caught_up(
    cluster: Cluster, replicated: Build, caplog: pytest.LogCaptureFixture
) -> None:
    """The primary is restored from a dump into a new cluster (docs/operations.md, "Backups"), and the app is pointed
    at it while DATABASE_REPLICA_URLS still names the old cluster's standby. Both count their WAL from their own
    start, and the old one is further on: by position alone the standby reads as caught up with the new primary for
    ever, and a code revoked on it would read `valid` from the old copy. It is skipped for another cluster's."""
    old = replicated()
    token = with_registry(old)
    text = code_text(old, MOTHER)
    root = servers.private_folder("oms-replication-")
    restored = servers.make_primary(root)
    try:
        dump = root / "oms.dump"
        for command in (
            [str(servers.PG_BIN / "pg_dump"), "-Fc", "-f", str(dump), cluster.primary.libpq()],
            [str(servers.PG_BIN / "pg_restore"), "--no-owner", "-d", restored.libpq(), str(dump)],
        ):
            subprocess.run(command, check=True, capture_output=True, timeout=120)
        while cluster.primary.value("SELECT pg_current_wal_insert_lsn()") <= restored.value(
            "SELECT pg_current_wal_insert_lsn() + 8 * 1024 * 1024"
        ):
            cluster.primary.value("SELECT pg_switch_wal() FROM (SELECT txid_current()) AS written")
        cluster.caught_up()

        assert_skipped_and_revocation_refused(
            restored.url(), cluster.standby.url(), token, text, caplog, "another_cluster", "a standby of another"
        )
    finally:
        restored.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_a_standby_still_following_the_old_primary_after_a_promotion_is_not_taken_for_caught_up(
    cluster: Cluster, replicated: Build, caplog: pytest.LogCaptureFixture
) -> None:
    """A promotion: one standby becomes the primary (a new timeline) and the app is pointed at it, but another
    standby, still listed, goes on following the old primary, which a job worker left pointing at it keeps writing
    to. Both timelines count on from the fork, and the old one is further on: by position alone that standby reads
    as caught up with the new primary, and a code revoked on it would read `valid` there. It is skipped."""
    old = replicated()
    token = with_registry(old)
    text = code_text(old, MOTHER)
    root = servers.private_folder("oms-replication-")
    started: list[servers.Postgres] = []
    try:
        first = servers.make_primary(root)
        started.append(first)
        dump = root / "oms.dump"
        for command in (
            [str(servers.PG_BIN / "pg_dump"), "-Fc", "-f", str(dump), cluster.primary.libpq()],
            [str(servers.PG_BIN / "pg_restore"), "--no-owner", "-d", first.libpq(), str(dump)],
        ):
            subprocess.run(command, check=True, capture_output=True, timeout=120)
        promoted, follower = (
            servers.make_restored_standby(root, first, name, servers.free_port(), streaming=True)
            for name in ("promoted", "follower")
        )
        for standby in (promoted, follower):
            standby.start()
            started.append(standby)
            servers.wait_for_replay(first, standby)
        promoted.value("SELECT pg_promote()")
        for _ in range(2):  # the old primary writes on: its timeline passes the new one's positions
            first.value("SELECT pg_switch_wal() FROM (SELECT txid_current()) AS written")
        servers.wait_for_replay(first, follower)

        assert_skipped_and_revocation_refused(
            promoted.url(), follower.url(), token, text, caplog, "another_timeline", "on another timeline"
        )
    finally:
        for server in reversed(started):
            if server.running():
                server.stop()
        shutil.rmtree(root, ignore_errors=True)


def assert_skipped_and_revocation_refused(
    primary_url: str, replica_url: str, token: str, text: str, caplog: pytest.LogCaptureFixture, state: str, said: str
) -> None:
    """An app on `primary_url` with the one replica `replica_url`: a code revoked on the primary reads `revoked`
    once MAX_REPLICA_LAG (2 s) has passed, the replica skipped in state `state`, and its log says why (`said`)."""
    app = make_app(primary_url, DATABASE_REPLICA_URLS=[replica_url], MAX_REPLICA_LAG=2)
    try:
        client = app.test_client()
        with caplog.at_level(logging.WARNING, logger=replicas.__name__):
            assert by_api(client, token, text) == "valid"
            with app.app_context():
                lifecycle.revoke(MOTHER, "test", "украден")
            answer = proven(client)
            time.sleep(2 + 0.5)
            assert by_api(client, token, text) == "revoked", f"read through the skipped replica ({state})"
        assert answer["verification_reads"] == "primary"
        assert answer["replicas"] == [{"name": "replica-1", "state": state, "lag_seconds": None}]
        assert f"replica-1 skipped for verification reads: it is {said}" in caplog.text
    finally:
        with app.app_context():
            dispose_engines()
