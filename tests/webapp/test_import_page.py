"""The insurer's import page and the import command refusing a file as a whole, in the page's language, before
anything loads. Through the test client and Click's runner, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.webapp.pages import csrf, logged_in, upload
from tests.webapp.test_cli import run
from webapp.extensions import db
from webapp.models import Person


def persons(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Person.id))) or 0


@pytest.mark.parametrize(
    ("language", "said", "not_said"),
    [("ru", "Файл пуст", "Выберите файл"), ("en", "The file is empty", "Choose a registry CSV file")],
)
def test_an_empty_file_is_said_to_be_empty_not_missing(site: Flask, language: str, said: str, not_said: str) -> None:
    client = logged_in(site, "smo")
    client.post("/language", data={"language": language, "csrf_token": csrf(client, "/insurer/import")})
    before = persons(site)
    for data in (b"", b" \r\n"):
        answer = upload(client, data, "empty.csv")
        page = answer.get_data(as_text=True)
        assert answer.status_code == 400
        assert said in page, data
        assert not_said not in page, data
    assert persons(site) == before


def test_an_upload_with_no_file_chosen_asks_for_one(site: Flask) -> None:
    answer = upload(logged_in(site, "smo"), b"", "")
    assert answer.status_code == 400
    assert "Выберите файл CSV реестра" in answer.get_data(as_text=True)


def test_the_command_refuses_an_empty_file_saying_so(registry: Flask, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    code, output = run(registry, "registry", "import", str(empty))
    assert code != 0
    assert "Файл пуст" in output
