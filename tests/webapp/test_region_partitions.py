"""The registry by region (migrations/versions/0012_region_partitions.py, docs/scaling.md), on both engines:
every row carries its region, a transfer to another region's insurer moves them all, ЕНП stays unique
across regions; on PostgreSQL the rows lie in their region's partitions and a verification reads only
those. tests/webapp/test_partitioning.py runs the migration itself on 1,000,000 persons."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from policy_codes import Verdict
from tests.helpers.registry import KEY_START, NOW, person_data, register
from tests.webapp.test_verification import skip_unless_postgresql
from webapp.db.partitions import PARTITIONED
from webapp.extensions import db
from webapp.models import EnpDirectory, Insurer, IssuedCode, Person, Policy, RevocationEvent
from webapp.registry import lifecycle, organisations, verification
from webapp.registry.verification import registry_read, verify_scan

ENP = str(person_data().enp)
JUNE = datetime(2026, 6, 1, tzinfo=NOW.tzinfo)


def regions_of(model: Any, *where: Any) -> set[str]:
    return set(db.session.scalars(select(model.region_code).where(*where)))


def partitions_of(table: str, person_id: int) -> set[str]:
    """The partitions a person's rows of `table` lie in (PostgreSQL's own word: tableoid)."""
    column = {"persons": "id", "revocation_events": "code_id"}.get(table, "person_id")
    rows = f"SELECT tableoid::regclass::text FROM {table} WHERE {column} "
    if table == "revocation_events":
        rows += "IN (SELECT id FROM issued_codes WHERE person_id = :person)"
    else:
        rows += "= :person"
    return set(db.session.scalars(text(rows), {"person": person_id}))


def test_every_row_of_a_person_carries_the_region_of_their_insurer(registry: Flask) -> None:
    code = register()
    lifecycle.reissue(ENP, "test", "потерян телефон", now=NOW)
    person = db.session.scalar(select(Person).where(Person.enp == ENP))
    assert person.region_code == "77"
    assert regions_of(Policy, Policy.person_id == person.id) == {"77"}
    assert regions_of(IssuedCode, IssuedCode.person_id == person.id) == {"77"}
    assert regions_of(RevocationEvent, RevocationEvent.code_id == code.id) == {"77"}
    assert db.session.get(EnpDirectory, ENP).region_code == "77"


def test_a_transfer_to_another_regions_insurer_moves_every_row_and_old_codes_still_read(registry: Flask) -> None:
    first = register(at=datetime(2026, 2, 1, tzinfo=NOW.tzinfo))
    organisations.create_insurer("50001", "Подмосковье-Мед", "test", "50", now=KEY_START)
    moved = lifecycle.change_insurer(ENP, "50001", date(2026, 6, 1), "test", exception="moved_region", now=JUNE)
    db.session.commit()
    person = db.session.scalar(select(Person).where(Person.enp == ENP))
    assert person.region_code == "50"
    assert regions_of(Policy, Policy.person_id == person.id) == {"50"}
    assert regions_of(IssuedCode, IssuedCode.person_id == person.id) == {"50"}
    assert regions_of(RevocationEvent, RevocationEvent.code_id == first.id) == {"50"}
    assert db.session.get(EnpDirectory, ENP).region_code == "50"
    if db.engine.dialect.name == "postgresql":
        for table in PARTITIONED[:4]:
            assert partitions_of(table, person.id) == {f"{table}_50"}
    # The old code names an insurer of region 77: its row is found in 50 through the directory.
    assert verify_scan(first.text, now=JUNE).verdict is Verdict.SUPERSEDED
    assert verify_scan(moved.text, now=JUNE).verdict is Verdict.VALID
    assert verify_scan(ENP, now=JUNE).verdict is Verdict.VALID


def test_enp_is_unique_across_regions(registry: Flask) -> None:
    register()
    organisations.create_insurer("50001", "Подмосковье-Мед", "test", "50", now=KEY_START)
    db.session.commit()
    insurer = db.session.scalar(select(Insurer).where(Insurer.code == "50001"))
    twin = Person(**person_data(surname="Двойник").columns(), insurer=insurer, region_code="50")
    db.session.add(twin)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalars(select(EnpDirectory.enp)).all() == [ENP]


def test_a_new_region_has_its_partitions(registry: Flask) -> None:
    skip_unless_postgresql("SQLite's tables are flat")
    organisations.create_region("01", "Республика Адыгея", "test")
    db.session.commit()
    for table in PARTITIONED:
        found = db.session.scalars(
            text("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = CAST(:table AS regclass)"),
            {"table": table},
        ).all()
        assert {f"{table}_01", f"{table}_77", f"{table}_50", f"{table}_default"} <= set(found)


def scanned_tables(statement: Any, params: dict[str, Any]) -> list[str]:
    """The tables and partitions the plan of `statement` reads, from EXPLAIN's JSON."""
    compiled = statement.params(**params).compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
    return relations(db.session.execute(text(f"EXPLAIN (FORMAT JSON) {compiled}")).scalar_one()[0]["Plan"])


def relations(plan: dict[str, Any]) -> list[str]:
    """The tables and partitions a plan (EXPLAIN's JSON) reads, by name."""
    found, stack = [], [plan]
    while stack:
        node = stack.pop()
        if "Relation Name" in node:
            found.append(node["Relation Name"])
        stack.extend(node.get("Plans", []))
    return sorted(found)


def test_the_verification_read_of_a_code_reads_its_regions_partitions_only(registry: Flask) -> None:
    skip_unless_postgresql("SQLite's tables are flat")
    code = register()
    organisations.create_insurer("50001", "Подмосковье-Мед", "test", "50", now=KEY_START)
    register(person_data("500000000000001"), insurer="50001")
    db.session.commit()
    region = verification._insurer_region("77001", db.session)
    assert region == "77"
    params = {"enp": ENP, "serial": code.serial, "signer": code.kid}
    assert scanned_tables(registry_read(region), params) == [
        "insurers",
        "issued_codes_77",
        "persons_77",
        "policies_77",
        "signing_keys",
    ]
    assert verify_scan(code.text, now=NOW).verdict is Verdict.VALID
