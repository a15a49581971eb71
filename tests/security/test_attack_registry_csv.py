"""Attacks through the registry CSV: the insurer's import page (webapp/web/views/insurer.py) and the import command
(webapp/cli/registry.py), with files a careless or hostile insurer employee, or whoever sent the file, could make."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from policy_codes import Enp
from tests.security.world import MOTHER, STRANGER
from tests.webapp.pages import logged_in, upload
from tests.webapp.test_cli import run
from webapp.extensions import db
from webapp.models import Job, Person, Representation
from webapp.registry import bulk_import, people, registry_file

HEADER = ",".join(bulk_import.COLUMNS)


def line(data: people.PersonData, insurer: str, representative: str = "") -> str:
    return (
        f"{data.enp},{data.name.surname},{data.name.given_name},{data.name.patronymic},{data.birth_date},{data.sex},"
        f"{data.snils or ''},{insurer},{data.category},,{representative}"
    )


def test_a_refused_line_links_no_representative_to_another_insurers_insured(world: Flask) -> None:
    """Staff of 77001 put 77002's insured on a line of their own insurer, naming their own insured (whose account
    they can open with a one-time code) as the representative. The line is refused, as a change of insurer by
    import; it linked the representative all the same, and that account then held the stranger's policy and code."""
    evil = line(STRANGER, "77001", str(MOTHER.enp))
    answer = upload(logged_in(world, "smo"), f"{HEADER}\n{evil}\n".encode())
    assert answer.status_code == 200
    assert "смена СМО выполняется заявлением" in answer.get_data(as_text=True)
    with world.app_context():
        stranger = people.person_by_enp(str(STRANGER.enp))
        linked = select(Representation).where(Representation.represented_id == stranger.id)
        assert db.session.scalars(linked).all() == []
    card = logged_in(world, "ivanova").get("/me/").get_data(as_text=True)
    assert STRANGER.enp.grouped() not in card
    assert "Алексей".upper() not in card.upper()


def test_a_refusal_quotes_no_control_character_to_the_terminal_or_the_page(registry: Flask, tmp_path: Path) -> None:
    """The command prints every refused line with the value it quotes: a field holding a terminal's escape sequence
    (here: clear the screen, retitle the window) ran in the operator's terminal, and a bidi override turned the
    rest of the reason around on the insurer's page. They are quoted by their code, as a name's unknown letters."""
    escape, override = "\x1b]0;ok\x07\x1b[2J", "\u202e"
    lines = [
        f"7700000000000073,Кузнецов,Дмитрий,,2004-02-14,M,,{escape}77001,citizen,,",
        f"7700000000000081,Соколова,Елена,,1985-07-21,F,,77001,citizen{override},,",
    ]
    path = tmp_path / "registry.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    code, output = run(registry, "registry", "import", str(path))
    assert code == 1
    assert "неизвестная СМО «U+001B]0;okU+0007U+001B[2J77001»" in output
    assert "неизвестная категория «citizenU+202E»" in output
    assert not [char for char in output if not char.isprintable() and char != "\n"]


def test_a_header_of_thousands_of_columns_is_refused_before_any_line_is_read(world: Flask) -> None:
    """Each line was read into a mapping of every column the header names, held a batch (5,000 lines) at a time:
    a header of 100,000 made-up columns over 5,000 short lines, a file of 1 MB, took some 19 GB in the web
    worker. A header wider than MAX_COLUMNS is refused whole, and a line is read for the contract's columns only."""
    header = ",".join([*bulk_import.COLUMNS, *(f"x{number}" for number in range(100_000))])
    person = line(STRANGER, "77001").replace(str(STRANGER.enp), "7700000000000057")
    answer = upload(logged_in(world, "smo"), f"{header}\n{person}\n".encode())
    assert answer.status_code == 400
    assert f"В заголовке 100011 столбцов, больше {registry_file.MAX_COLUMNS}" in answer.get_data(as_text=True)
    with world.app_context():
        assert db.session.scalar(select(Person).where(Person.enp == "7700000000000057")) is None
    wide = ",".join([*bulk_import.COLUMNS, *(f"x{number}" for number in range(registry_file.MAX_COLUMNS - 11))])
    data = f"{wide}\n{person}\n".encode()
    [(lines, refused)] = registry_file.batches(data, registry_file.checked_header(data), 10)
    assert (refused, [sorted(raw) for _, raw in lines]) == ([], [sorted(bulk_import.COLUMNS)])


def test_an_uploaded_files_name_keeps_no_unseen_character(world: Flask) -> None:
    """The file's name, as the browser sends it, is the job's subject and the reason's words of every correction the
    import makes, read on pages and in the audit trail: a bidi override in it turned the text after it around
    there, an escape sequence reached whoever reads the audit in a terminal. Such characters are dropped."""
    world.config["IMPORT_JOB_THRESHOLD"] = 0  # no queue: the job runs in the request
    person = line(STRANGER, "77001").replace(str(STRANGER.enp), "7700000000000057")
    answer = upload(logged_in(world, "smo"), f"{HEADER}\n{person}\n".encode(), "реестр\u202evsc.\x1b[2Jexe.csv")
    assert answer.status_code == 302
    with world.app_context():
        assert db.session.scalars(select(Job.subject)).all() == ["реестрvsc.[2Jexe.csv"]


FORMULAS = ('=HYPERLINK("http://evil";"x")', "+cmd|'/c calc'!A1", "-2+3", "@SUM(1)", "\t=1", "\r=1")


def test_the_refused_lines_csv_starts_no_cell_with_a_formula(world: Flask) -> None:
    """What a file carried comes back in the CSV of refused lines, which the insurer opens in Excel: a cell
    starting with = + - @, a tab or a CR would be run as a formula. Every reason starts with the registry's own
    words and quotes a value only after them; the line is a number."""
    world.config["IMPORT_JOB_THRESHOLD"] = 0  # no queue: the job runs in the request
    lines, number = [], 100
    for formula in FORMULAS:
        cell = '"' + formula.replace('"', '""') + '"'
        for column in bulk_import.COLUMNS[1:]:  # each field in turn, the rest of the line a person's to load
            number += 1
            fields = line(STRANGER, "77001").split(",")
            fields[0] = str(Enp.with_check_digit(f"7700000000{number:05d}"))
            fields[bulk_import.COLUMNS.index("snils")] = ""  # a СНИЛС is one person's: not repeated on each line
            fields[bulk_import.COLUMNS.index(column)] = cell
            lines.append(",".join(fields))
    smo = logged_in(world, "smo")
    answer = upload(smo, "\n".join([HEADER, *lines]).encode())
    assert answer.status_code == 302
    download = smo.get(answer.headers["Location"] + "/refused.csv")
    assert download.status_code == 200
    rows = list(csv.reader(io.StringIO(download.get_data().decode("utf-8-sig"))))
    assert rows[0] == ["line", "reason"]
    reasons = " ".join(reason for _, reason in rows[1:])
    assert "неизвестная СМО «=HYPERLINK" in reasons  # a value quoted, after the registry's words
    assert "неизвестная категория «+cmd" in reasons
    assert [cell for row in rows for cell in row if cell[:1] in ("=", "+", "-", "@", "\t", "\r")] == []
