"""Many rows into a table at once: PostgreSQL's COPY, or an executemany INSERT on SQLite; and many rows out.

The import and the mass reissue write tens of thousands of rows a batch. COPY streams them in one
statement, inside the batch's transaction (psycopg 3's `cursor.copy`); SQLite has no COPY and keeps the
executemany INSERT. Values come as Python gives them; COPY gets them through the columns' own types first (aware
datetimes are stored as naive UTC, webapp/extensions.py), as an INSERT would, so both store the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from sqlalchemy import ColumnElement, Executable, Row, Table, any_, bindparam, insert, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, scoped_session

from webapp.extensions import db


def _converters(table: Table, columns: Sequence[str]) -> list[Callable[[Any], Any] | None]:
    dialect = db.session.get_bind().dialect
    return [table.c[name].type.bind_processor(dialect) if _typed(table, name) else None for name in columns]


def _typed(table: Table, name: str) -> bool:
    """Whether the column's type changes a value on its way in (a TypeDecorator): others go as they are."""
    return hasattr(table.c[name].type, "process_bind_param")


def _converted(rows: Sequence[Sequence[Any]], converters: list[Callable[[Any], Any] | None]) -> list[Sequence[Any]]:
    """The rows with the typed columns' values converted: only those columns are touched, and each distinct value
    once (a batch's rows share their moment), as a batch is tens of thousands of rows."""
    typed = [(index, convert) for index, convert in enumerate(converters) if convert is not None]
    if not typed:
        return list(rows)
    memo: list[dict[Any, Any]] = [{} for _ in typed]
    converted = []
    for row in rows:
        values = list(row)
        for (index, convert), seen in zip(typed, memo, strict=True):
            value = values[index]
            if value not in seen:
                seen[value] = convert(value)
            values[index] = seen[value]
        converted.append(values)
    return converted


def _as_sqlalchemy(error: psycopg.Error, statement: str) -> DBAPIError:
    """The driver's error of a COPY, which goes past SQLAlchemy, as SQLAlchemy would raise it: a clash with a
    concurrent writer (IntegrityError) or a lost connection (OperationalError) is then retried by `atomic` and
    told apart by the commands and pages like any other statement's. Raw, a concurrent import's clash escaped
    them all, with the clashing row (a person's data) in its message."""
    kind = {
        psycopg.IntegrityError: IntegrityError,
        psycopg.OperationalError: OperationalError,
        psycopg.ProgrammingError: ProgrammingError,
    }
    wrapper = next((wrapper for driver, wrapper in kind.items() if isinstance(error, driver)), DBAPIError)
    return wrapper(statement, None, error, hide_parameters=True)


def is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def insert_rows(table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert `rows` (tuples in the order of `columns`) in the session's transaction."""
    if not rows:
        return
    if is_postgresql():
        rows = _converted(rows, _converters(table, columns))  # COPY takes values as they are stored
        cursor = db.session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
        statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        try:
            with cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
        except psycopg.Error as error:
            if isinstance(error.__context__, KeyboardInterrupt):  # Ctrl-C mid-COPY: psycopg ends the COPY, and the
                raise error.__context__ from None  # server's «COPY failed» is not what stopped it
            raise _as_sqlalchemy(error, statement) from error
        return
    db.session.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])


def insert_rows_with_ids(table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[int]:
    """Insert `rows` and return their new ids, in the rows' order.

    On PostgreSQL the ids are drawn from the table's sequence first, so that COPY can carry them; on SQLite
    the INSERT returns them.
    """
    if not rows:
        return []
    if is_postgresql():
        ids = list(
            db.session.scalars(
                text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)"),
                {"table": table.name, "count": len(rows)},
            )
        )
        insert_rows(table, ("id", *columns), [(new_id, *row) for new_id, row in zip(ids, rows, strict=True)])
        return ids
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(db.session.scalars(statement, [dict(zip(columns, row, strict=True)) for row in rows]))


def read_rows(statement: Executable, session: Session | scoped_session[Session] | None = None) -> Sequence[Row[Any]]:
    """The rows of a column select, through Core, in `session` (the request's by default): for the thousands of
    rows of a mass reissue's batch or of the revocation list, where the ORM's row loading took about a tenth of
    the reissue's writing process, and 3.0 of the 3.3 s of reading the list's 1,000,000 events
    (docs/benchmarks.md, "The mass reissue at 1,000,000")."""
    return (session or db.session).connection().execute(statement).all()


def among(column: ColumnElement[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN values` for thousands of values: one array parameter on PostgreSQL (`= ANY(:values)`), where
    an IN list of bound parameters costs more to build and parse than the query costs to run."""
    if is_postgresql():
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


def refresh_statistics(*tables: Table) -> None:
    """After a bulk write on PostgreSQL, give the planner the tables' row counts now, in a transaction of its own.

    Autovacuum analyzes a partition some time after it grew, and a partitioned table itself never; until then
    the verification read is planned for the counts of before (an empty region: a scan of the whole region for
    every code, tens of seconds a read at 20,000 people). SQLite plans without them.
    """
    if is_postgresql() and tables:
        db.session.commit()
        db.session.execute(text(f"ANALYZE {', '.join(table.name for table in tables)}"))
        db.session.commit()
