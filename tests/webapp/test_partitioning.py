"""The region partitions migration (migrations/versions/0012_region_partitions.py) on 1,000,000 persons.

A PostgreSQL database is migrated to the revision before it and filled, as the registry was, with
1,000,000 generated persons over 85 regions (one insurer each), a policy and a code each, and the
revocation events of every thousandth code, by INSERT … SELECT generate_series; then `upgrade` runs the
real migration. Every row must come through in its region's partition, the ЕНП directory must hold every
person, and the verification read for a code must read one region's partitions;
tests/webapp/test_region_partitions.py checks the same on the small registry, on both engines.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from tests.helpers.registry import make_app
from tests.webapp.databases import PG_HOST, create_postgres_database, drop_postgres_database, require_postgres
from tests.webapp.test_region_partitions import relations
from webapp.db.engines import dispose_engines
from webapp.db.partitions import PARTITIONED
from webapp.extensions import db
from webapp.models import Category, CodeStatus, PolicyKind, PolicyStatus
from webapp.registry import organisations
from webapp.registry.verification import registry_read

pytestmark = pytest.mark.slow

PEOPLE = 1_000_000
REGIONS = [f"{number:02d}" for number in range(1, 86)]
REVOKED_EVERY = 1000
#: The revision the generated registry is made at: the one before the partitions.
BEFORE = "0011"
#: What the migration may take on this 2-core machine, shared with other test runs (it took 120 s here).
MIGRATION_BUDGET_SECONDS = 600

LOAD = [
    """
    INSERT INTO persons (id, enp, surname, given_name, patronymic, birth_date, sex, snils, category, insurer_id)
    SELECT n, lpad(n::text, 16, '0'), 'Фамилия' || n, 'Имя', '', date '1950-01-01' + n %% 25000,
           CASE WHEN n %% 2 = 0 THEN 'F' ELSE 'M' END, NULL, %(category)s, i.id
    FROM generate_series(1, %(people)s) AS n
    JOIN insurers AS i ON i.code = to_char(1 + n %% 85, 'FM00') || '001'
    """,
    """
    INSERT INTO policies (id, person_id, insurer_id, kind, category, valid_from, valid_to, status, status_reason,
                          created_at)
    SELECT id, id, insurer_id, %(kind)s, category, date '2026-01-01', NULL, %(active)s, '', now() FROM persons
    """,
    """
    INSERT INTO issued_codes (id, person_id, policy_id, serial, kid, issued_at, status, status_reason,
                              status_changed_at, text, text_hash)
    SELECT p.id, p.id, p.id, 1, k.kid, now(),
           CASE WHEN p.id %% %(every)s = 0 THEN %(revoked)s ELSE %(current)s END, '',
           NULL, 'OMS1:' || p.id, md5(p.id::text) || md5('code' || p.id)
    FROM persons AS p JOIN signing_keys AS k ON k.insurer_id = p.insurer_id
    """,
    """
    INSERT INTO revocation_events (code_id, digest, status, at)
    SELECT id, decode(substr(text_hash, 1, 16), 'hex'), status, now() FROM issued_codes WHERE status = %(revoked)s
    """,
    "SELECT setval(pg_get_serial_sequence(t, 'id'), %(people)s) FROM unnest(ARRAY['persons', 'policies', "
    "'issued_codes']) AS t",
]


def region_of(n: int) -> str:
    return f"{1 + n % 85:02d}"


@pytest.fixture(scope="module")
def migrated() -> Iterator[tuple[psycopg.Connection[Any], float]]:
    require_postgres()
    name = f"oms_partitions_{os.getpid()}"
    url = create_postgres_database(name)
    app = make_app(url)
    try:
        with app.app_context():
            upgrade(revision=BEFORE)
            for code in REGIONS:  # as the registry had them: regions before partitions, rows by SQL
                db.session.execute(text("INSERT INTO regions (code, name) VALUES (:c, :n)"), {"c": code, "n": code})
            db.session.commit()
            for code in REGIONS:
                organisations.create_insurer(f"{code}001", f"СМО {code}", "test", code)
            dispose_engines()
        params = {
            "people": PEOPLE,
            "category": str(Category.CITIZEN),
            "kind": str(PolicyKind.POLICY),
            "active": str(PolicyStatus.ACTIVE),
            "every": REVOKED_EVERY,
            "revoked": str(CodeStatus.REVOKED),
            "current": str(CodeStatus.CURRENT),
        }
        connection = psycopg.connect(f"host={PG_HOST} port=5432 user=postgres dbname={name}", autocommit=True)
        with connection:
            for statement in LOAD:
                connection.execute(statement, params)
            with app.app_context():
                started = time.monotonic()
                upgrade()
                took = time.monotonic() - started
                dispose_engines()
            yield connection, took
    finally:
        drop_postgres_database(name)


def count(connection: psycopg.Connection[Any], query: str) -> int:
    return connection.execute(query).fetchone()[0]


def test_the_migration_moves_every_row_within_its_budget(migrated: tuple[psycopg.Connection[Any], float]) -> None:
    connection, took = migrated
    print(f"the migration of {PEOPLE:,} persons took {took:.0f} s")
    assert took < MIGRATION_BUDGET_SECONDS
    for table in PARTITIONED:
        partitions = count(connection, f"SELECT count(*) FROM pg_inherits WHERE inhparent = '{table}'::regclass")
        assert partitions == len(REGIONS) + 1  # and the DEFAULT one
    for table in ("persons", "policies", "issued_codes", "enp_directory"):
        assert count(connection, f"SELECT count(*) FROM {table}") == PEOPLE
    assert count(connection, "SELECT count(*) FROM revocation_events") == PEOPLE // REVOKED_EVERY
    in_moscow = sum(1 for n in range(1, PEOPLE + 1) if region_of(n) == "77")
    for table in ("persons", "policies", "issued_codes"):
        assert count(connection, f"SELECT count(*) FROM {table}_77") == in_moscow
    assert count(connection, "SELECT count(*) FROM persons_default") == 0


def test_rows_keep_their_ids_and_the_sequences_go_on(migrated: tuple[psycopg.Connection[Any], float]) -> None:
    connection, _ = migrated
    row = connection.execute("SELECT region_code, enp FROM persons WHERE id = 123456").fetchone()
    assert row == (region_of(123_456), f"{123_456:016d}")
    assert count(connection, "SELECT nextval(pg_get_serial_sequence('persons', 'id'))") == PEOPLE + 1
    directory = connection.execute("SELECT region_code FROM enp_directory WHERE person_id = 500000").fetchone()
    assert directory == (region_of(500_000),)


def test_the_verification_read_reads_one_regions_partitions(migrated: tuple[psycopg.Connection[Any], float]) -> None:
    connection, _ = migrated
    n = 123_456
    region = region_of(n)
    kid = connection.execute("SELECT kid FROM issued_codes WHERE id = %s", (n,)).fetchone()[0]
    params = {"enp": f"{n:016d}", "serial": 1, "signer": kid}
    read = str(
        registry_read(region)
        .params(**params)
        .compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    )
    plan = connection.execute("EXPLAIN (FORMAT JSON) " + read).fetchone()[0][0]["Plan"]
    assert relations(plan) == [
        "insurers",
        f"issued_codes_{region}",
        f"persons_{region}",
        f"policies_{region}",
        "signing_keys",
    ]
    row = connection.execute(read).fetchone()
    assert row is not None
    assert row[0] == CodeStatus.CURRENT
