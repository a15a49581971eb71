"""Shared fixtures: real keys, real claims, a fixed clock."""

from __future__ import annotations

import os

import pytest

from policy_codes import PolicyClaims, encode
from signing import KeyRing, SigningKey
from tests.helpers.claims import INSURER, KEY_START, make_claims


@pytest.fixture(autouse=True)
def omscode_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """omscode remembers the lists it accepted (policy_codes/list_state.py): in a folder of each test's own,
    never in the home of whoever runs the tests."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("xdg-state")))


@pytest.fixture(autouse=True, scope="session")
def default_locale() -> None:
    """Commands speak the interface's default language (webapp/console.py) whatever the locale of whoever runs
    the tests; a test of English sets its own."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        os.environ.pop(name, None)
    os.environ["LANG"] = "C.UTF-8"


@pytest.fixture
def keyring() -> KeyRing:
    return KeyRing()


@pytest.fixture
def signing_key(keyring: KeyRing) -> SigningKey:
    return keyring.create(INSURER, not_before=KEY_START)


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
