import pytest
from hypothesis import given
from hypothesis import strategies as st

from policy_codes import FullName, InvalidValue, MalformedCode
from policy_codes.names import (
    CODE_LENGTHS,
    END,
    MAX_PART_LENGTH,
    SYMBOLS,
    _symbols,
    canonical_code_table,
    pack_name,
    unpack_name,
)


def test_code_is_complete_and_prefix_free() -> None:
    table = canonical_code_table()
    assert sum(2.0**-length for length, _ in table.values()) == 1.0
    words = [format(value, f"0{length}b") for length, value in table.values()]
    for word in words:
        assert not any(other != word and other.startswith(word) for other in words)
    assert len(SYMBOLS) == len(CODE_LENGTHS)


@pytest.mark.parametrize(
    "name",
    [
        FullName("Иванов", "Иван", "Иванович"),
        FullName("Римский-Корсаков", "Николай", "Андреевич"),
        FullName("Д'Артаньян", "Шарль", ""),
        FullName("Ли", "Ян"),
        FullName("Щёкин", "Ёж", "Ъ"),
        FullName("Ж" * MAX_PART_LENGTH, "Ю" * 30, "Ф" * 30),
    ],
)
def test_pack_round_trip(name: FullName) -> None:
    assert unpack_name(pack_name(name)) == name


def test_names_are_normalised_to_capitals_and_single_spaces() -> None:
    name = FullName("  фон  дер   Бах ", "анна", " ")
    assert name.parts() == ("ФОН ДЕР БАХ", "АННА", "")
    assert name.display() == "Фон Дер Бах Анна"


def test_display_keeps_hyphens_and_apostrophes() -> None:
    assert FullName("римский-корсаков", "николай", "андреевич").display() == "Римский-Корсаков Николай Андреевич"


@pytest.mark.parametrize(
    ("surname", "given", "patronymic"),
    [
        ("", "Иван", ""),
        ("Иванов", "", ""),
        ("Ivanov", "Иван", ""),
        ("Иванов2", "Иван", ""),
        ("Я" * 41, "Иван", ""),
    ],
)
def test_invalid_names_are_refused(surname: str, given: str, patronymic: str) -> None:
    with pytest.raises(InvalidValue):
        FullName(surname, given, patronymic)


def test_total_length_is_capped() -> None:
    with pytest.raises(InvalidValue):
        FullName("А" * 40, "Б" * 40, "В" * 21)


@pytest.mark.parametrize("packed", [b"", b"\x00", b"\xff" * 5])
def test_unpacking_garbage_is_malformed(packed: bytes) -> None:
    with pytest.raises(MalformedCode):
        unpack_name(packed)


def test_packing_matches_a_bit_string_reference() -> None:
    """An independent, slow reading of docs/code-format.md: concatenate code words, pad with END."""
    table = canonical_code_table()
    name = FullName("Ли", "Ян", "")
    bits = "".join(format(table[s][1], f"0{table[s][0]}b") for s in "ЛИ|ЯН|")
    end = format(table["END"][1], f"0{table['END'][0]}b")
    bits += (end + "0" * 8)[: -len(bits) % 8]
    assert pack_name(name) == int(bits, 2).to_bytes(len(bits) // 8, "big")


def _symbols_bit_by_bit(packed: bytes) -> str:
    """An independent, slow reading of docs/code-format.md: match code words bit by bit until END or
    until the bits run out (a partial code word at the end is padding)."""
    by_word = {format(code, f"0{length}b"): symbol for symbol, (length, code) in canonical_code_table().items()}
    symbols, word = [], ""
    for bit in "".join(format(byte, "08b") for byte in packed):
        word += bit
        if word in by_word:
            if by_word[word] == END:
                break
            symbols.append(by_word[word])
            word = ""
    return "".join(symbols)


@given(st.binary(max_size=80))
def test_unpacking_matches_a_bit_by_bit_reference(packed: bytes) -> None:
    assert _symbols(packed) == _symbols_bit_by_bit(packed)
