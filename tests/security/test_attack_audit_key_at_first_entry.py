"""Attack: a server started while its database did not answer checks its AUDIT_KEY at its first audit entry
(webapp/startup.py, 2026-12-06). Started with another key, every change is refused; on pages that expected no refusal
(an admin disabling a login, revoking a clinic's token) the refusal was an unhandled exception, a 500. Now each is the
service's «unavailable» page saying why, with nothing written."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.security.world import client_as
from webapp.extensions import db
from webapp.models import ApiToken, AuditEntry, User
from webapp.registry import accounts, audit


def _disable_the_clinic_login() -> tuple[str, Callable[[], bool]]:
    login = db.session.scalar(select(User.id).where(User.username == "clinic"))
    return f"/admin/users/{login}/active", lambda: bool(db.session.get(User, login).active)


def _revoke_a_token() -> tuple[str, Callable[[], bool]]:
    token_id = db.session.scalar(select(ApiToken.id).order_by(ApiToken.id.desc()).limit(1))
    return f"/admin/tokens/{token_id}/revoke", lambda: db.session.get(ApiToken, token_id).revoked_at is None


@pytest.mark.parametrize("change", [_disable_the_clinic_login, _revoke_a_token])
def test_a_change_under_another_audit_key_is_said_not_a_500(
    world: Flask, change: Callable[[], tuple[str, Callable[[], bool]]]
) -> None:
    admin = client_as(world, "admin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', admin.get("/admin/users").get_data(as_text=True))
    assert token
    with world.app_context():
        accounts.create_token("GP-001", "desk", "test")
        db.session.commit()
        path, unchanged = change()
        entries = db.session.scalar(select(func.count()).select_from(AuditEntry))
    world.config["AUDIT_KEY"] = "another-audit-key-" + "x" * 40
    world.extensions[audit.CHECKS_THE_KEY] = True  # as a server whose database did not answer at start
    response = admin.post(path, data={"csrf_token": token.group(1), "active": "0"})
    assert response.status_code == 503
    assert "AUDIT_KEY не тот, которым подписан журнал аудита" in response.get_data(as_text=True)
    with world.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == entries, "nothing written"
        assert unchanged()
