"""The public-holiday table that temporary-certificate terms are counted with."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from webapp.db.transactions import atomic
from webapp.extensions import db
from webapp.models import Holiday
from webapp.registry import audit

#: Fixed non-working holidays (Labour Code, art. 112). Transfers decreed each
#: year are added with `flask --app webapp holidays add`.
FIXED_HOLIDAYS = (
    *((1, day, "Новогодние каникулы") for day in range(1, 7)),
    (1, 7, "Рождество Христово"),
    (1, 8, "Новогодние каникулы"),
    (2, 23, "День защитника Отечества"),
    (3, 8, "Международный женский день"),
    (5, 1, "Праздник Весны и Труда"),
    (5, 9, "День Победы"),
    (6, 12, "День России"),
    (11, 4, "День народного единства"),
)


def listed() -> list[Holiday]:
    """Every public holiday, by date, with its name."""
    return list(db.session.scalars(select(Holiday).order_by(Holiday.day)))


#: The fixed holidays' (month, day): non-working in every year by the Labour Code itself.
_FIXED_DAYS = frozenset((month, day) for month, day, _name in FIXED_HOLIDAYS)


@dataclass(frozen=True)
class PublicHolidays(Container[date]):
    """The days terms in working days skip besides weekends: every day the registry lists, and the fixed holidays
    of every year, listed or not.

    The fixed ones were counted only for the years someone had seeded (`flask holidays seed`, the demo's two): a
    temporary certificate issued in a December before the next year was seeded counted the New Year holidays as
    working days and ran out up to six working days early, read `expired` at the desk while the law still held
    it good (tests/security/test_attack_dates.py). The days decreed each year (transfers) are the table's alone.
    """

    listed: frozenset[date]

    def __contains__(self, day: object) -> bool:
        return day in self.listed or (isinstance(day, date) and (day.month, day.day) in _FIXED_DAYS)


def days() -> PublicHolidays:
    """Every public holiday: the registry's list, and the fixed holidays of any year."""
    return PublicHolidays(frozenset(db.session.scalars(select(Holiday.day))))


@atomic
def add_holiday(day: date, name: str, actor: str) -> bool:
    """Add a holiday; False if the day was already listed."""
    if db.session.get(Holiday, day) is not None:
        return False
    db.session.add(Holiday(day=day, name=name))
    audit.record(actor, "add_holiday", "holiday", day.isoformat(), details={"name": name})
    return True


@atomic
def seed_year(year: int, actor: str) -> int:
    """List the fixed holidays of `year`; returns how many were new."""
    known = set(
        db.session.scalars(select(Holiday.day).where(Holiday.day.between(date(year, 1, 1), date(year, 12, 31))))
    )
    added = 0
    for month, day_of_month, name in FIXED_HOLIDAYS:
        day = date(year, month, day_of_month)
        if day not in known:
            db.session.add(Holiday(day=day, name=name))
            added += 1
    if added:
        audit.record(actor, "seed_holidays", "holiday", str(year), details={"added": added})
    return added
