"""Rows whose ids readers follow as a cursor, committed in the order of their ids.

The revocation list hands out a cursor, the newest event's id, and a verifier asks next for what came after it
(webapp/registry/keys/publication.py). Ids come from a sequence when a row is inserted, and transactions commit
in any order: an event could commit after a newer one was read, under a cursor already handed out, and that
verifier would never get it. So on PostgreSQL a writer takes its turn (a transaction-level advisory lock) before
it inserts such rows, and keeps it until it commits: ids are drawn and committed one transaction after another,
and a reader that sees an id sees every smaller one that will ever commit. SQLite writes one transaction at a
time already.

The turn is taken last in a transaction's locks (after the rows it changes are locked) and held only from the
insert to the commit. A deadlock with a writer that holds something the turn's holder then waits for is ended by
PostgreSQL, and `atomic` runs the loser again (webapp/db/transactions.py).
"""

from __future__ import annotations

from sqlalchemy import Table, text

from webapp.extensions import db


def take_turn(table: Table) -> None:
    """Wait for the transactions writing `table` before this one to commit; hold the turn until this one does."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": table.name})
