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

#: Every character the Russian layout types, by the character the same key types on the US layout.
LAYOUT: dict[str, str] = {
    **{ru: en for ru, en in zip(_RUSSIAN_LETTERS, _LETTER_KEYS, strict=True)},
    **{ru.lower(): en for ru, en in zip(_RUSSIAN_LETTERS, _LETTER_KEYS, strict=True)},
    **_PUNCTUATION,
    **{ru.lower(): en for ru, en in _PUNCTUATION.items() if ru.isalpha()},
}
_TABLE = str.maketrans(LAYOUT)

#: The Unicode Cyrillic block, first and last code point: text with none of it is left as it is.
CYRILLIC_BLOCK = (0x0400, 0x04FF)
_CYRILLIC = re.compile(f"[{chr(CYRILLIC_BLOCK[0])}-{chr(CYRILLIC_BLOCK[1])}]")


def recover_scanned_text(text: str) -> str:
    """Text as the scanner meant it. Text with no Cyrillic is left as it is."""
    if not _CYRILLIC.search(text):
        return text
    return text.translate(_TABLE)
