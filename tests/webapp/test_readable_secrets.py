"""Secrets a person reads off a screen and types (webapp/registry/readable.py): no symbol that can be taken for
another, and a one-time code typed with a Russian keyboard's look-alike letters still the code."""

from __future__ import annotations

import math

import pytest
from flask import Flask

from tests.helpers.registry import NOW, register
from tests.webapp.pages import MOTHER, PASSWORD
from webapp.models import Role
from webapp.registry import accounts, activation, readable

#: Symbols taken for one another on a screen: at most one of each group may be used (a password is read with
#: its case, so a letter drawn the same in both cases counts too).
LOOK_ALIKES = ("0Oo", "1Il", *(letter + letter.lower() for letter in "CKPSUVWXZ"))
#: What the password made before held: `secrets.token_urlsafe(12)`, 96 bits.
FORMER_BITS = 96


def test_the_alphabet_holds_no_look_alikes() -> None:
    for group in LOOK_ALIKES:
        assert sum(symbol in readable.ALPHABET for symbol in group) <= 1, group


def test_a_generated_password_holds_only_the_alphabets_symbols_and_no_fewer_bits() -> None:
    passwords = [accounts.generated_password() for _ in range(200)]
    symbols = {symbol for password in passwords for symbol in password.replace("-", "")}
    assert symbols <= set(readable.ALPHABET), f"look-alikes: {sorted(symbols - set(readable.ALPHABET))}"
    assert all(len(password) >= accounts.MIN_PASSWORD_LENGTH for password in passwords)
    random_symbols = {len(password.replace("-", "")) for password in passwords}
    assert random_symbols == {accounts.GENERATED_PASSWORD_LENGTH}
    assert accounts.GENERATED_PASSWORD_LENGTH * math.log2(len(readable.ALPHABET)) >= FORMER_BITS
    assert len(set(passwords)) == len(passwords)


def test_a_generated_password_reads_in_groups_of_four() -> None:
    groups = accounts.generated_password().split("-")
    assert [len(group) for group in groups] == [4] * 5


def test_a_one_time_code_typed_with_cyrillic_look_alikes_is_the_code(
    registry: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Printed «KPCT-3MXE» is typed on a Russian keyboard as «КРСТ-ЗМХЕ», every letter Cyrillic: the same code."""
    monkeypatch.setattr(readable, "random_text", lambda length: "KPCT3MXE"[:length])
    register()
    accounts.create_user("ivanova", PASSWORD, Role.CITIZEN, "test", enp=MOTHER)
    code = activation.issue_code(MOTHER, "smo:staff", now=NOW)
    assert activation.display(code) == "KPCT-3MXE"
    user = activation.recover(MOTHER, "крст-змхе", "a-new-long-password", now=NOW).user
    assert accounts.password_matches(user, "a-new-long-password")


def test_a_generated_password_typed_without_its_dashes_or_in_small_letters_logs_in(registry: Flask) -> None:
    """Copied off a slip, «KPCT-3MXE-…» is typed «kpct3mxe…», «KPCT 3MXE …» or on a Russian keyboard: the same
    password. Anything else is still compared as typed."""
    password = "KPCT-3MXE-HA7W-QN2R-YD5F"
    accounts.create_user("boris", password, Role.ADMIN, "test")
    user = accounts.user_by_login("boris")
    for typed in (password, "kpct3mxeha7wqn2ryd5f", "KPCT 3MXE HA7W QN2R YD5F", "крст-змхе-на7w-qn2r-yd5f"):
        assert accounts.authenticate("boris", typed) == user, typed
    for wrong in (
        "KPCT-3MXE-HA7W-QN2R-YD5G",
        "KPCT3MXEHA7WQN2RYD5",
        "KPCT-3MXE-HA7W-QN2R-YD5F!",
        "KPCT_3MXE_HA7W_QN2R_YD5F",
    ):
        assert accounts.authenticate("boris", wrong) is None, wrong


def test_a_chosen_password_is_compared_as_typed(registry: Flask) -> None:
    """A password of one's own that happens to read like a generated one keeps its small letters: only a generated
    password, shown in capitals with dashes, is read from another way of typing it."""
    chosen = "kpct3mxeha7wqn2ryd5f"
    accounts.create_user("vera", chosen, Role.ADMIN, "test")
    assert accounts.authenticate("vera", chosen) is not None
    assert accounts.authenticate("vera", "KPCT-3MXE-HA7W-QN2R-YD5F") is None


def test_a_refusal_costs_as_many_verifications_whether_the_login_exists_or_not(
    registry: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A generated password typed another way costs a second argon2 verification on a real login: an unknown login
    costs it too, or the time of a refusal would tell which logins exist."""
    accounts.create_user("boris", "KPCT-3MXE-HA7W-QN2R-YD5F", Role.ADMIN, "test")
    verifications: list[str] = []
    real_verify = accounts._verify

    def counted(password_hash: str, password: str) -> bool:
        verifications.append(password)
        return real_verify(password_hash, password)

    monkeypatch.setattr(accounts, "_verify", counted)
    for wrong in ("kpct3mxeha7wqn2ryd5g", "not-the-password"):
        costs = []
        for login in ("boris", "nobody"):
            verifications.clear()
            assert accounts.authenticate(login, wrong) is None
            costs.append(len(verifications))
        assert costs[0] == costs[1], (wrong, costs)
    assert costs == [1, 1]
