"""Shared fixtures: real keys, real claims, a fixed clock."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from policy_codes import CodeKind, Enp, FullName, PolicyClaims, Sex, encode
from signing import KeyRing, SigningKey

KEY_START = datetime(2026, 1, 1, tzinfo=UTC)
ISSUED_AT = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
INSURER = "77008"


@pytest.fixture(autouse=True)
def omscode_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """omscode remembers the lists it accepted (policy_codes/list_state.py): in a folder of each test's own,
    never in the home of whoever runs the tests."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("xdg-state")))


@pytest.fixture
def keyring() -> KeyRing:
    return KeyRing()


@pytest.fixture
def signing_key(keyring: KeyRing) -> SigningKey:
    return keyring.create(INSURER, not_before=KEY_START)


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


@pytest.fixture
def claims() -> PolicyClaims:
    return make_claims()


@pytest.fixture
def code_text(claims: PolicyClaims, signing_key: SigningKey) -> str:
    return encode(claims, signing_key)


def pytest_report_header() -> str:
    from tests.webapp.databases import postgres_unreachable

    reason = postgres_unreachable()
    if reason is None:
        return "PostgreSQL: reachable at 127.0.0.1:5432, database tests run on SQLite and PostgreSQL"
    return f"PostgreSQL: NOT reachable ({reason}); database tests run on SQLite only, PostgreSQL cases are skipped"
