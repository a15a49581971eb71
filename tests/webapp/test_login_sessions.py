"""Sessions kept in the registry (webapp/registry/login_sessions.py): how long they last, what they cost a page
request, what the database holds of them, and migration 0006 up and down. The attacks are in
tests/security/test_attack_sessions.py."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import downgrade, upgrade
from sqlalchemy import event, inspect, select, text, update
from sqlalchemy.exc import IntegrityError

from tests.helpers.registry import make_app
from tests.webapp.databases import postgres_database
from tests.webapp.pages import logged_in
from webapp.db.engines import dispose_engines
from webapp.extensions import db
from webapp.models import LoginSession, User


def session_id(app: Flask, client: FlaskClient) -> str:
    """The session id a browser's cookie carries (the cookie is signed, not encrypted)."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    return app.session_interface.get_signing_serializer(app).loads(cookie.value)["sid"]  # type: ignore[attr-defined]


def records(app: Flask, username: str) -> list[LoginSession]:
    with app.app_context():
        found = list(db.session.scalars(select(LoginSession).join(User).where(User.username == username)))
        db.session.remove()
    return found


def age(app: Flask, username: str, *, started: timedelta, seen: timedelta) -> None:
    """Make the login's sessions look as if they started and were last seen that long ago."""
    now = datetime.now(UTC)
    with app.app_context():
        ids = select(User.id).where(User.username == username).scalar_subquery()
        db.session.execute(
            update(LoginSession).where(LoginSession.user_id == ids).values(started_at=now - started, seen_at=now - seen)
        )
        db.session.commit()


class Writes:
    """The statements that change `login_sessions`, as the database driver is given them."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, _connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        words = statement.split(None, 1)
        if words and words[0].upper() in {"INSERT", "UPDATE", "DELETE"} and "login_sessions" in statement:
            self.statements.append(words[0].upper())


@pytest.fixture
def writes(site: Flask) -> Iterator[Writes]:
    seen = Writes()
    with site.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    yield seen
    event.remove(engine, "before_cursor_execute", seen)


def test_a_page_request_writes_to_the_database_at_most_once_a_minute(site: Flask, writes: Writes) -> None:
    clinic = logged_in(site, "clinic")
    writes.statements.clear()
    for _ in range(5):
        assert clinic.get("/clinic/").status_code == 200
    assert writes.statements == [], "a busy desk costs a read a request, no write"
    age(site, "clinic", started=timedelta(minutes=5), seen=timedelta(minutes=2))
    writes.statements.clear()
    assert [clinic.get("/clinic/").status_code for _ in range(3)] == [200] * 3
    assert writes.statements == ["UPDATE"], "seen_at moves once"
    citizen = logged_in(site, "ivanova")
    age(site, "ivanova", started=timedelta(hours=1), seen=timedelta(hours=1))
    writes.statements.clear()
    assert citizen.get("/me/").status_code == 200
    assert writes.statements == [], "a citizen's session has no idle limit, so nothing to write"


def test_a_staff_session_lives_while_used_and_ends_when_idle(site: Flask) -> None:
    clinic = logged_in(site, "clinic")
    age(site, "clinic", started=timedelta(hours=2), seen=timedelta(minutes=29))
    assert clinic.get("/clinic/").status_code == 200
    (record,) = records(site, "clinic")
    assert datetime.now(UTC) - record.seen_at < timedelta(minutes=1), "the request counts as activity"
    age(site, "clinic", started=timedelta(hours=2), seen=timedelta(minutes=31))
    assert clinic.get("/clinic/").status_code == 302
    assert records(site, "clinic") == [], "an ended session's record goes"


def test_a_citizen_session_ends_eight_hours_after_login(site: Flask) -> None:
    citizen = logged_in(site, "ivanova")
    age(site, "ivanova", started=timedelta(hours=7, minutes=59), seen=timedelta(hours=7))
    assert citizen.get("/me/").status_code == 200
    age(site, "ivanova", started=timedelta(hours=8, minutes=1), seen=timedelta(seconds=1))
    assert citizen.get("/me/").status_code == 302


def test_expired_records_go_at_the_next_login(site: Flask) -> None:
    logged_in(site, "clinic")
    age(site, "clinic", started=timedelta(hours=9), seen=timedelta(hours=9))
    logged_in(site, "smo")
    assert records(site, "clinic") == []
    assert len(records(site, "smo")) == 1


def test_the_database_holds_a_hash_of_the_session_id_not_the_id(site: Flask) -> None:
    client = logged_in(site, "admin")
    sid = session_id(site, client)
    (record,) = records(site, "admin")
    assert record.token_hash == hashlib.sha256(sid.encode()).hexdigest()
    assert sid not in record.token_hash
    again = logged_in(site, "admin")
    assert session_id(site, again) != sid, "every login gets a new id"


def test_a_session_id_from_another_login_opens_nothing(site: Flask) -> None:
    """A cookie naming one login with another login's live session id (only a holder of SECRET_KEY
    could make one) is refused: the record says whose session it is."""
    admin, citizen = logged_in(site, "admin"), logged_in(site, "ivanova")
    serializer = site.session_interface.get_signing_serializer(site)  # type: ignore[attr-defined]
    cookie = serializer.loads(admin.get_cookie("session").value)  # type: ignore[union-attr]
    cookie["sid"] = session_id(site, citizen)
    forged = site.test_client()
    forged.set_cookie("session", serializer.dumps(cookie))
    assert forged.get("/admin/").status_code == 302


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    """An app on a database of its own, with no schema: migrations are run by the test."""
    if request.param == "sqlite":
        app = make_app(f"sqlite:///{tmp_path / 'migrations.sqlite'}")
        yield app
        with app.app_context():
            dispose_engines()
        return
    with postgres_database(f"oms_migrations_{os.getpid()}") as url:
        app = make_app(url)
        yield app
        with app.app_context():
            dispose_engines()


def add_user(username: str) -> None:
    db.session.execute(
        text(
            "INSERT INTO users (username, password_hash, role, active, created_at) "
            "VALUES (:username, 'x', 'admin', :active, :now)"
        ),
        {"username": username, "active": True, "now": datetime(2026, 1, 1)},
    )
    db.session.commit()


def test_migration_0006_goes_down_and_up_and_names_logins_that_differ_only_in_case(
    fresh_app: Flask, capsys: pytest.CaptureFixture[str]
) -> None:
    with fresh_app.app_context():
        upgrade()
        downgrade(revision="0005")
        assert "login_sessions" not in inspect(db.engine).get_table_names()
        add_user("Anna")
        add_user("anna")
        with pytest.raises(SystemExit):  # `flask db upgrade` prints the error and exits 1
            upgrade()
        said = capsys.readouterr().err  # alembic's logging configuration writes to stderr
        assert "различаются только регистром букв" in said
        assert "(anna)" in said
        assert "login_sessions" not in inspect(db.engine).get_table_names(), "nothing half-done"
        db.session.execute(text("DELETE FROM users WHERE username = 'Anna'"))
        db.session.commit()
        upgrade()
        assert "login_sessions" in inspect(db.engine).get_table_names()
        with pytest.raises(IntegrityError):
            add_user("ANNA")
        db.session.rollback()
