"""Verification through Debian's PgBouncer (1.18) in transaction mode, on docs/deploy/pgbouncer/pgbouncer.ini:
with DATABASE_POOLER=pgbouncer-transaction the app learns that it keeps no prepared statements and stops
preparing, with one warning (webapp/db/poolers.py).

To make PgBouncer hand the app another server connection than the one its statement was prepared on,
another client holds that one in an open transaction every other round.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask

from tests.helpers.registry import make_app, seed_registry
from tests.helpers.replication import Cluster, by_api, with_registry
from tests.replication import servers
from tests.webapp.databases import wipe
from tests.webapp.pages import MOTHER, code_text
from webapp.db import poolers, prepared_reads
from webapp.db.engines import READS_BIND, dispose_engines
from webapp.extensions import db

ROUNDS = 12


@contextmanager
def through(url: str, setup_url: str | None = None, **settings: object) -> Iterator[tuple[Flask, str, str]]:
    """An app on `url`, over the small registry of tests/webapp and its logins, written through `setup_url`
    (by default `url` too); the app, a clinic system's API token and the mother's code."""
    setup = make_app(setup_url or url, **settings)
    with setup.app_context():
        wipe()
        seed_registry()
    token, text = with_registry(setup), code_text(setup, MOTHER)
    app = setup if setup_url is None else make_app(url, **settings)
    yield app, token, text
    for each in {setup, app}:
        with each.app_context():
            dispose_engines()


def verify_while_another_client_moves_the_server(
    app: Flask, token: str, text: str, bouncer: servers.PgBouncer, database: str = "oms"
) -> list[object]:
    """Verify ROUNDS times; between rounds another client takes, then frees, the server connection of
    `database` the app last used. Each verification's verdict, or its status if it failed."""
    client = app.test_client()
    answers: list[object] = []
    with bouncer.connect(database) as other:
        for round_ in range(ROUNDS):
            response = client.post("/api/v1/verify", json={"code": text}, headers={"Authorization": f"Bearer {token}"})
            answers.append(response.get_json()["verdict"] if response.status_code == 200 else response.status_code)
            other.execute("BEGIN; SELECT 1" if round_ % 2 == 0 else "COMMIT")
    return answers


def logged(caplog: pytest.LogCaptureFixture, logger: str) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == logger]


@pytest.mark.parametrize("reads", ["primary", "replica-1"])
def test_verification_works_through_pgbouncer_in_transaction_mode(
    cluster: Cluster, bouncer: servers.PgBouncer, caplog: pytest.LogCaptureFixture, reads: str
) -> None:
    """The primary and the replica both behind PgBouncer, as docs/deploy/app/oms.env has them."""
    replicas = [bouncer.url("oms_replica_1")] if reads == "replica-1" else []
    with (
        caplog.at_level(logging.INFO),
        through(bouncer.url(), DATABASE_POOLER=poolers.PGBOUNCER_TRANSACTION, DATABASE_REPLICA_URLS=replicas) as (
            app,
            token,
            text,
        ),
    ):
        cluster.caught_up()
        database = "oms_replica_1" if replicas else "oms"
        assert verify_while_another_client_moves_the_server(app, token, text, bouncer, database) == ["valid"] * ROUNDS
        assert app.test_client().get("/healthz").get_json().get("verification_reads", "primary") == reads
        with app.app_context(), db.engines[READS_BIND].connect() as connection:
            assert connection.connection.dbapi_connection.prepare_threshold is None  # type: ignore[union-attr]
    (warning,) = logged(caplog, poolers.__name__)  # one, though every engine of the app goes through it
    assert "PgBouncer 1.18" in warning
    assert "max_prepared_statements = 0" in warning
    assert "server-side prepared statements are off" in warning
    assert not logged(caplog, prepared_reads.__name__), "no read failed and had to be read again"


def test_without_the_setting_prepared_reads_fail_through_it(
    cluster: Cluster, bouncer: servers.PgBouncer, caplog: pytest.LogCaptureFixture
) -> None:
    """What the setting is for: the same rounds, prepared on the server, find their statement missing. (Even
    writing the registry through it fails: psycopg's own prepared statements of two clients clash on one
    server connection, so the registry is written on the primary itself.)"""
    with caplog.at_level(logging.WARNING), through(bouncer.url(), cluster.primary.url()) as (app, token, text):
        verify_while_another_client_moves_the_server(app, token, text, bouncer)
    failures = logged(caplog, prepared_reads.__name__)
    assert failures
    assert "InvalidSqlStatementName 26000" in failures[0]


def test_a_pooler_that_does_not_say_turns_prepared_statements_off(
    cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    """DATABASE_POOLER set, but no PgBouncer console answers (here: PostgreSQL itself): prepared statements off,
    the reads sent unnamed, and the warning says why."""
    cluster.ready()
    with (
        caplog.at_level(logging.WARNING),
        through(cluster.primary.url(), DATABASE_POOLER=poolers.PGBOUNCER_TRANSACTION) as (app, token, text),
    ):
        assert by_api(app.test_client(), token, text) == "valid"
    (warning,) = logged(caplog, poolers.__name__)
    assert "console at 127.0.0.1" in warning
    assert "did not answer (OperationalError)" in warning
