"""Long operations as jobs: on Redis with RQ when JOB_QUEUE_URL is set, else in the process that starts them.

A mass reissue after a key compromise and an import over IMPORT_JOB_THRESHOLD lines are jobs. Each has a
row in `jobs` (webapp/models/jobs.py): its state, and its progress, moved by every batch in the batch's
own transaction. Pages and commands read progress from there, whichever process does the work.

- With a queue, the job goes to RQ and a worker (`flask --app webapp worker`, webapp/cli/worker.py) runs
  it. A worker killed mid-job leaves it in RQ's registry of started jobs; when its heartbeat runs out, the
  next worker's maintenance puts it back on the queue (RQ's `Retry`), and the job carries on from what
  the database says is left: its batches are idempotent, each committed whole.
- Without one (`make run`: SQLite, no Redis), the job runs at once, in the process that started it: a
  command runs it with its signing processes, a page in the request itself, without any (a web
  worker starts no thread and no process).
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import redis
import rq
from flask import current_app
from sqlalchemy import select, update

from webapp.db.transactions import atomic
from webapp.extensions import db
from webapp.models import Job, JobKind, JobState
from webapp.registry import clock
from webapp.registry.errors import N_, NotFound, RegistryError

log = logging.getLogger(__name__)

#: Called with (done, total) as batches commit, for a progress bar in the process running the job.
Progress = Callable[[int, int], None]
#: A job's work: it gets the job's row (read-only: it moves progress through `advance`), the number of
#: signing processes it may start, and a progress callback; it returns what the job came to.
Work = Callable[[Job, int, Progress | None], dict[str, Any] | None]

#: States in which a job is still to run or running.
UNFINISHED = (JobState.QUEUED, JobState.RUNNING)
#: How long a job may run before RQ stops it: a reissue of millions of codes takes minutes, not a day.
JOB_TIMEOUT = int(timedelta(hours=24).total_seconds())
#: How often RQ puts a job back on the queue after its worker died in it (or it failed unexpectedly).
RETRIES = 10


def configured() -> bool:
    return bool(current_app.config.get("JOB_QUEUE_URL"))


def queue() -> rq.Queue:
    """The configured RQ queue; a clear refusal when there is none."""
    url = current_app.config.get("JOB_QUEUE_URL")
    if not url:
        raise RegistryError(N_("Очередь заданий не настроена: задайте JOB_QUEUE_URL (redis://…)"))
    return rq.Queue(current_app.config.get("JOB_QUEUE_NAME", "oms"), connection=redis.Redis.from_url(url))


@atomic
def _create(kind: JobKind, subject: str, actor: str, total: int, scope: str | None, payload: bytes | None) -> int:
    moment = clock.now()
    job = Job(
        kind=str(kind),
        subject=subject,
        state=str(JobState.QUEUED),
        actor=actor,
        scope=scope,
        total=total,
        payload=zlib.compress(payload, 1) if payload is not None else None,
        created_at=moment,
        heartbeat_at=moment,
    )
    db.session.add(job)
    db.session.flush()
    return job.id


def start(
    kind: JobKind,
    subject: str,
    actor: str,
    entry: Callable[[int], None],
    work: Work,
    *,
    total: int = 0,
    scope: str | None = None,
    payload: bytes | None = None,
    processes_here: int = 1,
    progress: Progress | None = None,
) -> Job:
    """Record a job and hand it to the queue, or, with none configured, run it here and now.

    `entry(job_id)` is what an RQ worker calls (a module-level function, found by its name); `work` is
    what runs here without a queue, with `processes_here` signing processes.
    """
    job_id = _create(kind, subject, actor, total, scope, payload)
    if configured():
        queue().enqueue(
            entry,
            job_id,
            job_timeout=JOB_TIMEOUT,
            retry=rq.Retry(max=RETRIES),
            description=f"{kind} #{job_id}",
        )
    else:
        execute(job_id, work, processes_here, progress, in_worker=False)
    return get(job_id)


def execute(
    job_id: int, work: Work, processes: int, progress: Progress | None = None, *, in_worker: bool = True
) -> None:
    """Run the job's work, keeping its state: running, then finished or failed with the reason.

    A refusal by the rules (a `RegistryError`) fails the job for good. In a worker, anything else is raised
    again for RQ, which puts the job back on the queue a few times: a lost database connection, say.
    """
    if in_worker:
        _forget_inherited_connections()
    try:
        job = _begin(job_id)
        result = work(job, processes, progress)
    except RegistryError as error:
        _end(job_id, JobState.FAILED, failure=str(error))
        return
    except Exception as error:
        # Only the type goes to the log: a message might name a person.
        log.error("job %d stopped: %s", job_id, type(error).__name__)
        _end(job_id, JobState.FAILED, failure=type(error).__name__)
        if in_worker:
            raise
        return
    finally:
        if in_worker:
            db.session.remove()
    _end(job_id, JobState.FINISHED, result=result)


def _forget_inherited_connections() -> None:
    """An RQ worker forks a process for each job: connections its parent pooled are not this process's to use."""
    for engine in db.engines.values():
        engine.dispose(close=False)


@atomic
def _begin(job_id: int) -> Job:
    job = db.session.get(Job, job_id)
    if job is None:
        raise NotFound(N_("Задание не найдено"))
    job.state = str(JobState.RUNNING)
    job.failure = ""
    job.heartbeat_at = clock.now()
    return job


@atomic
def _end(job_id: int, state: JobState, result: dict[str, Any] | None = None, failure: str = "") -> None:
    values: dict[str, Any] = {"state": str(state), "failure": failure[:500], "heartbeat_at": clock.now()}
    if result is not None:
        values["result"] = result
    if state is JobState.FINISHED:
        values["payload"] = None  # an import's file is personal data: kept no longer than needed
    db.session.execute(update(Job).where(Job.id == job_id).values(**values))


def advance(job_id: int, done: int, total: int | None = None) -> None:
    """Record the job's progress in the current transaction: the batch that made it commits it."""
    values: dict[str, Any] = {"done": done, "heartbeat_at": clock.now()}
    if total is not None:
        values["total"] = total
    db.session.execute(update(Job).where(Job.id == job_id).values(**values))


def payload(job: Job) -> bytes:
    if job.payload is None:
        raise RegistryError(N_("У задания нет данных: оно уже выполнено"))
    return zlib.decompress(job.payload)


def get(job_id: int, scope: str | None = None) -> Job:
    """The job, read afresh; an insurer's staff see only their insurer's jobs (others: NotFound)."""
    job = db.session.get(Job, job_id, populate_existing=True)
    if job is None or (scope is not None and job.scope != scope):
        raise NotFound(N_("Задание не найдено"))
    return job


def stale_after() -> timedelta:
    return timedelta(seconds=current_app.config.get("JOB_STALE_SECONDS", 300))


def alive(job: Job, now: datetime | None = None) -> bool:
    """Queued, or running with a batch committed lately. A running job silent for longer is taken for dead:
    RQ gives it to another worker, and pages offer to start it again."""
    if job.state == JobState.QUEUED:
        return True
    return job.state == JobState.RUNNING and clock.now(now) - job.heartbeat_at < stale_after()


def latest(kind: JobKind, subject: str) -> Job | None:
    return db.session.scalar(
        select(Job).where(Job.kind == str(kind), Job.subject == subject).order_by(Job.id.desc()).limit(1)
    )


def watch(job_id: int, interval: float = 0.5) -> Iterator[Job]:
    """The job as it moves, read afresh every `interval` seconds, until it has finished or failed."""
    while True:
        db.session.rollback()  # a new snapshot: SQLite's reader would keep seeing the old one
        job = get(job_id)
        yield job
        if job.state not in UNFINISHED:
            return
        time.sleep(interval)
