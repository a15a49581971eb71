"""Reissuing everything a compromised key signed, in a background thread of the app process.

The request marks the key compromised and gives its owner a new key in one
transaction (`rotation.distrust`), then hands the reissue to a thread with its
own app context, so a run over thousands of codes never holds a request open.
Progress is read from the database, not from the thread: the codes still
current under the key, against those that left the current state since the
key was compromised. Any worker can show it, and after a restart the page
shows what is left and offers to resume (as `flask keys resume-reissue` does).

A process-wide registry of running threads keeps a double submit from starting
a second run here. Runs in two workers at once are harmless: each batch skips
codes another run already reissued.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, current_app
from sqlalchemy import func, select

from signing import KeyStatus
from webapp.db import worker_state
from webapp.extensions import db
from webapp.models import CodeStatus, IssuedCode, SigningKeyRecord
from webapp.registry import lifecycle
from webapp.registry.errors import RegistryError
from webapp.registry.keys import keystore, rotation

log = logging.getLogger(__name__)

_lock = threading.Lock()


@dataclass(frozen=True)
class Progress:
    kid: str
    done: int
    remaining: int
    running: bool
    #: Why the last run here stopped early, in words for the operator.
    failure: str | None = None

    @property
    def total(self) -> int:
        """The codes the key had current when it was compromised."""
        return self.done + self.remaining

    @property
    def percent(self) -> int:
        return 100 if self.total == 0 else self.done * 100 // self.total

    @property
    def finished(self) -> bool:
        return self.remaining == 0 and not self.running

    @property
    def interrupted(self) -> bool:
        """Codes are left and nothing here works on them: the run died or was never started."""
        return self.remaining > 0 and not self.running


@dataclass
class _Runs:
    """This process's runs, per app: tests run SQLite and PostgreSQL apps side by side."""

    threads: dict[str, threading.Thread]
    failures: dict[str, str]


def _runs(app: Flask) -> _Runs:
    state = worker_state.of(app)
    state.reissue_runs = state.reissue_runs or _Runs({}, {})
    return state.reissue_runs


def running(kid: str) -> bool:
    thread = _runs(current_app).threads.get(kid)
    return thread is not None and thread.is_alive()


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
    failure = _runs(current_app).failures.get(record.kid)
    return Progress(record.kid, done, remaining, running(record.kid), failure)


def compromise(kid: str, actor: str) -> SigningKeyRecord:
    """Distrust the key and give its owner a new key now; reissue its codes in the background."""
    record = rotation.distrust(kid, actor)
    _start(record.kid, actor)
    return record


def resume(kid: str, actor: str) -> bool:
    """Start the reissue again after an interrupted run. False when one is already running here."""
    record = keystore.record_for(kid)
    if record.status != KeyStatus.COMPROMISED:
        raise RegistryError(f"Ключ {record.kid} не скомпрометирован: перевыпускать нечего")
    return _start(record.kid, actor)


def _start(kid: str, actor: str) -> bool:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    with _lock:
        if running(kid):
            return False
        thread = threading.Thread(target=_run, args=(app, kid, actor), name=f"reissue-{kid}", daemon=True)
        runs = _runs(app)
        runs.threads[kid] = thread
        runs.failures.pop(kid, None)
        thread.start()
    return True


def _run(app: Flask, kid: str, actor: str) -> None:
    with app.app_context():
        try:
            count = resume_reissue(kid, actor)
            log.info("mass reissue after compromise of key %s: %d codes", kid, count)
        except Exception as error:  # the page shows what is left and offers to resume
            # Only the type goes to the log: a message might name a person.
            log.error("mass reissue after compromise of key %s stopped: %s", kid, type(error).__name__)
            _runs(app).failures[kid] = str(error) if isinstance(error, RegistryError) else type(error).__name__
        finally:
            db.session.remove()


def mark_compromised(
    kid: str, actor: str, progress: Callable[[int, int], None] | None = None, now: datetime | None = None
) -> int:
    """Distrust the key at once, give its owner a new key, and reissue every code it signed.

    Returns how many codes were reissued. If interrupted, `resume_reissue` finishes the job.
    """
    record = rotation.distrust(kid, actor, now)
    return lifecycle.reissue_all_signed_by(record.kid, actor, progress)


def resume_reissue(kid: str, actor: str, progress: Callable[[int, int], None] | None = None) -> int:
    record = keystore.record_for(kid)
    if record.status != KeyStatus.COMPROMISED:
        raise RegistryError("Перевыпуск нужен только для скомпрометированного ключа")
    return lifecycle.reissue_all_signed_by(record.kid, actor, progress)


def unfinished() -> list[Progress]:
    """The reissues after a compromise that still have codes to go."""
    states = [progress(record) for record in keystore.compromised_keys()]
    return [state for state in states if not state.finished]
