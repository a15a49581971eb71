"""Real databases for the tests: a SQLite file, and PostgreSQL when it is reachable."""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from flask import current_app
from sqlalchemy import text

from webapp.extensions import db

PG_HOST = os.environ.get("TEST_PG_HOST", "127.0.0.1")
PG_ADMIN = f"host={PG_HOST} port=5432 user=postgres dbname=postgres"

AUDIT_KEY = "test-audit-key-Nc4wE7tLq2Bz9Xh5Ry8M"
#: This test run's audit checkpoints, one per database (webapp/registry/audit_checkpoint.py), gone when it ends.
_CHECKPOINTS = Path(tempfile.mkdtemp(prefix="oms-audit-checkpoints-"))
atexit.register(shutil.rmtree, _CHECKPOINTS, ignore_errors=True)


def audit_settings(database_url: str) -> dict[str, str]:
    """The audit key and the checkpoint file of the app on `database_url`: the same for every app, server
    and command a test runs on that database, and for no other database."""
    name = hashlib.sha256(database_url.encode()).hexdigest()[:16]
    return {"AUDIT_KEY": AUDIT_KEY, "AUDIT_CHECKPOINT": str(_CHECKPOINTS / f"{name}.json")}


def postgres_unreachable() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return None
    except psycopg.Error as error:
        return str(error).strip().splitlines()[0]


def require_postgres() -> None:
    """Skip the test, saying why, when PostgreSQL does not answer."""
    reason = postgres_unreachable()
    if reason is not None:
        pytest.skip(f"PostgreSQL not reachable at {PG_HOST}:5432: {reason}")


@contextmanager
def postgres_database(name: str) -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards; the test is skipped when none answers."""
    require_postgres()
    yield create_postgres_database(name)
    drop_postgres_database(name)


def create_postgres_database(name: str) -> str:
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@{PG_HOST}:5432/{name}"


def drop_postgres_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wipe() -> None:
    """Empty every table of the current app's database, keeping the schema, and forget its audit checkpoint."""
    tables = [table.name for table in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(text(f"DELETE FROM {table}"))
    db.session.commit()
    Path(current_app.config["AUDIT_CHECKPOINT"]).unlink(missing_ok=True)
