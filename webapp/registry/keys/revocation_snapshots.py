"""The revocation list's snapshot: every digest up to a settled cursor, rebuilt by a job.

Built per request, the full list (`GET /api/v1/revocations`, no `since`) reads every event the registry ever
recorded: 3.3 s at 1,000,000 (docs/benchmarks.md, "Revocation list size"), on the database the desks verify
against. The job (`flask --app webapp keys revocation-snapshot`, and the end of every mass reissue) writes
the digests up to a cursor into one row; the list is then that row and the few events after its cursor, and
publication signs the same bytes it would have built from every event (webapp/registry/keys/publication.py).

The cursor must be settled: no event at or below it may still be uncommitted, or the snapshot would leave it
out for good. Ids come from a sequence when a row is inserted, and transactions commit in any order, so on
PostgreSQL the job reads the newest id under a SHARE lock on revocation_events, which waits for every
transaction that inserted into it and holds new ones back for that one read. SQLite writes one transaction at
a time.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select, text

from policy_codes.published_lists import HEADINGS
from webapp.db.published_reads import ReadSession
from webapp.db.transactions import atomic
from webapp.extensions import db
from webapp.models import Job, JobKind, RevocationEvent, RevocationSnapshot
from webapp.registry import clock, job_queue

#: Digests under each heading, in event order.
Listed = dict[str, bytearray]


def listed_up_to(session: ReadSession, since: int, cursor: int) -> Listed:
    """The digests of the events after `since` up to `cursor`: from the newest snapshot when `since` is 0,
    so only the events after the snapshot are read."""
    snapshot = _newest(session, cursor) if since == 0 else None
    listed = {heading: bytearray(getattr(snapshot, heading) if snapshot else b"") for heading in HEADINGS}
    query = (
        select(RevocationEvent.digest, RevocationEvent.status)
        .where(RevocationEvent.id > (snapshot.cursor if snapshot else since), RevocationEvent.id <= cursor)
        .order_by(RevocationEvent.id)
    )
    for digest, status in session.execute(query).yield_per(10_000):
        listed[status].extend(digest)
    return listed


def _newest(session: ReadSession, cursor: int) -> RevocationSnapshot | None:
    return session.scalar(
        select(RevocationSnapshot)
        .where(RevocationSnapshot.cursor <= cursor)
        .order_by(RevocationSnapshot.cursor.desc())
        .limit(1)
    )


def start(actor: str) -> Job:
    """Rebuild the snapshot as a job: on the queue when there is one, else here and now."""
    return job_queue.start(JobKind.REVOCATION_SNAPSHOT, "", actor, run_job, _work)


def run_job(job_id: int) -> None:
    """What an RQ worker runs (webapp/cli/worker.py)."""
    job_queue.execute(job_id, _work, 0)


def _work(_job: Job, _processes: int, _report: job_queue.Progress | None) -> dict[str, int]:
    return {"cursor": rebuild()}


def rebuild() -> int:
    """Write a snapshot up to the newest settled event, from the previous snapshot and the events after it,
    and drop the older ones. Returns its cursor."""
    return _write(_settled_cursor())


@atomic
def _settled_cursor() -> int:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("LOCK TABLE revocation_events IN SHARE MODE"))
    return db.session.scalar(select(func.max(RevocationEvent.id))) or 0


@atomic
def _write(cursor: int) -> int:
    newest = _newest(db.session, cursor)
    if cursor == 0 or (newest is not None and newest.cursor == cursor):
        return cursor
    listed = listed_up_to(db.session, 0, cursor)
    db.session.add(
        RevocationSnapshot(
            cursor=cursor, built_at=clock.now(), **{heading: bytes(listed[heading]) for heading in HEADINGS}
        )
    )
    db.session.execute(delete(RevocationSnapshot).where(RevocationSnapshot.cursor < cursor))
    return cursor
