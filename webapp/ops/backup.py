"""Backups of the whole database: SQLite through its online backup API, PostgreSQL through pg_dump/pg_restore.

A backup is one file, read from a consistent snapshot while the app keeps serving. A restore
replaces the database in one transaction, so a failed restore leaves it as it was, and it refuses
to overwrite a database that holds data unless forced. One more write follows it: the key changes'
count moved on (`CountNotMoved` if that fails: the data are restored all the same).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from sqlalchemy import Engine, column, insert, inspect, literal, select, table, update
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from webapp import private_files
from webapp.registry.errors import RegistryError


class BackupError(RegistryError):
    """A backup or restore that cannot be done; the message says why, in Russian."""


class CountNotMoved(BackupError):
    """The database was restored, but the key changes' count could not be moved on after it."""


def create(engine: Engine, target: Path) -> None:
    """Write a backup of the database behind `engine` to `target` (a new file, complete or absent)."""
    if target.exists():
        raise BackupError(f"Файл {target} уже есть: выберите другое имя")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        try:
            private_files.create_empty(partial)  # it holds the whole registry: SQLite and pg_dump write into it
        except OSError as error:  # no such folder, no right to write there
            raise BackupError(f"Файл {target} не создан: {error.strerror}") from error
        if engine.dialect.name == "sqlite":
            _sqlite_copy(_sqlite_file(engine.url), partial, single_file=True)
        elif engine.dialect.name == "postgresql":
            _run("pg_dump", ["--format=custom", "--file", str(partial)], engine.url)
        else:
            raise BackupError(f"Резервное копирование для {engine.dialect.name} не поддерживается")
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def restore(engine: Engine, source: Path, *, force: bool = False) -> None:
    """Replace the database behind `engine` with the backup in `source`, then move the key changes' count past
    both databases' (`_count_key_changes_past`)."""
    if engine.dialect.name == "sqlite":
        target = _sqlite_file(engine.url)  # before any connection, which would make a missing file
        _check_sqlite_backup(source)
    elif engine.dialect.name == "postgresql":
        _run("pg_restore", ["--list", str(source)], None, refused=f"{source} не копия pg_dump -Fc")
    else:
        raise BackupError(f"Восстановление для {engine.dialect.name} не поддерживается")
    if not force and holds_data(engine):
        raise BackupError("База не пуста: восстановление заменит все её данные. Если это и нужно, добавьте --force")
    key_changes_before = _key_changes(engine) or 0
    engine.dispose()  # our own pooled connections hold nothing while the database is replaced
    if engine.dialect.name == "sqlite":
        _sqlite_copy(source, target, single_file=False)
    else:
        _pg_restore(engine.url, source)
    try:
        _count_key_changes_past(engine, key_changes_before)
    except SQLAlchemyError as error:
        raise CountNotMoved(
            "База восстановлена, но счётчик изменений ключей не сдвинут: перезапустите приложение, чтобы рабочие "
            f"процессы перечитали ключи ({type(getattr(error, 'orig', None) or error).__name__})"
        ) from error


#: The trust list's version (webapp/models/keys.py `KeyChanges`): each worker keeps the list it read last under it.
_KEY_CHANGES = table("key_changes", column("id"), column("count"))
#: How far past both counts a restore moves it: past any key change made between reading the replaced database's
#: count and replacing it (on SQLite the app serves on), which a worker may have cached.
_KEY_CHANGES_MARGIN = 1000


def _key_changes(engine: Engine) -> int | None:
    """The key changes the database counts; None without a count (no row, or no table)."""
    if not inspect(engine).has_table("key_changes"):
        return None
    with engine.connect() as connection:
        return connection.scalar(select(_KEY_CHANGES.c.count).where(_KEY_CHANGES.c.id == 1))


def _count_key_changes_past(engine: Engine, replaced: int) -> None:
    """The restored count moved past the replaced database's (and its own): a restore winds it back, and the next
    key changes would bring it to a number a running worker already holds a trust list under, an older one (a
    compromised key still trusted). Well past either is a version no worker has seen."""
    if not inspect(engine).has_table("key_changes"):  # a backup from before the count: `db upgrade` makes it
        return
    restored = _key_changes(engine)
    past = max(restored or 0, replaced) + _KEY_CHANGES_MARGIN
    with engine.begin() as connection:
        if restored is None:
            connection.execute(insert(_KEY_CHANGES).values(id=1, count=past))
        else:
            connection.execute(update(_KEY_CHANGES).where(_KEY_CHANGES.c.id == 1).values(count=past))


#: Sent before the backup's script, in its transaction: the schema emptied whole. pg_restore's own --clean drops
#: a region-partitioned table's keys partition by partition, which PostgreSQL refuses (they are the parent's).
_EMPTY_SCHEMA = (
    "BEGIN; DROP SCHEMA public CASCADE; CREATE SCHEMA public AUTHORIZATION pg_database_owner; "
    "GRANT USAGE ON SCHEMA public TO PUBLIC;"
)


def _pg_restore(url: URL, source: Path) -> None:
    """pg_restore writes the backup as one transaction's script (BEGIN … COMMIT), psql runs it after emptying the
    schema in the same transaction: a restore that fails anywhere, or a script cut short (no COMMIT), leaves the
    database as it was."""
    script, _ = _command("pg_restore", ["--no-owner", "--no-privileges", "--single-transaction", "--file", "-"], None)
    load, environment = _command(
        "psql", ["--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1", "--command", _EMPTY_SCHEMA, "--file", "-"], url
    )
    with subprocess.Popen([*script, str(source)], stdout=subprocess.PIPE, stderr=subprocess.PIPE) as written:  # noqa: S603
        loaded = subprocess.run(  # noqa: S603
            load, stdin=written.stdout, env=environment, capture_output=True, text=True, check=False
        )
        refused = written.stderr.read().decode(errors="replace") if written.stderr else ""
    for tool, code, said in (("pg_restore", written.returncode, refused), ("psql", loaded.returncode, loaded.stderr)):
        if code != 0:
            last = (said.strip().splitlines() or ["без сообщения"])[-1]
            raise BackupError(f"{tool} завершился с ошибкой: {last}")


def holds_data(engine: Engine) -> bool:
    """True when any table but Alembic's own has a row."""
    tables = [name for name in inspect(engine).get_table_names() if name != "alembic_version"]
    with engine.connect() as connection:
        return any(connection.execute(select(literal(1)).select_from(table(name)).limit(1)).first() for name in tables)


def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError("База SQLite должна быть файлом на диске")
    path = Path(url.database)
    if not path.is_file():
        raise BackupError(f"Файла базы {path} нет: выполните `flask --app webapp db upgrade`")
    return path


def _sqlite_copy(source: Path, target: Path, *, single_file: bool) -> None:
    """Page by page through SQLite's backup API: a consistent snapshot, and writers go on meanwhile.

    Into the live database it is one write transaction: readers see the old database or the new one.
    """
    try:
        with (
            closing(sqlite3.connect(source, timeout=30)) as reader,
            closing(sqlite3.connect(target, timeout=30)) as writer,
        ):
            reader.backup(writer)
            if single_file:
                writer.execute("PRAGMA journal_mode = DELETE")  # no -wal file beside the backup
    except sqlite3.Error as error:
        raise BackupError(f"SQLite: {error}") from error


def _check_sqlite_backup(source: Path) -> None:
    try:
        with closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)) as backup:
            status = backup.execute("PRAGMA quick_check").fetchone()[0]
            schema = backup.execute("SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'").fetchone()
    except sqlite3.Error as error:
        raise BackupError(f"{source} не копия базы SQLite: {error}") from error
    if status != "ok" or schema is None:
        raise BackupError(f"{source} не копия базы реестра или повреждён ({status})")


def _run(tool: str, arguments: list[str], url: URL | None, refused: str = "") -> None:
    """Run a PostgreSQL client tool against `url`."""
    command, environment = _command(tool, arguments, url)
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or ["без сообщения"])[-1]
        raise BackupError(refused or f"{tool} завершился с ошибкой: {said}")


def _command(tool: str, arguments: list[str], url: URL | None) -> tuple[list[str], dict[str, str]]:
    """A PostgreSQL client tool's command line against `url`, and its environment: the password goes by
    environment, never the command line."""
    program = shutil.which(tool)
    if program is None:
        raise BackupError(
            f"{tool} не найден: установите клиент PostgreSQL той же версии, что сервер, или новее "
            "(Debian: postgresql-client)"
        )
    environment = dict(os.environ)
    command = [program, *arguments]
    if url is not None:
        if url.password:
            environment["PGPASSWORD"] = str(url.password)
        libpq = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
        command[1:1] = ["--dbname", libpq]
    return command, environment
