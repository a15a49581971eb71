"""The insurer's import page and the import command refusing a file as a whole, in the page's language, before
anything loads. Through the test client and Click's runner, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
import zlib
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from policy_codes import Enp
from tests.webapp.pages import csrf, logged_in, upload
from tests.webapp.test_cli import run
from webapp.extensions import db
from webapp.models import Job, Person
from webapp.registry import bulk_import


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


GOOD_LINE = "7700000000000016,Иванова,Мария,Петровна,1990-04-12,F,,77001,citizen,,"


@pytest.mark.parametrize("as_job", [False, True], ids=["now", "job"])
@pytest.mark.parametrize(
    ("language", "said"),
    [("ru", "Столбцы не из списка не загружены:"), ("en", "Columns not in the list were not loaded:")],
    ids=["ru", "en"],
)
def test_the_page_names_the_columns_it_did_not_load(site: Flask, language: str, said: str, as_job: bool) -> None:
    client = logged_in(site, "smo")
    client.post("/language", data={"language": language, "csrf_token": csrf(client, "/insurer/import")})
    if as_job:  # no queue: the job runs in the request, and its page shows its report
        site.config["IMPORT_JOB_THRESHOLD"] = 0
    answer = upload(client, f"{','.join(bulk_import.COLUMNS)},phone,<b>note\n{GOOD_LINE},+7 900,x\n".encode())
    if as_job:
        assert answer.status_code == 302
        answer = client.get(answer.headers["Location"])
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert said in page
    assert "<code>phone</code>, <code>&lt;b&gt;note</code>" in page
    assert "<b>note" not in page


@pytest.mark.parametrize(
    ("language", "said"),
    [("ru", "назван почти как столбец из списка"), ("en", "named almost, but not exactly, like a column of the list")],
    ids=["ru", "en"],
)
def test_the_page_refuses_a_column_named_almost_as_the_contracts(site: Flask, language: str, said: str) -> None:
    client = logged_in(site, "smo")
    client.post("/language", data={"language": language, "csrf_token": csrf(client, "/insurer/import")})
    before = persons(site)
    header = ",".join(bulk_import.COLUMNS).replace("snils", "Snils")
    answer = upload(client, f"{header}\n{GOOD_LINE}\n".encode())
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert said in page
    assert "«Snils» → snils" in page
    assert persons(site) == before


def test_the_command_names_the_columns_it_did_not_load(registry: Flask, tmp_path: Path) -> None:
    path = tmp_path / "registry.csv"
    path.write_text(f"{','.join(bulk_import.COLUMNS)},phone\n{GOOD_LINE},+7 900\n", encoding="utf-8")
    code, output = run(registry, "registry", "import", str(path))
    assert code == 0
    assert "Столбцы не из списка не загружены: phone" in output
    assert "Создано: 1" in output


def _refused_csv(client: object, location: str) -> list[list[str]]:
    download = client.get(location + "/refused.csv")  # type: ignore[attr-defined]
    assert download.status_code == 200
    text = download.get_data().decode("utf-8")
    assert text.startswith("\ufeffline,reason\r\n"), "Excel opens it as UTF-8"
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))[1:]


def test_the_refused_lines_csv_reads_in_the_downloaders_language(site: Flask) -> None:
    """An English user's refused.csv said every reason in Russian («неизвестная СМО», «Неверная контрольная
    цифра ЕНП»): the job keeps each reason's message and values, and the download says them in the reader's
    language; the values the file carried stay as they were."""
    site.config["IMPORT_JOB_THRESHOLD"] = 0  # no queue: the job runs in the request
    lines = [
        "7700000000000017,Петров,Пётр,,1980-01-01,M,,77001,citizen,,",  # a typo in the ЕНП
        "7700000000000073,Кузнецов,Дмитрий,,2004-02-14,M,,99999,citizen,,",  # no such insurer
        "7700000000000099,Орлов,Олег,,1985-07-21,M,,77001,citizen,,7700000000000017",  # the representative's
    ]
    client = logged_in(site, "smo")
    client.post("/language", data={"language": "en", "csrf_token": csrf(client, "/insurer/import")})
    answer = upload(client, "\n".join([",".join(bulk_import.COLUMNS), *lines]).encode())
    assert answer.status_code == 302
    english = _refused_csv(client, answer.headers["Location"])
    assert [int(line) for line, _ in english] == [2, 3, 4]
    assert english[0][1].startswith("The policy number has a typo")
    assert english[1][1] == "unknown insurer “99999”"
    assert english[2][1].startswith("representative: The policy number has a typo")
    assert not re.search("[а-яё]", " ".join(reason for _, reason in english).replace("ЕНП", "")), english
    client.post("/language", data={"language": "ru", "csrf_token": csrf(client, "/insurer/import")})
    russian = _refused_csv(client, answer.headers["Location"])
    assert russian[1][1] == "неизвестная СМО «99999»"
    assert russian[2][1].startswith("представитель: В ЕНП опечатка")


def test_a_refused_lines_csv_kept_before_its_messages_were_still_downloads(site: Flask) -> None:
    """A job kept before the reasons' messages were has two columns, the reasons said in Russian: they come as
    they are, in any language."""
    site.config["IMPORT_JOB_THRESHOLD"] = 0
    client = logged_in(site, "smo")
    line = "7700000000000073,Кузнецов,Дмитрий,,2004-02-14,M,,99999,citizen,,"
    answer = upload(client, "\n".join([",".join(bulk_import.COLUMNS), line]).encode())
    job_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    kept = "\ufeffline,reason\r\n2,неизвестная СМО «99999»\r\n".encode()
    with site.app_context():
        db.session.execute(update(Job).where(Job.id == job_id).values(refused=zlib.compress(kept)))
        db.session.commit()
    client.post("/language", data={"language": "en", "csrf_token": csrf(client, "/insurer/import")})
    assert _refused_csv(client, answer.headers["Location"]) == [["2", "неизвестная СМО «99999»"]]


def test_an_imported_persons_journal_says_why_it_is_empty(site: Flask) -> None:
    """A person loaded from a file has no entry of their own (the import writes one a batch): the heading «Журнал»
    stood over nothing, and staff could not tell how the record came."""
    client = logged_in(site, "smo")
    enp = str(Enp.with_check_digit("770000000000099"))
    line = f"{enp},Сидорова,Анна,,2001-02-03,F,,77001,citizen,,"
    assert upload(client, f"{','.join(bulk_import.COLUMNS)}\n{line}\n".encode()).status_code == 200
    page = client.get(f"/insurer/person/{enp}").get_data(as_text=True)
    journal = page[page.index("Журнал") :]
    assert "внесённые файлом реестра записаны в журнал импорта" in journal
