"""The append-only audit log: every change records who, when, what and why, tamper-evidently.

Who it holds out against: someone who can read and write the database (a stolen database password, a
DBA) but not the app servers' files or environment. Two things the database does not hold protect it:

- **The key.** Each entry's hash is HMAC-SHA256, under AUDIT_KEY, of its fields and the previous
  entry's hash. An edited entry no longer matches its hash, a deleted one breaks the link after it,
  and without the key nobody can compute the hashes that would hide either. AUDIT_KEY is a setting
  (webapp/config.py: from the environment, or generated once into `instance/audit_key`), the same on
  every server. It must not change: entries hashed under an old key no longer verify, and `audit
  verify` says the checkpoint was made under another key. Put the old key back: there is no rotation.
  A leaked key lets a database writer forge entries newer than the checkpoint, but not hide a change
  to one it covers, nor a cut.
- **The checkpoint** (webapp/registry/audit_checkpoint.py). The key cannot show that the newest entries were
  deleted, or that an older copy of the whole table was put back: what is left is a whole chain. So
  after every commit that appended entries, the committing process records the newest entry's id and
  hash in a file, AUDIT_CHECKPOINT (`instance/audit_checkpoint.json` unless set), under a lock. The
  checkpoint only moves forward, and only onto a log that still holds the entry it named, so a cut
  log cannot drag it back or along. A rolled-back change never moves it: entries are appended in the
  caller's transaction and the checkpoint moves after its commit. `flask audit checkpoint FILE`
  writes the same, authenticated, for the operator to keep elsewhere; `audit verify --checkpoint FILE`
  checks the log against such a copy, and against the local file otherwise. `backup restore` and
  `audit checkpoint --reset` move the local checkpoint back on purpose, onto the log as it is.

What is left uncovered: entries committed by a process killed before it wrote the checkpoint are
protected by the key but not against deletion, until the next commit moves the checkpoint past them;
several servers each keep their own file, and each checks that the log reached what it saw.

Entries written before the key (this log's first release) keep their plain SHA-256 hashes, and no
migration rewrites them. `audit verify` accepts them only at the start of the log, before the first
keyed entry, and no later than the first checkpoint says (it records the newest entry that may predate
the key, so none can be slipped in after the old ones). The first keyed entry's hash covers the last of
them, so from the first change after the upgrade they cannot be rewritten unnoticed either. Anything
done to them before the first checkpoint cannot be told: verify the log before upgrading.

Entry ids are not hashed (the database assigns them after the hash is made), so the checkpoint names
its entry by id and hash together, and moves on only while that pair is still in the log.

`prev_hash` is unique, so two writers racing for the chain's head cannot both append after it: one
fails and its transaction is retried (webapp/db/transactions.py).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import Row, event, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from webapp.extensions import db
from webapp.models import AuditEntry
from webapp.registry import audit_checkpoint as checkpoints
from webapp.registry.audit_checkpoint import Checkpoint, CheckpointError
from webapp.registry.errors import N_

GENESIS = "0" * 64
#: session.info key: the newest entry this transaction appended, for the checkpoint after its commit.
_APPENDED = "audit_appended"

log = logging.getLogger(__name__)

#: Whether an append first makes sure AUDIT_KEY is the log's own: set while a command runs (webapp/cli/group.py); a
#: server makes sure before it starts (webapp/startup.py).
#: A command run without the servers' environment generates a key of its own into its instance folder, and
#: every entry it wrote then read as changed for good (there is no rotation to repair them).
CHECK_THE_KEY: ContextVar[bool] = ContextVar("audit_check_the_key", default=False)
#: The same for every append of an app that holds it in `app.extensions`: a server's (webapp/startup.py), whose
#: database may not have answered its check at start.
CHECKS_THE_KEY = "audit_checks_the_key"
#: (database, key) pairs found to match in this process: the check reads the newest entry once.
_KEY_MATCHES: set[tuple[str, str]] = set()
OTHER_KEY = N_(
    "AUDIT_KEY не тот, которым подписан журнал аудита: изменение не записано. Задайте AUDIT_KEY серверов реестра "
    "(проверка: flask --app webapp audit verify)"
)


#: What a citizen, a clinic or an insurer is told of a change refused for OTHER_KEY (a page, a job's failure): the
#: key is the operator's to mend, and its name means nothing to them.
NOT_SAVED = N_(
    "Сервис сейчас не может сохранять изменения, ничего не записано. Попробуйте позже, а если не получится, "
    "сообщите администратору реестра"
)


class OtherAuditKey(Exception):
    """A change refused because AUDIT_KEY is not the log's: the server's setting, not the request, is at fault.

    Not a `RegistryError`, which a page catches to show beside its form: the request's page does not catch it, and
    the service's «unavailable» page says NOT_SAVED, the precise reason to the admin only (webapp/web/errors.py);
    a command prints the precise reason (webapp/cli/group.py), a job fails with NOT_SAVED (job_queue.execute)."""

    def __init__(self) -> None:
        super().__init__(OTHER_KEY)


def _settings() -> tuple[bytes, Path]:
    """AUDIT_KEY and AUDIT_CHECKPOINT of the current app."""
    config = current_app.config
    if not config.get("AUDIT_KEY") or not config.get("AUDIT_CHECKPOINT"):
        raise RuntimeError("AUDIT_KEY and AUDIT_CHECKPOINT must be configured (webapp/config.py)")
    return str(config["AUDIT_KEY"]).encode("utf-8"), Path(config["AUDIT_CHECKPOINT"])


def _canonical(
    prev_hash: str,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_key: str,
    reason: str,
    details: dict[str, Any],
) -> bytes:
    fields = {
        "prev": prev_hash,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_key": entity_key,
        "reason": reason,
        "details": details,
    }
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class _Garbled(ValueError):
    """A stored value of the wrong type, which SQLite keeps: `field` names the column."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


#: The log as the database holds it, without the ORM's conversions, which would stop at a garbled value.
_ROWS = text(
    "SELECT id, prev_hash, hash, at, actor, action, entity, entity_key, reason, details FROM audit_log ORDER BY id"
)
_TEXTS = ("prev_hash", "hash", "actor", "action", "entity", "entity_key", "reason")


def _stored_fields(row: Row[Any]) -> bytes:
    """The canonical fields of a row as read (SQLite gives text where PostgreSQL gives values)."""
    for name in _TEXTS:
        if not isinstance(getattr(row, name), str):
            raise _Garbled(name)
    at, details = row.at, row.details
    try:
        at = datetime.fromisoformat(at) if isinstance(at, str) else at
        details = json.loads(details) if isinstance(details, str) else details
    except ValueError as error:
        raise _Garbled("at" if not isinstance(at, datetime) else "details") from error
    if not isinstance(at, datetime):
        raise _Garbled("at")
    if not isinstance(details, dict):
        raise _Garbled("details")
    moment = at if at.tzinfo else at.replace(tzinfo=UTC)  # stored naive UTC (webapp/extensions.py)
    return _canonical(row.prev_hash, moment, row.actor, row.action, row.entity, row.entity_key, row.reason, details)


def keyed_hash(key: bytes, canonical: bytes) -> str:
    return hmac.new(key, canonical, hashlib.sha256).hexdigest()


def unkeyed_hash(canonical: bytes) -> str:
    """The hash of entries written before the key."""
    return hashlib.sha256(canonical).hexdigest()


def record(
    actor: str,
    action: str,
    entity: str,
    entity_key: str,
    reason: str = "",
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append an entry in the caller's transaction (it commits or rolls back with the change)."""
    key, _ = _settings()
    checking = CHECK_THE_KEY.get() or current_app.extensions.get(CHECKS_THE_KEY, False)
    if checking and not _is_the_log_key(key):
        raise OtherAuditKey
    moment = at or datetime.now(UTC)
    details = details or {}
    head = db.session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)) or GENESIS
    entry = AuditEntry(
        at=moment,
        actor=actor,
        action=action,
        entity=entity,
        entity_key=entity_key,
        reason=reason,
        details=details,
        prev_hash=head,
        hash=keyed_hash(key, _canonical(head, moment, actor, action, entity, entity_key, reason, details)),
    )
    db.session.add(entry)
    db.session.flush()
    db.session.info[_APPENDED] = (entry.id, entry.hash)
    return entry


#: How many of the newest entries the check reads: a wrong key fails them all, while an entry or two damaged at the
#: head (which `audit verify` reports) does not stop the commands.
_KEY_SAMPLE = 20
_NEWEST = text(
    "SELECT id, prev_hash, hash, at, actor, action, entity, entity_key, reason, details FROM audit_log "
    "ORDER BY id DESC LIMIT :sample"
)


def key_is_the_logs() -> bool:
    """Whether AUDIT_KEY is the log's own: a server asks before it starts (webapp/startup.py)."""
    return _is_the_log_key(_settings()[0])


def _is_the_log_key(key: bytes) -> bool:
    """False if not one of the log's newest entries is keyed under `key` (or from before the key); an empty log,
    or one whose newest entries are all garbled, is left to `audit verify`."""
    marker = (db.engine.url.render_as_string(hide_password=True), hashlib.sha256(key).hexdigest())
    if marker in _KEY_MATCHES:
        return True
    readable = []
    for row in db.session.execute(_NEWEST, {"sample": _KEY_SAMPLE}):
        try:
            readable.append((row.hash, _stored_fields(row)))
        except _Garbled:
            continue
    if readable and not any(
        stored in (keyed_hash(key, canonical), unkeyed_hash(canonical)) for stored, canonical in readable
    ):
        return False
    _KEY_MATCHES.add(marker)
    return True


@event.listens_for(db.session, "after_soft_rollback")
def _forget_appended(session: Session, _transaction: object) -> None:
    session.info.pop(_APPENDED, None)


@event.listens_for(db.session, "after_commit")
def _checkpoint_appended(session: Session) -> None:
    """Move the local checkpoint onto the entries this commit appended.

    The change is committed by now: a checkpoint that cannot be written is logged, never raised, or the
    caller would take a committed change for a failed one.
    """
    appended = session.info.pop(_APPENDED, None)
    if appended is None:
        return
    key, path = _settings()
    try:
        _advance(path, key, *appended)
    except (CheckpointError, OSError) as error:
        log.error("audit checkpoint not moved: %s", error)
    except SQLAlchemyError as error:  # only the class: a driver's message can quote personal data
        log.error("audit checkpoint not moved: the database did not answer (%s)", type(error).__name__)


def _advance(path: Path, key: bytes, entry_id: int, entry_hash: str) -> None:
    """Forward only, and only onto a log that still holds the entry the checkpoint names, where it was."""
    with checkpoints.locked(path):
        current = checkpoints.load(path, key)
        if current is not None and current.entry >= entry_id:
            return
        if current is not None and not _holds(current):
            log.error(
                "audit log: entry %s of the checkpoint is gone from the database; the checkpoint stays, "
                "run `flask audit verify`",
                current.entry,
            )
            return
        keyed_after = entry_id - 1 if current is None else current.keyed_after
        checkpoints.write(path, Checkpoint(entry_id, entry_hash, keyed_after, datetime.now(UTC)), key)


def _holds(checkpoint: Checkpoint) -> bool:
    """Whether the log still has the checkpoint's entry, under its id."""
    named = select(AuditEntry.id).where(AuditEntry.id == checkpoint.entry, AuditEntry.hash == checkpoint.hash)
    with db.engine.connect() as connection:  # the session cannot run SQL after its commit
        return connection.execute(named).first() is not None


@dataclass
class Report:
    """What `verify` found: the problems (the first `limit` of them, and how many more) and what it checked."""

    limit: int | None
    entries: int = 0
    last: int | None = None
    head: str = GENESIS
    #: The newest entry accepted as written before AUDIT_KEY, 0 if none.
    last_unkeyed: int = 0
    checkpoint: Checkpoint | None = None
    problems: list[str] = field(default_factory=list)
    unlisted: int = 0

    def add(self, problem: str) -> None:
        if self.limit is None or len(self.problems) < self.limit:
            self.problems.append(problem)
        else:
            self.unlisted += 1

    @property
    def whole(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        said = f"Журнал цел: записей {self.entries}"
        if self.checkpoint is None:
            return said
        if self.checkpoint.hash == self.head:
            return f"{said}, последняя сверена с контрольной точкой (запись {self.checkpoint.entry})"
        covered = f"сверен с контрольной точкой по запись {self.checkpoint.entry}"
        return f"{said}, {covered}; более новые она ещё не покрывает"


def verify(
    checkpoint_file: Path | None = None,
    *,
    against_checkpoint: bool = True,
    missing_ok: bool = False,
    limit: int | None = None,
) -> Report:
    """Check the link and the key of every entry, then that the log still reaches its checkpoint.

    The checkpoint is `checkpoint_file` (the operator's copy) or else the local one. A log with entries
    and no local checkpoint is a problem unless `missing_ok`; `against_checkpoint` false checks the
    chain alone (before the checkpoint is moved on purpose).
    """
    key, local = _settings()
    report = Report(limit)
    path = checkpoint_file or local
    if against_checkpoint:
        try:
            report.checkpoint = checkpoints.load(path, key)
        except CheckpointError as error:
            report.add(str(error))
    found = _walk(key, report)
    if report.checkpoint is not None:
        _compare(report, report.checkpoint, found)
    elif against_checkpoint and report.entries and not missing_ok and not path.exists():
        report.add(
            f"контрольной точки нет ({path}): не проверить, не удалены ли последние записи. "
            "Запишите её: flask --app webapp audit checkpoint FILE"
        )
    return report


def _walk(key: bytes, report: Report) -> str | None:
    """Check every entry in order; return the hash of the entry the checkpoint names, None if there is none."""
    expected_prev, keyed_seen, found = GENESIS, False, None
    wanted = report.checkpoint.entry if report.checkpoint else None
    keyed_after = report.checkpoint.keyed_after if report.checkpoint else None
    for row in db.session.execute(_ROWS.execution_options(yield_per=1000)):
        report.entries += 1
        if row.prev_hash != expected_prev:
            report.add(f"запись {row.id}: цепочка разорвана (запись перед ней удалена или изменена)")
        try:
            canonical = _stored_fields(row)
        except _Garbled as garbled:
            report.add(f"запись {row.id}: не читается (испорчено поле {garbled.field})")
        else:
            if keyed_hash(key, canonical) == row.hash:
                keyed_seen = True
            elif unkeyed_hash(canonical) == row.hash:
                if keyed_seen or (keyed_after is not None and row.id > keyed_after):
                    report.add(f"запись {row.id}: подписана не ключом журнала (хеш пересчитан без AUDIT_KEY)")
                else:
                    report.last_unkeyed = row.id
            else:
                report.add(f"запись {row.id}: содержимое изменено")
        if row.id == wanted:
            found = row.hash
        report.last, report.head = row.id, row.hash
        expected_prev = row.hash
    return found


def _compare(report: Report, checkpoint: Checkpoint, found: str | None) -> None:
    if found == checkpoint.hash:
        return
    if found is not None:
        report.add(f"запись {checkpoint.entry} не та, что в контрольной точке: журнал переписан")
    elif report.last is None:
        report.add(f"журнал короче контрольной точки: записей нет, в контрольной точке — запись {checkpoint.entry}")
    elif report.last < checkpoint.entry:
        report.add(
            f"журнал короче контрольной точки: последняя запись {report.last}, в контрольной точке {checkpoint.entry} "
            "(удалены последние записи или таблица заменена старой копией)"
        )
    else:
        report.add(f"записи {checkpoint.entry} из контрольной точки нет: записи удалены, а журнал продолжен после них")


def problems(checkpoint_file: Path | None = None) -> list[str]:
    """Every break in the chain and every disagreement with the checkpoint; empty if the log is whole."""
    return verify(checkpoint_file).problems


def write_checkpoint(target: Path, *, reset: bool = False) -> Checkpoint:
    """Check the log, move the local checkpoint to its newest entry and write a copy to `target` (a new file).

    `reset` moves the local checkpoint even if the log no longer reaches it (after a cut that has been
    looked into); the chain itself must still be whole.
    """
    key, local = _settings()
    if target.exists():
        raise CheckpointError(f"Файл {target} уже есть: выберите другое имя")
    report = verify(against_checkpoint=not reset, missing_ok=True, limit=1)
    if not report.whole:
        raise CheckpointError(f"Журнал повреждён, контрольная точка не записана: {report.problems[0]}")
    checkpoint = _at_head(report)
    if checkpoint is None:
        raise CheckpointError("Журнал пуст: отмечать нечего")
    with checkpoints.locked(local):
        current = None if reset else checkpoints.load(local, key)
        if current is None or current.entry < checkpoint.entry:
            checkpoints.write(local, checkpoint, key)
    checkpoints.write(target, checkpoint, key, replace=False)
    return checkpoint


def reanchor() -> Checkpoint | None:
    """Put the local checkpoint on the log's newest entry, whatever it named (after a restore); None if empty."""
    key, local = _settings()
    checkpoint = _at_head(verify(against_checkpoint=False, limit=1))
    with checkpoints.locked(local):
        if checkpoint is None:
            checkpoints.forget(local)
        else:
            checkpoints.write(local, checkpoint, key)
    return checkpoint


def _at_head(report: Report) -> Checkpoint | None:
    """A checkpoint on the log's newest entry now, keeping what `report` found written before the key."""
    head = db.session.execute(select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).first()
    if head is None:
        return None
    return Checkpoint(head.id, head.hash, report.last_unkeyed, datetime.now(UTC))
