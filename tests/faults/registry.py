"""A small registry to break things on, and what must still hold once they are broken."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import select

from tests.faults.server import PASSWORD
from tests.helpers.registry import make_app, person_data, seed_registry
from tests.webapp.databases import wipe
from webapp.db.engines import dispose_engines
from webapp.extensions import db
from webapp.models import AuditEntry, CodeStatus, IssuedCode, Person, Role
from webapp.registry import accounts, audit, lifecycle, people

INSURER_LOGIN = "smo"


@dataclass(frozen=True)
class Registry:
    """What a test needs to drive the app: the insured's numbers and a clinic's API token."""

    app: Flask
    enps: list[str]
    token: str


def prepare(database_url: str, people: int = 4) -> Registry:
    """Schema, two insurers with keys, `people` insured of 77001 with a first code, an insurer login, a token."""
    app = make_app(database_url)
    with app.app_context():
        upgrade()
        wipe()
        seed_registry()
        now = datetime.now(UTC)
        enps = [
            lifecycle.register_person(person_data(f"77000000000{i:04d}"), "77001", "test", now=now).person.enp
            for i in range(1, people + 1)
        ]
        accounts.create_user(INSURER_LOGIN, PASSWORD, Role.INSURER, "test", insurer_code="77001")
        _, token = accounts.create_token("GP-001", "faults", "test")
        db.session.remove()
        dispose_engines()  # no pooled connection stays open to the database the test then breaks
    return Registry(app, enps, token)


def problems(app: Flask) -> list[str]:
    """Every broken registry invariant: serials 1..n per person, exactly one current code, a whole audit chain."""
    found: list[str] = []
    with app.app_context():
        for person in db.session.scalars(select(Person)):
            codes = db.session.scalars(select(IssuedCode).where(IssuedCode.person_id == person.id)).all()
            serials = sorted(code.serial for code in codes)
            if serials != list(range(1, len(serials) + 1)):
                found.append(f"{person.enp}: serials {serials}")
            current = [code.serial for code in codes if code.status == CodeStatus.CURRENT]
            if len(current) != 1 or current[0] != max(serials):
                found.append(f"{person.enp}: current {current} of {serials}")
            reissues = reissue_reasons(person.enp)
            if len(reissues) != len(serials) - 1:
                found.append(f"{person.enp}: {len(reissues)} reissues audited, {len(serials)} codes")
        found.extend(audit.problems())
        db.session.remove()
    return found


def reissue_reasons(enp: str | None = None) -> list[str]:
    """The reason of every audited reissue (of one person, or of all), in order."""
    query = select(AuditEntry.reason).where(AuditEntry.action == "reissue").order_by(AuditEntry.id)
    if enp is not None:
        query = query.where(AuditEntry.entity_key == enp)
    return list(db.session.scalars(query))


def audited_reissues(app: Flask) -> Counter[str]:
    with app.app_context():
        counts = Counter(reissue_reasons())
        db.session.remove()
    return counts


def serials(app: Flask, enp: str) -> list[tuple[int, str]]:
    """(serial, status) of a person's codes."""
    with app.app_context():
        person = people.person_by_enp(enp)
        rows = db.session.execute(
            select(IssuedCode.serial, IssuedCode.status).where(IssuedCode.person_id == person.id).order_by("serial")
        ).all()
        db.session.remove()
    return [(serial, str(status)) for serial, status in rows]


def current_text(app: Flask, enp: str) -> str:
    with app.app_context():
        code = people.current_code(people.person_by_enp(enp))
        assert code is not None
        text = code.text
        db.session.remove()
    return text


def snapshot(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order: two equal snapshots are the same registry."""
    with app.app_context():
        tables = {
            table.name: [
                tuple(row) for row in db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
            ]
            for table in db.metadata.sorted_tables
        }
        db.session.remove()
    return tables
