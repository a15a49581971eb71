"""Full names, and their compact packing inside a code.

A QR at version 10, level Q holds 144 bytes after Base45; the signature and
the COSE envelope take 80 of them. UTF-8 Cyrillic costs 16 bits a letter, so
the names are packed with a fixed prefix code (canonical Huffman) instead:
about 4.4 bits a letter for real names and never more than 7. The code
lengths below were counted once over common Russian names and are part of
the code format: changing them is a new format version (docs/code-format.md).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import NamedTuple

from policy_codes.errors import InvalidValue, MalformedCode, seen_as
from policy_codes.words import N_

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

_VALID_PART = re.compile(f"[{re.escape(NAME_CHARACTERS)}]*")


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


_CODE_TABLE = canonical_code_table()


class _Step(NamedTuple):
    """What one byte of a packed name decodes to, from one decoder state."""

    symbols: str
    #: Where the next byte's step is in the table: its state's row, times 256.
    next_row: int
    #: END was read: the name stops here.
    ended: bool


@functools.cache
def _byte_steps() -> list[_Step]:
    """Every (state, byte) → the symbols the byte completes, and the state after it.

    A state is the prefix of a code word read so far, so decoding takes one look-up a byte instead of
    one a symbol: it sits on the verification hot path. Built on first use (~10 ms), not on import.
    """
    by_code = {code: symbol for symbol, code in _CODE_TABLE.items()}
    prefixes = sorted({(length - cut, code >> cut) for length, code in by_code for cut in range(1, length + 1)})
    row_of = {prefix: 256 * index for index, prefix in enumerate(prefixes)}
    steps = []
    for length, code in prefixes:
        for byte in range(256):
            symbols, read, ended = [], (length, code), False
            for shift in range(7, -1, -1):
                read = (read[0] + 1, (read[1] << 1) | ((byte >> shift) & 1))
                symbol = by_code.get(read)
                if symbol == END:
                    ended = True
                    break
                if symbol is not None:
                    symbols.append(symbol)
                    read = (0, 0)
            steps.append(_Step("".join(symbols), 0 if ended else row_of[read], ended))
    return steps


def _normalise(part: str) -> str:
    return " ".join(part.split()).upper()


@dataclass(frozen=True)
class FullName:
    """Surname, given name and patronymic, kept in capitals as in the registry.

    The patronymic may be empty; the other two may not.
    """

    surname: str
    given_name: str
    patronymic: str = ""

    def __post_init__(self) -> None:
        """Normalise the parts, then check them: each name a verification decodes comes through here."""
        parts = (_normalise(self.surname), _normalise(self.given_name), _normalise(self.patronymic))
        if parts != self.parts():
            for field, part in zip(("surname", "given_name", "patronymic"), parts, strict=True):
                object.__setattr__(self, field, part)
        if not parts[0] or not parts[1]:
            raise InvalidValue(N_("Нужны фамилия и имя"))
        if max(map(len, parts)) > MAX_PART_LENGTH:
            raise InvalidValue(N_("Часть имени длиннее %(count)d знаков"), count=MAX_PART_LENGTH)
        whole = "".join(parts)  # one look at every letter: each part may hold the same characters
        if not _VALID_PART.fullmatch(whole):
            unknown = " ".join(  # as typed; one nobody sees (a zero-width space, a bidi override) by its code
                seen_as(char) for char in dict.fromkeys(char for char in whole if char not in NAME_CHARACTERS)
            )
            raise InvalidValue(
                N_("Недопустимые знаки в ФИО: %(characters)s (ФИО пишется русскими буквами)"), characters=unknown
            )
        if len(whole) > MAX_TOTAL_LENGTH:
            raise InvalidValue(N_("Полное имя длиннее %(count)d знаков"), count=MAX_TOTAL_LENGTH)

    def parts(self) -> tuple[str, str, str]:
        return self.surname, self.given_name, self.patronymic

    def letter_count(self) -> int:
        return sum(len(part) for part in self.parts())

    def display(self) -> str:
        """As people write it: `Римский-Корсаков Николай Андреевич`."""
        return " ".join(part.title() for part in self.parts() if part)


def pack_name(name: FullName) -> bytes:
    """`SURNAME|GIVEN|PATRONYMIC`, prefix-coded, high bits first.

    The last byte is filled with the leading bits of END, so a decoder stops
    there; when the symbols end on a byte boundary, END is left out.
    """
    bits = 0
    count = 0
    for symbol in PART_SEPARATOR.join(name.parts()):
        length, code = _CODE_TABLE[symbol]
        bits = (bits << length) | code
        count += length
    spare = -count % 8
    if spare:
        end_length, end_code = _CODE_TABLE[END]
        bits = (bits << spare) | ((end_code << spare) >> end_length)
    return bits.to_bytes((count + spare) // 8, "big")


def _symbols(packed: bytes) -> str:
    """Decode until END or until the bits run out (a partial code is padding)."""
    steps = _byte_steps()
    row = 0
    symbols = []
    for byte in packed:
        text, row, ended = steps[row + byte]
        symbols.append(text)
        if ended:
            break
    return "".join(symbols)


def unpack_name(packed: bytes) -> FullName:
    """The reverse of `pack_name`; `MalformedCode` if it is not three valid parts."""
    parts = _symbols(packed).split(PART_SEPARATOR)
    if len(parts) != 3:
        raise MalformedCode("the name field does not hold three parts")
    try:
        return FullName(*parts)
    except InvalidValue as error:
        raise MalformedCode(f"the name field is invalid: {error}") from error
