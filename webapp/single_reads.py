"""Single-statement reads for verification: their own engine, in autocommit, on a kept connection, retried once.

A verification reads one registry row, and sometimes the clinic's token. Through the request's ORM
session each read would also cost a ping, a BEGIN and a ROLLBACK: three more round trips to
PostgreSQL, more than the read itself (docs/benchmarks.md). So these reads go through the `reads`
bind (webapp/database.py), which runs each statement on its own in autocommit and does not ping, on a
connection a gunicorn worker keeps open.

Each statement is compiled by SQLAlchemy once per driver and then run on the driver's own
cursor, its columns converted by SQLAlchemy's own result processors: SQLAlchemy's execution around
a query SQLite answers in ~50 µs cost as much again (docs/benchmarks.md). If the driver fails, the
connection is dropped and the read, which changes nothing, is tried once more through SQLAlchemy on a
fresh connection, so a second failure raises SQLAlchemy's own error (a 503, webapp/errors.py).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Compiled, Connection, Dialect

from webapp.database import reads_connection


@dataclass(frozen=True)
class _Compiled:
    """A SELECT as one database kind's driver takes it, and how to turn its answer into a row."""

    compiled: Compiled
    #: Parameter names in placeholder order, for drivers with positional placeholders (sqlite3's `?`).
    positions: tuple[str, ...] | None
    bind_processors: dict[str, Callable[[Any], Any]]
    result_processors: tuple[Callable[[Any], Any] | None, ...]
    row: Callable[..., tuple[Any, ...]]

    @classmethod
    def of(cls, statement: Select[Any], dialect: Dialect) -> _Compiled:
        compiled = statement.compile(dialect=dialect)
        columns = list(statement.selected_columns)
        binds = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect) for bind, name in compiled.bind_names.items()
        }
        return cls(
            compiled=compiled,
            positions=tuple(compiled.positiontup) if compiled.positiontup is not None else None,
            bind_processors={name: process for name, process in binds.items() if process is not None},
            result_processors=tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
            ),
            row=namedtuple("Row", [column.key for column in columns]),  # type: ignore[misc]
        )

    def first(self, connection: Connection, values: dict[str, Any]) -> tuple[Any, ...] | None:
        """The first row, read through the driver's own cursor on `connection`."""
        parameters = self.compiled.construct_params(values)
        for name, process in self.bind_processors.items():
            parameters[name] = process(parameters[name])
        arguments = parameters if self.positions is None else [parameters[name] for name in self.positions]
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self.compiled.string, arguments)
            values_read = cursor.fetchone()
        finally:
            cursor.close()
        if values_read is None:
            return None
        return self.row(*[v if p is None else p(v) for p, v in zip(self.result_processors, values_read, strict=True)])


#: Each statement read here, compiled for each driver (dialect class and placeholder style) it has met.
_compiled: dict[tuple[Select[Any], type[Dialect], str], _Compiled] = {}


def first_row(statement: Select[Any], parameters: dict[str, Any]) -> Any:
    """The statement's first row (its columns by name, as SQLAlchemy's rows have them), or None."""
    with reads_connection() as connection:
        key = (statement, type(connection.dialect), connection.dialect.paramstyle)
        compiled = _compiled.get(key) or _compiled.setdefault(key, _Compiled.of(statement, connection.dialect))
        try:
            return compiled.first(connection, parameters)
        except connection.dialect.loaded_dbapi.Error:
            connection.invalidate()  # SQLAlchemy did not see the driver's error, so it is told
    with reads_connection() as connection:  # a fresh one
        return connection.execute(statement, parameters).first()
