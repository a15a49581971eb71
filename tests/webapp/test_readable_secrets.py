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
