"""The verifiers' words: Russian in the code, English from a Babel catalog (the `policy_codes` domain).

Every message the code format's verifiers show (verdicts, why lists are refused, omscode's own) is written
once, in Russian, marked with `N_` so that `make translations` extracts it, and read in another language
through `translate`. The web floor's pages use the same catalogs the same way (docs/architecture.md).
"""

from __future__ import annotations

import functools
import gettext
from pathlib import Path

LANGUAGES = ("ru", "en")
#: policy_codes/translations/<language>/LC_MESSAGES/policy_codes.mo, compiled from its .po by `make translations`.
CATALOGS = Path(__file__).resolve().parent / "translations"
DOMAIN = "policy_codes"


def N_(message: str) -> str:  # noqa: N802 -- gettext's marker for "extract, translate later"
    return message


@functools.cache
def _catalog(language: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, CATALOGS, [language], fallback=True)


def translate(message: str, language: str = "ru", **params: object) -> str:
    """`message` (Russian, a catalog id) in `language`; Russian for a language the catalog lacks."""
    text = message if language == "ru" else _catalog(language).gettext(message)
    return text % params if params else text
