"""Moscow's calendar day as the app reads it, read when a test asks: a run collected before Moscow's midnight
(21:00 UTC) goes on past it, and a day read at import would then be yesterday's."""

from __future__ import annotations

from datetime import date, timedelta

from webapp.registry import clock


def today() -> date:
    return clock.today_in_moscow(clock.now())


def yesterday() -> date:
    return today() - timedelta(days=1)


def years_ago(years: int) -> date:
    """Today's date `years` years back; 28 February for a 29 February."""
    day = today()
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return date(day.year - years, 2, 28)
