"""A hyphen in a person's name joins two letters (Римский-Корсаков, Анна-Мария): «-Анна», «Анна-» and «Анна--Мария»
are typing slips, refused wherever a name is entered (the insurer's form, the registry CSV, a data change).

Only at entry: the code format reads the names of codes already signed with any hyphen (policy_codes/names.py), and
offline verifiers decode by it, so its own check stays as it is.
"""

from __future__ import annotations

import re

from webapp.registry.errors import N_, RegistryError

#: A hyphen with no letter before it, or none after it.
_LOOSE_HYPHEN = re.compile(r"(?<![А-ЯЁа-яё])-|-(?![А-ЯЁа-яё])")
LOOSE_HYPHEN = N_("Дефис ставится только между буквами, как в «Анна-Мария»")


def require_hyphens_between_letters(part: str, field: str) -> str:
    """`part` of a name as typed; RegistryError for `field` if one of its hyphens does not join two letters."""
    if _LOOSE_HYPHEN.search(part):
        raise RegistryError(LOOSE_HYPHEN, field=field)
    return part
