"""One change, one transaction: retried when a concurrent writer got there first; rows locked for it."""

from __future__ import annotations

import functools
import random
import time
import zlib
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import ColumnElement, Select, func, inspect, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from webapp.extensions import db

P = ParamSpec("P")
T = TypeVar("T")
M = TypeVar("M")

ATTEMPTS = 5
_ACTIVE = "atomic_operation_running"


class RunAgain(Exception):
    """Raised by an operation that found what it read had changed under it while it waited (a key made after its
    moment): `atomic` runs it again on fresh state, as it does a race lost in the database."""


def atomic(operation: Callable[P, T]) -> Callable[P, T]:
    """Run `operation` in a transaction: commit on success, roll back on any error.

    A unique-constraint clash or a lock/serialisation failure usually means a
    concurrent change won the race (two reissues, two audit appends): the
    operation is run again on fresh state, a few times, before giving up. So
    is one that raised `RunAgain`.

    A connection lost during COMMIT is not retried: the server may have
    committed, and running the change again would apply it twice.

    Called from inside another atomic operation, it joins that transaction:
    the outermost one commits, retries or rolls back the whole.
    """

    @functools.wraps(operation)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        info = db.session.info
        if info.get(_ACTIVE):
            return operation(*args, **kwargs)
        for attempt in range(1, ATTEMPTS + 1):
            info[_ACTIVE] = True
            committing = False
            try:
                result = operation(*args, **kwargs)
                committing = True
                db.session.commit()
                return result
            except (IntegrityError, OperationalError, RunAgain) as error:
                db.session.rollback()
                if attempt == ATTEMPTS or (committing and getattr(error, "connection_invalidated", False)):
                    raise
                time.sleep(random.uniform(0.005, 0.05) * attempt)  # noqa: S311 -- jitter, not a secret
            except KeyboardInterrupt:  # Ctrl-C in a command: the statement it broke off (a COPY, say) leaves the
                # connection mid-protocol, where a ROLLBACK fails and the pool logs it with a traceback. Closed
                # instead, the connection's transaction is rolled back by the server.
                db.session().invalidate()
                raise
            except BaseException:
                db.session.rollback()
                raise
            finally:
                info[_ACTIVE] = False
        raise AssertionError("unreachable")

    return run


def locked(model: type[M], *criteria: ColumnElement[bool]) -> Select[tuple[M]]:
    """A select of `model`'s rows matching `criteria` that locks them for the transaction, and reads them as the
    database holds them now: an object the session loaded before the lock (a view's own read) is refreshed,
    not taken as it was.

    SQLite has no row locks: there the database's write lock is taken first, with a no-op update of the rows,
    so that what is read next is the last commit and nobody else writes until this transaction ends.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        key: Any = inspect(model).primary_key[0]
        touch = update(model).where(*criteria).values({key.name: key})
        db.session.execute(touch.execution_options(synchronize_session=False))
    return select(model).where(*criteria).with_for_update().execution_options(populate_existing=True)


def serialised(name: str) -> None:
    """Hold the lock called `name` until the transaction ends: writers of the same kind run one after another.

    For a check that reads many rows before a write (a representation loop: no one row to lock), which two
    transactions could each pass before either committed. PostgreSQL's transaction-level advisory lock; SQLite
    writes one transaction at a time, and a writer whose reads another commit has outdated fails and is retried
    (`atomic`).
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(func.pg_advisory_xact_lock(zlib.crc32(name.encode()))))
