"""Long operations as jobs: on Redis with RQ when JOB_QUEUE_URL is set, else in the process that starts them.

A mass reissue after a key compromise and an import over IMPORT_JOB_THRESHOLD lines are jobs. Each has a
row in `jobs` (webapp/models/jobs.py): its state, and its progress, moved by every batch in the batch's
own transaction. Pages and commands read progress from there, whichever process does the work.

- With a queue, the job goes to RQ and a worker (`flask --app webapp worker`, webapp/cli/jobs.py) runs
  it. A worker killed mid-job leaves it in RQ's registry of started jobs; when its heartbeat runs out, the
  next worker's maintenance puts it back on the queue (RQ's `Retry`), and the job carries on from what
  the database says is left: its batches are idempotent, each committed whole. A worker whose job's own
  process (RQ's work horse) is killed, by the kernel's out-of-memory killer say, puts it back at once. Each
  time the job's row says it is queued again; once RQ has no more tries it fails, and its file goes.
- A job the queue cannot take (Redis down) fails at once, saying so, and keeps no file: it can be started
  again. One the queue has lost (Redis restarted without its data) is not taken for queued: pages stop
  waiting for it and offer to start it again, and once it has been missing longer than a hand-over takes,
  the first to find it so fails it, dropping its file (`alive`).
- Without one (`make run`: SQLite, no Redis), the job runs at once, in the process that started it: a
  command runs it with its signing processes, a page in the request itself, without any (a web
  worker starts no thread and no process).
"""

from __future__ import annotations

import functools
import gc
import logging
import time
import traceback
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import redis
import rq
from flask import current_app
from rq.exceptions import AbandonedJobError
from rq.job import JobStatus
from sqlalchemy import select, update

from webapp.db.transactions import atomic
from webapp.extensions import db
from webapp.models import Job, JobKind, JobState
from webapp.registry import audit, clock
from webapp.registry.errors import N_, NotFound, QueueUnavailable, RegistryError

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
#: How long a page or command waits for the queue's Redis to connect or answer before saying it is down.
WAIT_SECONDS = 5
#: Why a job stopped on a failure that is not the rules' (a lost database, say): the log names the error's type.
UNEXPECTED_FAILURE = N_("Сбой при выполнении задания: подробности в журнале сервера")
#: Why a job run here, in a command, stopped when the command was interrupted (Ctrl-C): its row would
#: otherwise say running, keep an import's file, and hold a resumed reissue off as «already running».
INTERRUPTED = N_("Задание прервано вместе с командой: запустите его снова, сделанное не повторится")
#: Why a job stopped that the queue no longer holds (its Redis restarted without its data, say), so that nothing
#: will run it. The page says what to do next: upload the file again, or carry the reissue on.
LOST_BY_THE_QUEUE = N_("Очередь заданий потеряла задание после сбоя на сервере: само оно уже не выполнится")
#: How long a queued job may be missing from RQ before it is taken for lost: longer than `start` takes to hand it
#: over (WAIT_SECONDS at most), and than RQ takes to put a job whose worker died back on the queue.
HANDOVER = timedelta(minutes=1)


class JobStopped(Exception):
    """What RQ is given when a job stops on an unexpected error: the error's class, nothing of its message. RQ
    logs what a job raises, with its traceback, and keeps it in Redis; a database error quotes the rows it
    refused (SQLAlchemy's parameters, PostgreSQL's COPY context): names, ЕНП, birth dates."""


#: RQ's states of a job it will still run.
_ON_THE_QUEUE = frozenset({JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED})


def configured() -> bool:
    return bool(current_app.config.get("JOB_QUEUE_URL"))


def queue(for_worker: bool = False) -> rq.Queue:
    """The configured RQ queue; a clear refusal when there is none. A page or command waits WAIT_SECONDS at most
    for Redis to connect or answer; a worker's connection waits on, as it blocks on the queue for jobs."""
    url = current_app.config.get("JOB_QUEUE_URL")
    if not url:
        raise RegistryError(N_("Очередь заданий не настроена: задайте JOB_QUEUE_URL (redis://…)"))
    return rq.Queue(current_app.config.get("JOB_QUEUE_NAME", "oms"), connection=_redis(url, for_worker))


@functools.lru_cache(maxsize=8)
def _redis(url: str, for_worker: bool) -> redis.Redis:
    """One client (and its pool of connections) per process for each queue URL: a page polling a job asks RQ twice
    every two seconds, and a client of its own each time opened a connection each time. redis-py's pool starts
    afresh in a forked process (RQ's work horse)."""
    timeout = None if for_worker else WAIT_SECONDS
    return redis.Redis.from_url(url, socket_connect_timeout=WAIT_SECONDS, socket_timeout=timeout)


def rq_id(job_id: int) -> str:
    """The job's id on the queue: the queue's name with the row's id, so two registries sharing a Redis under
    two queue names never take each other's job for their own."""
    return f"{current_app.config.get('JOB_QUEUE_NAME', 'oms')}-{job_id}"


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
        _enqueue(entry, job_id, kind)
    else:
        execute(job_id, work, processes_here, progress, in_worker=False)
    return get(job_id)


def _enqueue(entry: Callable[[int], None], job_id: int, kind: JobKind) -> None:
    """Hand the recorded job to RQ; if Redis does not take it, fail the job (dropping its file) and say so."""
    try:
        queue().enqueue(
            entry,
            job_id,
            job_id=rq_id(job_id),
            job_timeout=JOB_TIMEOUT,
            retry=rq.Retry(max=RETRIES),
            on_failure=rq.Callback(on_failure),
            description=f"{kind} #{job_id}",
        )
    except redis.RedisError as error:
        log.error("job %d not queued: %s", job_id, type(error).__name__)
        failure = N_("Очередь заданий недоступна: задание не начато. Запустите его снова, когда очередь заработает")
        _end(job_id, JobState.FAILED, failure=failure, drop_file=True)
        raise QueueUnavailable(failure) from error


def execute(
    job_id: int, work: Work, processes: int, progress: Progress | None = None, *, in_worker: bool = True
) -> None:
    """Run the job's work, keeping its state: running, then finished or failed with the reason.

    A refusal by the rules (a `RegistryError`) fails the job for good. In a worker, anything else is raised
    again for RQ, which puts the job back on the queue a few times (a lost database connection, say): the job
    is queued again meanwhile, and fails, dropping its file, once RQ has no more tries for it.
    """
    if in_worker:
        _forget_inherited_connections()
    try:
        job = _begin(job_id)
        result = work(job, processes, progress)
    except RegistryError as error:  # for good: an import's file goes, as the page asks for it again
        _end(job_id, JobState.FAILED, failure=str(error), drop_file=True)
        return
    except audit.OtherAuditKey:  # the operator's setting: its submitter is told in plain words, the operator here
        log.error("job %d stopped: AUDIT_KEY is not the audit log's (check: flask --app webapp audit verify)", job_id)
        _end(job_id, JobState.FAILED, failure=audit.NOT_SAVED, drop_file=True)
        if not in_worker:  # a command says why, a page says it as the service's (webapp/web/errors.py)
            raise
        return
    except Exception as error:
        # Only the type goes to the log: a message might name a person.
        log.error("job %d stopped: %s", job_id, type(error).__name__)
        again = in_worker and _tried_again()
        _end(job_id, JobState.QUEUED if again else JobState.FAILED, failure=UNEXPECTED_FAILURE, drop_file=not again)
        if in_worker:  # for RQ, which runs it again from its row's file if it has tries left
            raise JobStopped(type(error).__name__) from None
        return
    except BaseException as interrupt:  # Ctrl-C (KeyboardInterrupt) in the command running it here
        if not in_worker:  # a worker's own stop is RQ's to handle (its job goes back on the queue)
            _end_interrupted(job_id, interrupt)
        raise
    finally:
        if in_worker:
            db.session.remove()
    _end(job_id, JobState.FINISHED, result=result)


def _end_interrupted(job_id: int, interrupt: BaseException) -> None:
    """Fail a job whose command was interrupted, on fresh connections. The statement the interrupt broke off holds
    SQLite's write lock for as long as its cursor lives, and the interrupt's traceback keeps it alive: its finished
    frames are cleared first. If the row still cannot be written, the interrupt ends the command all the same
    (the row then reads as running until JOB_STALE_SECONDS have passed, as a dead worker's does)."""
    traceback.clear_frames(interrupt.__traceback__)
    gc.collect()
    db.session.remove()
    for engine in db.engines.values():
        engine.dispose()
    try:
        _end(job_id, JobState.FAILED, failure=INTERRUPTED, drop_file=True)
    except Exception as error:  # the interrupt is what the command reports
        log.error("job %d: interrupted, and not marked failed: %s", job_id, type(error).__name__)


def on_failure(rq_job: rq.job.Job, connection: Any, error_type: type, error: BaseException, traceback: Any) -> None:
    """RQ's failure callback of every job. `execute` records each failure in the job's own process; only a
    worker found dead with the job (RQ's AbandonedJobError, in the next worker's maintenance) is left to here."""
    if issubclass(error_type, AbandonedJobError):
        _process_died(rq_job)


def on_work_horse_killed(rq_job: rq.job.Job, pid: int, status: int, usage: Any) -> None:
    """RQ's handler, in a worker, for its job's own process killed under it (the kernel's out-of-memory killer,
    say): the worker lives on to see it, and RQ queues the job again if it has tries left."""
    _process_died(rq_job)


def _process_died(rq_job: rq.job.Job) -> None:
    """The process running a job died without a word (killed), so its row still says running: queued again while
    RQ has tries left, else failed, dropping its file."""
    job_id = int(rq_job.args[0])
    again = rq_job.should_retry
    log.error("job %d: the process running it died; %s", job_id, "queued again" if again else "no tries left")
    _end(job_id, JobState.QUEUED if again else JobState.FAILED, failure=UNEXPECTED_FAILURE, drop_file=not again)


def _tried_again() -> bool:
    """Whether RQ puts the job this worker runs back on the queue when it fails now: it has tries left."""
    current = rq.get_current_job()
    return current is not None and current.should_retry


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
def _end(
    job_id: int, state: JobState, result: dict[str, Any] | None = None, failure: str = "", drop_file: bool = False
) -> None:
    """The job's new state, if it has not ended already: a worker's death is reported by RQ after the fact."""
    values: dict[str, Any] = {"state": str(state), "failure": failure[:500], "heartbeat_at": clock.now()}
    if result is not None:
        values["result"] = result
    if state is JobState.FINISHED or drop_file:
        values["payload"] = None  # an import's file is personal data: kept no longer than needed
    db.session.execute(update(Job).where(Job.id == job_id, Job.state.in_(UNFINISHED)).values(**values))


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
    """Queued (with a queue: still held by RQ), or running with a batch committed lately. A running job silent for
    longer is taken for dead: RQ gives it to another worker, and pages offer to start it again.

    A job RQ does not hold (Redis restarted without its data), queued for longer than a hand-over to RQ takes or
    running silent, will never run: it is failed here, where it is found, saying so, and its file goes."""
    moment = clock.now(now)
    if job.state not in UNFINISHED:
        return False
    fresh = moment - job.heartbeat_at < stale_after()
    if not configured() or (job.state == JobState.RUNNING and fresh):
        return fresh
    held = _held_by_the_queue(job)
    if held is False and moment - job.heartbeat_at > HANDOVER:
        _end(job.id, JobState.FAILED, failure=LOST_BY_THE_QUEUE, drop_file=True)
        db.session.expire(job)
    return bool(held) if job.state == JobState.QUEUED else False


def _held_by_the_queue(job: Job) -> bool | None:
    """Whether RQ still holds the job to run; None if Redis does not answer: nothing runs it meanwhile, but it may
    still be there."""
    try:
        queued = queue().fetch_job(rq_id(job.id))
        return queued is not None and queued.get_status() in _ON_THE_QUEUE
    except redis.RedisError:
        return None


def unattended(job: Job) -> bool:
    """Whether a queued job waits on a queue that no worker listens to, so that nothing will start it until one
    is started: its page says so rather than wait in silence. Unknown (Redis not answering) is not said."""
    if job.state != JobState.QUEUED or not configured():
        return False
    try:
        return rq.Worker.count(queue=queue()) == 0
    except redis.RedisError:
        return False


def latest(kind: JobKind, subject: str) -> Job | None:
    return db.session.scalar(
        select(Job).where(Job.kind == str(kind), Job.subject == subject).order_by(Job.id.desc()).limit(1)
    )


def watch(job_id: int, interval: float = 0.5) -> Iterator[Job]:
    """The job as it moves, read afresh every `interval` seconds, until it has finished or failed, or the queue
    has lost it."""
    while True:
        db.session.rollback()  # a new snapshot: SQLite's reader would keep seeing the old one
        job = get(job_id)
        yield job
        if job.state not in UNFINISHED or (job.state == JobState.QUEUED and not alive(job)):
            return
        time.sleep(interval)
