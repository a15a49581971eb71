"""The rules of docs/domain.md, as pure functions: how long a policy runs, what may be done to it in each of
its states, and when a person may change insurer.

Nothing here touches the database; the lifecycle passes in what it knows.
"""

from __future__ import annotations

from collections.abc import Container
from datetime import date, timedelta
from enum import StrEnum

from webapp.models.people import Category
from webapp.models.policies import PolicyKind, PolicyStatus
from webapp.registry.errors import N_, RegistryError

#: Temporary certificates run for at most this many working days.
TEMPORARY_CERTIFICATE_WORKING_DAYS = 45
#: A newborn is covered by the mother's (representative's) insurer this many days after registration.
NEWBORN_COVER_DAYS = 30
#: Applications to change insurer in a year are accepted up to this day (month, day).
INSURER_CHANGE_DEADLINE = (11, 1)
#: Time-limited policies issued from this day (month, day) run to the end of the next year.
LATE_ISSUE_FROM = (11, 1)

#: No one insured was born before it (the oldest people living were born in the 1900s), and the 2011 paper policy
#: counts its dates in days from it: a birth date or a document's date earlier is a typing error (1800 for 1980).
EARLIEST_DAY = date(1900, 1, 1)
#: A refused day's words, for a day to come and for one too early: a birth date's name it (a line of the CSV has
#: more than one date), any other's stand beside its field.
_BIRTH_DATE_WORDS = (N_("Дата рождения в будущем"), N_("Дата рождения раньше %(year)d года"))
_DAY_WORDS = (N_("Дата в будущем"), N_("Дата раньше %(year)d года"))

#: Categories whose policy is capped by a document (permit, contract) that must be given.
DOCUMENT_BOUND = frozenset(
    {Category.FOREIGN_TEMPORARY, Category.STATELESS_TEMPORARY, Category.REFUGEE, Category.EAEU_WORKER}
)


def require_past_day(day: date, field: str, today: date) -> None:
    """A birth date, or the day a document was issued, as every path that takes one checks it (registration, the
    CSV, a data change): a day that has come, and not before EARLIEST_DAY."""
    in_future, too_early = _BIRTH_DATE_WORDS if field == "birth_date" else _DAY_WORDS
    if day > today:
        raise RegistryError(in_future, field=field)
    if day < EARLIEST_DAY:
        raise RegistryError(too_early, field=field, year=EARLIEST_DAY.year)


def policy_end(category: Category, issued_on: date, right_valid_until: date | None) -> date | None:
    """The last day of a policy issued on `issued_on`; None means no end (citizens).

    Others run to the end of the year (the next year when issued from 1 November),
    never past the residence permit or labour contract.
    """
    end = _capped_end(category, issued_on, right_valid_until)
    if end is not None and right_valid_until is not None and right_valid_until < issued_on:
        raise RegistryError(N_("Срок действия документа уже истёк"))
    return end


def _capped_end(category: Category, issued_on: date, right_valid_until: date | None) -> date | None:
    if category is Category.CITIZEN:
        return None
    if category in DOCUMENT_BOUND and right_valid_until is None:
        raise RegistryError(
            N_(
                "Укажите, до какого дня действует документ (в файле: right_valid_until): для этой категории срок "
                "полиса зависит от него"
            ),
            field="right_valid_until",
        )
    year = issued_on.year + (1 if (issued_on.month, issued_on.day) >= LATE_ISSUE_FROM else 0)
    end = date(year, 12, 31)
    return end if right_valid_until is None else min(end, right_valid_until)


def corrected_end(
    category: Category, kind: PolicyKind, valid_from: date, right_valid_until: date | None, holidays: Container[date]
) -> date | None:
    """A policy's last day after its holder's category or right was corrected.

    What the rules give for a policy of its kind issued on its own first day, with the corrected data: a
    correction fixes the record, it issues no new policy, so it grants no new year. A right that has
    already ended ends the policy on that day (it reads `expired`): the correction saying so is not refused.
    """
    end = _capped_end(category, valid_from, right_valid_until)
    if kind is PolicyKind.TEMPORARY_CERTIFICATE:
        return temporary_certificate_end(valid_from, holidays, end)
    return end


def is_working_day(day: date, holidays: Container[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def add_working_days(start: date, count: int, holidays: Container[date]) -> date:
    """The `count`-th working day after `start` (`start` itself not counted)."""
    day = start
    remaining = count
    while remaining:
        day += timedelta(days=1)
        if is_working_day(day, holidays):
            remaining -= 1
    return day


def temporary_certificate_end(issued_on: date, holidays: Container[date], policy_end_day: date | None) -> date:
    """45 working days after the day of application, and never past the policy's own end."""
    end = add_working_days(issued_on, TEMPORARY_CERTIFICATE_WORKING_DAYS, holidays)
    return end if policy_end_day is None else min(end, policy_end_day)


#: The age a parent's representation of a child ends at (Civil Code, art. 21 and 28).
MAJORITY_AGE = 18


def coming_of_age(born: date) -> date:
    """The day someone born on `born` turns 18; for 29 February, 1 March of a year that has none."""
    year = born.year + MAJORITY_AGE
    try:
        return born.replace(year=year)
    except ValueError:
        return date(year, 3, 1)


def majority_eve(born: date) -> date:
    """The last day of a parent's representation of someone born on `born`: the eve of their 18th birthday."""
    return coming_of_age(born) - timedelta(days=1)


def representation_until(born: date, today: date) -> date | None:
    """The last day a representation made `today` lasts: for a child, the eve of their 18th birthday (a parent's,
    which ends at majority: the grown child's policy and data are then their own); for an adult, none (a
    guardian's, which lasts until the registry ends it)."""
    return majority_eve(born) if today < coming_of_age(born) else None


def newborn_cover_last_day(registered_on: date) -> date:
    """The last day a newborn is covered by the mother's insurer: day 30 after registration."""
    return registered_on + timedelta(days=NEWBORN_COVER_DAYS)


class Operation(StrEnum):
    """What staff, the registry operator or the registry itself do to a person's open policy (or its code)."""

    REISSUE = "reissue"
    REVOKE = "revoke"
    ISSUE_POLICY = "issue_policy"
    CHANGE_INSURER = "change_insurer"
    CORRECT = "correct"
    SUSPEND = "suspend"
    RESUME = "resume"
    TERMINATE = "terminate"
    RENEW = "renew"


_ACTIVE, _SUSPENDED, _TERMINATED = PolicyStatus.ACTIVE, PolicyStatus.SUSPENDED, PolicyStatus.TERMINATED
#: The states of an open policy each operation may act in. A terminated policy is final (death, or the right
#: ended): only the record's data may still be corrected. A suspended one (military service) stays with its
#: insurer, kind and code until it resumes: no new code, no policy for its certificate, no transfer.
ALLOWED_IN: dict[Operation, frozenset[PolicyStatus]] = {
    Operation.REISSUE: frozenset({_ACTIVE}),
    Operation.REVOKE: frozenset({_ACTIVE}),  # a suspended or terminated policy's code is withdrawn already
    Operation.ISSUE_POLICY: frozenset({_ACTIVE}),
    Operation.CHANGE_INSURER: frozenset({_ACTIVE}),
    Operation.CORRECT: frozenset({_ACTIVE, _SUSPENDED, _TERMINATED}),
    Operation.SUSPEND: frozenset({_ACTIVE}),
    Operation.RESUME: frozenset({_SUSPENDED}),
    Operation.TERMINATE: frozenset({_ACTIVE, _SUSPENDED}),
    Operation.RENEW: frozenset({_ACTIVE}),
}
_REFUSED_IN = {
    _SUSPENDED: N_("Полис приостановлен: сначала его нужно возобновить"),
    _TERMINATED: N_("Полис прекращён, и это окончательно: с ним ничего сделать нельзя"),
    _ACTIVE: N_("Полис действует: возобновлять нечего"),
}
_REFUSED = {(Operation.SUSPEND, _SUSPENDED): N_("Полис уже приостановлен")}


def refusal(operation: Operation, status: PolicyStatus) -> RegistryError | None:
    """Why the rules refuse `operation` on an open policy in `status`, in words naming the state; None if
    they allow it."""
    if status in ALLOWED_IN[operation]:
        return None
    return RegistryError(_REFUSED.get((operation, status)) or _REFUSED_IN[status])


def in_force(status: PolicyStatus, valid_to: date | None, today: date) -> bool:
    """Whether a policy may have a current code signed for it today.

    Only an active policy that has not ended: a verifier offline cannot see a suspension, a termination or
    a right that ended, and would take any freshly signed code as valid.
    """
    return status is PolicyStatus.ACTIVE and (valid_to is None or today <= valid_to)


#: What a page says of an active policy past its last day: the registry keeps it `active` (nothing rewrites a
#: policy when its day passes), and every verifier reads its code `expired`.
EXPIRED = "expired"


def status_on(status: PolicyStatus | str, valid_to: date | None, today: date) -> str:
    """A policy's status as a person is told it today: `expired` for an active one whose last day has passed."""
    if status == PolicyStatus.ACTIVE and valid_to is not None and today > valid_to:
        return EXPIRED
    return str(status)


#: Reasons that lift the once-a-year limit on changing insurer.
MOVED_REGION = "moved_region"
INSURER_LEFT = "insurer_left"
CHANGE_EXCEPTIONS = frozenset({MOVED_REGION, INSURER_LEFT})
#: An application to change insurer is made at the new insurer, which enters it at once: this many working
#: days after the day it was made is the latest it is taken, so no date earlier in the year is written in to
#: get round the 1 November deadline.
APPLICATION_WORKING_DAYS = 5
#: The longest document reference staff may give for an exception.
DOCUMENT_LENGTH = 200


def may_change_insurer(applied_on: date, earlier_changes_this_year: int, exception: str) -> None:
    """Raise `RegistryError` unless an ordinary ("") or excepted change of insurer is allowed."""
    if exception:
        if exception not in CHANGE_EXCEPTIONS:
            raise RegistryError(N_("Исключение: moved_region (переезд) или insurer_left (СМО ушла из системы)"))
        return
    month_day = (applied_on.month, applied_on.day)
    if month_day > INSURER_CHANGE_DEADLINE:
        raise RegistryError(N_("Заявление о смене СМО в этом году принимается до 1 ноября"))
    if earlier_changes_this_year:
        raise RegistryError(N_("СМО можно сменить один раз в календарном году (кроме переезда в другой регион)"))


def check_application_date(applied_on: date, today: date, earliest: date, holidays: Container[date]) -> None:
    """The day of an application to change insurer: not after today, not before the person's last change
    of insurer or registration (`earliest`), and at most APPLICATION_WORKING_DAYS working days ago."""
    if applied_on > today:
        raise RegistryError(N_("Дата заявления не может быть позже сегодняшнего дня"))
    if applied_on < earliest:
        raise RegistryError(
            N_("Дата заявления раньше последней смены СМО или регистрации застрахованного (%(day)s)"),
            day=earliest.strftime("%d.%m.%Y"),
        )
    if add_working_days(applied_on, APPLICATION_WORKING_DAYS, holidays) < today:
        raise RegistryError(
            N_("Заявление вносят в реестр не позже чем через %(count)d рабочих дней после подачи"),
            count=APPLICATION_WORKING_DAYS,
        )


def require_grounds(
    exception: str, region_now: str | None, new_region: str | None, insurer_gone: bool, document: str
) -> None:
    """An exception to the once-a-year rule stands on what the registry knows, or on a document staff name.

    A move of region is the registry's to see when it knows both the region the person is on record in
    (`region_now`) and the new insurer's: the same region is no move, whatever a document says. An insurer
    that left the system is one the registry no longer holds active (`insurer_gone`). Where the registry
    cannot tell, the document the exception rests on must be named; the lifecycle writes it to the audit log.
    """
    if len(document) > DOCUMENT_LENGTH or not document.isprintable():
        raise RegistryError(N_("Документ-основание: до %(count)d печатных знаков"), count=DOCUMENT_LENGTH)
    if exception == MOVED_REGION and region_now and new_region:
        if region_now == new_region:
            raise RegistryError(N_("Застрахованный уже числится в регионе новой СМО: переезда в другой регион нет"))
        return
    if exception == INSURER_LEFT and insurer_gone:
        return
    if exception and not document:
        raise RegistryError(N_("Укажите документ, на котором основано исключение: реестр не может проверить его сам"))
