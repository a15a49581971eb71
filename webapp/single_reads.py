"""Single-statement reads for verification: their own engine, in autocommit, on a kept connection, retried once.

A verification reads one registry row, and sometimes the clinic's token. Through the request's ORM
session each read would also cost a ping, a BEGIN and a ROLLBACK: three more round trips to
PostgreSQL, more than the read itself (docs/benchmarks.md). So these reads go through the `reads`
bind (webapp/database.py), which runs each statement on its own in autocommit and does not ping, on a
connection a gunicorn worker keeps open. A connection the database has dropped (a restart, a killed
backend) fails once, and the read, which changes nothing, is tried once more on a fresh connection.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Executable, Row
from sqlalchemy.exc import DBAPIError

from webapp.database import reads_connection


def first_row(statement: Executable, parameters: dict[str, Any]) -> Row[Any] | None:
    try:
        return _first_row(statement, parameters)
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
    return _first_row(statement, parameters)  # on a fresh connection


def _first_row(statement: Executable, parameters: dict[str, Any]) -> Row[Any] | None:
    with reads_connection() as connection:
        return connection.execute(statement, parameters).first()
