import pytest

from policy_codes import Enp, InvalidValue, Snils
from policy_codes.enp import luhn_check_digit
from policy_codes.words import translate


def test_design_example_enp_is_valid() -> None:
    assert str(Enp("1234567890123452")) == "1234567890123452"


@pytest.mark.parametrize("bad", ["1234567890123458", "123456789012345", "12345678901234520", "12345678901234a2", ""])
def test_bad_enp_is_refused(bad: str) -> None:
    with pytest.raises(InvalidValue):
        Enp(bad)


def test_every_single_digit_change_breaks_the_check() -> None:
    good = "1234567890123452"
    for position in range(16):
        for digit in "0123456789":
            if digit != good[position]:
                with pytest.raises(InvalidValue):
                    Enp(good[:position] + digit + good[position + 1 :])


def test_with_check_digit_completes_fifteen_digits() -> None:
    assert Enp.with_check_digit("123456789012345") == Enp("1234567890123452")
    assert luhn_check_digit("7992739871") == 3  # the textbook Luhn example


def test_masked_enp_keeps_only_the_last_four() -> None:
    assert Enp("1234567890123452").masked().endswith("3452")
    assert "1234567890" not in Enp("1234567890123452").masked()


def test_design_example_snils() -> None:
    assert str(Snils("112-233-445 95")) == "112-233-445 95"
    assert Snils("11223344595").digits == "11223344595"


@pytest.mark.parametrize("bad", ["112-233-445 96", "112-233-446 95", "1122334459", "abc-def-ghi 95"])
def test_corrupted_snils_is_refused(bad: str) -> None:
    with pytest.raises(InvalidValue):
        Snils(bad)


def test_old_snils_numbers_are_not_checked() -> None:
    assert Snils("001-001-998 00").digits == "00100199800"
    with pytest.raises(InvalidValue):
        Snils("001-001-999 00")


def test_control_100_and_101_become_00() -> None:
    # 9 digits whose weighted sum is 101: control 101 mod 101 mod 100 = 00
    number = next(f"{n:09d}" for n in range(1_002_000, 10**9) if _weighted(f"{n:09d}") in (100, 101))
    assert Snils(number + "00")


def _weighted(number: str) -> int:
    return sum(int(d) * (9 - i) for i, d in enumerate(number))


@pytest.mark.parametrize(
    ("value", "russian", "english"),
    [
        (lambda: Enp("1234567890123458"), "Сверьте все 16 цифр с полисом", "Compare all 16 digits with the policy"),
        (lambda: Snils("112-233-445 96"), "Сверьте все 11 цифр с документом", "Compare all 11 digits with the"),
    ],
)
def test_a_wrong_check_digit_says_it_is_a_typo_and_what_to_compare(value, russian: str, english: str) -> None:
    """«Неверная контрольная цифра ЕНП» left the person at the form (or the import's refused line) with nothing
    to do: the words say it is a typo and what to compare it with, in both languages."""
    with pytest.raises(InvalidValue) as refused:
        value()
    assert "опечатка" in str(refused.value)
    assert russian in str(refused.value)
    assert english in translate(str(refused.value), "en")
