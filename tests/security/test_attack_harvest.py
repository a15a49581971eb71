"""A clinic login harvesting the registry by number (issue 16): 700 look-ups in 6 s, each with a name and birth date.

A typed ЕНП, the Code128 of one or a 2011 paper barcode answers with the registry's record for a number the
clerk did not have to hold in a signed code: those number look-ups are limited per login and per clinic each
minute, and per clinic each Moscow day (a ceiling the operator sees and raises). A signed code only shows what
it carries, so a queue of them is never stopped by those limits. Every refusal is a 429 in Russian in the
verdict area, says nothing about the number, is not recorded as a check, and the audit log notes each limit
once per window.

The JSON API is the same registry behind another door: a clinic system's token that sends a number (a typed ЕНП,
a Code128, a paper barcode) gets the same name and birth date, so its look-ups are limited per token each minute,
count towards the same clinic's minute limit and daily ceiling as its desks' do, and are refused with the API's
JSON 429 and Retry-After; its signed codes keep only the API's ordinary rate.

Everything goes through the real test client with CSRF on, on SQLite and PostgreSQL; the pages also in
Chromium at a phone's size, desks reaching the ceiling at once in threads, and two workers on one Redis.
The limits' minute windows follow the clock of webapp/registry/clinic_checks.py, which the tests stop and move on
(as tests/webapp/test_api.py does for the API's counts); the day is the real Moscow day of the checks.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Page
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from policy_codes import Enp
from tests.helpers.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, log_in, serving, shot
from tests.helpers.registry import make_app
from tests.security.world import CHILD, MOTHER, STRANGER
from tests.test_legacy import type_02
from tests.webapp.pages import PASSWORD, code_text, csrf, logged_in
from tests.webapp.test_shared_rate_limits import REDIS_URL, redis_url  # noqa: F401  (redis_url: a fixture)
from webapp import config
from webapp.extensions import db
from webapp.models import AuditEntry, Clinic, ClinicCheck, Role
from webapp.registry import accounts, clinic_checks

#: Small limits, so that a test meets each in a few requests: per login, per clinic, every scan of one login, and
#: per API token (more than a login, fewer than the clinic, as by default).
LIMITS = {
    "CLINIC_NUMBER_LOOK_UPS_PER_USER": "4 per minute",
    "CLINIC_NUMBER_LOOK_UPS_PER_CLINIC": "6 per minute",
    "CLINIC_SCANS_PER_USER": "30 per minute",
    "CLINIC_NUMBER_LOOK_UPS_PER_TOKEN": "5 per minute",
}
#: The start of a minute (2027-01-15 08:00:00 UTC).
START = 1_800_000_000.0
REGISTERED = [str(person.enp) for person in (MOTHER, CHILD, STRANGER)]
#: Valid numbers nobody holds: a harvester walks through numbers like these.
UNREGISTERED = [str(Enp.with_check_digit(f"7799000000{index:05d}")) for index in range(40)]
NAMES = ("Иванова Мария Петровна", "Иванов Артём Сергеевич", "Петров Алексей Николаевич")
LIMIT_ACTION = "look_up_limit_reached"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The limits' clock, stopped at the start of a minute; a test moves it on by changing `clock[0]`."""
    now = [START]
    monkeypatch.setattr("webapp.registry.clinic_checks.time", SimpleNamespace(time=lambda: now[0]))
    return now


@pytest.fixture
def clinic(world: Flask, clock: list[float]) -> Flask:
    """The world with the small limits and a second login at the same clinic."""
    world.config.update(LIMITS)
    with world.app_context():
        accounts.create_user("clinic-2", PASSWORD, Role.CLINIC, "test", clinic_code="GP-001")
    return world


class Desk:
    """One login at the reception page, posting scans as the page does (htmx) or as a plain form."""

    def __init__(self, app: Flask, username: str) -> None:
        self.client: FlaskClient = logged_in(app, username)
        self.token = csrf(self.client, "/clinic/")

    def scan(self, code: str, htmx: bool = True) -> TestResponse:
        headers = {"HX-Request": "true"} if htmx else {}
        return self.client.post("/clinic/verify", data={"code": code, "csrf_token": self.token}, headers=headers)


class System:
    """A clinic's information system on the JSON API, with a bearer token the operator made for the clinic."""

    def __init__(self, app: Flask, name: str = "МИС") -> None:
        with app.app_context():
            record, self.token = accounts.create_token("GP-001", name, "test")
            self.actor = f"api-token:{record.id}"
        self.client: FlaskClient = app.test_client()

    def scan(self, code: str, language: str = "ru") -> TestResponse:
        headers = {"Authorization": f"Bearer {self.token}", "Accept-Language": language}
        return self.client.post("/api/v1/verify", json={"code": code}, headers=headers)


def statuses(desk: Desk | System, codes: list[str]) -> list[int]:
    return [desk.scan(code).status_code for code in codes]


def checks(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(ClinicCheck.id)))


def limit_entries(app: Flask) -> list[tuple[str, str, str]]:
    """The audit log's limit entries: (clinic, limit, actor)."""
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == LIMIT_ACTION)).all()
        return [(entry.entity_key, entry.details["limit"], entry.actor) for entry in entries]


def set_ceiling(app: Flask, ceiling: int) -> None:
    with app.app_context():
        db.session.execute(db.update(Clinic).where(Clinic.code == "GP-001").values(daily_look_up_ceiling=ceiling))
        db.session.commit()


def legacy_paper(enp: str) -> str:
    """A 2011 paper barcode of the number, as a scanner types its 130 bytes into the form."""
    data = bytearray(type_02("ИВАНОВА|МАРИЯ|ПЕТРОВНА", 2, date(1990, 4, 12), None))
    data[1:9] = int(enp).to_bytes(8, "big")
    return bytes(data).decode("latin-1")


def test_harvest_is_stopped_per_login_then_per_clinic_then_for_the_day(clinic: Flask, clock: list[float]) -> None:
    set_ceiling(clinic, 9)
    first, second = Desk(clinic, "clinic"), Desk(clinic, "clinic-2")
    signed = code_text(clinic, str(MOTHER.enp))

    # One login: four numbers a minute (a Code128 and a paper barcode are numbers too), then refused.
    answers = [first.scan(number) for number in [*REGISTERED[:2], legacy_paper(REGISTERED[2]), UNREGISTERED[0]]]
    assert [answer.status_code for answer in answers] == [200] * 4
    assert NAMES[0] in answers[0].get_data(as_text=True), "below the limits a look-up answers as before"
    refused = first.scan(REGISTERED[2])
    assert refused.status_code == 429
    assert "С этой учётной записи слишком много проверок по номеру" in refused.get_data(as_text=True)
    assert int(refused.headers["Retry-After"]) == 60
    assert statuses(first, UNREGISTERED[1:6]) == [429] * 5
    assert first.scan(signed).status_code == 200, "the same login still checks signed codes"

    # A second login of the same clinic: the clinic's six a minute, then refused.
    assert statuses(second, UNREGISTERED[6:8]) == [200, 200]
    refused = second.scan(REGISTERED[0])
    assert refused.status_code == 429
    assert "Из клиники слишком много проверок по номеру" in refused.get_data(as_text=True)
    assert NAMES[0] not in refused.get_data(as_text=True)
    assert statuses(second, UNREGISTERED[8:9]) == [429]
    assert second.scan(signed).status_code == 200

    # The next minute: three more reach the day's ceiling of nine, and the clinic is refused until midnight.
    clock[0] += 60
    assert statuses(second, UNREGISTERED[12:15]) == [200] * 3
    refused = second.scan(REGISTERED[1])
    assert refused.status_code == 429
    body = refused.get_data(as_text=True)
    assert "Клиника исчерпала дневной лимит проверок по номеру: 9" in body
    assert "в полночь по Москве" in body
    assert 0 < int(refused.headers["Retry-After"]) <= 24 * 3600
    assert statuses(first, UNREGISTERED[15:18]) == [429] * 3, "every login of the clinic"
    assert first.scan(signed).status_code == 200
    assert second.scan(signed).status_code == 200

    with clinic.app_context():
        numbers = db.session.scalar(select(func.count(ClinicCheck.id)).where(ClinicCheck.shown != "static_code"))
    assert numbers == 9, "refused look-ups are not checks"
    assert sorted(limit_entries(clinic)) == [
        ("GP-001", "clinic_daily_ceiling", "clinic:clinic-2"),
        ("GP-001", "clinic_number_look_ups", "clinic:clinic-2"),
        ("GP-001", "user_number_look_ups", "clinic:clinic"),
    ], "one entry per limit and window, however many requests it refused"


def test_each_window_is_noted_once(clinic: Flask, clock: list[float]) -> None:
    desk = Desk(clinic, "clinic")
    for _minute in range(3):
        assert statuses(desk, UNREGISTERED[:10]) == [200] * 4 + [429] * 6
        clock[0] += 60
    assert limit_entries(clinic) == [("GP-001", "user_number_look_ups", "clinic:clinic")] * 3
    with clinic.app_context():
        windows = db.session.scalars(select(AuditEntry.details).where(AuditEntry.action == LIMIT_ACTION)).all()
    assert len({entry["window"] for entry in windows}) == 3
    assert all(str(number) not in str(windows) for number in (*REGISTERED, *UNREGISTERED)), "no number in the log"


def test_a_refusal_says_nothing_about_the_number_and_is_not_a_check(clinic: Flask) -> None:
    desk = Desk(clinic, "clinic")
    assert statuses(desk, UNREGISTERED[:4]) == [200] * 4
    before = checks(clinic)
    malformed = REGISTERED[0][:-1] + str((int(REGISTERED[0][-1]) + 1) % 10)
    refusals = [desk.scan(code) for code in (REGISTERED[0], UNREGISTERED[20], malformed, legacy_paper(REGISTERED[1]))]
    assert {answer.status_code for answer in refusals} == {429}
    bodies = {answer.get_data(as_text=True) for answer in refusals}
    assert len(bodies) == 1, "a registered, an unknown and a malformed number are refused alike"
    body = bodies.pop()
    assert not any(name in body for name in NAMES)
    assert "12.04.1990" not in body
    assert REGISTERED[0][-4:] not in body
    assert checks(clinic) == before
    assert "1990" not in desk.client.get("/clinic/history").get_data(as_text=True)


def test_the_refusal_shows_in_the_verdict_area_with_htmx_and_without_javascript(clinic: Flask) -> None:
    desk = Desk(clinic, "clinic")
    statuses(desk, UNREGISTERED[:4])
    partial = desk.scan(REGISTERED[0])
    body = partial.get_data(as_text=True)
    assert partial.status_code == 429
    assert "<html" not in body, "htmx gets the part it swaps into #verdict"
    assert 'class="verdict verdict-refused"' in body
    assert "Проверка не выполнена" in body
    assert "QR-код полиса проверяется как обычно" in body
    assert "Помощь в экстренной форме оказывается без полиса" in body
    page = desk.scan(REGISTERED[0], htmx=False)
    html = page.get_data(as_text=True)
    assert page.status_code == 429
    assert '<html lang="ru">' in html
    verdict_area = html.split('<div id="verdict"', 1)[1].split("</div>", 1)[0]
    assert "С этой учётной записи слишком много проверок по номеру" in verdict_area
    assert 'id="scan-form"' in html, "the form is there to scan the next patient's QR code"


def test_the_refusal_reads_in_english_too(clinic: Flask) -> None:
    desk = Desk(clinic, "clinic")
    desk.client.post("/language", data={"language": "en", "next": "/clinic/", "csrf_token": desk.token})
    statuses(desk, UNREGISTERED[:4])
    body = desk.scan(REGISTERED[0]).get_data(as_text=True)
    assert "Too many number look-ups from this login" in body


def test_a_queue_of_signed_codes_is_never_refused(clinic: Flask, clock: list[float]) -> None:
    """A busy desk's queue, a signed code every 20 seconds for an hour, while a colleague keeps harvesting
    numbers past the clinic's limit for the minute and then its ceiling for the day."""
    set_ceiling(clinic, 6)
    harvester, desk = Desk(clinic, "clinic-2"), Desk(clinic, "clinic")
    assert statuses(harvester, UNREGISTERED[:4]) == [200] * 4
    assert statuses(desk, UNREGISTERED[4:7]) == [200, 200, 429]
    codes = [code_text(clinic, number) for number in REGISTERED]
    queue, harvest = [], []
    for index in range(180):
        queue.append(desk.scan(codes[index % 3]).status_code)
        harvest.append(harvester.scan(UNREGISTERED[7 + index % 30]).status_code)
        clock[0] += 20
    assert queue == [200] * 180
    assert harvest == [429] * 180
    assert "дневной лимит" in harvester.scan(UNREGISTERED[0]).get_data(as_text=True)


def test_one_login_flooding_signed_codes_is_slowed(clinic: Flask) -> None:
    """Two scans a second for a minute is no desk: the login's scans are limited too (30 a minute here)."""
    desk, colleague = Desk(clinic, "clinic"), Desk(clinic, "clinic-2")
    code = code_text(clinic, str(MOTHER.enp))
    assert statuses(desk, [code] * 32) == [200] * 30 + [429] * 2
    assert colleague.scan(code).status_code == 200, "the clinic's other desks are not stopped"
    assert limit_entries(clinic) == [("GP-001", "user_scans", "clinic:clinic")]


def test_the_operator_sees_and_raises_the_ceiling(clinic: Flask) -> None:
    set_ceiling(clinic, 3)
    desk, colleague = Desk(clinic, "clinic-2"), Desk(clinic, "clinic")
    operator = logged_in(clinic, "admin")
    mistyped = colleague.scan(UNREGISTERED[0][:-1] + str((int(UNREGISTERED[0][-1]) + 1) % 10))
    assert mistyped.status_code == 200, "a mistyped number looks nothing up, and does not count for the day"
    assert statuses(desk, UNREGISTERED[:4]) == [200] * 3 + [429]

    page = operator.get("/admin/clinics").get_data(as_text=True)
    assert "Проверок по номеру сегодня" in page
    assert "3 из 3" in page
    assert "лимит исчерпан" in page
    token = csrf(operator, "/admin/clinics")
    raised = operator.post("/admin/clinics/GP-001/ceiling", data={"ceiling": "5", "csrf_token": token})
    assert raised.status_code == 302
    page = operator.get(raised.location).get_data(as_text=True)
    assert "3 из 5" in page
    assert "Дневной лимит для GP-001: 5 проверок по номеру" in page

    assert statuses(colleague, [REGISTERED[0]]) == [200], "the next look-up passes"
    with clinic.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "set_look_up_ceiling")).one()
    assert (entry.actor, entry.entity_key, entry.details) == ("admin:admin", "GP-001", {"from": 3, "to": 5})


@pytest.mark.parametrize("value", ["", "много", "-1", "1.5", "١٢", "10000001", "9" * 40])
def test_a_bad_ceiling_is_refused_with_a_message(clinic: Flask, value: str) -> None:
    operator = logged_in(clinic, "admin")
    token = csrf(operator, "/admin/clinics")
    answer = operator.post("/admin/clinics/GP-001/ceiling", data={"ceiling": value, "csrf_token": token})
    assert answer.status_code == 400
    assert "Дневной лимит — целое число от 0 до 10 000 000" in answer.get_data(as_text=True)
    with clinic.app_context():
        assert db.session.scalar(select(Clinic.daily_look_up_ceiling).where(Clinic.code == "GP-001")) == 2000
        assert not db.session.scalars(select(AuditEntry).where(AuditEntry.action == "set_look_up_ceiling")).all()


def test_only_the_operator_changes_a_ceiling_and_only_with_the_forms_token(clinic: Flask) -> None:
    desk = Desk(clinic, "clinic")
    path = "/admin/clinics/GP-001/ceiling"
    assert desk.client.post(path, data={"ceiling": "99999", "csrf_token": desk.token}).status_code == 403
    operator = logged_in(clinic, "admin")
    assert operator.post(path, data={"ceiling": "99999"}).status_code == 400
    token = csrf(operator, "/admin/clinics")
    assert operator.post("/admin/clinics/NOPE/ceiling", data={"ceiling": "5", "csrf_token": token}).status_code == 404
    with clinic.app_context():
        assert db.session.scalar(select(Clinic.daily_look_up_ceiling).where(Clinic.code == "GP-001")) == 2000


def scan(page: Page, code: str, javascript: bool) -> None:
    """Type a code and press «Проверить»; return once its answer shows (swapped in by htmx, or a new page)."""
    if javascript:
        page.evaluate("document.getElementById('verdict').replaceChildren()")
    page.fill("#code", code)
    with page.expect_response(lambda response: response.url.endswith("/clinic/verify")):
        page.click("#scan-form button.primary")
    page.wait_for_load_state()
    page.wait_for_selector("#verdict section", timeout=5000)


def at_the_desk_in_chromium(base: str, signed: str) -> dict[str, object]:
    """A receptionist's phone (390×844) with JavaScript, then without it, and the operator's: what each shows.

    In a thread of its own: Playwright's sync API refuses to start where tests/browser's session already runs it.
    """

    def run() -> dict[str, object]:
        from playwright.sync_api import sync_playwright

        seen: dict[str, object] = {}
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for javascript in (True, False):
                    context = chromium.new_context(viewport=PHONE, locale="ru-RU", java_script_enabled=javascript)
                    page = context.new_page()
                    log_in(page, base, "clinic-2" if javascript else "clinic", PASSWORD)
                    page.wait_for_url(f"{base}/clinic/")
                    for number in UNREGISTERED[:5] if javascript else UNREGISTERED[5:10]:
                        scan(page, number, javascript)
                    name = "with" if javascript else "without"
                    seen[f"refusal {name} javascript"] = page.inner_text("#verdict")
                    seen[f"refusal {name} javascript fits"] = page.evaluate("document.documentElement.scrollWidth")
                    shot(page, f"clinic-refused-{name}-javascript")
                    if javascript:
                        scan(page, signed, javascript)
                        seen["signed code after the refusal"] = page.get_attribute("#verdict section", "data-verdict")
                    context.close()
                context = chromium.new_context(viewport=PHONE, locale="ru-RU")
                page = context.new_page()
                log_in(page, base, "admin", PASSWORD)
                page.goto(f"{base}/admin/clinics")
                seen["clinics page fits"] = page.evaluate("document.documentElement.scrollWidth")
                controls = ("input[name=ceiling]", ".admin-ceiling button")
                seen["ceiling controls"] = [page.locator(selector).bounding_box() for selector in controls]
                shot(page, "admin-clinics-ceiling")
                page.fill("input[name=ceiling]", "2500")
                page.click(".admin-ceiling button")
                page.wait_for_selector(".flash")
                seen["after raising"] = page.inner_text("main")
                shot(page, "admin-clinics-ceiling-raised")
                context.close()
            finally:
                chromium.close()
        return seen

    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(run).result()


def test_a_receptionist_and_the_operator_read_it_on_a_phone(clinic: Flask) -> None:
    """htmx swaps no 4xx by default: in Chromium the refusal must still appear where the verdict does."""
    clinic.config["SESSION_COOKIE_SECURE"] = clinic.config["REMEMBER_COOKIE_SECURE"] = False  # plain HTTP here
    clinic.config["CLINIC_NUMBER_LOOK_UPS_PER_CLINIC"] = "100 per minute"
    with serving(clinic, threaded=False) as base:
        seen = at_the_desk_in_chromium(base, code_text(clinic, str(MOTHER.enp)))
    for javascript in ("with", "without"):
        assert "Проверка не выполнена" in seen[f"refusal {javascript} javascript"]
        assert "слишком много проверок по номеру" in seen[f"refusal {javascript} javascript"]
        assert seen[f"refusal {javascript} javascript fits"] <= PHONE["width"]
    assert seen["signed code after the refusal"] == "valid"
    assert seen["clinics page fits"] <= PHONE["width"]
    assert all(box["height"] >= 44 and box["width"] >= 44 for box in seen["ceiling controls"])
    assert "Дневной лимит для GP-001: 2500 проверок по номеру" in seen["after raising"]
    assert "8 из 2500" in seen["after raising"]


def test_a_limit_setting_that_is_no_limit_stops_the_start(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CLINIC_NUMBER_LOOK_UPS_PER_CLINIC", "много")
    with pytest.raises(ValueError, match="CLINIC_NUMBER_LOOK_UPS_PER_CLINIC: лимит вида"):
        config.from_environment(str(tmp_path))
    monkeypatch.setenv("CLINIC_NUMBER_LOOK_UPS_PER_CLINIC", "100 per hour")
    assert config.from_environment(str(tmp_path))["CLINIC_NUMBER_LOOK_UPS_PER_CLINIC"] == "100 per hour"


def test_desks_reaching_the_ceiling_at_once_note_it_once(clinic: Flask) -> None:
    """Eight desks ask at the same moment, each having counted the day full: one of them notes it."""
    clinic.config.update(CLINIC_NUMBER_LOOK_UPS_PER_CLINIC="100 per minute")
    set_ceiling(clinic, 2)
    with clinic.app_context():
        for index in range(8):
            accounts.create_user(f"desk-{index}", PASSWORD, Role.CLINIC, "test", clinic_code="GP-001")
    desks = [Desk(clinic, f"desk-{index}") for index in range(8)]
    assert statuses(desks[0], UNREGISTERED[:2]) == [200, 200]
    start = threading.Barrier(len(desks))

    def ask(desk: Desk) -> int:
        start.wait()
        return desk.scan(REGISTERED[0]).status_code

    with ThreadPoolExecutor(max_workers=len(desks)) as pool:
        assert list(pool.map(ask, desks)) == [429] * len(desks)
    assert [limit for _clinic, limit, _actor in limit_entries(clinic)] == ["clinic_daily_ceiling"]


def test_a_ceiling_raised_as_a_desk_reaches_it_is_not_undone_by_that_desk(
    clinic: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The operator raises a clinic's ceiling at the moment a desk's look-up counts the day full under the old one.
    That request marked the day reached after the raise had cleared the mark, on the ceiling it had read before: the
    clinic was refused until midnight under a ceiling it had not reached, and the operator's raise undone (an attack
    of 2026-12-06). The mark is now made only if the count still reaches the ceiling as the database holds it."""
    clinic.config.update(
        CLINIC_NUMBER_LOOK_UPS_PER_USER="100 per minute", CLINIC_NUMBER_LOOK_UPS_PER_CLINIC="100 per minute"
    )
    set_ceiling(clinic, 2)
    desk = Desk(clinic, "clinic")
    assert statuses(desk, UNREGISTERED[:2]) == [200, 200], "the day counted full, not yet marked"
    counted = clinic_checks.number_look_ups
    raised = []

    def counted_as_the_operator_raises(clinic_id: int, day: date) -> int:
        seen = counted(clinic_id, day)
        if not raised:  # the raise commits between the request's count and its mark, from another connection

            def raise_it() -> None:
                with clinic.app_context():
                    raised.append(clinic_checks.set_daily_ceiling("GP-001", "5", "admin:admin"))

            operator = threading.Thread(target=raise_it)
            operator.start()
            operator.join()
        return seen

    monkeypatch.setattr(clinic_checks, "number_look_ups", counted_as_the_operator_raises)
    assert statuses(desk, UNREGISTERED[2:6]) == [200, 200, 200, 429], "the raised ceiling: five in all"
    assert raised
    assert [limit for _clinic, limit, _actor in limit_entries(clinic)] == ["clinic_daily_ceiling"]
    with clinic.app_context():
        reached = db.session.scalar(select(Clinic.ceiling_reached_on).where(Clinic.code == "GP-001"))
    assert reached is not None, "reached under the raised ceiling, and marked"


@pytest.mark.usefixtures("redis_url")  # skips, saying so, when Redis does not answer
def test_two_workers_share_the_counts_through_redis(
    world: Flask, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two app instances on one Redis stand for two gunicorn workers: one count, one audit entry."""
    minute = time.time() // 60 * 60 + 1  # this real minute: the keys expire with it
    monkeypatch.setattr("webapp.registry.clinic_checks.time", SimpleNamespace(time=lambda: minute))
    prefix = uuid.uuid4().hex
    storage = {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": prefix}}
    workers = [make_app(database_url, WTF_CSRF_ENABLED=True, **storage, **LIMITS) for _ in range(2)]
    desks = [Desk(worker, "clinic") for worker in workers]
    answers = [desks[index % 2].scan(number).status_code for index, number in enumerate(UNREGISTERED[:6])]
    assert answers == [200] * 4 + [429] * 2, "four in all, whichever worker took them"
    assert limit_entries(world) == [("GP-001", "user_number_look_ups", "clinic:clinic")]
    assert redis.Redis.from_url(REDIS_URL).keys(f"{prefix}:*"), "the counts are Redis's, not a worker's"


def test_a_token_enumerating_numbers_is_refused_after_its_limit(clinic: Flask, clock: list[float]) -> None:
    system = System(clinic)
    answers = [system.scan(number) for number in [REGISTERED[0], *UNREGISTERED[:4]]]
    assert [answer.status_code for answer in answers] == [200] * 5
    assert answers[0].get_json()["holder"]["name"] == NAMES[0], "below the limits a look-up answers as before"

    refusals = [system.scan(code) for code in (REGISTERED[1], UNREGISTERED[4], legacy_paper(REGISTERED[2]))]
    for refused in refusals:
        assert refused.status_code == 429
        assert refused.get_json() == {
            "error": 429,
            "message": "С этого токена слишком много проверок по номеру подряд: повторите через 60 с. "
            "QR-коды полисов проверяются как обычно",
        }
        assert refused.headers["Retry-After"] == "60"
        body = refused.get_data(as_text=True)
        assert not any(name.split()[0] in body for name in NAMES)
        assert "1990" not in body
        assert REGISTERED[1][-4:] not in body
    english = system.scan(REGISTERED[1], language="en").get_json()["message"]
    assert english.startswith("Too many number look-ups with this token")
    assert checks(clinic) == 5, "the look-ups are the clinic's checks; the refused ones are not"

    clock[0] += 60
    assert system.scan(REGISTERED[1]).get_json()["holder"]["name"] == NAMES[1], "the next minute, the next five"


def test_a_ceiling_of_0_says_look_ups_are_turned_off_not_used_up(clinic: Flask) -> None:
    """0 lets no look-up by number through: the desk and the system read that the operator turned them off, not
    that the clinic used up a day of 0; nothing is counted or noted, and signed codes go through."""
    set_ceiling(clinic, 0)
    desk, system = Desk(clinic, "clinic"), System(clinic)
    refused = desk.scan(REGISTERED[0])
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert "Проверка по номеру для этой клиники выключена оператором реестра" in page
    assert "исчерпала" not in page
    answer = system.scan(REGISTERED[0])
    assert answer.status_code == 429
    assert answer.get_json()["message"].startswith("Проверка по номеру для этой клиники выключена")
    assert limit_entries(clinic) == [], "nothing was reached"
    assert desk.scan(code_text(clinic, str(MOTHER.enp))).status_code == 200


def test_the_clinic_counts_its_desks_and_its_systems_together(clinic: Flask, clock: list[float]) -> None:
    """One count per clinic whichever door: its minute limit (six here) and its daily ceiling (nine)."""
    set_ceiling(clinic, 9)
    desk, colleague, system, second_system = (
        Desk(clinic, "clinic"),
        Desk(clinic, "clinic-2"),
        System(clinic),
        System(clinic, "МИС регистратуры"),
    )
    assert statuses(desk, UNREGISTERED[:4]) == [200] * 4
    assert statuses(system, UNREGISTERED[4:6]) == [200] * 2
    refused = second_system.scan(REGISTERED[0])
    assert refused.status_code == 429
    assert refused.get_json()["message"].startswith("Из клиники слишком много проверок по номеру подряд")
    assert colleague.scan(REGISTERED[0]).status_code == 429, "the desks are refused by the systems' look-ups too"

    clock[0] += 60
    assert statuses(system, UNREGISTERED[6:8]) == [200] * 2
    assert statuses(colleague, UNREGISTERED[8:9]) == [200]
    refused = second_system.scan(REGISTERED[1])
    assert refused.status_code == 429
    assert refused.get_json()["message"].startswith(
        "Клиника исчерпала дневной лимит проверок по номеру (9): он обновится в полночь по Москве"
    )
    assert 0 < int(refused.headers["Retry-After"]) <= 24 * 3600
    assert "дневной лимит" in colleague.scan(REGISTERED[1]).get_data(as_text=True)
    assert statuses(system, UNREGISTERED[9:12]) == [429] * 3

    page = logged_in(clinic, "admin").get("/admin/clinics").get_data(as_text=True)
    assert "9 из 9" in page, "the operator sees both doors' look-ups in the clinic's count"
    assert sorted(limit_entries(clinic)) == [
        ("GP-001", "clinic_daily_ceiling", second_system.actor),
        ("GP-001", "clinic_number_look_ups", second_system.actor),
    ]


def test_a_systems_signed_codes_are_not_stopped_by_the_number_limits(clinic: Flask, clock: list[float]) -> None:
    set_ceiling(clinic, 3)
    system = System(clinic)
    assert statuses(system, UNREGISTERED[:4]) == [200] * 3 + [429]
    codes = [code_text(clinic, number) for number in REGISTERED]
    verdicts = []
    for index in range(60):
        answer = system.scan(codes[index % 3])
        verdicts.append((answer.status_code, answer.get_json()["verdict"]))
        clock[0] += 20
    assert verdicts == [(200, "valid")] * 60
    assert system.scan(UNREGISTERED[5]).status_code == 429, "numbers stay refused until midnight"
    assert checks(clinic) == 3, "a signed code through the API is no number look-up"


def test_a_token_reaching_its_limit_is_noted_once_a_window(clinic: Flask, clock: list[float]) -> None:
    system = System(clinic)
    for _minute in range(2):
        assert statuses(system, UNREGISTERED[:25]) == [200] * 5 + [429] * 20
        clock[0] += 60
    assert limit_entries(clinic) == [("GP-001", "token_number_look_ups", system.actor)] * 2
    with clinic.app_context():
        details = db.session.scalars(select(AuditEntry.details).where(AuditEntry.action == LIMIT_ACTION)).all()
    assert len({entry["window"] for entry in details}) == 2
    assert all(number not in str(details) for number in (*REGISTERED, *UNREGISTERED)), "no number in the log"
    assert system.token not in str(details)
