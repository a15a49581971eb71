"""Secrets a person reads off a screen or a slip and types: the generated staff password, the citizen's one-time
code. Made of symbols no font lets one take for another, and read back the way people type what they see."""

from __future__ import annotations

import secrets

#: Capitals and digits without 0/O and 1/I: 32 symbols, 5 bits each. Shown only in capitals, so no small l
#: stands beside a 1 (a small letter typed is read as its capital: `typed`).
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_SYMBOLS = frozenset(ALPHABET)
#: Cyrillic capitals drawn like symbols of ALPHABET: typed on a Russian keyboard by someone copying what they see.
_CYRILLIC_TWINS = str.maketrans("АВСЕНКМРТХУЗ", "ABCEHKMPTXY3")


def random_text(length: int) -> str:
    """`length` symbols of ALPHABET, each from the operating system's CSPRNG: 5 × `length` bits."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def in_groups(text: str, size: int) -> str:
    """The text in groups of `size` symbols joined by dashes (ABCD-EFGH), easier to read out and to keep one's
    place in."""
    return "-".join(text[start : start + size] for start in range(0, len(text), size))


def typed(text: str) -> str:
    """What a person typed, as the symbols of ALPHABET it stands for: in capitals, Cyrillic look-alikes read as
    the Latin letters (and З as the 3) they copy, without spaces or dashes."""
    return "".join(ch for ch in text.upper().translate(_CYRILLIC_TWINS) if ch.isalnum())


def as_shown(text: str, length: int, size: int) -> str | None:
    """The secret of `length` symbols, shown in groups of `size`, that `text` reads as when typed another way (small
    letters, spaces or no dashes, Cyrillic look-alikes); None if it cannot be one."""
    if not all(ch.isalnum() or ch in " -" for ch in text):
        return None
    symbols = typed(text)
    if len(symbols) != length or not set(symbols) <= _SYMBOLS:
        return None
    return in_groups(symbols, size)
