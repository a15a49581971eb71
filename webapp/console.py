"""The console's language (a command's, and a server's as it refuses to start): Russian, the registry's, unless the
locale asks for English.

Click words its own messages (a usage error, `--help`) in English, through the stdlib's gettext: bound here, they
come from webapp/translations/ru/LC_MESSAGES/click.po. The stdlib picks a catalog by the locale variables alone,
so Russian is asked for in LANGUAGE, gettext's first choice, which a locale such as C.UTF-8 leaves unset; it passes
to what a command starts (pg_dump's messages are Russian too where its catalog is installed). Only the `flask`
command binds it (webapp/cli/__init__.py): a server, or a test's in-process runner, keeps its environment as it is.
"""

from __future__ import annotations

import functools
import gettext
import os
from collections.abc import Mapping
from pathlib import Path

CATALOGS = Path(__file__).resolve().parent / "translations"
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


@functools.cache
def _catalog(language: str) -> gettext.NullTranslations:
    return gettext.translation("messages", CATALOGS, [language], fallback=True)


def translated(message: str, params: Mapping[str, object] | None = None) -> str:
    """A Russian catalog message (the pages' catalog) in the console's language, filled from `params`; a parameter
    that is a catalog message itself (a setting's note) is translated too."""
    catalog = _catalog(language())
    words = catalog.gettext if language() != "ru" else str
    filled = {name: words(value) if isinstance(value, str) else value for name, value in (params or {}).items()}
    text = words(message)
    return text % filled if params else text


#: How a line that stops a server or a command begins, as Click begins its own («Ошибка: …»).
ERROR = {"ru": "Ошибка", "en": "Error"}


def refused(message: str, params: Mapping[str, object] | None = None) -> str:
    """The line a server or a command exits with when it refuses to start."""
    return f"{ERROR[language()]}: {translated(message, params)}"
