"""The registry CSV as a file (README.md, "Command line"): its columns, what a file must be to be read at all
(UTF-8, a header naming the columns, commas or semicolons between them), and its lines in batches. What each
line says, and what the registry does with it, is the import's (webapp/registry/bulk_import.py)."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from typing import TextIO

from webapp.registry.errors import N_, RegistryError

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
#: Why a line with more fields than the header has columns is refused, with both counts.
EXTRA_FIELDS = N_("полей больше, чем столбцов в заголовке: ожидалось %(expected)d, в строке %(found)d")

#: Rows as the CSV reader gives them: each line's number and its columns by name.
Rows = list[tuple[int, dict[str, str | None]]]


def template() -> str:
    """The header, to fill in: with a byte order mark, so that Excel opens it as UTF-8."""
    return BYTE_ORDER_MARK + ",".join(COLUMNS) + "\r\n"


def checked_delimiter(data: bytes) -> str:
    """The delimiter of a registry CSV, or a refusal of a file that cannot be read as one at all, before anything
    is written or queued: an empty file, one not in UTF-8 (Excel's plain «CSV» is Windows-1251), or a header
    without the contract's columns."""
    if not data.strip():
        raise RegistryError(N_("Файл пуст"))
    _check_utf8(data)
    absent: list[str] = list(COLUMNS)
    for delimiter in DELIMITERS:
        try:
            header = next(csv.reader(_text_stream(data), delimiter=delimiter), [])
        except csv.Error:
            header = []
        missing = [column for column in COLUMNS if column not in header]
        if not missing:
            _check_named_once(header)
            return delimiter
        absent = min(absent, missing, key=len)
    raise RegistryError(N_("В заголовке нет столбцов: %(columns)s"), columns=", ".join(absent))


def _check_named_once(header: list[str]) -> None:
    """A contract column named twice would leave one of its two fields on every line unread, unsaid: which was
    meant cannot be told, so the file is refused before anything is written."""
    twice = [column for column in COLUMNS if header.count(column) > 1]
    if twice:
        raise RegistryError(N_("В заголовке столбец назван дважды: %(columns)s"), columns=", ".join(twice))


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


def batches(data: bytes, delimiter: str, size: int) -> Iterator[tuple[Rows, list[tuple[int, RegistryError]]]]:
    """The file's lines after the header, `size` at a time, each batch with the lines among it refused as they
    stand, by number and why: one the CSV reader could not read (a field past its limit of 131,072 characters),
    or one with more fields than the header has columns (a stray delimiter: which field was meant for which
    column cannot be told). Those are refused one by one, as any bad line is. `delimiter` is `checked_delimiter`'s."""
    reader = csv.DictReader(_text_stream(data), delimiter=delimiter)
    batch: Rows = []
    refused: list[tuple[int, RegistryError]] = []
    while True:
        try:
            raw = next(reader)
        except StopIteration:
            break
        except csv.Error:  # the reader goes on from the next line; DictReader's own count stops at the last good one
            refused.append((reader.reader.line_num, RegistryError(UNREADABLE)))
            continue
        extra = raw.pop(None, None)  # DictReader's `restkey`: the fields past the header's columns
        if extra is not None:
            expected = len(reader.fieldnames or ())
            found = expected + len(extra)
            refused.append((reader.line_num, RegistryError(EXTRA_FIELDS, expected=expected, found=found)))
            continue
        batch.append((reader.line_num, raw))
        if len(batch) >= size:
            yield batch, refused
            batch, refused = [], []
    if batch or refused:
        yield batch, refused
