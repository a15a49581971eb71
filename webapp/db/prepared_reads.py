"""Single-statement reads for verification: their own engine, in autocommit, on a kept connection, retried once.

A verification reads one registry row, and sometimes the clinic's token. Through the request's ORM
session each read would also cost a ping, a BEGIN and a ROLLBACK: three more round trips to
PostgreSQL, more than the read itself (docs/benchmarks.md). So these reads go through the `reads`
bind (webapp/db/engines.py), which runs each statement on its own in autocommit and does not ping, on a
connection a gunicorn worker keeps open.

Each statement is compiled by SQLAlchemy once per driver and then run by the driver itself, its
columns converted by SQLAlchemy's own result processors: SQLAlchemy's execution around a query SQLite
answers in ~50 µs cost as much again (docs/benchmarks.md). On SQLite it runs on the driver's cursor.
On PostgreSQL it is prepared once per connection and executed through psycopg's libpq layer, its
values converted by psycopg's own loaders: psycopg's cursor, even with the statement prepared by it,
cost the worker ~30–40 µs of CPU more per read (docs/benchmarks.md). Behind a pooler that keeps no
prepared statements (webapp/db/poolers.py) it is sent unnamed instead, parsed with each run, in the same
one round trip. If the driver fails, the failure is logged (its class and SQLSTATE), the connection is
dropped and the read, which changes nothing, is tried once more through SQLAlchemy on a fresh
connection, so a second failure raises SQLAlchemy's own error (a 503, webapp/web/errors.py). On a replica
the first failure raises it: the read goes to the primary (webapp/db/published_reads.py) until a check
proves the replica again.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import Connection as PsycopgConnection
from psycopg import DatabaseError, errors
from psycopg.adapt import PyFormat, Transformer
from psycopg.generators import execute
from psycopg.pq import DiagnosticField, ExecStatus, Format, PGresult
from sqlalchemy import Select
from sqlalchemy.engine import Compiled, Connection, Dialect, Engine
from sqlalchemy.exc import DBAPIError

from webapp.db.engines import BoundedConnection, reads_connection
from webapp.db.poolers import SERVER_PREPARES

log = logging.getLogger(__name__)

#: The key, in a pooled connection's `info` (cleared when the connection is), of the names it has prepared.
_PREPARED_HERE = "single_reads_prepared"
#: The key, in the same `info`, of the connection's psycopg transformer. A new one for every read looked up
#: the adapters of every column's type again: ~19,000 instructions of a verification's registry read.
_TRANSFORMER_HERE = "single_reads_transformer"
#: PostgreSQL's answer to preparing a name that exists: the same statement, as names come from the SQL.
_DUPLICATE_PREPARED_STATEMENT = "42P05"


@dataclass(frozen=True)
class _Compiled:
    """A SELECT as one database kind's driver takes it, and how to turn its answer into a row."""

    compiled: Compiled
    #: Parameter names in placeholder order, for drivers with positional placeholders (`?`, `$1`).
    positions: tuple[str, ...] | None
    bind_processors: dict[str, Callable[[Any], Any]]
    result_processors: tuple[Callable[[Any], Any] | None, ...]
    row: Callable[..., tuple[Any, ...]]
    #: On PostgreSQL, the name the statement is prepared under.
    prepared_name: bytes | None

    @classmethod
    def of(cls, statement: Select[Any], dialect: Dialect) -> _Compiled:
        prepared = dialect.driver == "psycopg"
        if prepared:  # libpq's own placeholders, which SQLAlchemy's casts (`$1::VARCHAR`) give a type
            dialect = type(dialect)(paramstyle="numeric_dollar")
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
            prepared_name=_statement_name(compiled.string) if prepared else None,
        )

    def first(self, connection: Connection, values: dict[str, Any]) -> tuple[Any, ...] | None:
        """The first row, read by the driver of `connection` itself."""
        parameters = self.compiled.construct_params(values)
        for name, process in self.bind_processors.items():
            parameters[name] = process(parameters[name])
        arguments = parameters if self.positions is None else [parameters[name] for name in self.positions]
        if self.prepared_name is None:
            values_read = self._first_on_cursor(connection, arguments)
        elif connection.connection.info.get(SERVER_PREPARES, True):
            values_read = self._first_prepared(connection, self.prepared_name, arguments)  # type: ignore[arg-type]
        else:
            values_read = self._first_unnamed(connection, arguments)  # type: ignore[arg-type]
        if values_read is None:
            return None
        return self.row(*[v if p is None else p(v) for p, v in zip(self.result_processors, values_read, strict=True)])

    def _first_on_cursor(self, connection: Connection, arguments: Any) -> Sequence[Any] | None:
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self.compiled.string, arguments)
            return cursor.fetchone()  # type: ignore[no-any-return]
        finally:
            cursor.close()

    def _first_prepared(self, connection: Connection, name: bytes, arguments: list[Any]) -> tuple[Any, ...] | None:
        """Through libpq: parameters sent as text, for the statement's casts to type; the answer in binary."""
        driver, transformer, parameters = _through_libpq(connection, arguments)
        prepared_here: set[bytes] = connection.connection.info.setdefault(_PREPARED_HERE, set())
        if name not in prepared_here:
            prepared = _answer(driver, "prepare", name, self.compiled.string.encode())
            if _sqlstate(prepared) != _DUPLICATE_PREPARED_STATEMENT:
                _succeeded(prepared, ExecStatus.COMMAND_OK)
            prepared_here.add(name)
        result = _answer(driver, "exec_prepared", name, parameters, transformer.formats, result_format=Format.BINARY)
        return _first_loaded(transformer, result)

    def _first_unnamed(self, connection: Connection, arguments: list[Any]) -> tuple[Any, ...] | None:
        """As `_first_prepared`, with the statement parsed in the same round trip (libpq's unnamed statement)."""
        driver, transformer, parameters = _through_libpq(connection, arguments)
        sql = self.compiled.string.encode()
        result = _answer(driver, "exec_params", sql, parameters, None, transformer.formats, result_format=Format.BINARY)
        return _first_loaded(transformer, result)


def _through_libpq(connection: Connection, arguments: list[Any]) -> tuple[PsycopgConnection[Any], Transformer, Any]:
    """The driver's connection, a transformer of its types, and the parameters dumped as text."""
    driver: PsycopgConnection[Any] = connection.connection.dbapi_connection  # type: ignore[assignment]
    kept = connection.connection.info
    transformer = kept.get(_TRANSFORMER_HERE)
    if transformer is None:  # one per connection, as a psycopg cursor keeps one: it remembers its types' adapters
        transformer = kept[_TRANSFORMER_HERE] = Transformer(driver)
    return driver, transformer, transformer.dump_sequence(arguments, [PyFormat.TEXT] * len(arguments))


#: Each of libpq's blocking calls used here, and the call that only sends it.
_SENDING = {"prepare": "send_prepare", "exec_prepared": "send_query_prepared", "exec_params": "send_query_params"}


def _answer(driver: PsycopgConnection[Any], call: str, *arguments: Any, **options: Any) -> PGresult:
    """libpq's `call` and its result. On a replica's connection the statement is sent, and its answer waited
    for by the driver, so for REPLICA_ANSWER_TIMEOUT at most (webapp/db/engines.py); elsewhere libpq blocks."""
    pgconn = driver.pgconn
    if not isinstance(driver, BoundedConnection):
        return getattr(pgconn, call)(*arguments, **options)  # type: ignore[no-any-return]
    getattr(pgconn, _SENDING[call])(*arguments, **options)
    return driver.wait(execute(pgconn))[-1]  # type: ignore[no-any-return]


def _first_loaded(transformer: Transformer, result: PGresult) -> tuple[Any, ...] | None:
    transformer.set_pgresult(_succeeded(result, ExecStatus.TUPLES_OK))
    return transformer.load_row(0, tuple) if result.ntuples else None


def _statement_name(sql: str) -> bytes:
    """A name that means the same SQL in every worker, so that connections a pooler shares between
    workers cannot run another statement under it (psycopg's own names are "_pg3_N")."""
    return b"single_read_" + hashlib.blake2b(sql.encode(), digest_size=8).hexdigest().encode()


def _sqlstate(result: PGresult) -> str | None:
    code = result.error_field(DiagnosticField.SQLSTATE)
    return code.decode() if code else None


def _succeeded(result: PGresult, expected: ExecStatus) -> PGresult:
    """The result, or the driver's error, of its class for the SQLSTATE: libpq reports a failed
    statement in its result, not by raising."""
    if result.status != expected:
        error_class: type[DatabaseError] = DatabaseError
        with contextlib.suppress(KeyError):  # a SQLSTATE psycopg does not know keeps the general class
            error_class = errors.lookup(_sqlstate(result) or "")
        raise error_class(result.error_message.decode(errors="replace"))
    return result


#: Each statement read here, compiled for each driver (dialect class and placeholder style) it has met.
_compiled: dict[tuple[Select[Any], type[Dialect], str], _Compiled] = {}


def first_row(statement: Select[Any], parameters: dict[str, Any], engine: Engine | None = None) -> Any:
    """The statement's first row (its columns by name, as SQLAlchemy's rows have them), or None; read on
    `engine` (a replica's, webapp/db/replicas.py) or else the reads bind."""
    with reads_connection(engine) as connection:
        key = (statement, type(connection.dialect), connection.dialect.paramstyle)
        compiled = _compiled.get(key) or _compiled.setdefault(key, _Compiled.of(statement, connection.dialect))
        try:
            return compiled.first(connection, parameters)
        except connection.dialect.loaded_dbapi.Error as error:
            # Only the error's class and SQLSTATE: its message may quote what was read.
            log.warning(
                "a verification read failed (%s %s); reading again %s",
                type(error).__name__,
                getattr(error, "sqlstate", None) or "",
                "on the primary" if engine is not None else "on a fresh connection",
            )
            connection.invalidate()  # SQLAlchemy did not see the driver's error, so it is told
            if engine is not None:
                # A replica's: not again on a fresh connection. It would wait out a frozen replica a second time
                # (REPLICA_ANSWER_TIMEOUT, then the connection's), and it would reach whatever server is at the
                # replica's address now, which no check has proven caught up (a restart recovers to its last
                # consistent point, maybe before what the old connection had read). The caller skips the replica
                # until a check proves it again, and reads on the primary (webapp/db/published_reads.py).
                raise DBAPIError.instance(None, None, error, connection.dialect.loaded_dbapi.Error) from error
    with reads_connection(engine) as connection:  # a fresh one
        return connection.execute(statement, parameters).first()
