"""The insurer's screens on a 390×844 phone with JavaScript off, as a clerk uses them (issue 18): a search that
says what it needs, a person's page offering only what the policy's state allows, and a suspension asked
on a page of its own, with the reason chosen from a list.

The demo registry is shared by the browser tests: the soldier, suspended in the demo, is resumed and
suspended again, so he ends as he began. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import re

from policy_codes import Enp
from tests.browser.test_without_javascript import no_js  # noqa: F401 -- the fixture
from tests.helpers.browser import PHONE, Server, log_in, shot

SOLDIER = str(Enp.with_check_digit("770000000000007"))
#: A control a thumb can hit: WCAG 2.5.5's 44×44 CSS px.
TARGET = 44


def fits_the_screen(page: object) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # type: ignore[attr-defined]


def small_controls(page: object, selector: str) -> list[str]:
    """The controls under `selector` smaller than a thumb."""
    return page.eval_on_selector_all(  # type: ignore[attr-defined,no-any-return]
        selector,
        f"""elements => elements
            .filter(element => {{ const box = element.getBoundingClientRect();
                                  return box.width < {TARGET} || box.height < {TARGET}; }})
            .map(element => element.outerHTML.slice(0, 80))""",
    )


def offered(page: object) -> list[str]:
    return page.locator(".person-actions a").all_inner_texts()  # type: ignore[attr-defined,no-any-return]


def test_search_says_what_it_needs_and_fails_with_one_message(live_server: Server, no_js: object) -> None:  # noqa: F811
    page = no_js
    log_in(page, live_server.url, "smo-77001", "smo-demo-2026")
    assert "вместе с датой рождения" in page.inner_text("form[role=search]")
    page.fill("input[name=q]", "Кузнецов")
    page.click("form[role=search] button.primary")
    page.wait_for_selector(".field-error")
    shot(page, "insurer-search-surname-alone")
    assert "Никого не нашли" not in page.inner_text("main")
    assert fits_the_screen(page)
    page.fill("input[name=birth_date]", "2004-02-14")
    page.click("form[role=search] button.primary")
    page.click(f"a[href$='/insurer/person/{SOLDIER}']")
    assert "Кузнецов Дмитрий Андреевич" in page.inner_text("h1")


def test_resume_then_suspend_confirmed_on_a_phone_without_javascript(live_server: Server, no_js: object) -> None:  # noqa: F811
    page = no_js
    log_in(page, live_server.url, "smo-77001", "smo-demo-2026")
    page.goto(f"{live_server.url}/insurer/person/{SOLDIER}")
    assert offered(page) == ["Возобновить полис…", "Прекратить полис…"], "suspended: resume, or terminate"
    assert fits_the_screen(page)
    shot(page, "insurer-person-suspended")

    page.click("text=Возобновить полис")
    assert page.inner_text("h1") == "Возобновить полис?"
    page.select_option("select[name=reason]", "service_ended")
    page.click("form button.primary")
    page.wait_for_selector(".flash.ok")
    assert offered(page) == ["Перевыпустить код…", "Отозвать код…", "Приостановить полис…", "Прекратить полис…"]
    assert small_controls(page, ".person-actions a") == []

    page.click("text=Приостановить полис…")
    page.wait_for_selector("section.consequences")
    confirmation = page.inner_text("main")
    assert "Кузнецов Дмитрий Андреевич" in confirmation
    assert "перестанет приниматься" in confirmation
    assert fits_the_screen(page)
    assert small_controls(page, "main form select, main form textarea, main form button, main form a.button") == []
    shot(page, "insurer-suspend-confirm")

    page.select_option("select[name=reason]", "other")
    page.click("button.danger")  # «Другое» with no words: said beside the field, nothing done
    page.wait_for_selector("#details-error")
    assert "Опишите причину своими словами" in page.inner_text("#details-error")
    shot(page, "insurer-suspend-reason-missing")

    page.select_option("select[name=reason]", "conscripted")
    page.click("button.danger")
    page.wait_for_selector(".flash.ok")
    assert offered(page) == ["Возобновить полис…", "Прекратить полис…"], "suspended again, as the demo had him"
    journal = page.inner_text("main")
    assert "полис приостановлен" in journal
    assert "сотрудник СМО smo-77001" in journal
    assert "Призыв на военную службу" in journal
    assert re.search(r"\d\d\.\d\d\.\d{4} \d\d:\d\d МСК", journal)
    shot(page, "insurer-person-suspended-again")
