"""Migration 0022: a clinic's checks keep their verdict's cause, down and up again on a database with checks; those
kept before it read as they did, and on PostgreSQL every region's partition of the checks has the column."""

from __future__ import annotations

from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text

from policy_codes.verdicts import Cause
from tests.helpers.registry import NOW, register
from tests.webapp.test_data_changes import change
from webapp.extensions import db
from webapp.models import Clinic, ClinicCheck
from webapp.registry import clinic_checks
from webapp.registry.verification import verify_scan
from webapp.web.labels import verdict_label


def _has_cause(table: str) -> bool:
    return "cause" in {column["name"] for column in inspect(db.engine).get_columns(table)}


def _partitions() -> list[str]:
    """The partitions of clinic_checks on PostgreSQL (none on SQLite, whose table is flat)."""
    if db.engine.dialect.name != "postgresql":
        return []
    return list(
        db.session.scalars(
            text(
                "SELECT c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'clinic_checks'::regclass ORDER BY 1"
            )
        )
    )


def _history(clinic_id: int) -> list[tuple[str, str]]:
    """The clinic's checks, newest first: the verdict kept, and the words the history shows for it."""
    checks = clinic_checks.history(clinic_id, 10)
    return [(check.verdict, verdict_label(check.verdict, check.shown, "ru", check.cause)) for check in checks]


def test_migration_0022_keeps_the_checks_and_the_old_ones_read_as_before(registry: Flask) -> None:
    superseded = register().text
    new = change()
    assert new is not None
    clinic_id = db.session.scalar(select(Clinic.id).where(Clinic.code == "GP-001"))
    for scanned in (superseded, new.text):
        clinic_checks.record_check(clinic_id, verify_scan(scanned, now=NOW))
    db.session.commit()
    assert db.session.scalars(select(ClinicCheck.cause).order_by(ClinicCheck.id)).all() == [Cause.DATA_CHANGED, ""]
    assert _history(clinic_id) == [("valid", "Действителен"), ("superseded", "Данные изменились")]
    db.session.remove()
    downgrade(revision="0021")
    assert not _has_cause("clinic_checks")
    upgrade()
    assert all(_has_cause(table) for table in ["clinic_checks", *_partitions()])
    assert "clinic_checks_77" in _partitions() or db.engine.dialect.name == "sqlite"
    # Kept before the cause was: whether its holder's data had changed cannot be told, so it reads as it did.
    assert _history(clinic_id) == [("valid", "Действителен"), ("superseded", "Код заменён")]
    clinic_checks.record_check(clinic_id, verify_scan(superseded, now=NOW))
    db.session.commit()
    assert _history(clinic_id)[0] == ("superseded", "Данные изменились")
