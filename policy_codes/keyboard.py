"""Undo a Russian keyboard layout on text a USB scanner typed.

A scanner sends key presses, and the OS turns them into characters through
the current layout. With ЙЦУКЕН active, `OMS1:` arrives as `ЩЬЫ1Ж`. This maps
every character back to the key that made it, on the US layout. Caps Lock
only flips letter case, so both cases of a letter map to the same key.
"""

from __future__ import annotations

import re

_LETTER_KEYS = "QWERTYUIOPASDFGHJKLZXCVBNM"
_RUSSIAN_LETTERS = "ЙЦУКЕНГШЩЗФЫВАПРОЛДЯЧСМИТЬ"

#: Keys whose Russian character is not a letter of _LETTER_KEYS, as they
#: stand in Base45 text: ":" (Shift+Ж), "." (Ю), "/" ("." on ЙЦУКЕН), "$" (Shift+4 → ";").
_PUNCTUATION = {"Ж": ":", "Ю": ".", ".": "/", ";": "$"}

_TABLE = str.maketrans(
    {
        **{ru: en for ru, en in zip(_RUSSIAN_LETTERS, _LETTER_KEYS, strict=True)},
        **{ru.lower(): en for ru, en in zip(_RUSSIAN_LETTERS, _LETTER_KEYS, strict=True)},
        **_PUNCTUATION,
        **{ru.lower(): en for ru, en in _PUNCTUATION.items() if ru.isalpha()},
    }
)

_CYRILLIC = re.compile(r"[\u0400-\u04FF]")


def recover_scanned_text(text: str) -> str:
    """Text as the scanner meant it. Text with no Cyrillic is left as it is."""
    if not _CYRILLIC.search(text):
        return text
    return text.translate(_TABLE)
