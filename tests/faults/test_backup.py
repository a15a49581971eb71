"""`flask backup create` while the app serves reissues, then changes, then `flask backup restore`:
the registry is back at the backup point, whole and with a verified audit chain."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import select

from tests.faults.load import Load
from tests.faults.registry import INSURER_LOGIN, audited_reissues, prepare, problems, snapshot
from tests.faults.server import Server
from tests.helpers.registry import make_app
from tests.webapp.databases import require_postgres
from webapp.db.engines import dispose_engines
from webapp.extensions import db
from webapp.models import AuditEntry


def invoke(app: Flask, *arguments: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=list(arguments))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def audit_log(app: Flask) -> list[tuple[int, str]]:
    with app.app_context():
        entries = db.session.execute(select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id)).all()
        db.session.remove()
    return [(entry_id, digest) for entry_id, digest in entries]


def dispose(app: Flask) -> None:
    """The test's own pooled connections go: a restore replaces tables under them."""
    with app.app_context():
        dispose_engines()


def restored_as(app: Flask) -> dict[str, list[tuple[object, ...]]]:
    """The registry as a restore leaves it: every row as the backup has it but the key changes' count, which the
    restore moves on well past the replaced database's and the backup's (webapp/ops/backup.py)."""
    rows = snapshot(app)
    del rows["key_changes"]
    return rows


def test_backup_while_serving_then_restore(database_url: str, tmp_path: Path) -> None:
    registry = prepare(database_url, people=4)
    backup = tmp_path / "registry.backup"
    server = Server(database_url).start()
    try:
        insurer = server.login(INSURER_LOGIN)
        with Load(insurer, registry.enps, drivers=3) as load:
            load.wait_for(6)
            backup_started = time.monotonic()
            made = invoke(registry.app, "backup", "create", str(backup))  # while gunicorn serves
            backup_done = time.monotonic()
            load.wait_for(6)
        assert made == (0, f"Копия базы сохранена: {backup}\n")
        form = {"reason": "other", "details": "после копии"}
        revoked = insurer.post(f"/insurer/person/{registry.enps[0]}/revoke", form)
        assert revoked.status_code == 302
    finally:
        server.stop()
    assert {sent.status for sent in load.log} == {302}
    before_restore = snapshot(registry.app)
    log_before_restore = audit_log(registry.app)

    dispose(registry.app)
    refused = invoke(registry.app, "backup", "restore", str(backup))
    assert refused[0] == 1
    assert "База не пуста" in refused[1]
    assert snapshot(registry.app) == before_restore, "a refused restore touches nothing"
    dispose(registry.app)

    restored = invoke(registry.app, "backup", "restore", "--force", str(backup))
    assert restored[0] == 0
    assert restored[1].startswith(f"База восстановлена из {backup}\nКонтрольная точка журнала аудита перенесена")
    (counted_before,), (counted_after,) = (
        [count for _, count in rows["key_changes"]] for rows in (before_restore, snapshot(registry.app))
    )
    assert counted_after > counted_before + 100, "the key changes' count is moved on, never wound back"
    verified = invoke(registry.app, "audit", "verify")
    assert verified[0] == 0
    assert verified[1].startswith("Журнал цел"), "the restored log, checked against its re-anchored checkpoint"
    assert problems(registry.app) == []

    log = audit_log(registry.app)
    assert log == log_before_restore[: len(log)], "the audit log is as it was at one moment"
    assert len(log) < len(log_before_restore)
    audited = audited_reissues(registry.app)
    assert all(audited[sent.reason] == 1 for sent in load.log if sent.answered_at < backup_started)
    assert not any(audited[sent.reason] for sent in load.log if sent.sent_at > backup_done)
    assert not [row for row in snapshot(registry.app)["audit_log"] if "после копии" in row], "nor the revocation"
    if database_url.startswith("sqlite"):
        assert restored_as(registry.app) == restored_as(make_app(f"sqlite:///{backup}")), "the backup, row for row"


@pytest.mark.parametrize("command", ["create", "restore"])
def test_help(sqlite_url: str, command: str) -> None:
    code, output = invoke(make_app(sqlite_url), "backup", command, "--help")
    assert code == 0
    assert "Usage" in output


def test_sqlite_refusals_and_a_restore_into_an_empty_database(sqlite_url: str, tmp_path: Path) -> None:
    registry = prepare(sqlite_url, people=1)
    backup = tmp_path / "copy.sqlite"
    assert invoke(registry.app, "backup", "create", str(backup))[0] == 0
    assert invoke(registry.app, "backup", "create", str(backup)) == (
        1,
        f"Error: Файл {backup} уже есть: выберите другое имя\n",
    )
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"SQLite format 3\x00 but not really" * 64)
    code, output = invoke(registry.app, "backup", "restore", "--force", str(junk))
    assert code == 1
    assert f"{junk} не копия базы SQLite" in output
    assert invoke(registry.app, "backup", "restore", str(tmp_path / "absent"))[0] == 2

    empty = make_app(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    with empty.app_context():
        upgrade()  # a migrated database with no rows: nothing to lose, no --force needed
    code, output = invoke(empty, "backup", "restore", str(backup))
    assert code == 0
    assert output.startswith(f"База восстановлена из {backup}\n")
    assert restored_as(empty) == restored_as(registry.app)


def test_missing_postgres_tools(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    app = make_app("postgresql+psycopg://postgres@127.0.0.1:5432/oms")  # never reached: the tool is missing first
    monkeypatch.setenv("PATH", str(tmp_path))
    code, output = invoke(app, "backup", "create", str(tmp_path / "oms.dump"))
    assert code == 1
    assert "pg_dump не найден" in output
    (tmp_path / "oms.dump").write_bytes(b"PGDMP")
    code, output = invoke(app, "backup", "restore", "--force", str(tmp_path / "oms.dump"))
    assert code == 1
    assert "pg_restore не найден" in output


def test_pg_dump_failure_leaves_no_file(tmp_path: Path) -> None:
    require_postgres()
    app = make_app("postgresql+psycopg://postgres@127.0.0.1:5432/oms_no_such_database")
    code, output = invoke(app, "backup", "create", str(tmp_path / "oms.dump"))
    assert code == 1
    assert "pg_dump завершился с ошибкой" in output
    assert "oms_no_such_database" in output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_backup_into_a_folder_that_is_not_there_is_refused(kind: str, tmp_path: Path) -> None:
    """A mistyped folder gave a FileNotFoundError's traceback, before any database or tool was reached."""
    app = make_app(
        f"sqlite:///{tmp_path / 'oms.sqlite'}"
        if kind == "sqlite"
        else "postgresql+psycopg://postgres@127.0.0.1:5432/oms_never_reached"
    )
    target = tmp_path / "no-such-folder" / "oms.backup"
    code, output = invoke(app, "backup", "create", str(target))
    assert code == 1
    assert f"Error: Файл {target} не создан: No such file or directory" in output
    assert not target.parent.exists()
