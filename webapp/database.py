"""Engine settings that SQLAlchemy does not set for us, and the engine verification reads through."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from webapp.extensions import db

#: The bind (SQLALCHEMY_BINDS) for single-statement reads on the verification hot path: the same
#: database in autocommit, without a ping before each use (webapp/single_reads.py says why).
READS_BIND = "reads"

#: Each thread's open connection of the reads bind. Taking one from the pool and giving it back for
#: every read cost as much as the read (docs/benchmarks.md); in autocommit it holds no transaction open.
_held_reads = threading.local()


def add_reads_bind(config: dict[str, Any]) -> None:
    """Give the app's configuration the reads bind, on the main database unless configured otherwise."""
    binds = config.setdefault("SQLALCHEMY_BINDS", {})
    binds.setdefault(
        READS_BIND,
        {"url": config["SQLALCHEMY_DATABASE_URI"], "isolation_level": "AUTOCOMMIT", "pool_pre_ping": False},
    )


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


def reads_connection() -> Connection:
    """This thread's connection of the current app's reads bind, opened on first use and kept."""
    engine = db.engines[READS_BIND]
    connection: Connection | None = getattr(_held_reads, "connection", None)
    if connection is None or connection.engine is not engine or connection.closed or connection.invalidated:
        release_reads_connection()
        connection = _held_reads.connection = engine.connect()
    return connection


def release_reads_connection() -> None:
    """Give this thread's reads connection back to its pool; the next read opens another."""
    connection: Connection | None = getattr(_held_reads, "connection", None)
    _held_reads.connection = None
    if connection is not None:
        connection.close()


def dispose_engines() -> None:
    """Close every pooled connection of the current app's engines (before a database is replaced or dropped)."""
    release_reads_connection()
    for engine in db.engines.values():
        engine.dispose()
