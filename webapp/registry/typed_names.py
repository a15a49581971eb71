"""Names staff type into a form or a command (a region's, an insurer's, a clinic's, an API token's), kept as typed:
one rule for the operator's form and the command alike. No longer than the column, which PostgreSQL enforces and
SQLite does not (a longer name was an error page or a traceback there, and kept whole here; the form cut it short
unsaid), and visible, as every typed reason is (reasons.require_visible)."""

from __future__ import annotations

from typing import Any

from webapp.registry.errors import N_, RegistryError
from webapp.registry.reasons import require_visible

#: What a name too long for its column is told, by the field's label.
NAME_TOO_LONG = N_("Название: не длиннее %(count)d знаков")


def kept(name: str, column: Any, missing: str | None = None, too_long: str = NAME_TOO_LONG) -> str:
    """`name` without its outer spaces, for `column` (a String column); RegistryError for the "name" field if it does
    not fit (`too_long`, worded by the field's label), holds an invisible character, or is empty where `missing` says
    what to ask for."""
    words = name.strip()
    if not words and missing is not None:
        raise RegistryError(missing, field="name")
    longest = column.type.length
    if len(words) > longest:
        raise RegistryError(too_long, field="name", count=longest)
    require_visible(words, "name")
    return words
