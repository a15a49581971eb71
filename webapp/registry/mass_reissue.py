"""Reissuing everything a compromised key signed: a job (webapp/registry/job_queue.py), in batches.

The operator's request marks the key compromised and gives its owner a new key in one transaction
(`rotation.distrust`), then starts the job: on the queue's workers when one is configured, else at once
in the process that asked.

Each batch is one transaction: it locks the persons holding the next codes still current under the key,
signs their new codes (in parallel processes, webapp/registry/signing_pool.py), supersedes the old ones
with their revocation events, writes the new ones, the audit entry and the job's progress, and commits.
A code left current is one no batch committed: a killed run is simply run again and reissues each code
exactly once. A person whose policy is not in force (suspended, terminated, ended, or none) gets no new
code: theirs is revoked, as `lifecycle._renew_code` does for one person.

Progress is read from the database: the codes still current under the key, against those that left the
current state since the key was compromised.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import aliased

from policy_codes import FullName, encode
from policy_codes.revocation import digest_of_text
from signing import KeyStatus, SigningKey
from webapp.db import bulk, commit_order
from webapp.db.transactions import atomic
from webapp.extensions import db
from webapp.models import (
    CodeStatus,
    Insurer,
    IssuedCode,
    Job,
    JobKind,
    JobState,
    Person,
    Policy,
    PolicyKind,
    PolicyStatus,
    RevocationEvent,
    SigningKeyRecord,
)
from webapp.registry import audit, clock, job_queue, lifecycle, reasons, signing_pool
from webapp.registry.codes import make_claims
from webapp.registry.errors import N_, RegistryError
from webapp.registry.keys import keystore, revocation_snapshots, rotation
from webapp.registry.rules import in_force

#: Codes per batch: one transaction, one audit entry, one step of the progress bar.
BATCH_SIZE = 5000


#: Why a reissue stops when the key it signs with is compromised in turn, or retired by a rotation, while it runs.
SIGNING_KEY_CHANGED = N_(
    "Ключ, которым шёл перевыпуск, сменился: отозван или заменён новым. Продолжите перевыпуск: оставшиеся коды "
    "подпишет действующий ключ"
)


@dataclass(frozen=True)
class Progress:
    kid: str
    done: int
    remaining: int
    #: The reissue's job, if one was started: queued, running, finished or failed.
    state: str | None = None
    running: bool = False
    #: Why the last run stopped early, in words for the operator.
    failure: str | None = None
    #: Queued where no job worker listens (webapp/registry/job_queue.py `unattended`).
    unattended: bool = False

    @property
    def total(self) -> int:
        """The codes the key had current when it was compromised."""
        return self.done + self.remaining

    @property
    def percent(self) -> int:
        return 100 if self.total == 0 else self.done * 100 // self.total

    @property
    def queued(self) -> bool:
        return self.running and self.state == JobState.QUEUED

    @property
    def finished(self) -> bool:
        return self.remaining == 0 and not self.running

    @property
    def interrupted(self) -> bool:
        """Codes are left and nothing works on them: the run died or was never started."""
        return self.remaining > 0 and not self.running


def progress(record: SigningKeyRecord) -> Progress:
    """How far the reissue after this key's compromise has come, from the database."""
    current = select(func.count(IssuedCode.id)).where(IssuedCode.kid == record.kid)
    remaining = db.session.scalar(current.where(IssuedCode.status == CodeStatus.CURRENT)) or 0
    # Batches stamp whole seconds; the compromise keeps its microseconds.
    since = record.changed_at.replace(microsecond=0)
    done = (
        db.session.scalar(current.where(IssuedCode.status != CodeStatus.CURRENT, IssuedCode.status_changed_at >= since))
        or 0
    )
    job = job_queue.latest(JobKind.MASS_REISSUE, record.kid)
    running = job is not None and job_queue.alive(job)
    failure = job.failure if job is not None and job.state == JobState.FAILED else None
    unattended = job is not None and running and job_queue.unattended(job)
    return Progress(record.kid, done, remaining, job.state if job else None, running, failure, unattended)


def compromise(kid: str, actor: str, processes: int = 1, progress: job_queue.Progress | None = None) -> Job:
    """Distrust the key and give its owner a new key now; then reissue its codes as a job."""
    record, _successor = rotation.distrust(kid, actor)
    return _start(record.kid, actor, processes, progress)


def resume(kid: str, actor: str, processes: int = 1, progress: job_queue.Progress | None = None) -> Job | None:
    """Start the reissue again after an interrupted run. None when one is already queued or running."""
    record = keystore.record_for(kid)
    if record.status != KeyStatus.COMPROMISED:
        raise RegistryError(N_("Ключ %(kid)s не скомпрометирован: перевыпускать нечего"), kid=record.kid)
    latest = job_queue.latest(JobKind.MASS_REISSUE, record.kid)
    if latest is not None and job_queue.alive(latest):
        return None
    return _start(record.kid, actor, processes, progress)


def _start(kid: str, actor: str, processes: int, progress: job_queue.Progress | None) -> Job:
    return job_queue.start(
        JobKind.MASS_REISSUE, kid, actor, run_job, _work, processes_here=processes, progress=progress
    )


def run_job(job_id: int) -> None:
    """What an RQ worker runs (webapp/cli/jobs.py)."""
    job_queue.execute(job_id, _work, signing_pool.processes())


def unfinished() -> list[Progress]:
    """The reissues after a compromise that still have codes to go."""
    states = [progress(record) for record in keystore.compromised_keys()]
    return [state for state in states if not state.finished]


def _work(job: Job, processes: int, report: job_queue.Progress | None) -> dict[str, Any]:
    """Pass over the codes current under the key, in batches by id: while one batch is written, the signing
    processes sign the next. Passes repeat until one finds nothing to do."""
    kid, job_id, actor = job.subject, job.id, job.actor
    size = current_app.config.get("REISSUE_BATCH_SIZE", BATCH_SIZE)
    state = progress(keystore.record_for(kid))
    done, total = state.done, state.total
    keys = _signing_keys(kid)
    db.session.rollback()
    reissued, previous = 0, -1
    with signing_pool.SigningPool({"keys": keys}, processes) as pool:
        while reissued > previous:
            previous = reissued
            batch = _prepare(kid, 0, size, pool)
            while batch is not None:
                following = _prepare(kid, batch.rows[-1][0], size, pool)
                reissued += _commit(batch, kid, actor, job_id, keys, pool, done + reissued, total)
                if report:
                    report(done + reissued, total)
                batch = following
    if reissued:
        bulk.refresh_statistics(IssuedCode.__table__, RevocationEvent.__table__)
    revocation_snapshots.rebuild()  # the withdrawn codes in the full list at once, not in a delta read per request
    return {"codes": reissued}


def _signing_keys(kid: str) -> dict[str, SigningKey]:
    """The signing keys of the insurers whose policies hold codes under the key: its owner, as a rule."""
    owners = db.session.scalars(
        select(Insurer.code)
        .distinct()
        .join(Policy, Policy.insurer_id == Insurer.id)
        .join(IssuedCode, IssuedCode.policy_id == Policy.id)
        .where(IssuedCode.kid == kid, IssuedCode.status == CodeStatus.CURRENT)
    ).all()
    moment = clock.now()
    return {owner: keystore.signing_key(owner, moment) for owner in owners}


#: One code to replace, as the signing processes take it: the old code's text, and the claims of its successor as
#: plain values (the kind as its string), or None when the holder's policy is not in force and the code is revoked
#: without one. Plain tuples: a batch is pickled to the processes in this process, and that is its cost.
_Due = tuple[str, tuple[Any, ...] | None]


def _sign(items: list[_Due]) -> list[tuple[bytes, str | None]]:
    """In a signing worker: each old code's revocation digest, and its successor's text."""
    keys = signing_pool.shared("keys")
    signed = []
    for old_text, values in items:
        text = None
        if values is not None:
            (enp, surname, given, patronymic, born, sex, insurer, kind, start, end, serial, at) = values
            claims = make_claims(
                enp, FullName(surname, given, patronymic), born, sex, insurer, PolicyKind(kind), start, end, serial, at
            )
            text = encode(claims, keys[insurer])
        signed.append((digest_of_text(old_text), text))
    return signed


_OTHER = aliased(IssuedCode)
_LAST_SERIAL = (
    select(func.max(_OTHER.serial))
    .where(_OTHER.person_id == IssuedCode.person_id)
    .correlate(IssuedCode)
    .scalar_subquery()
)
#: What a code's successor is made of: the code, its holder, and the holder's open policy and its insurer.
_ROWS = (
    select(
        IssuedCode.id,
        IssuedCode.text,
        IssuedCode.person_id,
        _LAST_SERIAL,
        Person.enp,
        Person.surname,
        Person.given_name,
        Person.patronymic,
        Person.birth_date,
        Person.sex,
        Policy.id,
        Policy.kind,
        Policy.status,
        Policy.valid_from,
        Policy.valid_to,
        Insurer.code,
        IssuedCode.region_code,
    )
    .join(Person, and_(Person.id == IssuedCode.person_id, Person.region_code == IssuedCode.region_code))
    .outerjoin(
        Policy,
        and_(
            Policy.person_id == Person.id,
            Policy.region_code == Person.region_code,
            Policy.status != PolicyStatus.CLOSED,
        ),
    )
    .outerjoin(Insurer, Insurer.id == Policy.insurer_id)
    .where(IssuedCode.status == CodeStatus.CURRENT)
)


@dataclass
class _Batch:
    """Codes read without a lock, and their successors being signed meanwhile."""

    rows: list[Any]
    moment: datetime
    signed: signing_pool.Pending


def _prepare(kid: str, after: int, size: int, pool: signing_pool.SigningPool) -> _Batch | None:
    """Read the next `size` codes current under the key after id `after`, and start signing their successors."""
    moment = clock.now()
    rows = bulk.read_rows(_ROWS.where(IssuedCode.kid == kid, IssuedCode.id > after).order_by(IssuedCode.id).limit(size))
    db.session.rollback()  # no transaction held while they are signed
    if not rows:
        return None
    today = clock.today_in_moscow(moment)
    return _Batch(rows, moment, pool.map_async(_sign, [_due(row, today, moment) for row in rows]))


@atomic
def _commit(
    batch: _Batch,
    kid: str,
    actor: str,
    job_id: int,
    keys: dict[str, SigningKey],
    pool: signing_pool.SigningPool,
    done: int,
    total: int,
) -> int:
    """Write a signed batch in one transaction: only its codes still current under the key, each signed from
    what the registry holds now, under the holders' locks. How many codes it replaced."""
    holders = [row[2] for row in batch.rows]
    # The batch's regions (one, as a rule: a key is one insurer's), so each read and write below touches
    # their partitions only on PostgreSQL (docs/scaling.md).
    regions = sorted({row[16] for row in batch.rows})
    # Whoever else changes these persons (a reissue, a transfer) waits for this batch, and this batch for them.
    db.session.execute(
        select(Person.id)
        .where(Person.region_code.in_(regions), bulk.among(Person.id, holders))
        .order_by(Person.id)
        .with_for_update()
    )
    current = _ROWS.where(
        IssuedCode.region_code.in_(regions), bulk.among(IssuedCode.person_id, holders), IssuedCode.kid == kid
    )
    now = {row[0]: row for row in bulk.read_rows(current)}
    today = clock.today_in_moscow(batch.moment)
    rows, signed = [], []
    for row, result in zip(batch.rows, batch.signed.get(), strict=True):
        fresh = now.get(row[0])
        if fresh is None:
            continue  # another run replaced it meanwhile
        if tuple(fresh) != tuple(row):  # changed since it was read (a correction, a suspension): sign it again
            result = pool.here(_sign, [_due(fresh, today, batch.moment)])[0]
        rows.append(fresh)
        signed.append(result)
    if not rows:
        return 0
    # Each batch's codes say they were signed when it was: by a key no longer active (compromised, or retired by a
    # rotation since the reissue began) they would read `key_compromised` or `forged`.
    if keystore.key_statuses({key.kid.hex() for key in keys.values()}) != {KeyStatus.ACTIVE}:
        raise RegistryError(SIGNING_KEY_CHANGED)
    _write(rows, signed, kid, keys, batch.moment)
    audit.record(actor, "mass_reissue", "key", kid, reasons.KEY_COMPROMISED, {"codes": len(rows)}, at=batch.moment)
    job_queue.advance(job_id, done + len(rows), total)
    return len(rows)


def _due(row: Any, today: date, moment: datetime) -> _Due:
    (_code, old_text, _person, last_serial, enp, surname, given, patronymic, born, sex) = row[:10]
    (policy_id, kind, status, start, end, insurer) = row[10:16]
    if policy_id is None or not in_force(PolicyStatus(status), end, today):
        return (old_text, None)
    return (old_text, (enp, surname, given, patronymic, born, sex, insurer, kind, start, end, last_serial + 1, moment))


_CODE_COLUMNS = ("person_id", "policy_id", "region_code", *lifecycle.code_fields(0, "", "", clock.now()).keys())
_EVENT_COLUMNS = ("code_id", "digest", "status", "region_code", "at")


def _write(
    rows: list[Any], signed: list[tuple[bytes, str | None]], kid: str, keys: dict[str, SigningKey], moment: datetime
) -> None:
    """Withdraw the old codes (superseded, or revoked with no successor), list them, and write the new ones."""
    reason = reasons.KEY_COMPROMISED_KID % {"kid": kid}
    outcome: dict[CodeStatus, list[int]] = {CodeStatus.SUPERSEDED: [], CodeStatus.REVOKED: []}
    events, codes = [], []
    for row, (digest, text) in zip(rows, signed, strict=True):
        status = CodeStatus.SUPERSEDED if text is not None else CodeStatus.REVOKED
        outcome[status].append(row[0])
        events.append((row[0], digest, str(status), row[16]))
        if text is not None:
            fields = lifecycle.code_fields(row[3] + 1, keys[row[15]].kid.hex(), text, moment)
            codes.append((row[2], row[10], row[16], *fields.values()))
    regions = sorted({row[16] for row in rows})
    for status, ids in outcome.items():
        if ids:
            db.session.execute(
                update(IssuedCode.__table__)
                .where(IssuedCode.__table__.c.region_code.in_(regions), bulk.among(IssuedCode.__table__.c.id, ids))
                .values(status=str(status), status_reason=reason, status_changed_at=moment)
            )
    listed_at = commit_order.take_turn(RevocationEvent.__table__.c.at, moment)
    bulk.insert_rows(RevocationEvent.__table__, _EVENT_COLUMNS, [(*event, listed_at) for event in events])
    bulk.insert_rows(IssuedCode.__table__, _CODE_COLUMNS, codes)
