"""Engine settings that SQLAlchemy does not set for us, and the engine verification reads through."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from webapp.extensions import db

#: The bind (SQLALCHEMY_BINDS) for single-statement reads on the verification hot path: the same
#: database in autocommit, without a ping before each use (webapp/single_reads.py says why).
READS_BIND = "reads"


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


def dispose_engines() -> None:
    """Close every pooled connection of the current app's engines (before a database is replaced or dropped)."""
    for engine in db.engines.values():
        engine.dispose()
