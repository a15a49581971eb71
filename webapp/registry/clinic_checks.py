"""A clinic's checks: how many number look-ups its desks and its systems may make, and the history each leaves.

A typed ЕНП, the Code128 of one or a 2011 paper barcode is answered with the registry's name and birth date
for a number the clerk did not have to hold in a signed code, so one clinic login, or one of the clinic's API
tokens, could walk the registry with them. These number look-ups are limited per login (at the reception page)
or per token (the JSON API) each minute, and per clinic each minute and each Moscow day by a ceiling the
registry operator sets: the clinic's counts are one, whichever door its look-ups come through. A signed code
only shows what it already carries: at the page it counts only towards a loose limit on all of one login's
scans, so that no login floods the server (the API has its own per token, webapp/web/api/limits.py), and a
queue of signed codes is never stopped by the number limits.

The minute limits are counted in the limiter's storage (Redis across workers), as the API's limit is
(webapp/db/shared_counts.py): windows aligned to the clock, and an outage of the storage locks no clinic out. The
day is counted in the clinic's own history of checks, against its ceiling: a look-up counts once its check is
written, so look-ups admitted at once by W workers may pass the ceiling by W - 1 (docs/threat-model.md).

A refusal is decided before anything is looked up: it says nothing about the number, and it is not a check.
The audit log notes a limit the first time it refuses in a window, never once per refused request: for the
minute windows the storage decides which worker was first, for the day the clinic's row does.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from flask import current_app
from limits import RateLimitItem
from sqlalchemy import ColumnElement, ScalarSelect, and_, func, or_, select, update

from policy_codes import Verdict
from policy_codes.codec import MOSCOW
from policy_codes.verdicts import Shown
from webapp.config import LOOK_UP_LIMITS
from webapp.db import worker_state
from webapp.db.shared_counts import BatchedFixedWindow, counts_in, parsed
from webapp.db.transactions import atomic
from webapp.extensions import db, limiter
from webapp.models import Clinic, ClinicCheck, Region, User
from webapp.registry import audit
from webapp.registry.accounts import LiveToken
from webapp.registry.clock import today_in_moscow
from webapp.registry.errors import N_, NotFound, RegistryError
from webapp.registry.verification import VerificationResult

LIMIT_ACTION = "look_up_limit_reached"
MAX_CEILING = 10_000_000
_CEILING = re.compile(r"[0-9]{1,8}")


class Limit(StrEnum):
    USER_SCANS = "user_scans"
    USER_NUMBERS = "user_number_look_ups"
    TOKEN_NUMBERS = "token_number_look_ups"  # noqa: S105 -- a limit's name, not a secret
    CLINIC_NUMBERS = "clinic_number_look_ups"
    CLINIC_DAY = "clinic_daily_ceiling"
    #: A ceiling of 0: the operator has turned the clinic's look-ups by number off, nothing was used up.
    CLINIC_OFF = "clinic_look_ups_off"


#: The setting of each minute limit (webapp/config.py).
_SETTINGS = {
    Limit.USER_SCANS: "CLINIC_SCANS_PER_USER",
    Limit.USER_NUMBERS: "CLINIC_NUMBER_LOOK_UPS_PER_USER",
    Limit.TOKEN_NUMBERS: "CLINIC_NUMBER_LOOK_UPS_PER_TOKEN",
    Limit.CLINIC_NUMBERS: "CLINIC_NUMBER_LOOK_UPS_PER_CLINIC",
}


@dataclass(frozen=True)
class Refusal:
    limit: Limit
    #: The limit's count a window, or the clinic's ceiling.
    allowed: int
    #: Seconds until the window ends and the look-up may be tried again.
    retry_after: int


@dataclass(frozen=True)
class Asker:
    """Who asks for a number look-up: a clinic login at the reception page, or one of its clinic's API tokens."""

    #: The asker's own minute limit, and the key it is counted under.
    limit: Limit
    key: str
    clinic_id: int
    #: The asker as the audit log names it.
    actor: str


def at_the_desk(user: User) -> Asker:
    assert user.clinic_id is not None, "a clinic login belongs to a clinic"
    return Asker(Limit.USER_NUMBERS, f"user:{user.id}", user.clinic_id, f"clinic:{user.username}")


def through_the_api(token: LiveToken) -> Asker:
    return Asker(Limit.TOKEN_NUMBERS, f"token:{token.id}", token.clinic_id, f"api-token:{token.id}")


def admit(user: User, number_look_up: bool) -> Refusal | None:
    """Count one scan at the reception page, before anything is looked up: None if it may go ahead."""
    now = time.time()
    desk = at_the_desk(user)
    refusal = _count(Limit.USER_SCANS, desk, desk.key, now)
    if refusal is not None or not number_look_up:
        return refusal
    return _admit_number_look_up(desk, now)


def admit_api_number_look_up(token: LiveToken) -> Refusal | None:
    """Count one number look-up of a clinic system through the API, before it is made: None if it may go ahead.

    Its signed codes are not counted here: the API's rate per token is their only limit.
    """
    return _admit_number_look_up(through_the_api(token), time.time())


def _admit_number_look_up(asker: Asker, now: float) -> Refusal | None:
    """The asker's minute limit, its clinic's, then its clinic's day (whichever door the day's look-ups took).

    The minute windows follow the limiter's clock; the day is the Moscow day of the checks' own timestamps.
    """
    clinic = db.session.get(Clinic, asker.clinic_id)
    assert clinic is not None, "a login or a token belongs to a clinic"
    if clinic.daily_look_up_ceiling == 0:  # turned off: nothing to count, nothing reached to note
        return _until_midnight(clinic, Limit.CLINIC_OFF)
    day = today_in_moscow(datetime.now(UTC))
    if clinic.ceiling_reached_on == day:  # refused until midnight: nothing more to count
        return _until_midnight(clinic)
    refusal = _count(asker.limit, asker, asker.key, now) or _count(
        Limit.CLINIC_NUMBERS, asker, f"clinic:{clinic.id}", now
    )
    if refusal is not None:
        return refusal
    counted = number_look_ups(clinic.id, day)
    if counted < clinic.daily_look_up_ceiling:
        return None
    if not _reach_ceiling(clinic.id, day, counted, asker.actor):
        return None  # the operator raised the ceiling after this request read it
    return _until_midnight(clinic)


def _count(limit: Limit, asker: Asker, key: str, now: float) -> Refusal | None:
    """Count the scan against one minute limit; on its first refusal in a window, note it in the audit log."""
    setting = _SETTINGS[limit]
    item = parsed(current_app.config.get(setting, LOOK_UP_LIMITS[setting]))
    if _counts(limit, item).hit(key, now):
        return None
    seconds = item.get_expiry()
    window = int(now // seconds)
    once = parsed(f"1 per {item.multiples} {item.GRANULARITY.name}")
    if _counts(f"{limit}.noted", once).hit(key, now):
        start = datetime.fromtimestamp(window * seconds, UTC).isoformat()
        _note(asker, limit, item.amount, start)
    return Refusal(limit, item.amount, math.ceil((window + 1) * seconds - now))


def _counts(namespace: str, item: RateLimitItem) -> BatchedFixedWindow:
    kept = worker_state.of(current_app).batched_limits
    return counts_in(kept, limiter.storage, item, f"clinic.{namespace}")


@atomic
def _note(asker: Asker, limit: Limit, allowed: int, window: str) -> None:
    clinic = db.session.get(Clinic, asker.clinic_id)
    assert clinic is not None
    details = {"limit": str(limit), "allowed": allowed, "window": window}
    audit.record(asker.actor, LIMIT_ACTION, "clinic", clinic.code, details=details)


@atomic
def _reach_ceiling(clinic_id: int, day: date, counted: int, actor: str) -> bool:
    """Mark the clinic's ceiling reached today, if `counted` reaches it as the database holds it now; whether it does.

    The request read the ceiling before it counted: an operator's raise committed meanwhile cleared the mark, and a
    mark made on the ceiling read before it refused the clinic until midnight under a ceiling it had not reached
    (tests/security/test_attack_harvest.py). The request that marks it writes the audit entry."""
    marked = db.session.execute(
        update(Clinic)
        .where(
            Clinic.id == clinic_id,
            Clinic.daily_look_up_ceiling <= counted,
            or_(Clinic.ceiling_reached_on.is_(None), Clinic.ceiling_reached_on != day),
        )
        .values(ceiling_reached_on=day)
    )
    now = select(Clinic).where(Clinic.id == clinic_id).execution_options(populate_existing=True)
    clinic = db.session.scalars(now).one()
    if marked.rowcount:
        details = {"limit": str(Limit.CLINIC_DAY), "allowed": clinic.daily_look_up_ceiling, "window": day.isoformat()}
        audit.record(actor, LIMIT_ACTION, "clinic", clinic.code, details=details)
    return counted >= clinic.daily_look_up_ceiling


def _until_midnight(clinic: Clinic, limit: Limit = Limit.CLINIC_DAY) -> Refusal:
    """Refused until the Moscow day ends: the ceiling reached, or (`CLINIC_OFF`) none to reach, when the operator
    may have turned look-ups back on."""
    now = datetime.now(UTC)
    midnight = _day_start(today_in_moscow(now) + timedelta(days=1))
    return Refusal(limit, clinic.daily_look_up_ceiling, math.ceil((midnight - now).total_seconds()))


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=MOSCOW).astimezone(UTC)


def _number_look_ups_on(day: date) -> ColumnElement[bool]:
    """Checks of a day that returned registry data for a number (a malformed one looks nothing up)."""
    start = _day_start(day)
    return and_(
        ClinicCheck.shown.in_((Shown.NUMBER, Shown.LEGACY_PAPER)),
        ClinicCheck.at >= start,
        ClinicCheck.at < start + timedelta(days=1),
        ClinicCheck.verdict != str(Verdict.MALFORMED),
    )


def number_look_ups(clinic_id: int, day: date) -> int:
    return db.session.scalar(
        select(func.count(ClinicCheck.id)).where(ClinicCheck.clinic_id == clinic_id, _number_look_ups_on(day))
    )


def clinics_with_todays_look_ups(now: datetime | None = None) -> list[tuple[Clinic, int]]:
    """Every clinic, by code, with its number look-ups of the Moscow day so far."""
    today = select(func.count(ClinicCheck.id)).where(
        ClinicCheck.clinic_id == Clinic.id, _number_look_ups_on(today_in_moscow(now or datetime.now(UTC)))
    )
    rows = db.session.execute(select(Clinic, today.scalar_subquery()).order_by(Clinic.code))
    return [(clinic, count) for clinic, count in rows]


@atomic
def set_daily_ceiling(clinic_code: str, value: str, actor: str) -> Clinic:
    """The operator's new ceiling for a clinic. Reached again today, it is noted again."""
    clinic = db.session.scalar(select(Clinic).where(Clinic.code == clinic_code))
    if clinic is None:
        raise NotFound(f"Клиника {clinic_code} не найдена")
    if not _CEILING.fullmatch(value) or int(value) > MAX_CEILING:
        most = f"{MAX_CEILING:_}".replace("_", " ")
        raise RegistryError(N_("Дневной лимит — целое число от 0 до %(most)s"), most=most)
    ceiling = int(value)
    details = {"from": clinic.daily_look_up_ceiling, "to": ceiling}
    audit.record(actor, "set_look_up_ceiling", "clinic", clinic.code, details=details)
    clinic.daily_look_up_ceiling = ceiling
    clinic.ceiling_reached_on = None
    return clinic


@atomic
def record_check(clinic_id: int, result: VerificationResult) -> None:
    """The clinic's history: time, verdict, what was shown, the verdict's cause and a masked number, nothing else.

    Every check at its desks, and every number look-up of its systems through the API: the day's ceiling counts
    them from here. A system's signed codes leave no row (the API's hot path writes nothing for them).
    """
    db.session.add(
        ClinicCheck(
            clinic_id=clinic_id,
            at=result.checked_at,
            # A 2011 paper's verdict is its registry status (shown says it was a paper): the history says what
            # the desk read, «Действителен», not only «legacy_paper».
            verdict=str(result.registry_verdict or result.verdict),
            shown=result.shown,
            # The cause changes the words the desk read (a data change's «Данные изменились»): the history keeps them.
            cause=str(result.cause or ""),
            masked_enp=result.holder.masked_enp if result.holder else "",
            region_code=_region_code(clinic_id),
        )
    )


def _region_code(clinic_id: int) -> ScalarSelect[str]:
    """The clinic's region, the check's partition, read by the INSERT itself."""
    return (
        select(func.coalesce(Region.code, ""))
        .select_from(Clinic)
        .outerjoin(Region, Region.id == Clinic.region_id)
        .where(Clinic.id == clinic_id)
        .scalar_subquery()
    )


def history(clinic_id: int, limit: int) -> list[ClinicCheck]:
    """A clinic's latest checks, newest first: time, verdict, what was shown, its cause and a masked number."""
    return list(
        db.session.scalars(
            select(ClinicCheck).where(ClinicCheck.clinic_id == clinic_id).order_by(ClinicCheck.id.desc()).limit(limit)
        )
    )
