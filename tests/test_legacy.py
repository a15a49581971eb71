"""The 2011 paper-policy barcode, built here byte by byte from the layout in docs/domain.md."""

from datetime import date

import pytest

from policy_codes import Enp, MalformedCode, Sex, looks_like_legacy, parse_legacy

ALPHABET = " .-'0123456789АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЬЪЫЭЮЯ"
SEPARATOR = 63
DAY_ZERO = date(1900, 1, 1)


def six_bit(text: str) -> list[int]:
    return [SEPARATOR if char == "|" else ALPHABET.index(char) for char in text]


def pack_low_bits_first(values: list[int], size: int) -> bytes:
    """Bit k of character i goes to stream bit 6i+k; stream bit n is bit n%8 of byte n//8."""
    out = bytearray(size)
    for i, value in enumerate(values):
        for k in range(6):
            if value >> k & 1:
                bit = 6 * i + k
                out[bit // 8] |= 1 << (bit % 8)
    return bytes(out)


def pack_high_bits_first(values: list[int], size: int) -> bytes:
    """Bit 5-k of character i goes to stream bit 6i+k; stream bit n is bit 7-n%8 of byte n//8."""
    out = bytearray(size)
    for i, value in enumerate(values):
        for k in range(6):
            if value >> (5 - k) & 1:
                bit = 6 * i + k
                out[bit // 8] |= 1 << (7 - bit % 8)
    return bytes(out)


def days(day: date | None) -> bytes:
    return (0 if day is None else (day - DAY_ZERO).days).to_bytes(2, "big")


SIGNATURE = bytes(range(65))


def type_01(name: str, sex: int, birth: date, expiry: date | None) -> bytes:
    data = (
        b"\x01"
        + int("1234567890123452").to_bytes(8, "big")
        + pack_low_bits_first(six_bit(name), 42)
        + bytes([sex])
        + days(birth)
        + days(expiry)
        + (1027739008440).to_bytes(6, "big")  # ОГРН
        + (45000).to_bytes(3, "big")  # ОКАТО of Moscow
    )
    assert len(data) == 65
    return data + SIGNATURE


def type_02(name: str, sex: int, birth: date, expiry: date | None) -> bytes:
    data = (
        b"\x02"
        + int("1234567890123452").to_bytes(8, "big")
        + pack_high_bits_first(six_bit(name), 51)
        + bytes([sex])
        + days(birth)
        + days(expiry)
    )
    assert len(data) == 65
    return data + SIGNATURE


def test_type_01_vector() -> None:
    data = type_01("МАРИЯ|ИВАНОВА|ПЕТРОВНА", 2, date(1985, 3, 14), None)
    assert looks_like_legacy(data)
    policy = parse_legacy(data)
    assert policy.barcode_type == 1
    assert policy.enp == Enp("1234567890123452")
    assert policy.name.parts() == ("ИВАНОВА", "МАРИЯ", "ПЕТРОВНА")
    assert policy.sex is Sex.FEMALE
    assert policy.birth_date == date(1985, 3, 14)
    assert policy.expiry is None
    assert policy.insurer_ogrn == 1027739008440
    assert policy.okato == 45000


def test_type_02_vector() -> None:
    data = type_02("РИМСКИЙ-КОРСАКОВ|НИКОЛАЙ|АНДРЕЕВИЧ", 1, date(1944, 3, 18), date(2014, 12, 31))
    policy = parse_legacy(data)
    assert policy.barcode_type == 2
    assert policy.name.parts() == ("РИМСКИЙ-КОРСАКОВ", "НИКОЛАЙ", "АНДРЕЕВИЧ")
    assert policy.sex is Sex.MALE
    assert policy.birth_date == date(1944, 3, 18)
    assert policy.expiry == date(2014, 12, 31)
    assert policy.insurer_ogrn is None


def test_long_names_fill_the_whole_field() -> None:
    name = "Я" * 20 + "|" + "Ю" * 20 + "|" + "Э" * 26
    assert len(name) == 68  # 51 bytes of 6-bit characters
    assert parse_legacy(type_02(name, 1, date(1990, 1, 1), None)).name.patronymic == "Э" * 26


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x03" + bytes(129),
        type_01("МАРИЯ|ИВАНОВА|ПЕТРОВНА", 2, date(1985, 3, 14), None)[:-1],
        type_01("МАРИЯ|ИВАНОВА|ПЕТРОВНА", 3, date(1985, 3, 14), None),  # sex 3
        type_01("МАРИЯ|ИВАНОВА|А|Б", 2, date(1985, 3, 14), None),  # four parts
        type_01("1|ИВАНОВА|", 2, date(1985, 3, 14), None),  # a digit in a name
        b"\x01" + (1234567890123458).to_bytes(8, "big") + bytes(121),  # bad check digit
    ],
)
def test_bad_legacy_barcodes_are_malformed(data: bytes) -> None:
    with pytest.raises(MalformedCode):
        parse_legacy(data)


def test_undefined_six_bit_character_is_malformed() -> None:
    data = bytearray(type_02("ИВАНОВ|ИВАН|", 1, date(1980, 1, 1), None))
    data[9] = 0b11000000  # character 48: not in the alphabet
    with pytest.raises(MalformedCode):
        parse_legacy(bytes(data))
