"""Full names, and their compact packing inside a code.

A QR at version 10, level Q holds 144 bytes after Base45; the signature and
the COSE envelope take 80 of them. UTF-8 Cyrillic costs 16 bits a letter, so
the names are packed with a fixed prefix code (canonical Huffman) instead:
about 4.4 bits a letter for real names and never more than 7. The code
lengths below were counted once over common Russian names and are part of
the code format: changing them is a new format version (docs/code-format.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dahuffman import HuffmanCodec

from policy_codes.errors import InvalidValue, MalformedCode

#: Letters and marks a name may hold: the Russian alphabet, space, hyphen,
#: apostrophe and dot (as in the registry and the legacy paper policy).
NAME_CHARACTERS = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ -'."
PART_SEPARATOR = "|"
END = "END"

#: Symbols in canonical order, and their code lengths in bits.
SYMBOLS = (PART_SEPARATOR, *NAME_CHARACTERS, END)
CODE_LENGTHS = (*(int(n) for n in "43746547774755544745577776777767767777"), 5)

#: Registry field widths: no part may be longer; the whole keeps the code
#: within QR version 13 whatever the letters are.
MAX_PART_LENGTH = 40
MAX_TOTAL_LENGTH = 100

_SPACES = re.compile(r"\s+")


def canonical_code_table() -> dict[str, tuple[int, int]]:
    """Code words from lengths alone: shorter first, then in SYMBOLS order."""
    table: dict[str, tuple[int, int]] = {}
    code = 0
    previous_length = 0
    for length, symbol in sorted(zip(CODE_LENGTHS, SYMBOLS, strict=True), key=_canonical_order):
        code <<= length - previous_length
        table[symbol] = (length, code)
        code += 1
        previous_length = length
    return table


def _canonical_order(pair: tuple[int, str]) -> tuple[int, int]:
    length, symbol = pair
    return length, SYMBOLS.index(symbol)


_CODEC = HuffmanCodec(canonical_code_table(), concat="".join, eof=END)


def _normalise(part: str) -> str:
    return _SPACES.sub(" ", part).strip().upper()


@dataclass(frozen=True)
class FullName:
    """Surname, given name and patronymic, kept in capitals as in the registry.

    The patronymic may be empty; the other two may not.
    """

    surname: str
    given_name: str
    patronymic: str = ""

    def __post_init__(self) -> None:
        for field in ("surname", "given_name", "patronymic"):
            object.__setattr__(self, field, _normalise(getattr(self, field)))
        if not self.surname or not self.given_name:
            raise InvalidValue("Нужны фамилия и имя")
        for part in self.parts():
            if len(part) > MAX_PART_LENGTH:
                raise InvalidValue(f"Часть имени длиннее {MAX_PART_LENGTH} знаков")
            if unknown := set(part) - set(NAME_CHARACTERS):
                raise InvalidValue(f"Недопустимые знаки в имени: {''.join(sorted(unknown))}")
        if sum(map(len, self.parts())) > MAX_TOTAL_LENGTH:
            raise InvalidValue(f"Полное имя длиннее {MAX_TOTAL_LENGTH} знаков")

    def parts(self) -> tuple[str, str, str]:
        return self.surname, self.given_name, self.patronymic

    def letter_count(self) -> int:
        return sum(len(part) for part in self.parts())

    def display(self) -> str:
        """As people write it: `Римский-Корсаков Николай Андреевич`."""
        return " ".join(part.title() for part in self.parts() if part)


def pack_name(name: FullName) -> bytes:
    """The name as a bit string: `SURNAME|GIVEN|PATRONYMIC`, prefix-coded."""
    return _CODEC.encode(PART_SEPARATOR.join(name.parts()))


def unpack_name(packed: bytes) -> FullName:
    """The reverse of `pack_name`; `MalformedCode` if it is not three valid parts."""
    parts = _CODEC.decode(packed).split(PART_SEPARATOR)
    if len(parts) != 3:
        raise MalformedCode("the name field does not hold three parts")
    try:
        return FullName(*parts)
    except InvalidValue as error:
        raise MalformedCode(f"the name field is invalid: {error}") from error
