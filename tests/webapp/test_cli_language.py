"""Click's own messages (a usage error, `--help`) in the command line's language: Russian unless the locale asks
for English (webapp/console.py, webapp/translations/ru/LC_MESSAGES/click.po)."""

from __future__ import annotations

import os
from pathlib import Path

import click
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tests.webapp.test_cli import flask_command
from webapp.console import CATALOGS, LOCALE_VARIABLES

USAGE_ERRORS = [
    (["registry", "import"], "Ошибка: Не указан аргумент 'FILE'.", "Error: Missing argument 'FILE'."),
    (["registry", "export", "--bogus"], "Ошибка: Нет такого параметра: '--bogus'.", "Error: No such option '--bogus'."),
    (
        ["registry", "import", "/nonexistent.csv"],
        "Ошибка: Недопустимое значение 'FILE': Файл '/nonexistent.csv' не существует.",
        "Error: Invalid value for 'FILE': File '/nonexistent.csv' does not exist.",
    ),
    (
        ["keys", "rotate", "--insurer"],
        "Ошибка: Параметру '--insurer' нужно значение.",
        "Error: Option '--insurer' requires an argument.",
    ),
    (["nosuch"], "Ошибка: Нет такой команды: 'nosuch'.", "Error: No such command 'nosuch'."),
]


@pytest.mark.parametrize(
    ("args", "russian", "english"), USAGE_ERRORS, ids=[" ".join(args) for args, _, _ in USAGE_ERRORS]
)
def test_usage_errors_are_russian_unless_the_locale_is_english(
    args: list[str], russian: str, english: str, tmp_path: Path
) -> None:
    database = {"DATABASE_URL": f"sqlite:///{tmp_path / 'oms.sqlite'}"}
    done = flask_command(database, *args)
    assert (done.returncode, done.stderr.splitlines()[-1]) == (2, russian)
    english_locale = {**database, "LANG": "en_US.UTF-8", **{name: "" for name in LOCALE_VARIABLES if name != "LANG"}}
    done = flask_command(english_locale, *args)
    assert (done.returncode, done.stderr.splitlines()[-1]) == (2, english)


def test_a_usage_error_shows_the_usage_in_russian(tmp_path: Path) -> None:
    done = flask_command({"DATABASE_URL": f"sqlite:///{tmp_path / 'oms.sqlite'}"}, "registry", "import")
    assert done.stderr.startswith(
        "Использование: flask registry import [OPTIONS] FILE\nСправка: «flask registry import --help».\n"
    )


def test_help_is_russian(tmp_path: Path) -> None:
    done = flask_command({"DATABASE_URL": f"sqlite:///{tmp_path / 'oms.sqlite'}"}, "keys", "list", "--help")
    assert done.returncode == 0
    assert done.stdout.startswith("Использование: flask keys list [OPTIONS]")
    assert "--help  Показать эту справку и выйти." in done.stdout


def test_every_message_of_the_catalog_is_one_the_installed_click_has() -> None:
    """A Click that rewords a message leaves it English: the catalog's id must be the new wording."""
    with open(CATALOGS / "ru" / "LC_MESSAGES" / "click.po", "rb") as file:
        catalog = read_po(file)
    found = extract_from_dir(os.path.dirname(click.__file__), keywords={"_": None, "ngettext": (1, 2)})
    clicks = {entry[2] if isinstance(entry[2], str) else entry[2][0] for entry in found}
    ours = {message.id if isinstance(message.id, str) else message.id[0] for message in catalog if message.id}
    assert ours <= clicks
    assert all(message.string for message in catalog if message.id)


def test_a_setting_that_stops_the_start_is_said_in_the_consoles_language() -> None:
    """A setting error was English in a Russian interface."""
    bad = {"DATABASE_URL": "mysql://root:hunter2-secret@db/oms"}
    done = flask_command(bad, "keys", "list")
    assert (done.returncode, done.stderr.strip()) == (
        1,
        "Ошибка: DATABASE_URL — не адрес базы SQLite или PostgreSQL: sqlite:///path/to/oms.sqlite или "
        "postgresql+psycopg://user@host:5432/name",
    )
    done = flask_command({**bad, "LANG": "en_US.UTF-8", "LANGUAGE": ""}, "keys", "list")
    assert done.stderr.strip().startswith("Error: DATABASE_URL is not a SQLite or PostgreSQL URL: ")
    done = flask_command({"SECRET_KEY": "test-secret", "LANG": "en_US.UTF-8", "LANGUAGE": ""}, "keys", "list")
    assert done.stderr.strip().startswith("Error: SECRET_KEY is too weak: set 32 or more random characters")
    assert done.stderr.strip().endswith("Note: changing it logs everyone out and voids unused activation codes")
