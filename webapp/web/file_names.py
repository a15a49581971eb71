"""Names for the files a citizen saves: each with its person's name, so a parent saving every child's code and
extract keeps each file, and in ASCII, which every phone, mail program and Content-Disposition reads alike.

Names are written in Latin letters as in a Russian passport (ICAO Doc 9303, the rule Russian passports follow):
«Иванова Мария Петровна» is "ivanova-mariia-petrovna".
"""

from __future__ import annotations

import re

from webapp.models import Person

#: ICAO Doc 9303, part 3, the Cyrillic table as Russian passports apply it; Ь is left out.
_LATIN = str.maketrans(
    {
        "А": "a", "Б": "b", "В": "v", "Г": "g", "Д": "d", "Е": "e", "Ё": "e", "Ж": "zh", "З": "z", "И": "i",
        "Й": "i", "К": "k", "Л": "l", "М": "m", "Н": "n", "О": "o", "П": "p", "Р": "r", "С": "s", "Т": "t",
        "У": "u", "Ф": "f", "Х": "kh", "Ц": "ts", "Ч": "ch", "Ш": "sh", "Щ": "shch", "Ъ": "ie", "Ы": "y",
        "Ь": "", "Э": "e", "Ю": "iu", "Я": "ia",
    }
)  # fmt: skip
#: What is left between words (a space, a hyphen, an apostrophe) becomes one hyphen.
_SEPARATORS = re.compile(r"[^a-z0-9]+")


def latin(text: str) -> str:
    """`text` (a registry name, in capitals) in lower-case Latin letters, words joined by hyphens."""
    return _SEPARATORS.sub("-", text.upper().translate(_LATIN).lower()).strip("-")


def download_name(name: str, person: Person) -> str:
    """`name` ("polis-oms.svg") with the person's name before its extension: "polis-oms-ivanova-mariia-petrovna.svg"."""
    stem, dot, extension = name.rpartition(".")
    who = latin(" ".join(person.name.parts()))
    return f"{stem}-{who}{dot}{extension}"
