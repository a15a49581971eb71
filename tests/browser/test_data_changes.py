"""A person's data change on a 390×844 phone (issue 20): the insurer's form → old → new → a new code, and a
citizen's request → the insurer accepts it (the citizen's card shows the new name and a code that reads so) or
declines it (the card shows why).

These tests change people's names, so they have a demo registry of their own: the other browser tests read the
shared one. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from policy_codes import Verdict
from tests.browser.demo_codes import LONG_NAME, PETROV, code_text
from tests.browser.page_checks import SPILLED, inspect
from tests.browser.test_citizen import read_qr
from tests.browser.test_insurer import fits_the_screen, small_controls
from tests.helpers.browser import PHONE, Server, demo_app, log_in, serving, shot
from webapp.models import CodeStatus
from webapp.registry.verification import verify_scan

STAFF = ("smo-77001", "smo-demo-2026")
CITIZEN_PASSWORD = "citizen-demo-2026"
#: The controls of a form a thumb must hit.
CONTROLS = "main form input:not([type=hidden]):not([type=radio]), main form select, main form button, main a.button"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    app = demo_app(tmp_path_factory.mktemp("data-changes"))
    with serving(app) as url:
        yield Server(url, app)


@pytest.fixture
def open_phone(browser: object) -> Iterator[object]:
    """Phones for the people of one story (a citizen, a clerk), each with its own login."""
    contexts = []

    def open_one() -> object:
        context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="ru-RU")  # type: ignore[attr-defined]
        contexts.append(context)
        return context.new_page()

    yield open_one
    for context in contexts:
        context.close()


def fill_document(page: object, kind: str, number: str, issuer: str) -> None:
    page.select_option("select[name=document_kind]", kind)  # type: ignore[attr-defined]
    page.fill("input[name=document_number]", number)  # type: ignore[attr-defined]
    page.fill("input[name=document_issued_on]", "2026-11-20")  # type: ignore[attr-defined]
    page.fill("input[name=document_issuer]", issuer)  # type: ignore[attr-defined]


def looks_right(page: object, name: str) -> Path:
    """The page fits the phone, every control takes a thumb, and it is photographed."""
    assert fits_the_screen(page), f"{name}: the page scrolls sideways"
    assert small_controls(page, CONTROLS) == [], f"{name}: controls smaller than a thumb"
    assert inspect(page, "ru").get(SPILLED) is None, f"{name}: text runs under its neighbour"
    return shot(page, name)


def test_the_insurer_changes_a_surname_after_seeing_old_and_new(server: Server, open_phone: object) -> None:
    page = open_phone()  # type: ignore[operator]
    old_code = code_text(server.app, LONG_NAME)
    log_in(page, server.url, *STAFF)
    page.goto(f"{server.url}/insurer/person/{LONG_NAME}")
    page.click("text=Изменить данные")
    assert page.inner_text("h1") == "Изменить данные"
    assert page.input_value("input[name=surname]") == "Константинопольская", "the form opens with today's data"
    looks_right(page, "data-change-form")

    page.fill("input[name=surname]", "Orlova")
    page.select_option("select[name=reason]", "marriage")
    fill_document(page, "marriage_certificate", "654321", "Отдел ЗАГС Тверского района")
    page.click("main form button.primary")
    page.wait_for_selector("#surname-error")
    assert "русские буквы" in page.inner_text("#surname-error")
    looks_right(page, "data-change-latin-surname-refused")

    page.fill("input[name=surname]", "Орлова")
    page.click("main form button.primary")
    assert page.inner_text("h1") == "Подтвердите изменение данных"
    rows = page.locator("ul.data-changes li").all_inner_texts()
    assert len(rows) == 1, "only what changes"
    assert "Константинопольская" in rows[0]
    assert "Орлова" in rows[0]
    assert "Было" in rows[0], "old and new said in words, not by colour"
    assert "Станет" in rows[0], "old and new said in words, not by colour"
    grounds = page.inner_text("dl.grounds")
    assert "Вступление в брак" in grounds
    assert "654321" in grounds
    looks_right(page, "data-change-confirm")

    page.click("main form button[name=back]")
    assert page.input_value("input[name=surname]") == "Орлова", "«Назад» keeps what was typed"
    page.click("main form button.primary")
    page.click("main form button.primary")  # «Подтвердить»
    page.wait_for_selector(".flash.ok")
    assert "выпущен новый код" in page.inner_text(".flash.ok")
    assert page.inner_text("h1") == "Орлова Александра Владимировна"
    looks_right(page, "data-change-done")

    with server.app.app_context():
        assert verify_scan(old_code).verdict is Verdict.SUPERSEDED
        result = verify_scan(code_text(server.app, LONG_NAME))
        assert result.verdict is Verdict.VALID
        assert result.holder is not None
        assert result.holder.name == "Орлова Александра Владимировна"
    assert code_text(server.app, LONG_NAME, CodeStatus.SUPERSEDED) == old_code


#: The card's own button: the new-code request's folded form links to the same report, out of sight.
REPORT_BUTTON = "#data-change a.button:has-text('Сообщить об изменении данных')"


def send_request(page: object, url: str, login: str, surname: str) -> None:
    """The citizen's «Сообщить об изменении данных», with a new surname on a court decision."""
    log_in(page, url, login, CITIZEN_PASSWORD)
    # The policy page moves as its live code loads and the offline copy is fetched: a click meanwhile can miss.
    page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]
    page.click(REPORT_BUTTON)  # type: ignore[attr-defined]
    page.fill("input[name=surname]", surname)  # type: ignore[attr-defined]
    page.select_option("select[name=reason]", "court")  # type: ignore[attr-defined]
    fill_document(page, "court_decision", "2-1234/2026", "Тверской районный суд г. Москвы")
    page.click("main form button.primary")  # type: ignore[attr-defined]
    page.wait_for_selector(".flash.ok")  # type: ignore[attr-defined]


def test_a_citizens_request_accepted_shows_the_new_name_and_code(server: Server, open_phone: object) -> None:
    citizen = open_phone()  # type: ignore[operator]
    send_request(citizen, server.url, "ivanova", "Петрова")
    status = citizen.inner_text("#data-change")
    assert "Заявка на изменение данных отправлена" in status
    assert citizen.locator("text=Сообщить об изменении данных").count() == 0, "one open request at a time"
    looks_right(citizen, "data-change-request-sent")

    clerk = open_phone()  # type: ignore[operator]
    log_in(clerk, server.url, *STAFF)
    clerk.goto(f"{server.url}/insurer/requests")
    card = clerk.locator("article.request-card", has_text="Иванова Мария Петровна").first
    assert "было «Иванова», станет «Петрова»" in card.inner_text()
    assert "Решение суда" in card.inner_text()
    looks_right(clerk, "data-change-requests")
    card.locator("text=Принять…").click()
    assert clerk.inner_text("h1") == "Подтвердите изменение данных"
    assert "Петрова" in clerk.inner_text("ul.data-changes")
    looks_right(clerk, "data-change-request-accept")
    clerk.click("main form button.primary")  # «Принять заявку и изменить данные»
    clerk.wait_for_selector(".flash.ok")

    citizen.goto(f"{server.url}/me/")
    citizen.wait_for_selector("#live svg")
    assert "Петрова Мария Петровна" in citizen.inner_text("h1")
    assert "выполнена" in citizen.inner_text("#data-change")
    shown = read_qr(citizen.locator("#live").screenshot())
    with server.app.app_context():
        result = verify_scan(shown)
    assert result.verdict is Verdict.VALID
    assert result.holder is not None
    assert result.holder.name == "Петрова Мария Петровна"
    looks_right(citizen, "data-change-request-done")


def test_a_declined_request_shows_the_citizen_why(server: Server, open_phone: object) -> None:
    citizen = open_phone()  # type: ignore[operator]
    send_request(citizen, server.url, "petrov", "Петровский")

    clerk = open_phone()  # type: ignore[operator]
    log_in(clerk, server.url, *STAFF)
    clerk.goto(f"{server.url}/insurer/requests")
    clerk.locator("article.request-card", has_text="Петров Алексей Николаевич").locator("text=Отклонить…").click()
    assert clerk.inner_text("h1") == "Отклонить заявку на изменение данных?"
    looks_right(clerk, "data-change-request-decline")
    clerk.fill("textarea[name=decline_reason]", "Нужна копия решения суда с отметкой о вступлении в силу")
    clerk.click("main form button.primary")  # «Отклонить заявку»
    clerk.wait_for_selector(".flash.ok")

    citizen.goto(f"{server.url}/me/")
    status = citizen.inner_text("#data-change")
    assert "отклонена" in status
    assert "Нужна копия решения суда с отметкой о вступлении в силу" in status
    assert "Петров Алексей Николаевич" in citizen.inner_text("h1"), "nothing changed"
    assert citizen.locator(REPORT_BUTTON).count() == 1, "a new request can be sent"
    looks_right(citizen, "data-change-request-declined")


def test_the_forms_own_error_stands_clear_of_the_hint_above_it(server: Server, open_phone: object) -> None:
    """«Данные не изменились» is the form's own error, at its top: under the page's hint, not over its last line."""
    page = open_phone()  # type: ignore[operator]
    log_in(page, server.url, *STAFF)
    page.goto(f"{server.url}/insurer/person/{PETROV}/data")  # type: ignore[attr-defined]
    page.select_option("select[name=reason]", "marriage")  # type: ignore[attr-defined]
    fill_document(page, "marriage_certificate", "654321", "Отдел ЗАГС Тверского района")
    page.click("main form button.primary")  # type: ignore[attr-defined]
    page.wait_for_selector("#form-error")  # type: ignore[attr-defined]
    hint = page.locator("main > .form-hint").bounding_box()  # type: ignore[attr-defined]
    error = page.locator("#form-error").bounding_box()  # type: ignore[attr-defined]
    assert error["y"] >= hint["y"] + hint["height"], f"the error {error} covers the hint {hint}"
    looks_right(page, "data-change-nothing-changed")
