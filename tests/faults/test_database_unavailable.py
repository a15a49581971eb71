"""The database fails mid-request: a clear 503 (a Russian page, or JSON under /api/), nothing half-written,
and a retried transaction never applies a change twice."""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from werkzeug.test import TestResponse

from tests.faults.proxy import Proxy
from tests.faults.registry import INSURER_LOGIN, Registry, audited_reissues, prepare, problems, serials
from tests.faults.server import PASSWORD
from tests.helpers.logs import everything_logged
from tests.helpers.registry import make_app
from tests.webapp.databases import PG_ADMIN
from webapp.db.engines import dispose_engines
from webapp.extensions import db

ORIGINAL = [(1, "current")]
REISSUED = [(1, "superseded"), (2, "current")]


def logged_in(app: Flask) -> FlaskClient:
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    client.post("/login", data={"username": INSURER_LOGIN, "password": PASSWORD, "csrf_token": csrf(client, "/login")})
    return client


def csrf(client: FlaskClient, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert match
    return match.group(1)


def reissue(client: FlaskClient, enp: str, reason: str) -> TestResponse:
    token = csrf(client, f"/insurer/person/{enp}")
    form = {"reason": "other", "details": reason, "csrf_token": token}
    return client.post(f"/insurer/person/{enp}/reissue", data=form)


def assert_unavailable_page(response: TestResponse) -> None:
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert "Сервис временно недоступен" in page
    assert "Traceback" not in page
    assert "sqlalchemy" not in page.lower()


def assert_unavailable_json(response: TestResponse) -> None:
    assert response.status_code == 503
    assert response.get_json() == {"error": 503, "message": "Сервис временно недоступен"}


def short_busy_timeout(app: Flask, milliseconds: int = 100) -> None:
    """The app waits 10 s for a SQLite lock on each of 5 attempts; a test cannot wait 50 s for the 503."""
    with app.app_context():
        engine = db.engine
        event.listen(
            engine, "connect", lambda connection, _: connection.execute(f"PRAGMA busy_timeout = {milliseconds}")
        )
        engine.dispose()


def test_sqlite_locked_by_another_writer(sqlite_url: str) -> None:
    registry = prepare(sqlite_url, people=1)
    enp = registry.enps[0]
    short_busy_timeout(registry.app)
    client = logged_in(registry.app)
    blocker = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock past the busy timeout
    try:
        assert_unavailable_page(reissue(client, enp, "телефон утерян"))
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert serials(registry.app, enp) == ORIGINAL
    assert not audited_reissues(registry.app)
    assert reissue(client, enp, "телефон утерян").status_code == 302, "the lock gone, the same request works"
    assert serials(registry.app, enp) == REISSUED
    assert problems(registry.app) == []


def test_unreadable_sqlite_database(tmp_path: Path) -> None:
    path = tmp_path / "oms.sqlite"
    path.write_bytes(b"not a database, but a file someone overwrote" * 100)
    app = make_app(f"sqlite:///{path}")
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    assert_unavailable_json(client.post("/api/v1/verify", json={"code": "1"}, headers={"Authorization": "Bearer x"}))
    assert_unavailable_json(client.get("/api/v1/revocations"))
    login = client.post("/login", data={"username": "smo", "password": PASSWORD, "csrf_token": csrf(client, "/login")})
    assert_unavailable_page(login)
    english = client.get("/api/v1/revocations", headers={"Accept-Language": "en"})
    assert english.status_code == 503
    assert english.get_json()["message"] == "Service temporarily unavailable"


def in_thread(call: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    answer: list[Any] = []
    thread = threading.Thread(target=lambda: answer.append(call()))
    thread.start()
    return thread, answer


def lock_waiters(admin: psycopg.Connection[Any], database: str) -> list[int]:
    """Backends of the app waiting on a lock in the test's database."""
    rows = admin.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'", (database,)
    ).fetchall()
    return [pid for (pid,) in rows]


def kill_waiters(admin: psycopg.Connection[Any], database: str, thread: threading.Thread, times: int) -> int:
    """pg_terminate_backend on the app's connection each time it waits, up to `times` times."""
    killed = 0
    deadline = time.monotonic() + 30
    while killed < times and thread.is_alive() and time.monotonic() < deadline:
        for pid in lock_waiters(admin, database):
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            killed += 1
        time.sleep(0.02)
    return killed


@pytest.fixture
def postgres(postgresql_url: str) -> Iterator[tuple[Registry, psycopg.Connection[Any], psycopg.Connection[Any]]]:
    """The registry, an admin connection to kill backends with, and a connection holding person 1's row lock."""
    registry = prepare(postgresql_url, people=1)
    database = postgresql_url.rsplit("/", 1)[1]
    with (
        psycopg.connect(PG_ADMIN, autocommit=True) as admin,
        psycopg.connect(PG_ADMIN.replace("dbname=postgres", f"dbname={database}")) as blocker,
    ):
        blocker.execute("SELECT id FROM persons WHERE enp = %s FOR UPDATE", (registry.enps[0],))
        yield registry, admin, blocker


def test_postgres_connection_killed_mid_reissue_is_retried_once(postgres: Any) -> None:
    registry, admin, blocker = postgres
    enp, database = registry.enps[0], registry.app.config["SQLALCHEMY_DATABASE_URI"].rsplit("/", 1)[1]
    client = logged_in(registry.app)
    thread, answer = in_thread(lambda: reissue(client, enp, "killed once"))
    assert kill_waiters(admin, database, thread, times=1) == 1
    blocker.rollback()  # the lock goes; the retry goes through
    thread.join(30)
    assert answer[0].status_code == 302
    assert serials(registry.app, enp) == REISSUED
    assert audited_reissues(registry.app) == {"killed once": 1}
    assert problems(registry.app) == []


def test_postgres_connection_killed_on_every_attempt(postgres: Any) -> None:
    registry, admin, blocker = postgres
    enp, database = registry.enps[0], registry.app.config["SQLALCHEMY_DATABASE_URI"].rsplit("/", 1)[1]
    client = logged_in(registry.app)
    thread, answer = in_thread(lambda: reissue(client, enp, "killed always"))
    kill_waiters(admin, database, thread, times=100)
    thread.join(30)
    assert_unavailable_page(answer[0])
    blocker.rollback()
    assert serials(registry.app, enp) == ORIGINAL
    assert not audited_reissues(registry.app)
    assert problems(registry.app) == []


def verify_while_tokens_are_locked(postgres: Any, kills: int) -> Any:
    """A verification whose token look-up waits on a lock, its connection killed `kills` times; its answer."""
    registry, admin, blocker = postgres
    database = registry.app.config["SQLALCHEMY_DATABASE_URI"].rsplit("/", 1)[1]
    blocker.execute("LOCK TABLE api_tokens IN ACCESS EXCLUSIVE MODE")  # the token look-up waits...
    client = registry.app.test_client()
    headers = {"Authorization": f"Bearer {registry.token}"}
    thread, answer = in_thread(lambda: client.post("/api/v1/verify", json={"code": registry.enps[0]}, headers=headers))
    assert kill_waiters(admin, database, thread, times=kills) == kills  # ...and its connection is killed
    blocker.rollback()
    thread.join(30)
    assert client.post("/api/v1/verify", json={"code": registry.enps[0]}, headers=headers).status_code == 200
    return answer[0]


def test_postgres_api_read_killed_once_is_read_again(postgres: Any) -> None:
    """A read changes nothing, so a dropped connection costs one more try, not an error at the desk."""
    answer = verify_while_tokens_are_locked(postgres, kills=1)
    assert answer.status_code == 200
    assert answer.get_json()["verdict"] == "valid"


def test_postgres_api_read_killed_twice_is_503(postgres: Any) -> None:
    assert_unavailable_json(verify_while_tokens_are_locked(postgres, kills=2))


def test_postgres_connection_lost_after_commit_is_not_applied_twice(postgresql_url: str) -> None:
    """The server committed the reissue, the app never heard: running it again would reissue twice."""
    with Proxy() as proxy:
        registry = prepare(postgresql_url, people=1)
        app = make_app(proxy.url(postgresql_url))
        enp = registry.enps[0]
        client = logged_in(app)
        token = csrf(client, f"/insurer/person/{enp}")
        proxy.cut_after_commit.set()
        form = {"reason": "other", "details": "ответ потерян", "csrf_token": token}
        answer = client.post(f"/insurer/person/{enp}/reissue", data=form)
        assert proxy.cuts == 1
        assert serials(registry.app, enp) == REISSUED, "the commit happened once, and only once"
        assert audited_reissues(registry.app) == {"ответ потерян": 1}
        assert_unavailable_page(answer)
        assert problems(registry.app) == []
        with app.app_context():
            dispose_engines()


def test_a_logged_in_request_with_the_whole_database_gone(database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """The 503 page is drawn for nobody: Flask-Login's template context loads the user, and loading the user is
    what failed. It drew a second failure (a bare 500) and logged it whole, the statement's values with it."""
    with Proxy() as proxy:
        registry = prepare(database_url, people=1)
        on_postgresql = database_url.startswith("postgresql")
        app = make_app(proxy.url(database_url)) if on_postgresql else registry.app
        client = logged_in(app)
        enp = registry.enps[0]
        token = csrf(client, f"/insurer/person/{enp}")
        if on_postgresql:
            proxy.close()
        else:
            sqlite_file = Path(database_url.removeprefix("sqlite:///"))
            sqlite_file.rename(sqlite_file.with_suffix(".gone"))
            with app.app_context():
                dispose_engines()
        with everything_logged(caplog):
            assert_unavailable_page(client.get(f"/insurer/person/{enp}"))
            form = {"reason": "other", "details": "телефон утерян", "csrf_token": token}
            assert_unavailable_page(client.post(f"/insurer/person/{enp}/reissue", data=form))
            stale = client.post(f"/insurer/person/{enp}/reissue", data={**form, "csrf_token": "stale"})
            assert stale.status_code in (400, 503), "a stale form is said so, or the database's failure"
            assert "Traceback" not in stale.get_data(as_text=True)
            headers = {"Authorization": f"Bearer {registry.token}"}
            assert_unavailable_json(client.post("/api/v1/verify", json={"code": enp}, headers=headers))
        logged = "\n".join(logging.Formatter().format(record) for record in caplog.records)
        assert "database unavailable" in logged
        assert "Traceback" not in logged, "the failure named by its class, not told whole"
        assert "parameters" not in logged
        with app.app_context():
            dispose_engines()
