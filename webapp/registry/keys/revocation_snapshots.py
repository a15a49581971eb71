"""The revocation list's snapshot: every digest up to a settled cursor, rebuilt by a job.

Built per request, the full list (`GET /api/v1/revocations`, no `since`) reads every event the registry ever
recorded: 3.3 s at 1,000,000 (docs/benchmarks.md, "Revocation list size"), on the database the desks verify
against. The job (`flask --app webapp keys revocation-snapshot`, and the end of every mass reissue) writes
the digests up to a cursor into one row; the list is then that row and the few events after its cursor, and
publication signs the same bytes it would have built from every event (webapp/registry/keys/publication.py).

The cursor is the newest event's id: every smaller id that will ever commit has committed by then, as events
are committed in the order of their ids (webapp/db/commit_order.py), so the snapshot leaves none out.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select

from policy_codes.published_lists import HEADINGS
from webapp.db import bulk
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
    # Not streamed: a replica's reads run in autocommit, where PostgreSQL keeps no server-side cursor.
    for digest, status in bulk.read_rows(query, session):
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
    """What an RQ worker runs (webapp/cli/jobs.py)."""
    job_queue.execute(job_id, _work, 0)


def _work(_job: Job, _processes: int, _report: job_queue.Progress | None) -> dict[str, int]:
    return {"cursor": rebuild()}


@atomic
def rebuild() -> int:
    """Write a snapshot up to the newest event, from the previous snapshot and the events after it, and drop
    the older ones. Returns its cursor."""
    cursor = db.session.scalar(select(func.max(RevocationEvent.id))) or 0
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
