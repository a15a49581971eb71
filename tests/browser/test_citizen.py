"""The holder's phone: the code shows, refreshes while online, and falls back to the static code offline."""

from __future__ import annotations

import re

from policy_codes import Verdict
from tests.helpers.browser import Server, log_in, shot
from tests.helpers.scanning import read_qr
from webapp.registry.verification import verify_scan


def test_citizen_sees_a_live_code_that_falls_back_offline(live_server: Server, phone: object) -> None:
    page = phone
    log_in(page, live_server.url, "ivanova", "citizen-demo-2026")
    page.wait_for_selector("#live[data-showing=live] svg")
    assert "Иванова Мария Петровна" in page.inner_text("h1")
    shot(page, "citizen-live-code")
    live = read_qr(page.locator("#live").screenshot())
    assert live.startswith("OMS1:")

    page.context.set_offline(True)
    page.wait_for_selector("#live[data-showing=static] img")
    static = read_qr(page.locator("#live img").screenshot())
    shot(page, "citizen-offline-static-code")
    assert static != live
    with live_server.app.app_context():
        assert verify_scan(live).shown == "live_code"
        assert verify_scan(live).verdict is Verdict.VALID
        assert verify_scan(static).shown == "static_code"
        assert verify_scan(static).verdict is Verdict.VALID


def test_show_at_reception_fills_the_screen_with_a_readable_code(live_server: Server, phone: object) -> None:
    page = phone
    log_in(page, live_server.url, "petrov", "citizen-demo-2026")
    page.click("text=Показать в регистратуре")
    page.wait_for_selector("img.reception-qr")
    page.locator("img.reception-qr").evaluate("image => image.decode()")  # loaded; wait_for_function would need eval
    box = page.locator("img.reception-qr").bounding_box()
    assert box is not None
    assert box["width"] >= 340, "the code takes the width of a 390 px phone"
    shot(page, "citizen-show-at-reception")
    text = read_qr(page.locator("img.reception-qr").screenshot())
    with live_server.app.app_context():
        result = verify_scan(text)
    assert result.verdict is Verdict.VALID
    assert result.holder is not None
    assert result.holder.name == "Петров Алексей Николаевич"


# ---- a mother's screens (issue 18, item 6 and the smaller items) ----


def test_a_newborns_card_shows_the_mothers_own_code_to_show(live_server: Server, phone: object) -> None:
    page = phone
    log_in(page, live_server.url, "ivanova", "citizen-demo-2026")
    page.click("nav.people >> text=София")
    page.wait_for_selector("section.cover img")
    text = page.inner_text("main")
    assert "Действующего кода нет" not in text, "no red 'no code' under the representative's policy"
    assert "покажите свой код" in text
    assert "7700 0000 0000 0016" in page.inner_text("section.cover"), "the mother's number, in fours"
    page.locator("section.cover img").evaluate("image => image.decode()")
    shot(page, "citizen-newborn-card")
    with live_server.app.app_context():
        shown = verify_scan(read_qr(page.locator("section.cover img").screenshot()))
    assert shown.verdict is Verdict.VALID
    assert shown.holder is not None
    assert shown.holder.name == "Иванова Мария Петровна"
    page.click("section.cover >> text=Показать в регистратуре")
    page.wait_for_selector("img.reception-qr")
    assert "Иванова Мария Петровна" in page.inner_text("main")


def test_show_at_reception_has_the_code_status_and_dates_and_nothing_else(live_server: Server, phone: object) -> None:
    page = phone
    log_in(page, live_server.url, "petrov", "citizen-demo-2026")
    page.click("text=Показать в регистратуре")
    page.wait_for_selector("img.reception-qr")
    page.locator("img.reception-qr").evaluate("image => image.decode()")
    assert page.locator("text=Выйти").count() == 0, "no «Выйти» beside the code"
    assert page.locator("header").count() == 0
    assert page.is_visible(".reception .badge-active [data-icon=check]")
    text = page.inner_text("main")
    assert "7700 0000 0000 0040" in text
    assert re.search(r"Срок действия: с \d\d\.\d\d\.\d{4}\s+бессрочно", text)
    fits = page.evaluate("document.documentElement.scrollHeight <= window.innerHeight")
    assert fits, "the whole view on one 390×844 screen, without scrolling"
    shot(page, "citizen-show-full-screen")
    page.click("text=Закрыть")
    page.wait_for_selector("#live")
