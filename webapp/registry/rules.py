"""How long a policy runs: the date rules of docs/domain.md, as pure functions.

Nothing here touches the database; the lifecycle passes in what it knows.
"""

from __future__ import annotations

from collections.abc import Container
from datetime import date, timedelta

from webapp.models.people import Category
from webapp.registry.errors import RegistryError

#: Temporary certificates run for at most this many working days.
TEMPORARY_CERTIFICATE_WORKING_DAYS = 45
#: A newborn is covered by the mother's (representative's) insurer this many days after registration.
NEWBORN_COVER_DAYS = 30
#: Applications to change insurer in a year are accepted up to this day (month, day).
INSURER_CHANGE_DEADLINE = (11, 1)
#: Time-limited policies issued from this day (month, day) run to the end of the next year.
LATE_ISSUE_FROM = (11, 1)

#: Categories whose policy is capped by a document (permit, contract) that must be given.
DOCUMENT_BOUND = frozenset(
    {Category.FOREIGN_TEMPORARY, Category.STATELESS_TEMPORARY, Category.REFUGEE, Category.EAEU_WORKER}
)


def policy_end(category: Category, issued_on: date, right_valid_until: date | None) -> date | None:
    """The last day of a policy issued on `issued_on`; None means no end (citizens).

    Others run to the end of the year (the next year when issued from 1 November),
    never past the residence permit or labour contract.
    """
    if category is Category.CITIZEN:
        return None
    if category in DOCUMENT_BOUND and right_valid_until is None:
        raise RegistryError("Для этой категории нужен срок действия документа (right_valid_until)")
    year = issued_on.year + (1 if (issued_on.month, issued_on.day) >= LATE_ISSUE_FROM else 0)
    end = date(year, 12, 31)
    if right_valid_until is not None:
        if right_valid_until < issued_on:
            raise RegistryError("Срок действия документа уже истёк")
        end = min(end, right_valid_until)
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


def newborn_cover_last_day(registered_on: date) -> date:
    """The last day a newborn is covered by the mother's insurer: day 30 after registration."""
    return registered_on + timedelta(days=NEWBORN_COVER_DAYS)


#: Reasons that lift the once-a-year limit on changing insurer.
CHANGE_EXCEPTIONS = frozenset({"moved_region", "insurer_left"})


def may_change_insurer(applied_on: date, earlier_changes_this_year: int, exception: str) -> None:
    """Raise `RegistryError` unless an ordinary ("") or excepted change of insurer is allowed."""
    if exception:
        if exception not in CHANGE_EXCEPTIONS:
            raise RegistryError("Исключение: moved_region (переезд) или insurer_left (СМО ушла из системы)")
        return
    month_day = (applied_on.month, applied_on.day)
    if month_day > INSURER_CHANGE_DEADLINE:
        raise RegistryError("Заявление о смене СМО в этом году принимается до 1 ноября")
    if earlier_changes_this_year:
        raise RegistryError("СМО можно сменить один раз в календарном году (кроме переезда в другой регион)")
