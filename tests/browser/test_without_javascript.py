"""With JavaScript off, every page but the camera still works: forms post normally, codes show as images."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from policy_codes import Enp, Verdict
from tests.browser.test_citizen import read_qr
from tests.helpers.browser import PHONE, Server, log_in, shot
from webapp.registry.verification import verify_scan

SON = str(Enp.with_check_digit("770000000000002"))
PETROV = str(Enp.with_check_digit("770000000000004"))
WORKER = str(Enp.with_check_digit("770000000000005"))


@pytest.fixture
def no_js(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport=PHONE, locale="ru-RU", java_script_enabled=False)  # type: ignore[attr-defined]
    page = context.new_page()
    yield page
    context.close()


def test_citizen_card_dependants_and_reissue_request_without_javascript(live_server: Server, no_js: object) -> None:
    page = no_js
    log_in(page, live_server.url, "ivanova", "citizen-demo-2026")
    page.wait_for_selector("#live img")
    with live_server.app.app_context():
        assert verify_scan(read_qr(page.locator("#live img").screenshot())).verdict is Verdict.VALID
    page.click("nav.people a:has-text('Артём')")
    assert "Иванов Артём Сергеевич" in page.inner_text("h1")
    page.click("summary")
    page.select_option("select[name=reason]", "lost_phone")
    page.click("#reissue button.primary")
    page.wait_for_selector(".request-open")
    shot(page, "nojs-citizen-reissue-request")
    page.click("button[name=language][value=en]")
    assert page.locator("html").get_attribute("lang") == "en"
    page.click("button[name=language][value=ru]")


def test_clinic_verdict_as_a_full_page_without_javascript(live_server: Server, no_js: object) -> None:
    page = no_js
    log_in(page, live_server.url, "clinic", "clinic-demo-2026")
    assert page.locator("#camera-toggle").is_hidden(), "no camera without JavaScript"
    page.fill("input[name=code]", PETROV)
    page.keyboard.press("Enter")
    page.wait_for_selector(".verdict")
    shot(page, "nojs-clinic-verdict")
    assert "Петров Алексей Николаевич" in page.inner_text(".verdict")
    assert "Подписи у номера нет" in page.inner_text(".verdict"), "a typed number never claims a signature"


def test_insurer_search_act_and_register_without_javascript(live_server: Server, no_js: object) -> None:
    page = no_js
    log_in(page, live_server.url, "smo-77001", "smo-demo-2026")
    page.fill("input[name=q]", WORKER)
    page.click("button.primary")
    page.click(f"a[href$='/insurer/person/{WORKER}']")
    page.click(f"a[href$='/person/{WORKER}/reissue']")
    page.select_option("select[name=reason]", "other")
    page.fill("textarea[name=details]", "проверка без JavaScript")
    page.click("form[action$='/reissue'] button.primary")
    page.wait_for_selector(".flash.ok")
    page.goto(live_server.url + "/insurer/new")
    page.fill("input[name=enp]", str(Enp.with_check_digit("770000000000050")))
    page.fill("input[name=surname]", "Орлова")
    page.fill("input[name=given_name]", "Вера")
    page.fill("input[name=birth_date]", "1999-09-09")
    page.check("input[name=sex][value=F]")
    page.click("button.primary")
    page.wait_for_selector(".flash.ok")
    shot(page, "nojs-insurer-registered")
    assert "Орлова Вера" in page.inner_text("h1")


def test_admin_form_posts_without_javascript(live_server: Server, no_js: object) -> None:
    page = no_js
    log_in(page, live_server.url, "admin", "admin-demo-2026")
    page.goto(live_server.url + "/admin/clinics")
    page.fill("input[name=code]", "GP-NOJS")
    page.fill("input[name=name]", "Поликлиника без скриптов")
    page.click("form button.primary")
    page.wait_for_selector(".flash.ok")
    assert "GP-NOJS" in page.inner_text("main")
