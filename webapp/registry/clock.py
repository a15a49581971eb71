"""The registry's clock: instants in whole seconds of UTC, days as Moscow days.

Policy dates are Moscow dates, as every verifier reads them (policy_codes/codec.py), and stored instants
carry no microseconds, as the codes' own `issued_at` does not.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from policy_codes.codec import moscow_date


def now(moment: datetime | None = None) -> datetime:
    """`moment`, or the present, in whole seconds."""
    return (moment or datetime.now(UTC)).replace(microsecond=0)


def today_in_moscow(moment: datetime) -> date:
    return moscow_date(moment)
