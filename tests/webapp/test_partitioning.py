"""The registry partitioned by region on PostgreSQL (docs/partitioning.sql, docs/scaling.md).

On a fresh database migrated like production, with 85 regions, the script creates the regional
segments; 1,000,000 generated persons and their policies are loaded with INSERT … SELECT
generate_series before the script's keys and foreign key are added (a bulk load, as pg_dump orders
it). A look-up by region and ЕНП must read one partition of each table and return the
person's row; a look-up by ЕНП alone reads all 85, which is why the region travels with the query.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask_migrate import upgrade

from tests.helpers.registry import make_app
from tests.webapp.databases import PG_HOST, create_postgres_database, drop_postgres_database, require_postgres
from webapp.db.engines import dispose_engines
from webapp.models import Category, PolicyKind, PolicyStatus
from webapp.registry import organisations

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "partitioning.sql"
PEOPLE = 1_000_000
REGIONS = [f"{number:02d}" for number in range(1, 86)]
SUSPENDED_EVERY = 1000
#: The script's keys come after this line; the rows are loaded before them (see the script).
KEYS_MARK = "-- KEYS\n"

LOAD_PERSONS = """
INSERT INTO regional_persons
    (region_code, id, enp, surname, given_name, patronymic, birth_date, sex, snils, category, insurer_id, region_id)
SELECT r.code, n, lpad(n::text, 16, '0'), 'Фамилия' || n, 'Имя', '', date '1950-01-01' + n %% 25000,
       CASE WHEN n %% 2 = 0 THEN 'F' ELSE 'M' END, NULL, %(category)s, %(insurer)s, r.id
FROM generate_series(1, %(site)s) AS n
JOIN regions AS r ON r.code = to_char(1 + n %% 85, 'FM00')
"""

LOAD_POLICIES = """
INSERT INTO regional_policies
    (region_code, id, person_id, insurer_id, kind, category, valid_from, valid_to, status, status_reason, created_at)
SELECT region_code, id, id, insurer_id, %(kind)s, category, date '2026-01-01', NULL,
       CASE WHEN id %% %(every)s = 0 THEN %(suspended)s ELSE %(active)s END, '', now()
FROM regional_persons
"""

#: What verification needs about a person, found by the region (from the code's insurer) and ЕНП.
LOOKUP = """
SELECT p.surname, p.birth_date, p.region_code, pol.kind, pol.status
FROM regional_persons AS p
JOIN regional_policies AS pol ON pol.region_code = p.region_code AND pol.person_id = p.id
WHERE p.region_code = %(region)s AND p.enp = %(enp)s AND pol.status <> 'closed'
"""

LOOKUP_WITHOUT_REGION = """
SELECT p.surname FROM regional_persons AS p
JOIN regional_policies AS pol ON pol.region_code = p.region_code AND pol.person_id = p.id
WHERE p.enp = %(enp)s AND pol.status <> 'closed'
"""


@pytest.fixture(scope="module")
def partitioned() -> Iterator[psycopg.Connection[Any]]:
    require_postgres()
    name = f"oms_partitions_{os.getpid()}"
    app = make_app(create_postgres_database(name))
    try:
        with app.app_context():
            upgrade()
            for code in REGIONS:
                organisations.create_region(code, f"Регион {code}", "test")
            insurer = organisations.create_insurer("77001", "Демо-Мед", "test", "77").id
            dispose_engines()
        with psycopg.connect(f"host={PG_HOST} port=5432 user=postgres dbname={name}", autocommit=True) as connection:
            tables, keys = SCRIPT.read_text(encoding="utf-8").split(KEYS_MARK)
            connection.execute(tables)
            connection.execute(LOAD_PERSONS, {"site": PEOPLE, "insurer": insurer, "category": str(Category.CITIZEN)})
            connection.execute(
                LOAD_POLICIES,
                {
                    "kind": str(PolicyKind.POLICY),
                    "every": SUSPENDED_EVERY,
                    "suspended": str(PolicyStatus.SUSPENDED),
                    "active": str(PolicyStatus.ACTIVE),
                },
            )
            connection.execute(keys)
            connection.execute("ANALYZE regional_persons, regional_policies")
            yield connection
    finally:
        drop_postgres_database(name)


def region_of(n: int) -> str:
    return f"{1 + n % 85:02d}"


def scanned_tables(connection: psycopg.Connection[Any], query: str, params: dict[str, str]) -> list[str]:
    """The tables the plan reads (partitions by their own names), from EXPLAIN's JSON."""
    plan = connection.execute("EXPLAIN (FORMAT JSON) " + query, params).fetchone()[0][0]["Plan"]
    found, stack = [], [plan]
    while stack:
        node = stack.pop()
        if "Relation Name" in node:
            found.append(node["Relation Name"])
        stack.extend(node.get("Plans", []))
    return sorted(found)


def test_one_partition_per_region_holds_its_share(partitioned: psycopg.Connection[Any]) -> None:
    partitions = partitioned.execute(
        "SELECT count(*) FROM pg_inherits WHERE inhparent = 'regional_persons'::regclass"
    ).fetchone()[0]
    assert partitions == len(REGIONS)
    assert partitioned.execute("SELECT count(*) FROM regional_persons").fetchone()[0] == PEOPLE
    assert partitioned.execute("SELECT count(*) FROM regional_policies").fetchone()[0] == PEOPLE
    in_moscow = partitioned.execute("SELECT count(*) FROM regional_persons_77").fetchone()[0]
    assert in_moscow == sum(1 for n in range(1, PEOPLE + 1) if region_of(n) == "77")


def test_lookup_by_region_and_enp_reads_one_partition(partitioned: psycopg.Connection[Any]) -> None:
    params = {"region": region_of(123_456), "enp": f"{123_456:016d}"}
    assert scanned_tables(partitioned, LOOKUP, params) == [
        f"regional_persons_{params['region']}",
        f"regional_policies_{params['region']}",
    ]
    without_region = scanned_tables(partitioned, LOOKUP_WITHOUT_REGION, {"enp": params["enp"]})
    assert len({table for table in without_region if table.startswith("regional_persons_")}) == len(REGIONS)


@pytest.mark.parametrize("n", [1, 123_456, 500_000, PEOPLE])
def test_verification_lookup_returns_the_persons_row(partitioned: psycopg.Connection[Any], n: int) -> None:
    row = partitioned.execute(LOOKUP, {"region": region_of(n), "enp": f"{n:016d}"}).fetchone()
    status = PolicyStatus.SUSPENDED if n % SUSPENDED_EVERY == 0 else PolicyStatus.ACTIVE
    assert row is not None
    assert (row[0], row[2], row[3], row[4]) == (f"Фамилия{n}", region_of(n), PolicyKind.POLICY, status)


def test_lookup_in_another_region_finds_nobody(partitioned: psycopg.Connection[Any]) -> None:
    wrong_region = region_of(124_000 + 1)
    assert wrong_region != region_of(124_000)
    assert partitioned.execute(LOOKUP, {"region": wrong_region, "enp": f"{124_000:016d}"}).fetchone() is None
