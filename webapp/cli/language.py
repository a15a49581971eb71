"""The command line's language: Russian, the registry's, unless the locale asks for English.

Click words its own messages (a usage error, `--help`) in English, through the stdlib's gettext: bound here, they
come from webapp/translations/ru/LC_MESSAGES/click.po. The stdlib picks a catalog by the locale variables alone,
so Russian is asked for in LANGUAGE, gettext's first choice, which a locale such as C.UTF-8 leaves unset; it passes
to what a command starts (pg_dump's messages are Russian too where its catalog is installed).
"""

from __future__ import annotations

import gettext
import os
from pathlib import Path

CATALOGS = Path(__file__).resolve().parent.parent / "translations"
DOMAIN = "click"
#: Where a locale names its language, in the order gettext reads them.
LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def language() -> str:
    """ "en" when the first locale variable set names English (en_US.UTF-8, en), else "ru"."""
    for name in LOCALE_VARIABLES:
        if value := os.environ.get(name):
            return "en" if value.startswith("en") else "ru"
    return "ru"


def bind() -> None:
    """Click's messages in the command line's language; English needs no catalog (it is Click's own)."""
    gettext.bindtextdomain(DOMAIN, str(CATALOGS))
    gettext.textdomain(DOMAIN)
    if language() == "ru":
        os.environ["LANGUAGE"] = "ru"
