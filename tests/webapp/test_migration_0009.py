"""Migration 0009: the audit log's entity key holds an 80-character login; back to 50 only if none is longer."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import delete, func, select

from webapp.extensions import db
from webapp.models import AuditEntry, Role
from webapp.registry import accounts

LONGEST = "a" * 80


def test_migration_0009_goes_down_and_up_and_never_cuts_an_entry(
    registry: Flask, capsys: pytest.CaptureFixture[str]
) -> None:
    accounts.create_user(LONGEST, "long-enough-pass", Role.ADMIN, "test")
    assert db.session.scalar(select(AuditEntry.entity_key).where(AuditEntry.action == "create_user")) == LONGEST
    db.session.remove()
    with pytest.raises(SystemExit):  # `flask db downgrade` prints the error and exits 1
        downgrade(revision="0008")
    assert "an entry names a key of 80" in capsys.readouterr().err
    assert db.session.scalar(select(func.max(func.length(AuditEntry.entity_key)))) == 80, "nothing cut"
    db.session.execute(delete(AuditEntry).where(func.length(AuditEntry.entity_key) > 50))
    db.session.commit()
    downgrade(revision="0008")
    upgrade()
    accounts.create_user("b" * 80, "long-enough-pass", Role.ADMIN, "test")
