"""ЕНП: the 16-digit single policy number, whose last digit is a Luhn check."""

from __future__ import annotations

from dataclasses import dataclass

from policy_codes.errors import InvalidValue
from policy_codes.words import N_

ENP_LENGTH = 16


#: By ASCII code of a digit: the digit doubled, with the digits of the product summed (Luhn's step).
_DOUBLED = bytes(48) + bytes((0, 2, 4, 6, 8, 1, 3, 5, 7, 9)) + bytes(198)
_ZERO = ord("0")


def luhn_check_digit(payload: str) -> int:
    """The digit that makes `payload + digit` pass the Luhn test (`payload` holds ASCII digits)."""
    codes = payload.encode("ascii")
    # Counting from the right, every other digit is doubled once the check digit is appended.
    doubled = codes[::-1][0::2]
    kept = codes[::-1][1::2]
    total = sum(doubled.translate(_DOUBLED)) + sum(kept) - _ZERO * len(kept)
    return -total % 10


def as_typed(text: str) -> str:
    """A number as people type or paste it, without the spaces and dashes it is printed with (7700 0000 0000 0016,
    7700-0000-0000-0016); anything else in it is left for the check that reads it to refuse."""
    return "".join(text.split()).replace("-", "")


@dataclass(frozen=True, order=True)
class Enp:
    """A checked ЕНП. Construction fails with `InvalidValue` on a bad number."""

    digits: str

    def __post_init__(self) -> None:
        if len(self.digits) != ENP_LENGTH or not self.digits.isascii() or not self.digits.isdigit():
            raise InvalidValue(N_("ЕНП должен состоять ровно из 16 цифр"))
        if luhn_check_digit(self.digits[:-1]) != int(self.digits[-1]):
            # Said where a person reads it (a form's field, the import's refused lines): what to compare, and where.
            raise InvalidValue(
                N_(
                    "В ЕНП опечатка: контрольная (последняя) цифра не сходится с остальными. "
                    "Сверьте все 16 цифр с полисом и исправьте номер."
                )
            )

    @classmethod
    def with_check_digit(cls, first_fifteen: str) -> Enp:
        """Complete 15 digits with their check digit."""
        return cls(first_fifteen + str(luhn_check_digit(first_fifteen)))

    @classmethod
    def from_int(cls, value: int) -> Enp:
        if not 0 <= value < 10**ENP_LENGTH:
            raise InvalidValue(N_("ЕНП должен состоять ровно из 16 цифр"))
        return cls(f"{value:016d}")

    def __int__(self) -> int:
        return int(self.digits)

    def __str__(self) -> str:
        return self.digits

    def grouped(self) -> str:
        """As people read it aloud: four groups of four digits, "7700 0000 0000 0016". Scanners and the
        clinic's form take the spaces back out (codec.normalise_scanned, verification._number)."""
        return " ".join(self.digits[start : start + 4] for start in range(0, ENP_LENGTH, 4))

    def masked(self) -> str:
        """Safe to show in histories and logs: only the last four digits."""
        return "•" * 12 + self.digits[-4:]
