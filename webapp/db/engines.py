"""Engine settings that SQLAlchemy does not set for us, and the engine verification reads through."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url

from webapp import private_files
from webapp.extensions import db

#: The bind (SQLALCHEMY_BINDS) for single-statement reads on the verification hot path: the same
#: database in autocommit, without a ping before each use (webapp/db/prepared_reads.py says why).
READS_BIND = "reads"

#: The main thread's open connection of the reads bind, if it has one (`reads_connection`).
_kept_reads = SimpleNamespace(connection=None)


def add_reads_bind(config: dict[str, Any]) -> None:
    """Give the app's configuration the reads bind, on the main database unless configured otherwise."""
    binds = config.setdefault("SQLALCHEMY_BINDS", {})
    binds.setdefault(
        READS_BIND,
        {"url": config["SQLALCHEMY_DATABASE_URI"], "isolation_level": "AUTOCOMMIT", "pool_pre_ping": False},
    )


def create_sqlite_file(url: str) -> None:
    """A SQLite database's file, made empty and 0600 before SQLite would make it with the umask's mode
    (0644 from a usual shell): it is the whole registry. Its -wal and -shm files take its mode."""
    parsed = make_url(url)
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:" or name.startswith("file:"):
        return
    path = Path(name)
    if path.parent.is_dir():
        private_files.create_empty(path)


def configure_sqlite(engine: Engine) -> None:
    """Foreign keys on, WAL so readers do not block the writer, and a wait instead of 'locked'."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()


@contextlib.contextmanager
def reads_connection() -> Iterator[Connection]:
    """A connection of the current app's reads bind.

    gunicorn's sync workers serve every request on the main thread, which keeps its connection open
    between reads: taking one from the pool and giving it back for every read cost as much as the read
    (docs/benchmarks.md), and in autocommit a kept connection holds no transaction open. Any other
    thread (the development server starts one per request) takes one from the pool for each read.
    A read that fails gives the kept connection back, so the next starts on a clean one.
    """
    engine = db.engines[READS_BIND]
    if threading.current_thread() is not threading.main_thread():
        with engine.connect() as connection:
            yield connection
        return
    kept: Connection | None = _kept_reads.connection
    if kept is None or kept.engine is not engine or kept.closed or kept.invalidated:
        release_reads_connection()
        kept = _kept_reads.connection = engine.connect()
    try:
        yield kept
    except Exception:
        release_reads_connection()
        raise


def release_reads_connection() -> None:
    """Give the main thread's kept reads connection back to its pool; the next read opens another."""
    kept, _kept_reads.connection = _kept_reads.connection, None
    if kept is not None:
        kept.close()


def dispose_engines() -> None:
    """Close every pooled connection of the current app's engines (before a database is replaced or dropped)."""
    release_reads_connection()
    for engine in db.engines.values():
        engine.dispose()
