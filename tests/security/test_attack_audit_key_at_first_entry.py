"""Attack: a server started while its database did not answer checks its AUDIT_KEY at its first audit entry
(webapp/startup.py, 2026-12-06). Started with another key, every change is refused; on pages that expected no refusal
(an admin disabling a login, revoking a clinic's token) the refusal was an unhandled exception, a 500. Now each is the
service's «unavailable» page saying why, with nothing written.

Pages that catch a refusal to show it beside their form (a citizen's request, an insurer's action or import) showed
the operator's words as they were, AUDIT_KEY and a command to run, to a citizen or an insurer (2026-12-06). Now they
read plain words, in their language; only the admin reads why."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.security.world import MOTHER, client_as
from tests.webapp.pages import csrf, upload
from webapp.extensions import db
from webapp.models import ApiToken, AuditEntry, Job, User
from webapp.registry import accounts, audit, bulk_import


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


def _under_another_key(app: Flask) -> int:
    """Give `app` another AUDIT_KEY, as a server whose database did not answer at start; the log's entries."""
    app.config["AUDIT_KEY"] = "another-audit-key-" + "x" * 40
    app.extensions[audit.CHECKS_THE_KEY] = True
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEntry))


SUSPEND = f"/insurer/person/{MOTHER.enp}/suspend"
#: A citizen's and an insurer's changes whose pages catch a refusal: (role, page with the form, path, form).
CHANGES = [
    ("citizen", "/me/", "/me/reissue-request", {"reason": "lost_phone"}),
    ("insurer", SUSPEND, SUSPEND, {"reason": "conscripted"}),
]


@pytest.mark.parametrize(("role", "page", "path", "form"), CHANGES, ids=[change[0] for change in CHANGES])
@pytest.mark.parametrize("language", ["ru", "en"])
def test_a_citizen_or_an_insurer_reads_plain_words_not_the_operators(
    world: Flask, role: str, page: str, path: str, form: dict[str, str], language: str
) -> None:
    client = client_as(world, role)
    token = csrf(client, page)
    if language == "en":
        client.post("/language", data={"csrf_token": token, "language": "en"})
    entries = _under_another_key(world)
    response = client.post(path, data={"csrf_token": token, **form})
    text = response.get_data(as_text=True)
    assert response.status_code == 503
    plain = (
        "The service cannot save changes right now"
        if language == "en"
        else "Сервис сейчас не может сохранять изменения, ничего не записано"
    )
    assert plain in text
    assert "AUDIT_KEY" not in text
    assert "audit verify" not in text
    with world.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == entries, "nothing written"


@pytest.mark.parametrize("as_a_job", [False, True], ids=["now", "job"])
def test_an_insurers_import_reads_plain_words_not_each_line_refused_with_the_operators(
    world: Flask, as_a_job: bool
) -> None:
    """An import's lines each catch a refusal for the report: every changed line read the operator's words. A job
    (here, with no queue, run in the request) kept them as its failure, which its page shows."""
    if as_a_job:
        world.config["IMPORT_JOB_THRESHOLD"] = 1
    with world.app_context():
        exported = io.StringIO()
        bulk_import.export_csv(exported)
    changed = exported.getvalue().replace("ПЕТРОВНА", "ПАВЛОВНА").encode("utf-8")
    insurer = client_as(world, "insurer")
    entries = _under_another_key(world)
    response = upload(insurer, changed)
    text = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Сервис сейчас не может сохранять изменения, ничего не записано" in text
    assert "AUDIT_KEY" not in text
    with world.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == entries, "nothing written"
    with world.app_context():
        jobs = db.session.scalars(select(Job)).all()
        assert [job.failure for job in jobs] == ([audit.NOT_SAVED] if as_a_job else [])
