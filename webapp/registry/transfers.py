"""Accepting a person from another insurer, on their application: the failed matches are limited and audited.

The new insurer types the ЕНП and birth date from the person's application, and the registry moves the record
if both match (`lifecycle.change_insurer`). The ЕНП is no secret (it is on every code, barcode and paper), so
an unlimited form is an oracle for the birth date: the red team found one in 798 guesses, 8 s, and took the
person over. So a failed match (no such ЕНП, or another birth date) is counted per login and per insurer, in
windows aligned to the clock and kept in the limiter's storage (Redis across workers: webapp/db/shared_counts.py,
as for clinics' number look-ups). Once either limit is spent, every attempt is refused before anything is
looked up, until its window ends; the audit log notes that once a window. Each failed match is written to the
audit log with the ЕНП typed and the insurer, nothing else of the application.

A match whose policy cannot move now is refused in words that do not say why (`NOT_MOVABLE`): suspended means
military service, terminated a death, and those are the person's own insurer's to tell. It counts and is written
down as a failed match: a list of ЕНП and birth dates would otherwise sort its people by the two, unlimited.
"""

from __future__ import annotations

import math
from datetime import date

from flask import current_app

from webapp.config import TRANSFER_LIMITS
from webapp.db.shared_counts import BatchedFixedWindow, counts_in, parsed
from webapp.db.transactions import atomic
from webapp.extensions import limiter
from webapp.models import IssuedCode, User
from webapp.registry import audit, lifecycle
from webapp.registry.errors import N_, RegistryError

REFUSED_ACTION = "transfer_refused"
LIMIT_ACTION = "transfer_limit_reached"
PER_USER, PER_INSURER = "TRANSFER_FAILURES_PER_USER", "TRANSFER_FAILURES_PER_INSURER"


#: What another insurer's staff read when the person matched but their policy cannot move now, whatever the cause.
NOT_MOVABLE = N_(
    "Перевод сейчас невозможен: полис этого застрахованного не может перейти в другую СМО. Причину знает его "
    "нынешняя страховая компания — пусть застрахованный обратится туда"
)


class TooManyFailures(RegistryError):
    """A limit on failed matches is spent: nothing was looked up."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            N_("Слишком много неудачных попыток принять застрахованного. Повторите через %(minutes)d мин."),
            minutes=math.ceil(retry_after / 60),
        )
        #: Seconds until the window ends.
        self.retry_after = retry_after


def accept(enp: str, birth_date: date, applied_on: date, exception: str, document: str, staff: User) -> IssuedCode:
    """Move the person the application names to the staff member's insurer (`lifecycle.change_insurer`)."""
    insurer = staff.insurer
    assert insurer is not None, "an insurer login belongs to an insurer"
    actor = f"smo:{staff.username}"
    limits = ((PER_USER, f"user:{staff.id}"), (PER_INSURER, f"insurer:{insurer.code}"))
    for setting, key in limits:
        counts = _counts(setting)
        if counts.spent(key):
            _note_once(setting, key, actor, insurer.code)
            raise TooManyFailures(counts.seconds_left())
    try:
        return lifecycle.change_insurer(
            enp, insurer.code, applied_on, actor, exception, birth_date=birth_date, document=document
        )
    except lifecycle.NoMatch:
        _count_failure(actor, enp, insurer.code, limits)
        raise
    except lifecycle.NotMovable:
        _count_failure(actor, enp, insurer.code, limits)
        raise RegistryError(NOT_MOVABLE) from None


def _count_failure(actor: str, enp: str, insurer_code: str, limits: tuple[tuple[str, str], ...]) -> None:
    _record_failure(actor, enp, insurer_code)
    for setting, key in limits:
        _counts(setting).hit(key)


def _counts(setting: str, once: bool = False) -> BatchedFixedWindow:
    """The counts of a limit, or (`once`) of whether its refusal was noted in the current window."""
    item = parsed(current_app.config.get(setting, TRANSFER_LIMITS[setting]))
    if once:
        item = parsed(f"1 per {item.multiples} {item.GRANULARITY.name}")
    kept = current_app.extensions.setdefault("batched_limits", {})
    return counts_in(kept, limiter.storage, item, f"transfer.{setting}{'.noted' if once else ''}")


@atomic
def _record_failure(actor: str, enp: str, insurer_code: str) -> None:
    audit.record(actor, REFUSED_ACTION, "person", enp, details={"insurer": insurer_code})


def _note_once(setting: str, key: str, actor: str, insurer_code: str) -> None:
    if _counts(setting, once=True).hit(key):
        _record_limit(actor, insurer_code, setting)


@atomic
def _record_limit(actor: str, insurer_code: str, setting: str) -> None:
    allowed = current_app.config.get(setting, TRANSFER_LIMITS[setting])
    audit.record(actor, LIMIT_ACTION, "insurer", insurer_code, details={"limit": setting, "allowed": allowed})
