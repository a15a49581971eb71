"""The 2D barcode of the 2011 paper policy: 130 bytes, big-endian.

Its 65-byte signature cannot be checked here (the key is not published), so
this reads the fields and the caller reports the registry status, saying
plainly that the paper signature was not checked.

Layout, by byte offset:

    0       type, 0x01 or 0x02
    1–8     ЕНП as uint64
    then    the full name in 6-bit characters (type 01: 42 bytes, low bits
            first, given|surname|patronymic; type 02: 51 bytes, high bits
            first, surname|given|patronymic)
    then    sex (1 = M, 2 = F), birth date and expiry as uint16 days since
            1900-01-01 (expiry 0 = no end)
    type 01 only: the insurer's ОГРН (uint48) and ОКАТО (uint24)
    65–129  signature
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from policy_codes.claims import Sex
from policy_codes.enp import Enp
from policy_codes.errors import InvalidValue, MalformedCode
from policy_codes.names import FullName

LEGACY_LENGTH = 130
SIGNATURE_OFFSET = 65
ALPHABET = " .-'0123456789АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЬЪЫЭЮЯ"
SEPARATOR_INDEX = 63
DAY_ZERO = date(1900, 1, 1)


@dataclass(frozen=True)
class _Layout:
    name_bytes: int
    low_bits_first: bool
    name_order: tuple[int, int, int]  # where surname, given name, patronymic stand
    has_insurer: bool


_LAYOUTS = {
    0x01: _Layout(name_bytes=42, low_bits_first=True, name_order=(1, 0, 2), has_insurer=True),
    0x02: _Layout(name_bytes=51, low_bits_first=False, name_order=(0, 1, 2), has_insurer=False),
}


#: Byte 0 of a legacy barcode: its type.
BARCODE_TYPES = tuple(_LAYOUTS)


@dataclass(frozen=True)
class LegacyPolicy:
    barcode_type: int
    enp: Enp
    name: FullName
    sex: Sex
    birth_date: date
    expiry: date | None
    insurer_ogrn: int | None
    okato: int | None


def looks_like_legacy(data: bytes) -> bool:
    return len(data) == LEGACY_LENGTH and data[0] in _LAYOUTS


def _sixbit_characters(packed: bytes, low_bits_first: bool) -> list[int]:
    count = len(packed) * 8 // 6
    if low_bits_first:
        value = int.from_bytes(packed, "little")
        return [(value >> (6 * i)) & 63 for i in range(count)]
    value = int.from_bytes(packed, "big")
    bits = len(packed) * 8
    return [(value >> (bits - 6 * (i + 1))) & 63 for i in range(count)]


def _name_parts(indices: list[int]) -> list[str]:
    text = []
    for index in indices:
        if index == SEPARATOR_INDEX:
            text.append("|")
        elif index < len(ALPHABET):
            text.append(ALPHABET[index])
        else:
            raise MalformedCode(f"6-bit character {index} is not in the alphabet")
    return "".join(text).rstrip(" |").split("|")


def _day(value: int) -> date:
    return DAY_ZERO + timedelta(days=value)


def parse_legacy(data: bytes) -> LegacyPolicy:
    """Read a legacy barcode; `MalformedCode` if it is not one."""
    if not looks_like_legacy(data):
        raise MalformedCode("not a 130-byte legacy policy barcode")
    layout = _LAYOUTS[data[0]]
    offset = 9
    parts = _name_parts(_sixbit_characters(data[offset : offset + layout.name_bytes], layout.low_bits_first))
    offset += layout.name_bytes
    if len(parts) > 3:
        raise MalformedCode("the name has more than three parts")
    parts += [""] * (3 - len(parts))
    surname, given, patronymic = (parts[i] for i in layout.name_order)
    sex_byte = data[offset]
    birth = int.from_bytes(data[offset + 1 : offset + 3], "big")
    expiry = int.from_bytes(data[offset + 3 : offset + 5], "big")
    offset += 5
    ogrn = okato = None
    if layout.has_insurer:
        ogrn = int.from_bytes(data[offset : offset + 6], "big")
        okato = int.from_bytes(data[offset + 6 : offset + 9], "big")
    try:
        return LegacyPolicy(
            barcode_type=data[0],
            enp=Enp.from_int(int.from_bytes(data[1:9], "big")),
            name=FullName(surname, given, patronymic),
            sex=Sex(sex_byte),
            birth_date=_day(birth),
            expiry=_day(expiry) if expiry else None,
            insurer_ogrn=ogrn,
            okato=okato,
        )
    except (InvalidValue, ValueError) as error:
        raise MalformedCode(f"a legacy field is invalid: {error}") from error
