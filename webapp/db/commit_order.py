"""Rows whose ids readers follow as a cursor, committed in the order of their ids.

The revocation list hands out a cursor, the newest event's id, and a verifier asks next for what came after it
(webapp/registry/keys/publication.py). Ids come from a sequence when a row is inserted, and transactions commit
in any order: an event could commit after a newer one was read, under a cursor already handed out, and that
verifier would never get it. So on PostgreSQL a writer takes its turn (a transaction-level advisory lock) before
it inserts such rows, and keeps it until it commits: ids are drawn and committed one transaction after another,
and a reader that sees an id sees every smaller one that will ever commit. SQLite writes one transaction at a
time already.

The rows are dated in the same order: readers date what they read by its newest row (the revocation list's edition
by its newest event), and a verifier refuses an edition dated before one it holds. A writer that took its moment
and then waited (for a row's lock, or its turn) would date a later id before an earlier one, and every verifier
holding the earlier edition would refuse the newer lists until the next hour's. So a writer dates its rows no
earlier than the newest row already there, read once its turn is taken.

The turn is taken last in a transaction's locks (after the rows it changes are locked) and held only from the
insert to the commit. A deadlock with a writer that holds something the turn's holder then waits for is ended by
PostgreSQL, and `atomic` runs the loser again (webapp/db/transactions.py).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import Column, select, text

from webapp.extensions import db

log = logging.getLogger(__name__)
#: How far ahead of this server's clock the newest row may be dated before the log says so: every row after it
#: takes its date until the clock catches up, so a server whose clock ran far ahead shows here.
CLOCK_TOLERANCE = timedelta(minutes=5)


def take_turn(dated_by: Column[datetime], moment: datetime) -> datetime:
    """Wait for the transactions writing the table of `dated_by` before this one to commit; hold the turn until
    this one does. Returns the date for this one's rows: `moment`, or the table's newest row's, if later."""
    table = dated_by.table
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": table.name})
    newest = db.session.scalar(select(dated_by).order_by(table.c.id.desc()).limit(1))
    if newest is None or newest <= moment:
        return moment
    if newest - moment > CLOCK_TOLERANCE:
        log.warning(
            "the newest row of %s is dated %s ahead of this server's clock: check the servers' clocks",
            table.name,
            newest - moment,
        )
    return newest
