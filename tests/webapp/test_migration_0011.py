"""Migration 0011: person data changes. Codes issued before it get no cause; down and up again keeps them."""

from __future__ import annotations

from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text

from tests.helpers.registry import register
from webapp.extensions import db
from webapp.models import IssuedCode, StatusCause

TABLES = {"person_data_changes", "former_names", "data_change_requests"}


def test_migration_0011_goes_down_and_up_and_codes_before_it_have_no_cause(registry: Flask) -> None:
    code_id = register().id
    db.session.remove()
    downgrade(revision="0010")
    assert not TABLES & set(inspect(db.engine).get_table_names())
    assert "status_cause" not in {column["name"] for column in inspect(db.engine).get_columns("issued_codes")}
    db.session.execute(text("UPDATE issued_codes SET status = 'superseded' WHERE id = :id"), {"id": code_id})
    db.session.commit()
    upgrade()
    assert set(inspect(db.engine).get_table_names()) >= TABLES
    assert db.session.scalar(select(IssuedCode.status_cause).where(IssuedCode.id == code_id)) == StatusCause.NONE
