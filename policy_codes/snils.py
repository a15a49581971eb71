"""СНИЛС: 9 digits and 2 control digits (the insurance account number)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from policy_codes.errors import InvalidValue
from policy_codes.words import N_

#: Numbers up to 001-001-998 were issued before the control rule existed.
UNCHECKED_UP_TO = 1_001_998

_SEPARATORS = re.compile(r"[\s-]")


def snils_control(number: str) -> int:
    """The control number of 9 digits: Σ dᵢ·(10−i) mod 101 mod 100."""
    total = sum(int(digit) * (9 - index) for index, digit in enumerate(number))
    return total % 101 % 100


@dataclass(frozen=True)
class Snils:
    """A checked СНИЛС, kept as 11 digits; accepts `112-233-445 95` too."""

    digits: str

    def __post_init__(self) -> None:
        digits = _SEPARATORS.sub("", self.digits)
        if len(digits) != 11 or not digits.isascii() or not digits.isdigit():
            raise InvalidValue(N_("СНИЛС должен состоять из 11 цифр"))
        object.__setattr__(self, "digits", digits)
        number, control = digits[:9], int(digits[9:])
        if int(number) > UNCHECKED_UP_TO and snils_control(number) != control:
            raise InvalidValue(
                N_(
                    "В СНИЛС опечатка: контрольное число (две последние цифры) не сходится с остальными. "
                    "Сверьте все 11 цифр с документом и исправьте номер."
                )
            )

    def __str__(self) -> str:
        d = self.digits
        return f"{d[:3]}-{d[3:6]}-{d[6:9]} {d[9:]}"
