"""Migration 0014: issued codes keep their text hash without a unique index over it on PostgreSQL, down and up
again; SQLite keeps its constraint (the migration says why)."""

from __future__ import annotations

from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select

from tests.helpers.registry import register
from webapp.extensions import db
from webapp.models import IssuedCode
from webapp.registry import lifecycle


def _indexed_by_text_hash() -> bool:
    inspector = inspect(db.engine)
    unique = [constraint["column_names"] for constraint in inspector.get_unique_constraints("issued_codes")]
    indexes = [index["column_names"] for index in inspector.get_indexes("issued_codes")]
    return any("text_hash" in columns for columns in unique + indexes)


def test_migration_0014_drops_the_text_hash_index_and_keeps_the_codes(registry: Flask) -> None:
    code = register()
    lifecycle.reissue(code.person.enp, "test", "потерян")  # a revocation event, which a table rebuild would trip on
    code_id, text_hash = code.id, code.text_hash
    db.session.commit()
    on_postgresql = db.engine.dialect.name == "postgresql"
    assert _indexed_by_text_hash() is not on_postgresql
    downgrade(revision="0013")
    assert _indexed_by_text_hash()
    upgrade()
    assert _indexed_by_text_hash() is not on_postgresql
    assert db.session.scalar(select(IssuedCode.text_hash).where(IssuedCode.id == code_id)) == text_hash
