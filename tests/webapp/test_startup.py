"""A server (the app factory as gunicorn calls it, `webapp:create_app()`) refuses to start on a database it must
not serve: one behind its migrations, one whose audit log is keyed under another AUDIT_KEY. One it cannot reach it
serves, checking the key at its first audit entry."""

from __future__ import annotations

import subprocess

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import func, select

from tests.faults.proxy import Proxy
from tests.faults.server import GUNICORN, ROOT, app_environment, free_port
from tests.helpers.registry import make_app
from webapp import create_app, startup
from webapp.db.engines import dispose_engines
from webapp.extensions import db
from webapp.models import AuditEntry
from webapp.registry import audit, schema

OTHER_KEY = "another-audit-key-Zq8wE1tLx3Bv7Nh2Ry5M"


def as_a_server(monkeypatch: pytest.MonkeyPatch, database_url: str, **settings: str) -> None:
    """The environment a server starts in, on `database_url`; not under `flask` (whose commands check for
    themselves)."""
    for name in ("DATABASE_URL", "SECRET_KEY", "SIGNING_KEY_PASSPHRASE", "AUDIT_KEY", "AUDIT_CHECKPOINT"):
        monkeypatch.setenv(name, {**app_environment(database_url), **settings}[name])
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)


def test_a_server_under_another_audit_key_does_not_start(
    registry: Flask, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A web server started with another AUDIT_KEY wrote entries that never verify: only commands checked."""
    db.session.commit()
    assert db.session.scalar(select(func.count(AuditEntry.id)))
    as_a_server(monkeypatch, database_url, AUDIT_KEY=OTHER_KEY)
    with pytest.raises(SystemExit) as refused:
        create_app()
    assert str(refused.value) == f"Ошибка: {startup.OTHER_AUDIT_KEY}"
    as_a_server(monkeypatch, database_url)
    assert isinstance(create_app(), Flask)


def test_a_server_counting_its_limits_in_memory_warns_that_each_worker_counts_alone(
    registry: Flask, database_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """memory:// limits are per process: under gunicorn's N workers an address got N times each limit, unsaid."""
    db.session.commit()
    as_a_server(monkeypatch, database_url)
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    create_app()
    assert "RATELIMIT_STORAGE_URI is memory://" in caplog.text
    caplog.clear()
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0")
    create_app()
    assert "RATELIMIT_STORAGE_URI" not in caplog.text


def test_a_server_on_a_database_behind_its_migrations_does_not_start(
    older_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_a_server(monkeypatch, older_app.config["SQLALCHEMY_DATABASE_URI"])
    with pytest.raises(SystemExit) as refused:
        create_app()
    assert str(refused.value) == f"Ошибка: {schema.BEHIND}"


def test_a_server_started_while_its_database_is_down_serves_and_checks_the_key_at_its_first_entry(
    postgresql_url: str, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """Refusing to start while the database is down left no worker to answer (a respawn, a graceful restart) where
    the replicas could serve; started, the server checks its AUDIT_KEY at its first entry, and writes none under
    another."""
    app = make_app(postgresql_url)
    with app.app_context():
        upgrade()
        audit.record("test", "test", "test", "1")  # the log holds an entry under the key the others use
        db.session.commit()
        written = db.session.scalar(select(func.count(AuditEntry.id)))
        db.session.remove()
    down = Proxy()
    url = down.url(postgresql_url)
    down.close()
    as_a_server(monkeypatch, url, AUDIT_KEY=OTHER_KEY)
    server = create_app()
    assert "did not answer at start" in capfd.readouterr().err  # the app's own log, on stderr
    with Proxy(port=down.port), server.app_context():
        with pytest.raises(audit.OtherAuditKey) as refused:
            audit.record("smo:staff", "renew", "policy", "7700000000000016")
        assert str(refused.value) == audit.OTHER_KEY
        db.session.rollback()
        assert db.session.scalar(select(func.count(AuditEntry.id))) == written
        db.session.remove()
        dispose_engines()


def test_gunicorn_under_another_audit_key_exits_saying_why(registry: Flask, database_url: str) -> None:
    db.session.commit()
    environment = {**app_environment(database_url), "AUDIT_KEY": OTHER_KEY}
    environment.pop("FLASK_RUN_FROM_CLI", None)
    done = subprocess.run(
        [str(GUNICORN), "--preload", "--bind", f"127.0.0.1:{free_port()}", "webapp:create_app()"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert f"Ошибка: {startup.OTHER_AUDIT_KEY}" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_server_says_why_it_does_not_start_in_english_when_the_locale_is(
    older_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_a_server(monkeypatch, older_app.config["SQLALCHEMY_DATABASE_URI"])
    monkeypatch.setenv("LANGUAGE", "en_GB:en")
    with pytest.raises(SystemExit) as refused:
        create_app()
    assert (
        str(refused.value) == "Error: The database is not created or not upgraded: run `flask --app webapp db upgrade`"
    )
