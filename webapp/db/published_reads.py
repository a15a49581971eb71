"""Reads of what the registry vouches for to verifiers: verification, the trust list, the revocation list.

They go to a read replica that is caught up within MAX_REPLICA_LAG (webapp/db/replicas.py), or else to the
primary. Only these: writes, and every page where someone expects to see their own change at once (an
insurer's pages, the citizen's card), read the primary through `db.session`.

`run(read)` gives `read` the session and the prepared reads of one database, chosen once for the whole
read, so that what it returns comes from one database. If the read fails on a replica (it stopped, or a
recovery conflict cancelled the statement), the replica is skipped and the read, which changes nothing,
runs again on the primary.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, scoped_session

from webapp.db import prepared_reads, replicas
from webapp.extensions import db

T = TypeVar("T")
#: A session of one database: the request's own on the primary, or one of a replica's.
ReadSession = Session | scoped_session[Session]


@dataclass(frozen=True)
class PublishedReads:
    """One database's reads: an ORM session, and single prepared reads (webapp/db/prepared_reads.py)."""

    session: ReadSession
    #: The replica's engine, or None for the primary (its reads bind).
    engine: Engine | None = None

    def first_row(self, statement: Select[Any], parameters: dict[str, Any]) -> Any:
        return prepared_reads.first_row(statement, parameters, self.engine)


#: The primary's reads: the request's own session, as every other read of the registry.
ON_PRIMARY = PublishedReads(db.session)


def run(read: Callable[[PublishedReads], T]) -> T:
    """`read` on a caught-up replica, or on the primary when there is none or the replica fails it."""
    engine = replicas.engine_for_reads()
    if engine is None:
        return read(ON_PRIMARY)
    with Session(bind=engine) as session:
        try:
            return read(PublishedReads(session, engine))
        except DBAPIError as error:
            replicas.failed(engine, error)
    return read(ON_PRIMARY)
