"""The registry CSV: bad lines reported by number, good lines loaded, re-import idempotent, kill-safe."""

from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from policy_codes import Enp, Verdict
from policy_codes.sample_people import sample_people
from tests.helpers.registry import NOW, PASSPHRASE, SECRET_KEY, person_data, register
from tests.webapp.databases import audit_settings
from webapp.db.transactions import serialised
from webapp.extensions import db
from webapp.models import (
    AuditEntry,
    CodeStatus,
    IssuedCode,
    JobState,
    Person,
    Policy,
    PolicyStatus,
    Representation,
)
from webapp.registry import audit, bulk_import, clock, lifecycle, mass_reissue
from webapp.registry.errors import QUOTED_MAX, RegistryError
from webapp.registry.keys import keystore
from webapp.registry.verification import verify_scan

HEADER = ",".join(bulk_import.COLUMNS)
ROOT = Path(__file__).resolve().parents[2]

GOOD = [
    "7700000000000016,Иванова,Мария,Петровна,1990-04-12,F,112-233-445 95,77001,citizen,,",
    "7700000000000024,Иванов,Артём,Сергеевич,2016-09-03,M,,77001,citizen,,7700000000000016",
    "7700000000000057,Каримов,Ильдар,Рустамович,1995-06-17,M,,77002,eaeu_worker,2027-06-30,",
]
BAD = [
    ("7700000000000017,Петров,Пётр,Петрович,1980-01-01,M,,77001,citizen,,", "ЕНП"),  # wrong check digit
    ("7700000000000040,Петров,Пётр,Петрович,1980-13-01,M,,77001,citizen,,", "дата"),  # bad date
    ("7700000000000065,Смирнова,Анна", "полей меньше, чем столбцов в заголовке: ожидалось 11, в строке 3"),
    ("7700000000000073,Кузнецов,Дмитрий,,2004-02-14,M,,99999,citizen,,", "неизвестная СМО"),
    ("7700000000000081,Соколова,Елена,,1985-07-21,F,,77001,martian,,", "категория"),
    ("7700000000000099,Орлов,Олег,,1985-07-21,M,,77001,foreign_temporary,,", "right_valid_until"),
]


def write_csv(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def counts() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Person, Policy, IssuedCode, Representation, AuditEntry)
    )


def test_bad_rows_are_reported_and_good_rows_load(registry: Flask, tmp_path: Path) -> None:
    lines = [GOOD[0], BAD[0][0], GOOD[1], BAD[1][0], BAD[2][0], BAD[3][0], GOOD[2], BAD[4][0], BAD[5][0]]
    report = bulk_import.import_csv(write_csv(tmp_path / "registry.csv", lines), "test", now=NOW)
    assert (report.created, report.linked) == (3, 1)
    reported = {error.line: error.said() for error in report.errors}
    assert sorted(reported) == [3, 5, 6, 7, 9, 10]  # the header is line 1
    for (_, expected), line in zip(BAD, [3, 5, 6, 7, 9, 10], strict=True):
        assert expected in reported[line], (line, reported[line])
    assert verify_scan("7700000000000057", now=NOW).verdict is Verdict.VALID
    worker = db.session.scalar(select(Policy).join(Person).where(Person.enp == "7700000000000057"))
    assert worker is not None
    assert str(worker.valid_to) == "2027-06-30"


def test_a_refusal_quotes_a_long_value_cut_short(registry: Flask, tmp_path: Path) -> None:
    """A field of thousands of characters is quoted back at most QUOTED_MAX of them: a million such lines would
    otherwise fill the worker's memory, the job's row and the page with the file's own text."""
    long = "x" * 5000
    lines = [
        f"7700000000000073,Кузнецов,Дмитрий,,2004-02-14,M,,{long},citizen,,",
        f"7700000000000081,Соколова,Елена,,1985-07-21,F,,77001,{long},,",
    ]
    report = bulk_import.import_csv(write_csv(tmp_path / "registry.csv", lines), "test", now=NOW)
    assert [error.said() for error in report.errors] == [
        f"неизвестная СМО «{'x' * QUOTED_MAX}…»",
        f"неизвестная категория «{'x' * QUOTED_MAX}…»",
    ]


def test_a_name_with_a_hyphen_joining_no_two_letters_is_refused_and_a_double_name_loads(
    registry: Flask, tmp_path: Path
) -> None:
    """The same rule as the insurer's form: the code format would have signed «-Анна» as it came."""
    lines = [
        "7700000000000016,Иванова,-Мария,Петровна,1990-04-12,F,,77001,citizen,,",
        "7700000000000024,Иванов-,Артём,Сергеевич,2016-09-03,M,,77001,citizen,,",
        "7700000000000057,Каримов,Ильдар,Рустам--Оглы,1995-06-17,M,,77002,citizen,,",
        "7700000000000073,Римский-Корсаков,Николай,Андреевич,1984-03-18,M,,77001,citizen,,",
    ]
    report = bulk_import.import_csv(write_csv(tmp_path / "registry.csv", lines), "test", now=NOW)
    assert [(error.line, error.said()) for error in report.errors] == [
        (line, "Дефис ставится только между буквами, как в «Анна-Мария»") for line in (2, 3, 4)
    ]
    assert report.created == 1
    assert verify_scan("7700000000000073", now=NOW).verdict is Verdict.VALID


def test_importing_the_same_file_again_changes_nothing(registry: Flask, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "registry.csv", [*GOOD, BAD[0][0]])
    bulk_import.import_csv(path, "test", now=NOW)
    before = counts()
    texts = set(db.session.scalars(select(IssuedCode.text)))
    again = bulk_import.import_csv(path, "test", now=NOW)
    assert (again.created, again.updated, again.unchanged, again.linked) == (0, 0, 3, 0)
    assert len(again.errors) == 1
    assert counts() == before
    assert set(db.session.scalars(select(IssuedCode.text))) == texts


def test_a_changed_row_updates_and_reissues(registry: Flask, tmp_path: Path) -> None:
    bulk_import.import_csv(write_csv(tmp_path / "a.csv", GOOD), "test", now=NOW)
    old = db.session.scalar(select(IssuedCode.text).join(Person).where(Person.enp == "7700000000000016"))
    renamed = GOOD[0].replace("Иванова", "Петрова")
    report = bulk_import.import_csv(write_csv(tmp_path / "b.csv", [renamed, *GOOD[1:]]), "test", now=NOW)
    assert (report.updated, report.unchanged) == (1, 2)
    assert verify_scan(old, now=NOW).verdict is Verdict.SUPERSEDED


def test_export_imports_back_unchanged(registry: Flask, tmp_path: Path) -> None:
    bulk_import.import_csv(write_csv(tmp_path / "a.csv", GOOD), "test", now=NOW)
    exported = tmp_path / "export.csv"
    with exported.open("w", encoding="utf-8") as out:
        assert bulk_import.export_csv(out) == 3
    rows = list(csv.DictReader(exported.open(encoding="utf-8")))
    assert rows[1]["representative_enp"] == "7700000000000016"
    before = counts()
    report = bulk_import.import_csv(exported, "test", now=NOW)
    assert (report.unchanged, report.errors) == (3, [])
    assert counts() == before


def test_a_missing_header_column_stops_the_import(registry: Flask, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("enp,surname\n7700000000000016,Иванова\n", encoding="utf-8")
    with pytest.raises(RegistryError, match="snils"):
        bulk_import.import_csv(path, "test", now=NOW)


@pytest.mark.parametrize(
    ("encoded", "refusal"),
    [
        # Excel's «CSV» in a Russian Windows: Windows-1251, and semicolons between the columns.
        (lambda text: text.encode("cp1251"), "не в кодировке UTF-8 (строка 2)"),
        (lambda text: text.encode("utf-16"), "не в кодировке UTF-8 (строка 1)"),
        (lambda text: b"  \n", "Файл пуст"),
        # A column named twice: which of its two fields was meant cannot be told (DictReader took the last).
        (lambda text: text.replace(HEADER, HEADER + ",birth_date", 1).encode(), "столбец назван дважды: birth_date"),
    ],
    ids=["windows-1251", "utf-16", "blank", "named-twice"],
)
def test_a_file_the_import_cannot_read_is_refused_whole_with_its_reason(
    registry: Flask, tmp_path: Path, encoded: object, refusal: str
) -> None:
    text = "\n".join([HEADER, *GOOD]) + "\n"
    path = tmp_path / "registry.csv"
    path.write_bytes(encoded(text))  # type: ignore[operator]
    before = counts()
    with pytest.raises(RegistryError, match=re.escape(refusal)):
        bulk_import.import_csv(path, "test", now=NOW)
    assert counts() == before, "nothing written"


@pytest.mark.parametrize(
    ("header", "line", "named"),
    [
        # The data is in the near column, the contract's is empty: the СНИЛС would be lost, unsaid.
        (HEADER + ",Snils", GOOD[0].replace("112-233-445 95", "") + ",112-233-445 95", "«Snils» → snils"),
        (HEADER.replace("snils", "snills"), GOOD[0], "«snills» → snils"),
        (HEADER.replace("patronymic", "Patronymic"), GOOD[0], "«Patronymic» → patronymic"),
        (
            HEADER.replace("representative_enp", "representative_enp "),
            GOOD[1],
            "«representative_enp » → representative_enp",
        ),
        (HEADER.replace("snils", "snil\u0441"), GOOD[0], "«snilU+0441» → snils"),  # a Cyrillic «с»
        (HEADER.replace("birth_date", "birth date"), GOOD[0], "«birth date» → birth_date"),
        (HEADER.replace("given_name", "given_names"), GOOD[0], "«given_names» → given_name"),
    ],
    ids=["beside-its-column", "typo", "capital", "trailing-space", "cyrillic-look-alike", "space", "plural"],
)
def test_a_header_column_named_almost_as_a_contract_column_is_refused_naming_both(
    registry: Flask, tmp_path: Path, header: str, line: str, named: str
) -> None:
    """Such a column is the contract's misspelt: its fields would not be read, and the person loaded without
    them. The file is refused before anything loads, naming the column as the file names it and as it should."""
    path = tmp_path / "registry.csv"
    path.write_text(f"{header}\n{line}\n", encoding="utf-8")
    before = counts()
    with pytest.raises(RegistryError, match=re.escape(named)) as refusal:
        bulk_import.import_csv(path, "test", now=NOW)
    assert "почти как столбец из списка" in str(refusal.value)
    assert counts() == before, "nothing written"


def test_columns_of_another_system_are_read_around_and_named_in_the_report(registry: Flask, tmp_path: Path) -> None:
    """A file exported from another system has its own columns besides the contract's, anywhere, and may order the
    contract's otherwise: the contract's load, the others are named as not loaded."""
    columns = ["phone", *reversed(bulk_import.COLUMNS), "birth_place", "representative_snils", ""]
    path = tmp_path / "registry.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(columns)
        for line in csv.reader(GOOD):
            writer.writerow(["+7 900 000-00-00", *reversed(line), "Москва", "", ""])
    report = bulk_import.import_csv(path, "test", now=NOW)
    assert (report.created, report.linked, report.errors) == (3, 1, [])
    assert report.ignored == ["phone", "birth_place", "representative_snils"]
    assert verify_scan("7700000000000057", now=NOW).verdict is Verdict.VALID
    worker = db.session.scalar(select(Person).where(Person.enp == "7700000000000016"))
    assert worker is not None
    assert worker.snils == "11223344595"
    assert bulk_import.ImportReport.of_result(report.as_result()).ignored == report.ignored


def test_a_file_as_excel_saves_csv_utf8_in_a_russian_windows_loads(registry: Flask, tmp_path: Path) -> None:
    """A byte order mark, semicolons between the columns (the comma is the decimal mark there), CRLF."""
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join([HEADER, *GOOD, BAD[0][0]]).replace(",", ";").encode() + b"\r\n")
    report = bulk_import.import_csv(path, "test", now=NOW)
    assert (report.created, report.linked) == (3, 1)
    assert [(error.line, "ЕНП" in error.reason) for error in report.errors] == [(5, True)]
    assert verify_scan("7700000000000057", now=NOW).verdict is Verdict.VALID


def test_a_file_with_old_mac_line_ends_is_counted_and_loads(registry: Flask) -> None:
    """Excel's «CSV (Macintosh)» ends its lines with CR alone. The reader reads them, but the count took such a
    file for one line: however large, it never became a job, and its whole import ran in the page's request."""
    registry.config["IMPORT_JOB_THRESHOLD"] = 2
    for end in ("\n", "\r\n", "\r"):
        data = end.join([HEADER, *GOOD]).encode()
        assert bulk_import.count_lines(data) == bulk_import.count_lines(data + end.encode()) == 3, repr(end)
        assert bulk_import.needs_job(data), repr(end)
    report = bulk_import.import_csv("\r".join([HEADER, *GOOD, BAD[0][0]]).encode(), "test", now=NOW)
    assert (report.created, report.linked, [error.line for error in report.errors]) == (3, 1, [5])


def test_a_line_past_the_csv_readers_field_limit_is_refused_and_the_rest_load(registry: Flask, tmp_path: Path) -> None:
    huge = f'7700000000000065,"{"Я" * 200_000}",Анна,,1990-01-01,F,,77001,citizen,,'
    report = bulk_import.import_csv(write_csv(tmp_path / "registry.csv", [GOOD[0], huge, *GOOD[1:]]), "test", now=NOW)
    assert report.created == 3
    assert [(error.line, error.reason) for error in report.errors] == [
        (3, "строка не читается как CSV: слишком длинное поле")
    ]


def numbered(count: int, first: int) -> list[str]:
    """`count` good lines of new persons of 77001, numbered from `first`."""
    return [
        f"{Enp.with_check_digit(f'77000000001{first + index:04d}')},Иванова,Мария,,1990-04-12,F,,77001,citizen,,"
        for index in range(count)
    ]


def test_a_quote_left_open_is_refused_naming_the_lines_it_took(registry: Flask, tmp_path: Path) -> None:
    """A quote opened and never closed makes the CSV reader read every line after it, up to the next quote or the
    end, as one field: those lines were neither loaded nor reported (the line where the field ended was, as a
    line short of fields). The line is refused naming the lines it took; past the reader's field limit, the lines
    after the limit load."""
    lines = numbered(10, 0)
    lines[2] = lines[2].replace("Иванова", '"Иванова')
    report = bulk_import.import_csv(write_csv(tmp_path / "open.csv", lines), "test", now=NOW)
    assert report.created == 2
    assert [str(error) for error in report.errors] == [
        "строка 4: кавычка открыта и не закрыта: строки 4–11 прочитаны как одна и не загружены"
    ]
    long = numbered(3000, 100)  # some 240 KB: past the limit of 131,072 characters in a field
    long[0] = long[0].replace("Иванова", '"Иванова')
    report = bulk_import.import_csv(write_csv(tmp_path / "long.csv", long), "test", now=NOW)
    [refusal] = report.errors
    assert refusal.line == 2
    last = int(
        re.fullmatch(r"кавычка открыта и не закрыта: строки 2–(\d+) прочитаны как одна и не загружены", refusal.said())[
            1
        ]
    )  # type: ignore[index]
    assert report.created == 3001 - last


def test_a_line_break_quoted_in_another_systems_column_is_read(registry: Flask, tmp_path: Path) -> None:
    """A quoted field may hold a line break (an address of another system): it is read as one line, numbered by
    its first."""
    path = tmp_path / "registry.csv"
    first, second = numbered(2, 50)
    path.write_text(f'{HEADER},address\n{first},"ул. Ленина, 1\nкв. 2"\n{second}x,\n', encoding="utf-8")
    report = bulk_import.import_csv(path, "test", now=NOW)
    assert report.created == 1
    assert [(error.line, "ЕНП" in error.said()) for error in report.errors] == [(4, True)]


def test_representation_going_round_in_a_circle_is_refused(registry: Flask, tmp_path: Path) -> None:
    """A mother's line naming her child as her representative (the columns swapped by mistake) gave the child the
    mother's policy to see, as hers to him; so would a longer circle. The link closing a circle is refused."""
    mother, child, grandchild = numbered(3, 60)
    enps = [line.split(",")[0] for line in (mother, child, grandchild)]
    lines = [child + enps[0], mother + enps[1], grandchild + enps[1]]
    report = bulk_import.import_csv(write_csv(tmp_path / "circle.csv", lines), "test", now=NOW)
    assert (report.created, report.linked) == (3, 2)
    assert [str(error) for error in report.errors] == [
        "строка 3: представитель: представительство не может идти по кругу: этот человек уже представляет "
        "своего представителя, прямо или через других"
    ]
    again = write_csv(tmp_path / "longer.csv", [mother + enps[2]])
    assert [error.line for error in bulk_import.import_csv(again, "test", now=NOW).errors] == [2]
    assert db.session.scalar(select(func.count()).select_from(Representation)) == 2


def test_two_links_closing_a_circle_at_once_do_not_both_pass(registry: Flask) -> None:
    """Two imports at once, one linking a son as his mother's representative (a swapped line), the other the mother
    as her son's: each checked for a circle before the other committed, and both links were written. The second
    now waits for the first and then sees the circle."""
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite writes one transaction at a time: the second writer's outdated reads fail and are retried")
    mother = register(person_data("770000000000001")).person
    son = register(person_data("770000000000002", "Иванов", "Артём", "Сергеевич", sex="M")).person
    ids, enps = (mother.id, son.id), (mother.enp, son.enp)
    db.session.commit()
    linked, go, outcome = threading.Event(), threading.Event(), {}

    def other_import() -> None:
        with registry.app_context():
            serialised("representations")
            db.session.add(Representation(representative_id=ids[1], represented_id=ids[0]))
            db.session.flush()
            linked.set()
            go.wait(10)
            db.session.commit()

    def this_import() -> None:
        with registry.app_context():
            try:
                outcome["linked"] = lifecycle.link_representative(enps[0], enps[1], "test")
            except RegistryError as error:
                outcome["refused"] = error.message

    other = threading.Thread(target=other_import)
    other.start()
    assert linked.wait(10)
    this = threading.Thread(target=this_import)
    this.start()
    this.join(0.5)
    waited = this.is_alive()
    go.set()
    other.join(10)
    this.join(10)
    assert waited, "the second link waits for the first's transaction"
    assert "по кругу" in outcome.get("refused", "")
    assert db.session.scalar(select(func.count()).select_from(Representation)) == 1


def test_a_line_with_more_fields_than_the_header_is_refused_saying_how_many(registry: Flask, tmp_path: Path) -> None:
    """A stray delimiter (a trailing one, or one inside a name) shifts fields past the header's columns: which
    field was meant for which column cannot be told, so the line is refused, and the rest load."""
    trailing = "7700000000000065,Смирнова,Анна,,1990-01-01,F,,77001,citizen,,,"
    inside = "7700000000000073,Кузнецов,Дмитрий,Ильич,оглы,2004-02-14,M,,77001,citizen,,,"
    lines = [GOOD[0], trailing, GOOD[1], inside, GOOD[2]]
    report = bulk_import.import_csv(write_csv(tmp_path / "registry.csv", lines), "test", now=NOW)
    assert report.created == 3
    assert [str(error) for error in report.errors] == [
        "строка 3: полей больше, чем столбцов в заголовке: ожидалось 11, в строке 12",
        "строка 5: полей больше, чем столбцов в заголовке: ожидалось 11, в строке 13",
    ]
    semicolons = tmp_path / "excel.csv"
    semicolons.write_text("\n".join([HEADER, trailing]).replace(",", ";") + "\n", encoding="utf-8")
    assert [str(error) for error in bulk_import.import_csv(semicolons, "test", now=NOW).errors] == [
        "строка 2: полей больше, чем столбцов в заголовке: ожидалось 11, в строке 12"
    ]


def test_a_birth_date_before_1900_or_to_come_is_refused_new_or_registered(registry: Flask, tmp_path: Path) -> None:
    """1800 typed for 1980 is a typing error, as a day to come is: refused as every path that takes a birth date
    refuses it (rules.require_past_day), for a new person and for a registered one's correction alike."""
    lines = [
        GOOD[0],
        "7700000000000065,Смирнова,Анна,,1800-01-01,F,,77001,citizen,,",
        "7700000000000073,Кузнецов,Дмитрий,,2999-01-01,M,,77001,citizen,,",
        "7700000000000081,Соколова,Елена,,1900-01-01,F,,77001,citizen,,",
    ]
    report = bulk_import.import_csv(write_csv(tmp_path / "registry.csv", lines), "test", now=NOW)
    assert report.created == 2, "1900-01-01 is the earliest birth date taken"
    assert [str(error) for error in report.errors] == [
        "строка 3: Дата рождения раньше 1900 года",
        "строка 4: Дата рождения в будущем",
    ]
    corrected = write_csv(tmp_path / "corrected.csv", [GOOD[0].replace("1990-04-12", "1800-04-12")])
    report = bulk_import.import_csv(corrected, "test", now=NOW)
    assert [str(error) for error in report.errors] == ["строка 2: Дата рождения раньше 1900 года"]
    assert str(db.session.scalar(select(Person.birth_date).where(Person.enp == "7700000000000016"))) == "1990-04-12"


def generated_csv(path: Path, count: int) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(bulk_import.COLUMNS)
        for index, person in enumerate(sample_people(count, seed=5)):
            name = person.name
            writer.writerow(
                [
                    person.enp,
                    name.surname,
                    name.given_name,
                    name.patronymic,
                    person.birth_date,
                    person.sex,
                    "",
                    "77001" if index % 2 else "77002",
                    "citizen",
                    "",
                    "",
                ]
            )
    return path


def consistent() -> None:
    """Every person has exactly one open policy and one current code, and the audit chain is whole."""
    people = db.session.scalar(select(func.count(Person.id)))
    open_policies = db.session.scalar(select(func.count(Policy.id)).where(Policy.status != PolicyStatus.CLOSED))
    current = db.session.scalar(select(func.count(IssuedCode.id)).where(IssuedCode.status == CodeStatus.CURRENT))
    assert people == open_policies == current
    assert list(audit.problems()) == []


def test_a_killed_import_leaves_whole_batches_and_a_rerun_completes(
    registry: Flask, database_url: str, tmp_path: Path
) -> None:
    path = generated_csv(tmp_path / "big.csv", 20_000)
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SIGNING_KEY_PASSPHRASE": PASSPHRASE,
        "SECRET_KEY": SECRET_KEY,
        "IMPORT_BATCH_SIZE": "500",
        **audit_settings(database_url),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "webapp", "registry", "import", str(path)],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        loaded = db.session.scalar(select(func.count(Person.id))) or 0
        db.session.rollback()
        if loaded >= 1500:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    db.session.remove()
    loaded = db.session.scalar(select(func.count(Person.id))) or 0
    assert 0 < loaded < 20_000, "the import was killed midway"
    assert loaded % 500 == 0, "only whole batches were committed"
    consistent()
    report = bulk_import.import_csv(path, "test", now=NOW)
    assert report.created == 20_000 - loaded
    assert report.unchanged == loaded
    assert db.session.scalar(select(func.count(Person.id))) == 20_000
    consistent()
    sample = db.session.scalars(select(IssuedCode.text).limit(20)).all()
    assert all(verify_scan(text).verdict is Verdict.VALID for text in sample)
    assert Enp(db.session.scalar(select(Person.enp).limit(1)) or "")


def test_an_import_leaves_the_planner_the_new_row_counts(registry: Flask, tmp_path: Path) -> None:
    """Right after a bulk import the verification read is planned for the rows it wrote, not for an empty region:
    planned for none, each read scanned the whole region (minutes for twenty codes at 20,000 people)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's planner keeps no row counts")
    report = bulk_import.import_csv(generated_csv(tmp_path / "r.csv", 600), "test", now=NOW)
    assert report.created == 600
    counted = db.session.execute(
        text(
            "SELECT c.relname, c.reltuples FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid"
            " JOIN pg_class parent ON parent.oid = i.inhparent"
            " WHERE parent.relname IN ('persons', 'policies', 'issued_codes') AND c.reltuples > 0"
        )
    ).all()
    assert sorted(name for name, _ in counted) == ["issued_codes_77", "persons_77", "policies_77"]
    assert all(rows == 600 for _, rows in counted)


def test_an_import_stops_when_its_key_is_compromised_midway_and_no_code_of_that_key_stays_current(
    registry: Flask, tmp_path: Path
) -> None:
    """The operator marks the insurer's key compromised while a file loads: the batches already in get new codes
    from the compromise's reissue, the import stops before signing more with that key, and a second run loads the
    rest under the new key. Before, it went on signing with the compromised key after the reissue had passed, and
    those holders' first codes read `key_compromised` for good."""
    registry.config["IMPORT_BATCH_SIZE"] = 50
    path = generated_csv(tmp_path / "registry.csv", 200)
    kid = keystore.signing_key("77001", clock.now()).kid.hex()
    compromised: list[str] = []

    def compromise_after_the_first_batch(lines: int) -> None:
        if not compromised:
            compromised.append(kid)
            assert mass_reissue.compromise(kid, "test").state == JobState.FINISHED  # no queue: reissued at once

    with pytest.raises(RegistryError, match="отозван во время загрузки"):
        bulk_import.import_csv(path, "test", compromise_after_the_first_batch)
    assert db.session.scalar(select(func.count(Person.id))) == 50, "the first batch stays"
    assert not db.session.scalar(
        select(func.count(IssuedCode.id)).where(IssuedCode.kid == kid, IssuedCode.status == CodeStatus.CURRENT)
    ), "no holder is left with a code of the compromised key"

    report = bulk_import.import_csv(path, "test")
    assert (report.created, report.unchanged, report.errors) == (150, 50, [])
    consistent()
    current = db.session.scalars(select(IssuedCode.text).where(IssuedCode.status == CodeStatus.CURRENT)).all()
    assert len(current) == 200
    assert {verify_scan(text).verdict for text in current} == {Verdict.VALID}
