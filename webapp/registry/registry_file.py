"""The registry CSV as a file (README.md, "Command line"): its columns, what a file must be to be read at all
(UTF-8, a header naming the columns, commas or semicolons between them), and its lines in batches. What each
line says, and what the registry does with it, is the import's (webapp/registry/bulk_import.py)."""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from webapp.registry.errors import N_, RegistryError, quoted

#: The registry CSV's columns, in the file's order: a contract (README.md, "Command line").
COLUMNS = (
    "enp",
    "surname",
    "given_name",
    "patronymic",
    "birth_date",
    "sex",
    "snils",
    "insurer_code",
    "category",
    "right_valid_until",
    "representative_enp",
)
#: The encoding (DESIGN.md): UTF-8, with or without Excel's byte order mark.
ENCODING = "utf-8-sig"
#: What makes Excel open a CSV as UTF-8: the files the registry hands out start with it.
BYTE_ORDER_MARK = "\ufeff"
#: The delimiters a header may use: the comma, and the semicolon Excel writes where the comma is the decimal mark
#: (a Russian Windows). A header names every column, so it tells which one a file uses.
DELIMITERS = (",", ";")
#: How much of a file is checked for UTF-8 at a time: a whole file decoded at once would be held twice.
_DECODE_CHUNK = 1 << 20

#: Why a line the CSV reader could not read is refused.
UNREADABLE = N_("строка не читается как CSV: слишком длинное поле")
#: Why a line opening a quote it never closes is refused, with the lines the reader took for one field.
OPEN_QUOTE = N_("кавычка открыта и не закрыта: строки %(first)d–%(last)d прочитаны как одна и не загружены")
#: Why a line with more fields than the header has columns is refused, with both counts.
EXTRA_FIELDS = N_("полей больше, чем столбцов в заголовке: ожидалось %(expected)d, в строке %(found)d")
#: What a short line was refused with before FEWER_FIELDS: in the reports of jobs that ran before, read in the page's
#: language (webapp/web/labels.py `refused_line`).
MISSING_COLUMNS = N_("нет столбца %(columns)s")
FEWER_FIELDS = N_(
    "полей меньше, чем столбцов в заголовке: ожидалось %(expected)d, в строке %(found)d; проверьте разделители "
    "и кавычки"
)

#: Rows as the CSV reader gives them: each line's number and its columns by name.
Rows = list[tuple[int, dict[str, str | None]]]


def template() -> str:
    """The header, to fill in: with a byte order mark, so that Excel opens it as UTF-8."""
    return BYTE_ORDER_MARK + ",".join(COLUMNS) + "\r\n"


#: The most columns a header may have: the contract's, and those of another system a file was exported from. A header
#: of thousands is no registry's, and each of its lines would be read as wide.
MAX_COLUMNS = 256
#: Latin look-alikes of other scripts' letters (Cyrillic, Greek), as a column's name typed in another keyboard
#: layout has them: «snilс» with a Cyrillic «с» is `snils` misspelt, not a column of another system.
_LOOK_ALIKES = str.maketrans("авекмнорстухіјѕԁαεικνορτυχ", "abekmhopctyxijsdaeikvoptux")
_SEPARATORS = re.compile(r"[\s.\-]+")


@dataclass(frozen=True)
class Header:
    """A checked header: how its columns are separated, where each of the contract's stands, and the others."""

    delimiter: str
    #: Each contract column's place in a line.
    positions: dict[str, int]
    #: How many columns the header has: a line with more fields is refused.
    width: int
    #: The header's other named columns, as a refusal quotes them: not the contract's, their fields are not read.
    ignored: tuple[str, ...]


def checked_header(data: bytes) -> Header:
    """The header of a registry CSV, or a refusal of a file that cannot be read as one at all, before anything is
    written or queued: an empty file, one not in UTF-8 (Excel's plain «CSV» is Windows-1251), a header without
    the contract's columns, naming one twice or one almost (`snills`, `Patronymic`, a trailing space, a Cyrillic
    look-alike letter: its data would not load, unsaid), or of more than MAX_COLUMNS columns."""
    if not data.strip():
        raise RegistryError(N_("Файл пуст"))
    _check_utf8(data)
    absent: list[str] = list(COLUMNS)
    closest: list[str] = []
    for delimiter in DELIMITERS:
        try:
            header = next(csv.reader(_text_stream(data), delimiter=delimiter), [])
        except csv.Error:
            header = []
        missing = [column for column in COLUMNS if column not in header]
        if not missing:
            _check_width(header)
            _check_named_once(header)
            _check_near_misses(header)
            ignored = tuple(quoted(name) for name in header if name not in COLUMNS and name.strip())
            return Header(delimiter, {column: header.index(column) for column in COLUMNS}, len(header), ignored)
        if len(missing) < len(absent):
            absent, closest = missing, header
    _check_width(closest)
    _check_near_misses(closest)
    raise RegistryError(N_("В заголовке нет столбцов: %(columns)s"), columns=", ".join(absent))


def _check_width(header: list[str]) -> None:
    if len(header) > MAX_COLUMNS:
        raise RegistryError(
            N_("В заголовке %(count)d столбцов, больше %(most)d: это не файл реестра"),
            count=len(header),
            most=MAX_COLUMNS,
        )


def _check_named_once(header: list[str]) -> None:
    """A contract column named twice would leave one of its two fields on every line unread, unsaid: which was
    meant cannot be told, so the file is refused before anything is written."""
    twice = [column for column in COLUMNS if header.count(column) > 1]
    if twice:
        raise RegistryError(N_("В заголовке столбец назван дважды: %(columns)s"), columns=", ".join(twice))


def _check_near_misses(header: list[str]) -> None:
    """A column named almost as a contract column is that column misspelt, and its data would not load: the file
    is refused, naming both. A column unlike any of the contract's (another system's) is only reported."""
    near = [
        f"«{_shown(name)}» → {column}"
        for name in header
        if name not in COLUMNS and (column := _resembled(name)) is not None
    ]
    if near:
        raise RegistryError(
            N_(
                "Столбец заголовка назван почти как столбец из списка, но не так же: %(columns)s. Исправьте его "
                "имя или уберите столбец: иначе его данные не загрузятся"
            ),
            columns=", ".join(near[:10]),
        )


def _resembled(name: str) -> str | None:
    """The contract column `name` is a misspelling of, if any: the same but for case, spaces, hyphens or dots for
    underscores, invisible characters, full-width or look-alike letters; or within a typo or two of a long name
    (one of a name of up to 9 letters; none of `enp`, `sex`)."""
    if len(name) > 4 * max(map(len, COLUMNS)):
        return None
    key = "".join(char for char in unicodedata.normalize("NFKC", name) if unicodedata.category(char) != "Cf")
    key = _SEPARATORS.sub("_", key.strip().casefold().translate(_LOOK_ALIKES)).strip("_")
    if key in COLUMNS:
        return key
    found = None
    for column in COLUMNS:
        allowed = 0 if len(column) <= 3 else 1 if len(column) <= 9 else 2
        if abs(len(key) - len(column)) <= allowed and (distance := _typos(key, column)) <= allowed:
            found, allowed = column, distance
    return found


def _typos(a: str, b: str) -> int:
    """Letters to insert, delete, replace or swap with the next to make `a` into `b` (Damerau-Levenshtein, the
    optimal string alignment variant)."""
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], before[j - 2] + 1)
        before, previous = previous, current
    return previous[len(b)]


def _shown(name: str) -> str:
    """A header's column name as a refusal quotes it, with each letter outside ASCII by its code: the contract's
    names are ASCII, and a Cyrillic «с» looks just like the Latin one."""
    return "".join(char if char.isascii() else f"U+{ord(char):04X}" for char in quoted(name))


def _check_utf8(data: bytes) -> None:
    decoder = codecs.getincrementaldecoder("utf-8")()
    for start in range(0, len(data), _DECODE_CHUNK):
        held = len(decoder.getstate()[0])  # the previous chunk's unfinished character, decoded with this one
        try:
            decoder.decode(data[start : start + _DECODE_CHUNK], final=start + _DECODE_CHUNK >= len(data))
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, max(start - held + error.start, 0)) + 1
            raise RegistryError(
                N_("Файл не в кодировке UTF-8 (строка %(line)d): сохраните его как «CSV UTF-8»"), line=line
            ) from None


def _text_stream(data: bytes) -> TextIO:
    return io.TextIOWrapper(io.BytesIO(data), encoding=ENCODING, newline="")


def batches(data: bytes, header: Header, size: int) -> Iterator[tuple[Rows, list[tuple[int, RegistryError]]]]:
    """The file's lines after the header, `size` at a time, each line by its number (its first, for a quoted field
    holding a line break) with the contract's columns only (a short line's missing ones None), each batch with the
    lines among it refused as they stand, by number and why: one the CSV reader could not read (a field past its
    limit of 131,072 characters); one opening a quote it never closes, which took the lines after it for one field
    (no contract column holds a line break: one in another system's column is read); or one with more fields than
    the header has columns (a stray delimiter: which field was meant for which column cannot be told), or too few
    for the contract's columns. Those are refused one by one, as any bad line is; blank lines are skipped. `header`
    is `checked_header`'s."""
    reader = csv.reader(_text_stream(data), delimiter=header.delimiter)
    next(reader)  # the header, checked
    batch: Rows = []
    refused: list[tuple[int, RegistryError]] = []
    while True:
        first = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error:  # the reader goes on from the next line
            last = reader.line_num
            error = RegistryError(OPEN_QUOTE, first=first, last=last) if last > first else RegistryError(UNREADABLE)
            refused.append((first, error))
            continue
        if not fields:
            continue
        raw = {column: fields[at] if at < len(fields) else None for column, at in header.positions.items()}
        if reader.line_num > first and (len(fields) != header.width or any(map(_broken, raw.values()))):
            refused.append((first, RegistryError(OPEN_QUOTE, first=first, last=reader.line_num)))
            continue
        if len(fields) > header.width:
            refused.append((first, RegistryError(EXTRA_FIELDS, expected=header.width, found=len(fields))))
            continue
        if None in raw.values():  # it said «нет столбца …» of columns the header has
            refused.append((first, RegistryError(FEWER_FIELDS, expected=header.width, found=len(fields))))
            continue
        batch.append((first, raw))
        if len(batch) >= size:
            yield batch, refused
            batch, refused = [], []
    if batch or refused:
        yield batch, refused


def _broken(value: str | None) -> bool:
    return value is not None and ("\n" in value or "\r" in value)
