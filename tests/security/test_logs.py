"""No personal data in the logs: every record of a broad run of flows, captured at DEBUG, names nobody.

The run: logins, every page as every role, reception scans of good, forged and typed input, insurer search,
registration, transfer and every lifecycle action, the JSON API, command-line commands, bad input, an
unexpected error, and requests through werkzeug's own server (whose request lines are logged).
The records are then searched for the people's names, ЕНП, СНИЛС and birth dates in every usual spelling.
"""

from __future__ import annotations

import http.cookiejar
import logging
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from policy_codes import PREFIX
from policy_codes.base45 import b45decode, b45encode
from tests.faults.server import Server
from tests.helpers.browser import serving
from tests.helpers.logs import everything_logged
from tests.helpers.registry import person_data
from tests.security.world import CHILD, LOGINS, MOTHER, PEOPLE, STRANGER, client_as, plain_get_routes, snils
from tests.webapp.pages import PASSWORD, code_text, csrf
from webapp.extensions import db
from webapp.registry import accounts, clock, people
from webapp.registry.people import PersonData

#: Registered during the run, through the insurer's page and through a CSV import.
NEWCOMER = replace(
    person_data("770000000000005", "Сидорова", "Анна", "Викторовна", date(2001, 2, 3)), snils=snils("456789123")
)
IMPORTED = replace(
    person_data("770000000000006", "Кузнецов", "Игорь", "Олегович", date(1977, 11, 30), "M"), snils=snils("567891234")
)
EVERYONE = (*PEOPLE, NEWCOMER, IMPORTED)
#: The loggers our code and its framework write to: none may drop a record while we listen.
#: (SQLAlchemy sets its own "sqlalchemy" logger to WARNING when imported: it logs no SQL unless asked to.)
OWN_LOGGERS = ("webapp", "werkzeug", "flask", "policy_codes", "signing")


def spellings(person: PersonData) -> set[str]:
    """Every way the person's data could be written into a log line."""
    born = person.birth_date
    found = {
        str(person.enp),
        person.snils.digits if person.snils else "",
        str(person.snils),
        str(person.snils).replace("-", " "),
        born.isoformat(),
        born.strftime("%d.%m.%Y"),
        born.strftime("%d/%m/%Y"),
        born.strftime("%Y%m%d"),
        f"{born.year}, {born.month}, {born.day}",  # repr(date)
    }
    found.add(" ".join(str(person.enp)[start : start + 4] for start in range(0, 16, 4)))
    for part in (person.name.surname, person.name.given_name, person.name.patronymic):
        found |= {part, part.upper()}
    found |= {urllib.parse.quote_plus(spelling) for spelling in found} | {urllib.parse.quote(text) for text in found}
    # A request line that is not URL-encoded: gunicorn and http.server read its bytes as Latin-1, and quote
    # them with repr().
    misread = {spelling.encode().decode("latin-1") for spelling in found if not spelling.isascii()}
    found |= misread | {repr(spelling)[1:-1] for spelling in misread}
    return {spelling for spelling in found if len(spelling) > 3}


def raw_request_lines(person: PersonData) -> list[bytes]:
    """Request lines a script or a pasted scan sends without URL-encoding: white space and any script raw."""
    surname, given = person.name.surname.upper(), person.name.given_name.upper()
    born, enp = person.birth_date.isoformat(), str(person.enp)
    grouped = " ".join(enp[start : start + 4] for start in range(0, 16, 4))
    lines = [
        f"GET /insurer/?q={surname} {given}&birth_date={born} HTTP/1.1",
        f"GET /insurer/?q={surname}&birth_date={born} HTTP/1.1",
        f"GET /insurer/?q={surname} {given}",
        f"GET /insurer/person/{grouped} HTTP/1.1",
        f"GET /insurer/?q={person.snils} HTTP/1.1",
        f"GET /insurer/{surname}/{born} HTTP/1.1",
        f"POST /login?next=/{given} HTTP/1.1",
    ]
    return [line.encode() for line in lines]


def send_raw(base: str, line: bytes) -> None:
    """One request whose line is sent as it is, on a connection of its own; whatever the answer."""
    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(line + b"\r\nHost: " + host.encode() + b"\r\nContent-Length: 0\r\n\r\n")
        connection.shutdown(socket.SHUT_WR)
        while connection.recv(4096):
            pass


def leaks(record: logging.LogRecord, secrets: set[str]) -> set[str]:
    text = " ".join(
        [
            record.getMessage(),
            repr(record.args),
            repr(record.msg),
            logging.Formatter().formatException(record.exc_info) if record.exc_info else "",
            record.stack_info or "",
            repr({key: value for key, value in vars(record).items() if key not in ("exc_info", "args", "msg")}),
        ]
    ).casefold()
    return {secret for secret in secrets if secret.casefold() in text}


def assert_nothing_drops_our_records(app: Flask) -> None:
    for name in (*OWN_LOGGERS, app.logger.name):
        logger = logging.getLogger(name)
        assert not logger.disabled, name
        assert logger.getEffectiveLevel() == logging.DEBUG, name
        assert logger.propagate, name


def forged(text: str) -> str:
    message = bytearray(b45decode(text[len(PREFIX) :]))
    message[-1] ^= 1
    return PREFIX + b45encode(bytes(message))


def every_page(world: Flask) -> None:
    for role in LOGINS:
        client = client_as(world, role)
        for path in plain_get_routes(world):
            client.get(path)
        for person in (CHILD, STRANGER):
            client.get(f"/me/?person={person.enp}")
            client.get(f"/me/extract.pdf?person={person.enp}")


def anonymous_and_bad_input(world: Flask) -> None:
    client = world.test_client()
    token = csrf(client)
    for username, password in ((str(MOTHER.enp), PASSWORD), ("Иванова", str(MOTHER.snils)), ("x" * 500, "")):
        client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    client.post("/login", data={"username": "ivanova", "password": PASSWORD})  # no CSRF token
    client.get(f"/me/?person={MOTHER.enp}")
    client.get(f"/insurer/person/{MOTHER.enp}")
    client.post("/api/v1/verify", json={"code": str(MOTHER.enp)})  # no token
    guess = {"enp": str(MOTHER.enp), "code": "AAAA-AAAA", "password": "x", "password_again": "x"}
    refused = [client.post("/activate", data=guess | {"csrf_token": csrf(client, "/activate")}) for _ in range(6)]
    assert refused[-1].status_code == 429, "a limit keyed by the ЕНП is spent: Flask-Limiter logs its key"


def citizen(world: Flask) -> None:
    client = client_as(world, "citizen")
    token = csrf(client, "/me/")
    client.get(f"/me/?person={CHILD.enp}")
    client.get(f"/me/show?person={CHILD.enp}")
    client.get(f"/me/code.png?person={CHILD.enp}&download=1")
    client.get("/me/?person=Иванова Мария 1990-04-12")
    client.post(f"/me/reissue-request?person={CHILD.enp}", data={"reason": "lost", "details": "", "csrf_token": token})
    client.get(f"/me/not-representative?person={CHILD.enp}")
    client.post(f"/me/not-representative?person={CHILD.enp}", data={"csrf_token": token})


def reception(world: Flask) -> None:
    client = client_as(world, "clinic")
    token = csrf(client, "/clinic/")
    mother = code_text(world, str(MOTHER.enp))
    for scanned in (
        mother,
        forged(mother),
        mother.lower() + "\r\n",
        str(MOTHER.enp),
        str(MOTHER.enp)[:-1] + "0",
        str(MOTHER.snils),
        "Иванова Мария Петровна 12.04.1990",
        "\x02" + str(MOTHER.enp) + "\x00" * 113,
        mother * 20,
    ):
        client.post("/clinic/verify", data={"code": scanned, "csrf_token": token})
        client.post("/clinic/verify", data={"code": scanned, "csrf_token": token}, headers={"HX-Request": "true"})
    client.get("/clinic/history")


def insurer(world: Flask) -> None:
    client = client_as(world, "insurer")
    token = csrf(client, "/insurer/")
    for query, born in (
        (str(MOTHER.enp), ""),
        (str(MOTHER.snils), ""),
        ("Иванова Мария", "1990-04-12"),
        ("Иванова", "12.04.1990"),
        (str(STRANGER.enp), ""),
    ):
        client.get("/insurer/", query_string={"q": query, "birth_date": born})
    client.get(f"/insurer/person/{MOTHER.enp}")
    client.get(f"/insurer/person/{STRANGER.enp}")
    new = {
        "enp": str(NEWCOMER.enp),
        "surname": NEWCOMER.name.surname,
        "given_name": NEWCOMER.name.given_name,
        "patronymic": NEWCOMER.name.patronymic,
        "birth_date": NEWCOMER.birth_date.isoformat(),
        "sex": NEWCOMER.sex,
        "snils": str(NEWCOMER.snils),
        "category": "citizen",
    }
    client.post("/insurer/new", data={**new, "snils": "112-233-445 00", "csrf_token": token})  # a bad СНИЛС
    client.post("/insurer/new", data={**new, "csrf_token": token})
    transfer = {
        "enp": str(STRANGER.enp),
        "birth_date": STRANGER.birth_date.isoformat(),
        "applied_on": clock.today_in_moscow(datetime.now(UTC)).isoformat(),
        "exception": "insurer_left",
        "document": "письмо ТФОМС № 12-345",
    }
    client.post("/insurer/transfer", data={**transfer, "birth_date": "1985-07-22", "csrf_token": token})
    client.post("/insurer/transfer", data={**transfer, "csrf_token": token})
    for action in ("reissue", "suspend", "resume", "revoke", "reissue", "terminate"):
        form = {"reason": "other", "details": "заявление", "csrf_token": token}
        client.post(f"/insurer/person/{NEWCOMER.enp}/{action}", data=form)
    client.get("/insurer/requests")


def api(world: Flask) -> None:
    with world.app_context():
        token = accounts.create_token("GP-001", "МИС", "test")[1]
    mother = code_text(world, str(MOTHER.enp))
    client = world.test_client()
    for code in (mother, forged(mother), str(MOTHER.enp), str(CHILD.enp), "OMS1:%%%", "[" * 5000):
        client.post("/api/v1/verify", json={"code": code}, headers={"Authorization": f"Bearer {token}"})
    client.get("/api/v1/trust-list")
    client.get("/api/v1/revocations")


def command_line(world: Flask, tmp_path: Path) -> None:
    runner = world.test_cli_runner()
    csv = tmp_path / "registry.csv"
    row = IMPORTED
    csv.write_text(
        "enp,surname,given_name,patronymic,birth_date,sex,snils,insurer_code,category,right_valid_until,"
        "representative_enp\n"
        f"{row.enp},{row.name.surname},{row.name.given_name},{row.name.patronymic},{row.birth_date},{row.sex},"
        f"{row.snils},77001,citizen,,\n"
        f"{MOTHER.enp},{MOTHER.name.surname},,,{MOTHER.birth_date},X,{MOTHER.snils},77001,citizen,,\n",
        encoding="utf-8",
    )
    for arguments in (
        ["registry", "import", str(csv)],
        ["registry", "export", str(tmp_path / "export.csv")],
        ["codes", "show", str(MOTHER.enp)],
        ["codes", "reissue", str(CHILD.enp)],
        ["codes", "revoke", str(IMPORTED.enp), "--reason", "украден"],
        ["codes", "show", "1234567890123458"],
        ["users", "create", "--username", "kuznetsov", "--role", "citizen", "--enp", str(IMPORTED.enp)],
        ["tokens", "create", "--clinic", "GP-001"],
        ["keys", "list"],
        ["audit", "verify"],
    ):
        runner.invoke(args=arguments, input=f"{PASSWORD}\n{PASSWORD}\n")


def unexpected_error(world: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug on a page whose address carries an ЕНП: Flask logs the exception with the path."""

    def broken(*_args: object) -> None:
        raise RuntimeError("an unexpected failure")

    client = client_as(world, "insurer")
    world.config["PROPAGATE_EXCEPTIONS"] = False
    with monkeypatch.context() as patch:
        patch.setattr(people, "open_policy", broken)
        assert client.get(f"/insurer/person/{MOTHER.enp}").status_code == 500
    world.config["PROPAGATE_EXCEPTIONS"] = None


def over_http(world: Flask) -> None:
    world.config["SESSION_COOKIE_SECURE"] = False  # plain HTTP on loopback, as `make run` serves
    with serving(world, threaded=False) as base:
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = browser.open(f"{base}/login").read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token
        login = {"username": "smo", "password": PASSWORD, "csrf_token": token.group(1)}
        browser.open(f"{base}/login", data=urllib.parse.urlencode(login).encode())
        refused = []
        for path in (
            f"/insurer/?q={MOTHER.enp}",
            "/insurer/?" + urllib.parse.urlencode({"q": str(MOTHER.snils)}),
            "/insurer/?" + urllib.parse.urlencode({"q": "Иванова Мария", "birth_date": "1990-04-12"}),
            f"/insurer/person/{MOTHER.enp}",
            f"/insurer/person/{STRANGER.enp}",
            f"/me/?person={CHILD.enp}",
        ):
            try:
                browser.open(base + path).read()
            except urllib.error.HTTPError as error:
                refused.append(error.code)
        assert set(refused) <= {403, 404}, "refusals, never a failure"
        for line in raw_request_lines(MOTHER):
            send_raw(base, line)
    world.config["SESSION_COOKIE_SECURE"] = True


def test_no_personal_data_in_any_log_record(
    world: Flask, caplog: pytest.LogCaptureFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with everything_logged(caplog):
        assert_nothing_drops_our_records(world)
        world.logger.debug("canary")
        every_page(world)
        anonymous_and_bad_input(world)
        citizen(world)
        reception(world)
        insurer(world)
        api(world)
        command_line(world, tmp_path)
        unexpected_error(world, monkeypatch)
        over_http(world)
        records = list(caplog.records)

    with world.app_context():  # the flows did what they say: registered, transferred, imported
        assert people.person_by_enp(str(NEWCOMER.enp)).insurer.code == "77001"
        assert people.person_by_enp(str(STRANGER.enp)).insurer.code == "77001"
        assert people.person_by_enp(str(IMPORTED.enp))
    messages = [record.getMessage() for record in records]
    assert "canary" in messages, "the capture hears the app's own logger"
    assert any(record.name == "werkzeug" and "GET /insurer/" in record.getMessage() for record in records)
    assert any(record.name == "webapp" and record.levelno == logging.ERROR for record in records), "the 500"

    secrets = set().union(*(spellings(person) for person in EVERYONE))
    secrets |= {code_text(world, str(MOTHER.enp))[len(PREFIX) : len(PREFIX) + 40]}
    found = {f"{record.name}: {record.getMessage()[:200]}": leaks(record, secrets) for record in records}
    assert {line: secrets for line, secrets in found.items() if secrets} == {}


def test_gunicorn_logs_no_personal_data_from_any_request_line(world: Flask, database_url: str, tmp_path: Path) -> None:
    """Production's command line (tests/faults/server.py: its error log on stderr), with the access log an
    operator may add, in gunicorn's default format (the request line, the Referer, the User-Agent)."""
    access_log = tmp_path / "access.log"
    server = Server(database_url, options=["--access-logfile", str(access_log)]).start()
    try:
        for line in raw_request_lines(MOTHER):
            send_raw(server.url, line)
        query = urllib.parse.urlencode({"q": f"{MOTHER.name.surname} {MOTHER.name.given_name}", "b": "1990-04-12"})
        referer = f"{server.url}/insurer/?{query}"
        requests.get(f"{server.url}/insurer/person/{MOTHER.enp}?{query}", headers={"Referer": referer}, timeout=10)
    finally:
        error_log = server.stop()
    logged = error_log + access_log.read_text(encoding="utf-8", errors="backslashreplace")
    assert "Invalid request from ip=" in error_log, "gunicorn refused the malformed lines, and said so"
    assert "GET /insurer/person/" in logged, "the access log was written"
    secrets = spellings(MOTHER)
    assert {
        line: found
        for line in logged.splitlines()
        if (found := {s for s in secrets if s.casefold() in line.casefold()})
    } == {}


def test_a_database_error_quotes_none_of_the_statement_s_values(world: Flask) -> None:
    """Its message reaches logs (a command's traceback, the job queue's record of a failure): no values in it, from
    the main engine or the verification reads' (binds take none of the main engine's options by themselves)."""
    with world.app_context():
        for engine in db.engines.values():
            with engine.connect() as connection, pytest.raises(SQLAlchemyError) as refused:
                connection.execute(text("INSERT INTO no_such_table VALUES (:surname)"), {"surname": "Иванова"})
            assert "Иванова" not in str(refused.value), engine
