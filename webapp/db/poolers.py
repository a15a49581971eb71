"""Server-side prepared statements behind PgBouncer in transaction mode: kept where it keeps them, else off.

In transaction mode PgBouncer gives each transaction whichever server connection is free, so a statement
prepared in one transaction may be missing from the next, or be another client's statement under the same
name. PgBouncer 1.21 and later, with `max_prepared_statements` above 0, tracks protocol-level prepared
statements for each client and keeps them working; older ones, or 0, do not. Two things prepare on the
server: psycopg, once a query has run `prepare_threshold` (5) times on a connection, and verification's
reads (webapp/db/prepared_reads.py), on their first run. With DATABASE_POOLER=pgbouncer-transaction the
app asks PgBouncer's console (database `pgbouncer`, as the app's own user, which needs to be one of its
`stats_users`) for its version and setting on the first connection through it; if it cannot keep them, or
does not say, both are turned off on every connection through it (psycopg's `prepare_threshold=None`, and
the reads sent unnamed), and one warning says why.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import MutableMapping
from typing import Any

import psycopg
from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

#: DATABASE_POOLER's value for PgBouncer in transaction mode (webapp/config.py).
PGBOUNCER_TRANSACTION = "pgbouncer-transaction"
#: The key, in a pooled connection's `info`, of whether statements may be prepared on the server through it.
SERVER_PREPARES = "server_side_prepares"
#: The first PgBouncer that keeps protocol-level prepared statements in transaction mode.
KEEPS_PREPARED_SINCE = (1, 21)
_CONSOLE_TIMEOUT = 2

_asking = threading.Lock()


def configure(engine: Engine, pooler: str, decisions: MutableMapping[tuple[str, int], bool]) -> None:
    """Behind PgBouncer in transaction mode, decide on `engine`'s first connection whether statements may be
    prepared on the server, and apply it to each connection. `decisions` holds, for one app, the answer of
    each pooler address, so that one pooler is asked, and warns, once."""
    if pooler != PGBOUNCER_TRANSACTION or engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        address = (engine.url.host or "", engine.url.port or 5432)
        with _asking:
            if address not in decisions:
                decisions[address] = _decide(engine, address)
        keep = decisions[address]
        record.info[SERVER_PREPARES] = keep
        if not keep:
            dbapi_connection.prepare_threshold = None


def _decide(engine: Engine, address: tuple[str, int]) -> bool:
    """Ask PgBouncer's console; log what was decided and why (a warning when prepared statements go off)."""
    where = f"{address[0]}:{address[1]}"
    try:
        version, max_prepared = _ask_console(engine)
    except psycopg.Error as error:
        log.warning(
            "DATABASE_POOLER=%s: PgBouncer's console at %s did not answer (%s), so it cannot say whether it keeps "
            "prepared statements; server-side prepared statements are off through it (let the app's user in as "
            "one of its stats_users to have them)",
            PGBOUNCER_TRANSACTION,
            where,
            type(error).__name__,
        )
        return False
    numbers = tuple(int(part) for part in re.findall(r"\d+", version)[:2])
    if numbers >= KEEPS_PREPARED_SINCE and max_prepared > 0:
        log.info("%s at %s keeps prepared statements (max_prepared_statements = %d)", version, where, max_prepared)
        return True
    log.warning(
        "DATABASE_POOLER=%s: %s at %s with max_prepared_statements = %d keeps no prepared statement from one "
        "transaction to the next (PgBouncer 1.21 or later with max_prepared_statements above 0 does); "
        "server-side prepared statements are off through it: psycopg's (prepare_threshold=None) and "
        "verification's reads, which are sent unnamed",
        PGBOUNCER_TRANSACTION,
        version,
        where,
        max_prepared,
    )
    return False


def _ask_console(engine: Engine) -> tuple[str, int]:
    """PgBouncer's version ("PgBouncer 1.18.0") and its max_prepared_statements (0 where it has none)."""
    _, options = engine.dialect.create_connect_args(engine.url)
    options = {**options, "dbname": "pgbouncer", "connect_timeout": _CONSOLE_TIMEOUT}
    with psycopg.connect(**options, autocommit=True) as console:
        version = str(console.execute("SHOW VERSION").fetchone()[0])  # type: ignore[index]
        settings = {str(row[0]): str(row[1]) for row in console.execute("SHOW CONFIG")}
    value = settings.get("max_prepared_statements", "0")
    return version, int(value) if value.isdigit() else 0
