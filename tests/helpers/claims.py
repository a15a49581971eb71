"""Real claims and a fixed clock, for tests of the code format and of the registry alike."""

from __future__ import annotations

from datetime import UTC, date, datetime

from policy_codes import CodeKind, Enp, FullName, PolicyClaims, Sex

KEY_START = datetime(2026, 1, 1, tzinfo=UTC)
ISSUED_AT = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
INSURER = "77008"


def make_claims(**changes: object) -> PolicyClaims:
    fields: dict[str, object] = {
        "enp": Enp("1234567890123452"),
        "serial": 1,
        "kind": CodeKind.POLICY,
        "insurer_code": INSURER,
        "name": FullName("Иванова", "Мария", "Петровна"),
        "birth_date": date(1985, 3, 14),
        "sex": Sex.FEMALE,
        "valid_from": date(2026, 1, 10),
        "valid_to": None,
        "issued_at": ISSUED_AT,
    }
    fields.update(changes)
    return PolicyClaims(**fields)  # type: ignore[arg-type]
