"""The pure date rules of webapp/registry/rules.py (docs/domain.md, "Policies"), pinned at their boundaries.

Every expected date below is worked out by hand in a comment, so a reader can check it
against a calendar. Weekdays used (2025-2027):

- 2025: Wed 31 Dec.
- 2026: Thu 1 Jan, Fri 9 Jan, Mon 23 Feb, Mon 2 Mar, Sun 8 Mar, Fri 1 May, Sat 9 May, Fri 12 Jun,
  Fri 30 Oct, Mon 2 Nov, Wed 4 Nov, Thu 31 Dec.
- 2027: Fri 1 Jan, Mon 4 Jan.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from webapp.models.people import Category
from webapp.registry.errors import RegistryError
from webapp.registry.rules import (
    DOCUMENT_BOUND,
    NEWBORN_COVER_DAYS,
    TEMPORARY_CERTIFICATE_WORKING_DAYS,
    add_working_days,
    is_working_day,
    may_change_insurer,
    newborn_cover_last_day,
    policy_end,
    temporary_certificate_end,
)


def _russian_holidays(year: int) -> set[date]:
    """Non-working holidays as a plain set of dates (no weekend transfers): 1-8 Jan, 23 Feb, 8 Mar,
    1 May, 9 May, 12 Jun, 4 Nov."""
    days = {date(year, 1, d) for d in range(1, 9)}
    days |= {date(year, 2, 23), date(year, 3, 8), date(year, 5, 1), date(year, 5, 9), date(year, 6, 12)}
    days.add(date(year, 11, 4))
    return days


HOLIDAYS = frozenset(_russian_holidays(2025) | _russian_holidays(2026) | _russian_holidays(2027))
NO_HOLIDAYS: frozenset[date] = frozenset()

PERMANENT = [Category.FOREIGN_PERMANENT, Category.STATELESS_PERMANENT]
TEMPORARY = [Category.FOREIGN_TEMPORARY, Category.STATELESS_TEMPORARY, Category.REFUGEE, Category.EAEU_WORKER]


# --------------------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------------------


def test_constants_match_the_design() -> None:
    assert TEMPORARY_CERTIFICATE_WORKING_DAYS == 45
    assert NEWBORN_COVER_DAYS == 30
    assert frozenset(TEMPORARY) == DOCUMENT_BOUND
    assert Category.CITIZEN not in DOCUMENT_BOUND
    assert not DOCUMENT_BOUND.intersection(PERMANENT)


# --------------------------------------------------------------------------------------------------
# is_working_day
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 3, 2), True),  # Monday
        (date(2026, 3, 6), True),  # Friday
        (date(2026, 3, 7), False),  # Saturday
        (date(2026, 3, 8), False),  # Sunday (also a holiday)
        (date(2026, 3, 9), True),  # Monday after 8 Mar: no transfer, the set is taken literally
        (date(2026, 2, 23), False),  # Monday, holiday
        (date(2026, 5, 1), False),  # Friday, holiday
        (date(2026, 1, 8), False),  # Thursday, last January holiday
        (date(2026, 1, 9), True),  # Friday, first working day of 2026
        (date(2026, 12, 31), True),  # Thursday, not in the set
    ],
)
def test_is_working_day_with_holidays(day: date, expected: bool) -> None:
    assert is_working_day(day, HOLIDAYS) is expected


def test_is_working_day_without_holidays_only_weekends_count() -> None:
    assert is_working_day(date(2026, 2, 23), NO_HOLIDAYS) is True  # Monday
    assert is_working_day(date(2026, 1, 1), NO_HOLIDAYS) is True  # Thursday
    assert is_working_day(date(2026, 1, 3), NO_HOLIDAYS) is False  # Saturday
    assert is_working_day(date(2026, 1, 4), NO_HOLIDAYS) is False  # Sunday


def test_is_working_day_accepts_any_container() -> None:
    assert is_working_day(date(2026, 5, 1), [date(2026, 5, 1)]) is False
    assert is_working_day(date(2026, 5, 1), {date(2026, 5, 4)}) is True


# --------------------------------------------------------------------------------------------------
# add_working_days
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "holidays", "expected"),
    [
        # Mon 2 Mar -> Tue 3 Mar: the start day itself is not counted.
        (date(2026, 3, 2), NO_HOLIDAYS, date(2026, 3, 3)),
        # Fri 6 Mar -> Mon 9 Mar: the weekend is skipped.
        (date(2026, 3, 6), NO_HOLIDAYS, date(2026, 3, 9)),
        # Sat 7 Mar -> Mon 9 Mar; Sun 8 Mar -> Mon 9 Mar.
        (date(2026, 3, 7), NO_HOLIDAYS, date(2026, 3, 9)),
        (date(2026, 3, 8), HOLIDAYS, date(2026, 3, 9)),
        # Thu 30 Apr -> Fri 1 May is a holiday, then the weekend -> Mon 4 May.
        (date(2026, 4, 30), HOLIDAYS, date(2026, 5, 4)),
        (date(2026, 4, 30), NO_HOLIDAYS, date(2026, 5, 1)),
        # Fri 20 Feb -> weekend, Mon 23 Feb holiday -> Tue 24 Feb.
        (date(2026, 2, 20), HOLIDAYS, date(2026, 2, 24)),
        # Wed 31 Dec 2025 -> 1-8 Jan holidays (and the weekend 3-4 Jan) -> Fri 9 Jan 2026.
        (date(2025, 12, 31), HOLIDAYS, date(2026, 1, 9)),
    ],
)
def test_add_one_working_day(start: date, holidays: frozenset[date], expected: date) -> None:
    assert add_working_days(start, 1, holidays) == expected


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        # Mon 2 Mar + 5 working days: Tue 3, Wed 4, Thu 5, Fri 6, Mon 9 Mar.
        (date(2026, 3, 2), 5, date(2026, 3, 9)),
        # Mon 2 Mar + 4: Tue 3 .. Fri 6 Mar (ends on the Friday, not on the weekend after).
        (date(2026, 3, 2), 4, date(2026, 3, 6)),
        # Mon 2 Mar + 10 = two whole weeks = Mon 16 Mar.
        (date(2026, 3, 2), 10, date(2026, 3, 16)),
    ],
)
def test_add_working_days_small_counts(start: date, count: int, expected: date) -> None:
    assert add_working_days(start, count, NO_HOLIDAYS) == expected


def test_add_working_days_result_is_exactly_count_working_days_later() -> None:
    """Cross-check against a plain count for every start day of 2026 and a few counts."""
    for offset in range(365):
        start = date(2026, 1, 1) + timedelta(days=offset)
        for count in (1, 2, 7, 45):
            end = add_working_days(start, count, HOLIDAYS)
            assert is_working_day(end, HOLIDAYS), (start, count, end)
            span = [start + timedelta(days=i) for i in range(1, (end - start).days + 1)]
            assert sum(is_working_day(d, HOLIDAYS) for d in span) == count, (start, count, end)


# --------------------------------------------------------------------------------------------------
# temporary_certificate_end: 45 working days, the issue day not counted
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("issued_on", "holidays", "expected"),
    [
        # Mon 2 Mar 2026, no holidays: 45 working days = 9 whole weeks = 63 calendar days.
        # 2 Mar + 63: 2 Apr is +31, 2 May is +61, so Mon 4 May 2026.
        pytest.param(date(2026, 3, 2), NO_HOLIDAYS, date(2026, 5, 4), id="monday-no-holidays"),
        # Same, with holidays: 8 Mar is a Sunday (no effect), Fri 1 May is lost -> one working day later:
        # Tue 5 May 2026.
        pytest.param(date(2026, 3, 2), HOLIDAYS, date(2026, 5, 5), id="monday-1-may"),
        # Fri 9 Jan 2026, no holidays: day 1 is Mon 12 Jan; 9 whole weeks end on a Friday:
        # 9 Jan + 63: 31 Jan is +22, 28 Feb is +50, 13 Mar is +63 -> Fri 13 Mar 2026.
        pytest.param(date(2026, 1, 9), NO_HOLIDAYS, date(2026, 3, 13), id="friday-no-holidays"),
        # Same, with holidays: Mon 23 Feb is lost (8 Mar is a Sunday) -> next working day after
        # Fri 13 Mar is Mon 16 Mar 2026.
        pytest.param(date(2026, 1, 9), HOLIDAYS, date(2026, 3, 16), id="friday-23-feb"),
        # Sat 10 Jan 2026: the Saturday is not counted and neither is Sunday; day 1 is Mon 12 Jan,
        # exactly as when issued on Fri 9 Jan -> Fri 13 Mar (no holidays), Mon 16 Mar (with).
        pytest.param(date(2026, 1, 10), NO_HOLIDAYS, date(2026, 3, 13), id="saturday-no-holidays"),
        pytest.param(date(2026, 1, 10), HOLIDAYS, date(2026, 3, 16), id="saturday-23-feb"),
        # Wed 31 Dec 2025, no holidays: 9 weeks = 63 days: 31 Jan +31, 28 Feb +59, Wed 4 Mar 2026 +63.
        pytest.param(date(2025, 12, 31), NO_HOLIDAYS, date(2026, 3, 4), id="new-year-no-holidays"),
        # With holidays: lost weekdays are Thu 1, Fri 2, Mon 5, Tue 6, Wed 7, Thu 8 Jan and Mon 23 Feb = 7.
        # Seven working days after Wed 4 Mar: Thu 5, Fri 6, Mon 9, Tue 10, Wed 11, Thu 12, Fri 13 Mar 2026.
        pytest.param(date(2025, 12, 31), HOLIDAYS, date(2026, 3, 13), id="new-year-january-holidays"),
        # Issued on a holiday, Thu 1 Jan 2026: not counted either way; day 1 is Fri 9 Jan, the same
        # as issuing on 31 Dec 2025 -> Fri 13 Mar 2026.
        pytest.param(date(2026, 1, 1), HOLIDAYS, date(2026, 3, 13), id="issued-on-a-holiday"),
        # Mon 2 Nov 2026, no holidays: 2 Nov + 63: 30 Nov +28, 31 Dec +59, Mon 4 Jan 2027 +63.
        pytest.param(date(2026, 11, 2), NO_HOLIDAYS, date(2027, 1, 4), id="november-no-holidays"),
        # With holidays: by Mon 4 Jan only 42 working days are reached (Wed 4 Nov, Fri 1 Jan and Mon 4 Jan
        # lost); Tue 5 .. Fri 8 Jan are holidays; days 43-45 are Mon 11, Tue 12, Wed 13 Jan 2027.
        pytest.param(date(2026, 11, 2), HOLIDAYS, date(2027, 1, 13), id="november-4-nov-and-new-year"),
    ],
)
def test_temporary_certificate_runs_45_working_days(issued_on: date, holidays: frozenset[date], expected: date) -> None:
    assert add_working_days(issued_on, 45, holidays) == expected
    assert temporary_certificate_end(issued_on, holidays, None) == expected


def test_temporary_certificate_friday_and_monday_issue_differ_by_one_working_day() -> None:
    # Fri 6 Mar 2026 -> 9 weeks later Fri 8 May 2026 without holidays (6 Mar + 63: 6 Apr +31, 6 May +61).
    # Mon 9 Mar 2026 -> Mon 11 May 2026; so the Friday issue ends one working day (not three days) earlier.
    assert temporary_certificate_end(date(2026, 3, 6), NO_HOLIDAYS, None) == date(2026, 5, 8)
    assert temporary_certificate_end(date(2026, 3, 9), NO_HOLIDAYS, None) == date(2026, 5, 11)
    # With holidays, Fri 1 May is lost in both: Fri 6 Mar -> Mon 11 May (9 May is a Saturday, no effect);
    # Mon 9 Mar -> Tue 12 May.
    assert temporary_certificate_end(date(2026, 3, 6), HOLIDAYS, None) == date(2026, 5, 11)
    assert temporary_certificate_end(date(2026, 3, 9), HOLIDAYS, None) == date(2026, 5, 12)


@pytest.mark.parametrize(
    ("policy_end_day", "expected"),
    [
        # Issued Mon 2 Mar 2026 with holidays: uncapped end is Tue 5 May 2026 (see above).
        pytest.param(None, date(2026, 5, 5), id="no-cap"),
        pytest.param(date(2026, 3, 20), date(2026, 3, 20), id="permit-ends-first"),
        pytest.param(date(2026, 5, 4), date(2026, 5, 4), id="cap-one-day-before"),
        pytest.param(date(2026, 5, 5), date(2026, 5, 5), id="cap-on-the-day"),
        pytest.param(date(2026, 5, 6), date(2026, 5, 5), id="cap-one-day-after"),
        pytest.param(date(2026, 12, 31), date(2026, 5, 5), id="year-end-cap-far-away"),
        pytest.param(date(2026, 3, 2), date(2026, 3, 2), id="cap-on-issue-day"),
    ],
)
def test_temporary_certificate_capped_by_policy_end(policy_end_day: date | None, expected: date) -> None:
    assert temporary_certificate_end(date(2026, 3, 2), HOLIDAYS, policy_end_day) == expected


def _certificate_end(category: Category, issued_on: date, right_valid_until: date | None) -> date:
    """How the lifecycle combines the two rules for a temporary certificate."""
    return temporary_certificate_end(issued_on, HOLIDAYS, policy_end(category, issued_on, right_valid_until))


def test_temporary_certificate_for_a_citizen_is_not_capped() -> None:
    # Fri 30 Oct 2026, no cap: 30 Oct + 63 = Fri 1 Jan 2027 without holidays (31 Oct +1, 30 Nov +31,
    # 31 Dec +62). With holidays Wed 4 Nov and Fri 1 Jan are lost; Mon 4 .. Fri 8 Jan too -> Mon 11,
    # Tue 12 Jan 2027.
    assert _certificate_end(Category.CITIZEN, date(2026, 10, 30), None) == date(2027, 1, 12)


@pytest.mark.parametrize("category", PERMANENT)
def test_temporary_certificate_capped_at_year_end_for_october_issue(category: Category) -> None:
    # Issued Fri 30 Oct 2026: the policy ends 31 Dec 2026, before the 45th working day (12 Jan 2027).
    assert _certificate_end(category, date(2026, 10, 30), None) == date(2026, 12, 31)


@pytest.mark.parametrize("category", PERMANENT)
def test_temporary_certificate_not_capped_for_november_issue(category: Category) -> None:
    # Issued Mon 2 Nov 2026: the policy runs to 31 Dec 2027, so the certificate keeps its 45 working
    # days: Wed 13 Jan 2027 (see the november-4-nov-and-new-year case).
    assert _certificate_end(category, date(2026, 11, 2), None) == date(2027, 1, 13)


@pytest.mark.parametrize("category", TEMPORARY)
def test_temporary_certificate_capped_by_permit(category: Category) -> None:
    # Issued Mon 2 Mar 2026, permit until Fri 20 Mar 2026: the certificate may not outlive the permit.
    assert _certificate_end(category, date(2026, 3, 2), date(2026, 3, 20)) == date(2026, 3, 20)
    # Permit until 31 Dec 2026: the 45-working-day end (Tue 5 May 2026) comes first.
    assert _certificate_end(category, date(2026, 3, 2), date(2026, 12, 31)) == date(2026, 5, 5)


# --------------------------------------------------------------------------------------------------
# policy_end
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("issued_on", "right_valid_until"),
    [
        (date(2026, 3, 10), None),
        (date(2026, 11, 1), None),
        (date(2026, 12, 31), None),
        # A citizen's record may still carry a date: it is ignored, even an already past one.
        (date(2026, 3, 10), date(2026, 6, 30)),
        (date(2026, 3, 10), date(2020, 1, 1)),
    ],
)
def test_policy_end_citizen_has_no_end(issued_on: date, right_valid_until: date | None) -> None:
    assert policy_end(Category.CITIZEN, issued_on, right_valid_until) is None


@pytest.mark.parametrize("category", PERMANENT)
@pytest.mark.parametrize(
    ("issued_on", "expected"),
    [
        pytest.param(date(2026, 1, 1), date(2026, 12, 31), id="1-jan"),
        pytest.param(date(2026, 6, 15), date(2026, 12, 31), id="mid-year"),
        pytest.param(date(2026, 10, 31), date(2026, 12, 31), id="31-oct-last-day-same-year"),
        pytest.param(date(2026, 11, 1), date(2027, 12, 31), id="1-nov-first-day-next-year"),
        pytest.param(date(2026, 11, 15), date(2027, 12, 31), id="15-nov"),
        pytest.param(date(2026, 12, 31), date(2027, 12, 31), id="31-dec"),
        pytest.param(date(2028, 2, 29), date(2028, 12, 31), id="leap-day"),
    ],
)
def test_policy_end_permanent_resident(category: Category, issued_on: date, expected: date) -> None:
    assert policy_end(category, issued_on, None) == expected


@pytest.mark.parametrize("category", PERMANENT)
@pytest.mark.parametrize(
    ("issued_on", "right_valid_until", "expected"),
    [
        pytest.param(date(2026, 3, 10), date(2026, 6, 30), date(2026, 6, 30), id="document-first"),
        pytest.param(date(2026, 3, 10), date(2030, 12, 31), date(2026, 12, 31), id="year-end-first"),
        pytest.param(date(2026, 11, 15), date(2027, 6, 30), date(2027, 6, 30), id="november-document-first"),
        pytest.param(date(2026, 11, 15), date(2030, 1, 1), date(2027, 12, 31), id="november-year-end-first"),
        pytest.param(date(2026, 3, 10), date(2026, 3, 10), date(2026, 3, 10), id="document-ends-on-issue-day"),
    ],
)
def test_policy_end_permanent_resident_capped_by_document(
    category: Category, issued_on: date, right_valid_until: date, expected: date
) -> None:
    assert policy_end(category, issued_on, right_valid_until) == expected


@pytest.mark.parametrize("category", PERMANENT)
def test_policy_end_permanent_resident_expired_document(category: Category) -> None:
    with pytest.raises(RegistryError, match="истёк"):
        policy_end(category, date(2026, 3, 10), date(2026, 3, 9))


@pytest.mark.parametrize("category", TEMPORARY)
@pytest.mark.parametrize("issued_on", [date(2026, 3, 10), date(2026, 11, 1), date(2026, 12, 31)])
def test_policy_end_temporary_requires_document(category: Category, issued_on: date) -> None:
    with pytest.raises(RegistryError, match="right_valid_until"):
        policy_end(category, issued_on, None)


@pytest.mark.parametrize("category", TEMPORARY)
@pytest.mark.parametrize(
    ("issued_on", "right_valid_until", "expected"),
    [
        # Within the year: the earlier of the permit and 31 Dec.
        pytest.param(date(2026, 3, 10), date(2026, 6, 30), date(2026, 6, 30), id="permit-first"),
        pytest.param(date(2026, 3, 10), date(2026, 12, 31), date(2026, 12, 31), id="permit-ends-31-dec"),
        pytest.param(date(2026, 3, 10), date(2027, 1, 1), date(2026, 12, 31), id="permit-ends-1-jan-next"),
        pytest.param(date(2026, 3, 10), date(2028, 3, 31), date(2026, 12, 31), id="permit-long"),
        # 31 Oct is still the same year, even with a long permit.
        pytest.param(date(2026, 10, 31), date(2028, 3, 31), date(2026, 12, 31), id="31-oct-long-permit"),
        # From 1 Nov: the end of the next year, still capped by the permit.
        pytest.param(date(2026, 11, 1), date(2028, 3, 31), date(2027, 12, 31), id="1-nov-long-permit"),
        pytest.param(date(2026, 11, 15), date(2027, 6, 30), date(2027, 6, 30), id="15-nov-permit-jun-next"),
        pytest.param(date(2026, 11, 15), date(2028, 3, 31), date(2027, 12, 31), id="15-nov-permit-mar-after-next"),
        pytest.param(date(2026, 11, 15), date(2026, 11, 30), date(2026, 11, 30), id="15-nov-permit-this-month"),
        pytest.param(date(2026, 12, 31), date(2027, 12, 31), date(2027, 12, 31), id="31-dec-permit-to-year-end"),
        # A permit valid through the issue day only: a one-day policy.
        pytest.param(date(2026, 3, 10), date(2026, 3, 10), date(2026, 3, 10), id="permit-ends-on-issue-day"),
    ],
)
def test_policy_end_temporary_capped_by_document(
    category: Category, issued_on: date, right_valid_until: date, expected: date
) -> None:
    assert policy_end(category, issued_on, right_valid_until) == expected


@pytest.mark.parametrize("category", TEMPORARY)
@pytest.mark.parametrize(
    ("issued_on", "right_valid_until"),
    [
        pytest.param(date(2026, 3, 10), date(2026, 3, 9), id="expired-the-day-before"),
        pytest.param(date(2026, 1, 1), date(2025, 12, 31), id="expired-last-year"),
        pytest.param(date(2026, 11, 15), date(2026, 10, 31), id="expired-before-november-issue"),
    ],
)
def test_policy_end_temporary_expired_document(category: Category, issued_on: date, right_valid_until: date) -> None:
    with pytest.raises(RegistryError, match="истёк"):
        policy_end(category, issued_on, right_valid_until)


# --------------------------------------------------------------------------------------------------
# newborn_cover_last_day
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("registered_on", "expected"),
    [
        # 10 Mar + 30: 31 Mar is +21, 9 Apr is +30.
        (date(2026, 3, 10), date(2026, 4, 9)),
        # 10 Feb 2026 + 30: 28 Feb is +18, 12 Mar is +30 (not a leap year).
        (date(2026, 2, 10), date(2026, 3, 12)),
        # 10 Feb 2028 + 30: 29 Feb is +19, 11 Mar is +30 (leap year).
        (date(2028, 2, 10), date(2028, 3, 11)),
        # 15 Dec 2026 + 30: 31 Dec is +16, 14 Jan 2027 is +30.
        (date(2026, 12, 15), date(2027, 1, 14)),
        # 1 Jan + 30 = 31 Jan.
        (date(2026, 1, 1), date(2026, 1, 31)),
    ],
)
def test_newborn_cover_last_day(registered_on: date, expected: date) -> None:
    assert newborn_cover_last_day(registered_on) == expected


def test_newborn_covered_through_day_30_not_day_31() -> None:
    registered_on = date(2026, 3, 10)
    last_day = newborn_cover_last_day(registered_on)

    def covered(today: date) -> bool:
        return today <= last_day

    assert covered(registered_on)  # day 0, the registration day
    assert covered(date(2026, 3, 11))  # day 1
    assert covered(date(2026, 4, 8))  # day 29
    assert covered(date(2026, 4, 9))  # day 30: still covered
    assert not covered(date(2026, 4, 10))  # day 31: no longer covered
    assert covered(registered_on + timedelta(days=30))
    assert not covered(registered_on + timedelta(days=31))


# --------------------------------------------------------------------------------------------------
# may_change_insurer
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "applied_on",
    [date(2026, 1, 1), date(2026, 6, 15), date(2026, 10, 31), date(2026, 11, 1)],
)
def test_first_ordinary_change_up_to_1_november_allowed(applied_on: date) -> None:
    assert may_change_insurer(applied_on, 0, "") is None


@pytest.mark.parametrize(
    "applied_on",
    [date(2026, 11, 2), date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 31)],
)
def test_ordinary_change_after_1_november_refused(applied_on: date) -> None:
    with pytest.raises(RegistryError, match="1 ноября"):
        may_change_insurer(applied_on, 0, "")


@pytest.mark.parametrize("earlier", [1, 2, 5])
@pytest.mark.parametrize("applied_on", [date(2026, 1, 2), date(2026, 6, 15), date(2026, 11, 1)])
def test_second_ordinary_change_in_a_year_refused(applied_on: date, earlier: int) -> None:
    with pytest.raises(RegistryError, match="один раз"):
        may_change_insurer(applied_on, earlier, "")


def test_second_ordinary_change_after_deadline_refused() -> None:
    with pytest.raises(RegistryError):
        may_change_insurer(date(2026, 11, 2), 1, "")


@pytest.mark.parametrize("exception", ["moved_region", "insurer_left"])
@pytest.mark.parametrize("earlier", [0, 1, 3])
@pytest.mark.parametrize(
    "applied_on",
    [date(2026, 1, 1), date(2026, 6, 15), date(2026, 11, 1), date(2026, 11, 2), date(2026, 12, 31)],
)
def test_excepted_change_allowed_regardless_of_date_and_count(applied_on: date, earlier: int, exception: str) -> None:
    assert may_change_insurer(applied_on, earlier, exception) is None


def test_an_unknown_exception_does_not_lift_the_limit() -> None:
    with pytest.raises(RegistryError, match="moved_region"):
        may_change_insurer(date(2026, 3, 1), 0, "just_because")
