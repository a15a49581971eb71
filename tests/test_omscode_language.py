"""omscode's usage errors and --help in its language: argparse's own words were English in a Russian tool
(policy_codes/offline_cli.py, policy_codes/translations/ru/LC_MESSAGES/argparse.po)."""

from __future__ import annotations

import argparse
import gettext
import os
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from policy_codes.offline_cli import main as omscode
from policy_codes.words import CATALOGS

OMSCODE = Path(sys.executable).parent / "omscode"


def refusal(capsys: pytest.CaptureFixture[str], *arguments: str) -> str:
    with pytest.raises(SystemExit) as ended:
        omscode(list(arguments))
    assert ended.value.code == 2
    return capsys.readouterr().err.splitlines()[-1]


def test_a_usage_error_is_russian_and_english_with_lang_en(capsys: pytest.CaptureFixture[str]) -> None:
    before = (gettext.textdomain(), os.environ.get("LANGUAGE"))
    assert refusal(capsys, "verify", "x") == (
        "omscode verify: ошибка: не указаны обязательные аргументы: --registry-key, --trust-list, --revocations"
    )
    assert refusal(capsys, "verify", "--lang", "en", "x") == (
        "omscode verify: error: the following arguments are required: --registry-key, --trust-list, --revocations"
    )
    assert (gettext.textdomain(), os.environ.get("LANGUAGE")) == before, "put back for whatever runs omscode"


def test_the_real_command_says_a_bad_choice_and_its_help_in_russian() -> None:
    done = subprocess.run([str(OMSCODE), "verify", "--lang=xx", "x"], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        "omscode verify: ошибка: аргумент --lang: недопустимое значение: 'xx' (выберите из 'ru', 'en')"
    )
    shown = subprocess.run([str(OMSCODE), "--help"], capture_output=True, text=True, check=True).stdout
    assert shown.startswith("использование: omscode [-h] {verify} ...")
    assert "  -h, --help  показать эту справку и выйти" in shown


def test_every_message_of_the_catalog_is_one_this_pythons_argparse_has() -> None:
    with open(CATALOGS / "ru" / "LC_MESSAGES" / "argparse.po", "rb") as file:
        catalog = read_po(file)
    found = extract_from_file("python", argparse.__file__, keywords={"_": None, "ngettext": (1, 2)})
    argparses = {entry[1] if isinstance(entry[1], str) else entry[1][0] for entry in found}
    ours = {message.id if isinstance(message.id, str) else message.id[0] for message in catalog if message.id}
    assert ours <= argparses
    assert all(message.string for message in catalog if message.id)
