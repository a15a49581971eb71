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
from webapp.db import replicas
from webapp.db.engines import dispose_engines
from webapp.registry import lifecycle

Build = Callable[..., Flask]
#: More than a replica that did not answer waits to be asked again (UNREACHABLE_RETRY_SECONDS).
MAX_LAG = 10


@contextmanager
def revoked_long_ago(cluster: Cluster, replicated: Build) -> Iterator[tuple[FlaskClient, str, str, servers.Postgres]]:
    """A code revoked more than MAX_LAG ago, a client reading verification from the standby, which is proven caught
    up (after the revocation) as this starts; and a standby restored from a backup taken before the revocation, on
    the standby's address, not started. The client, a clinic token, the code, the restored standby."""
    app = replicated(MAX_REPLICA_LAG=MAX_LAG)
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
        while time.monotonic() - revoked_at < MAX_LAG + 1:
            assert proven(client)["replicas"][0]["state"] == "caught_up"  # the standby's proof stays fresh
        yield client, token, text, restored
    finally:
        if restored.running():
            restored.stop()
        shutil.rmtree(restored.data, ignore_errors=True)


def replaced(cluster: Cluster, restored: servers.Postgres) -> None:
    """The standby's machine comes back restored from the older backup."""
    cluster.standby.stop()
    restored.start()


def test_a_replica_restored_from_an_older_backup_does_not_inherit_the_proof_of_the_one_it_replaced(
    cluster: Cluster, replicated: Build
) -> None:
    """Asked again after it went away, the restored server answers a replayed position from before the revocation:
    that, not the proof of the server it replaced, says how far behind it is."""
    with revoked_long_ago(cluster, replicated) as (client, token, text, restored):
        replaced(cluster, restored)
        answers = []
        deadline = time.monotonic() + MAX_LAG + 2
        while time.monotonic() < deadline:
            answers.append(by_api(client, token, text))
            time.sleep(0.1)
        assert set(answers) == {"revoked"}, "the restored replica's old copy was read as caught up"
        assert client.get("/healthz").get_json()["replicas"][0]["state"] == "lagging"


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

        app = make_app(restored.url(), DATABASE_REPLICA_URLS=[cluster.standby.url()], MAX_REPLICA_LAG=2)
        try:
            client = app.test_client()
            with caplog.at_level(logging.WARNING, logger=replicas.__name__):
                assert by_api(client, token, text) == "valid"
                with app.app_context():
                    lifecycle.revoke(MOTHER, "test", "украден")
                answer = proven(client)
                time.sleep(2 + 0.5)
                assert by_api(client, token, text) == "revoked", "read from the old cluster's standby"
            assert answer["verification_reads"] == "primary"
            assert answer["replicas"] == [{"name": "replica-1", "state": "another_cluster", "lag_seconds": None}]
            assert "replica-1 skipped for verification reads: it is a standby of another cluster" in caplog.text
        finally:
            with app.app_context():
                dispose_engines()
    finally:
        restored.stop()
        shutil.rmtree(root, ignore_errors=True)
