"""The hash-chained audit log: tampering with one row is detected by `audit verify`.

tests/security/test_attack_audit.py holds the attacks that also recompute the hashes."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select, text

from tests.helpers.registry import NOW, person_data, register
from webapp.extensions import db
from webapp.models import AuditEntry
from webapp.registry import lifecycle

ENP = str(person_data().enp)


def history() -> None:
    register()
    lifecycle.reissue(ENP, "smo:anna", "потерян телефон", now=NOW)
    lifecycle.revoke(ENP, "smo:anna", "украден", now=NOW)


def verify(app: Flask) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    return result.exit_code, result.output


def test_every_change_records_who_when_what_and_why(registry: Flask) -> None:
    history()
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.entity_key == ENP).order_by(AuditEntry.id)).all()
    assert [(e.actor, e.action, e.reason) for e in entries][-2:] == [
        ("smo:anna", "reissue", "потерян телефон"),
        ("smo:anna", "revoke", "украден"),
    ]
    assert all(entry.at == NOW for entry in entries)
    code, output = verify(registry)
    assert code == 0
    assert output.startswith("Журнал цел: записей ")


def test_an_edited_entry_is_detected(registry: Flask) -> None:
    history()
    target = db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "reissue"))
    db.session.execute(text("UPDATE audit_log SET reason = 'по просьбе' WHERE id = :id"), {"id": target})
    db.session.commit()
    code, output = verify(registry)
    assert code == 1
    assert f"запись {target}: содержимое изменено" in output


def test_a_deleted_entry_is_detected(registry: Flask) -> None:
    history()
    target = db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "reissue"))
    db.session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": target})
    db.session.commit()
    code, output = verify(registry)
    assert code == 1
    assert "цепочка разорвана" in output


def test_an_edited_hash_is_detected(registry: Flask) -> None:
    history()
    target = db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "revoke"))
    db.session.execute(text("UPDATE audit_log SET actor = 'someone' WHERE id = :id"), {"id": target})
    db.session.commit()
    assert verify(registry)[0] == 1
