"""Engine settings that SQLAlchemy does not set for us, and the engines verification reads through."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
from psycopg.abc import PQGen
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url

from webapp import private_files
from webapp.config import sqlite_file
from webapp.extensions import db

#: The bind (SQLALCHEMY_BINDS) for single-statement reads on the verification hot path: the same
#: database in autocommit, without a ping before each use (webapp/db/prepared_reads.py says why).
READS_BIND = "reads"
#: How long a replica that does not answer may hold up a connection (libpq counts whole seconds, 2 at least).
REPLICA_CONNECT_TIMEOUT = 2
#: How long a replica may take to answer a statement before its read goes to the primary. A read takes
#: milliseconds; a replica that is frozen, its disk stalled, or its replay holding a lock the read waits for,
#: would otherwise hold the request until gunicorn kills the worker.
REPLICA_ANSWER_TIMEOUT = 2.0
#: Who the replicas' connections are in pg_stat_activity, unless the URL says.
REPLICA_APPLICATION_NAME = "oms-verification-reads"


class BoundedConnection(psycopg.Connection[Any]):
    """A replica's connection: every statement is waited for REPLICA_ANSWER_TIMEOUT at most, then the connection
    is closed (its state is unknown) and the driver's OperationalError raised, which sends the read to the primary
    (webapp/db/published_reads.py). Reads that call libpq themselves wait through `wait` too
    (webapp/db/prepared_reads.py)."""

    def wait(self, gen: PQGen[Any], interval: float | None = None, timeout: float | None = None) -> Any:
        waiting = {"interval": interval} if interval is not None else {}
        try:
            return super().wait(gen, timeout=REPLICA_ANSWER_TIMEOUT if timeout is None else timeout, **waiting)
        except psycopg.OperationalError:
            self.close()
            raise


def bound_answers(engine: Engine) -> None:
    """Connect `engine` (a replica's) with BoundedConnection."""

    @event.listens_for(engine, "do_connect")
    def _connect(dialect: Any, record: Any, cargs: Any, cparams: Any) -> BoundedConnection:
        return BoundedConnection.connect(*cargs, **cparams)


#: The main thread's open connection of each reads engine it has read on (`reads_connection`).
_kept: dict[Engine, Connection] = {}


def replica_bind(place: int) -> str:
    """The bind of the replica at `place` (from 1) of DATABASE_REPLICA_URLS; also its name in /healthz."""
    return f"replica-{place}"


def replica_binds(config: dict[str, Any]) -> list[str]:
    return [replica_bind(place) for place in range(1, len(config.get("DATABASE_REPLICA_URLS", ())) + 1)]


def _reads_options(url: str) -> dict[str, Any]:
    """A reads bind's engine: Flask-SQLAlchemy gives binds none of SQLALCHEMY_ENGINE_OPTIONS, so the values its
    errors leave out (webapp/config.py) are said here again."""
    return {"url": url, "isolation_level": "AUTOCOMMIT", "pool_pre_ping": False, "hide_parameters": True}


def add_reads_binds(config: dict[str, Any]) -> None:
    """Give the app's configuration the reads bind, on the main database unless configured otherwise, and one
    bind per read replica: autocommit and no ping as the reads bind, and a short wait for one that is gone."""
    binds = config.setdefault("SQLALCHEMY_BINDS", {})
    binds.setdefault(READS_BIND, _reads_options(config["SQLALCHEMY_DATABASE_URI"]))
    for bind, url in zip(replica_binds(config), config.get("DATABASE_REPLICA_URLS", ()), strict=True):
        given = make_url(url).query
        connect_args = {
            "connect_timeout": REPLICA_CONNECT_TIMEOUT,
            "application_name": REPLICA_APPLICATION_NAME,
        }
        binds.setdefault(
            bind,
            {**_reads_options(url), "connect_args": {k: v for k, v in connect_args.items() if k not in given}},
        )


def create_sqlite_file(url: str, instance_path: str) -> None:
    """A SQLite database's file, made empty and 0600 before SQLite would make it with the umask's mode
    (0644 from a usual shell): it is the whole registry. Its -wal and -shm files take its mode.

    A relative name is in the instance folder, where Flask-SQLAlchemy opens it (made 0700 here if it is not yet):
    made in the current folder instead, the registry itself was left to the umask, as was any `file:` URI's."""
    path = sqlite_file(url, instance_path)
    if path is None:
        return
    if path.parent == Path(instance_path):
        private_files.folder(path.parent)
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
def reads_connection(engine: Engine | None = None) -> Iterator[Connection]:
    """A connection of `engine`, by default the current app's reads bind.

    gunicorn's sync workers serve every request on the main thread, which keeps a connection of each reads
    engine open between reads: taking one from the pool and giving it back for every read cost as much as
    the read (docs/benchmarks.md), and in autocommit a kept connection holds no transaction open. Any other
    thread (the development server starts one per request) takes one from the pool for each read.
    A read that fails gives the kept connection back, so the next starts on a clean one.
    """
    engine = engine or db.engines[READS_BIND]
    if threading.current_thread() is not threading.main_thread():
        with engine.connect() as connection:
            yield connection
        return
    kept = _kept.get(engine)
    if kept is None or kept.closed or kept.invalidated:
        _release(engine)
        _release_other_apps()
        kept = _kept[engine] = engine.connect()
    try:
        yield kept
    except Exception:
        _release(engine)
        raise


def _release(engine: Engine) -> None:
    kept = _kept.pop(engine, None)
    if kept is not None:
        kept.close()


def _release_other_apps() -> None:
    """Give back the connections kept for another app's engines (tests run several apps in one process)."""
    ours = set(db.engines.values())
    for engine in [engine for engine in _kept if engine not in ours]:
        _release(engine)


def release_reads_connection() -> None:
    """Give the main thread's kept reads connections back to their pools; the next reads open others."""
    for engine in list(_kept):
        _release(engine)


def dispose_engines() -> None:
    """Close every pooled connection of the current app's engines (before a database is replaced or dropped)."""
    release_reads_connection()
    for engine in db.engines.values():
        engine.dispose()
