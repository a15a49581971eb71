"""The operator's pages on a phone: each opens, reads without sideways scrolling, and is photographed.

Nothing here changes the shared demo registry (no key is compromised, nothing is created).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.browser import PHONE, Server, demo_app, log_in, serving, shot
from webapp.registry import organisations

PAGES = [
    ("/admin/", "Оператор реестра"),
    ("/admin/insurers", "Страховые медицинские организации"),
    ("/admin/clinics", "Клиники"),
    ("/admin/users", "Пользователи"),
    ("/admin/users/new", "Новый сотрудник"),
    ("/admin/tokens", "API-токены клиник"),
    ("/admin/keys", "Ключи подписи"),
]


@pytest.fixture(scope="module")
def admin_page(live_server: Server, browser: object) -> Iterator[object]:
    """One login for the module: logins are rate-limited per address."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="ru-RU")  # type: ignore[attr-defined]
    page = context.new_page()
    log_in(page, live_server.url, "admin", "admin-demo-2026")
    page.wait_for_url(f"{live_server.url}/admin/")
    yield page
    context.close()


def fits_the_screen(page: object) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(("path", "heading"), PAGES)
def test_each_admin_page_reads_on_a_phone(live_server: Server, admin_page: object, path: str, heading: str) -> None:
    page = admin_page
    page.goto(f"{live_server.url}{path}")  # type: ignore[attr-defined]
    assert page.inner_text("h1") == heading  # type: ignore[attr-defined]
    assert fits_the_screen(page), f"{path} scrolls sideways at {PHONE['width']} px"
    shot(page, "admin" + path.rstrip("/").replace("/admin", "").replace("/", "-"))


def test_key_page_and_its_compromise_warning(live_server: Server, admin_page: object) -> None:
    page = admin_page
    page.goto(f"{live_server.url}/admin/keys")  # type: ignore[attr-defined]
    page.click(".admin-table td a.number >> nth=0")  # type: ignore[attr-defined]
    page.wait_for_selector("article.card h1")  # type: ignore[attr-defined]
    assert fits_the_screen(page)
    shot(page, "admin-key")
    page.click("text=Пометить скомпрометированным…")  # type: ignore[attr-defined]
    page.wait_for_selector("text=Это нельзя отменить")  # type: ignore[attr-defined]
    assert fits_the_screen(page)
    shot(page, "admin-key-compromise-confirm")  # and leave without confirming: the demo keys stay trusted


#: Each key card's phrases «с 06.12.2026» and «по 05.12.2029» (a date and the word before it in one text run),
#: with the lines each is laid out on, and the card's text.
_VALIDITY = r"""() => [...document.querySelectorAll(".admin-table tbody tr")].map((row) => {
  const phrases = [];
  const walker = document.createTreeWalker(row, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const match of node.textContent.matchAll(/(?:с|по) \d{2}\.\d{2}\.\d{4}/g)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      phrases.push([match[0], new Set([...range.getClientRects()].map((box) => Math.round(box.top))).size]);
    }
  }
  return {phrases, text: row.innerText};
})"""


def test_a_keys_validity_reads_from_and_to_on_one_row_of_its_card(live_server: Server, admin_page: object) -> None:
    """«Срок: с 06.12.2026 по 05.12.2029»: not «по» on a row of its own, nor a date parted from its word."""
    page = admin_page
    page.goto(f"{live_server.url}/admin/keys")  # type: ignore[attr-defined]
    cards = page.evaluate(_VALIDITY)  # type: ignore[attr-defined]
    assert cards, "the demo has keys"
    for card in cards:
        words = [phrase.split()[0] for phrase, _lines in card["phrases"]]
        assert words == ["с", "по"], f"«с … по …» in {card['text']!r}"
        assert [lines for _phrase, lines in card["phrases"]] == [1, 1], f"each date on one line with its word: {card}"
        assert re.search(r"с \d\d\.\d\d\.\d{4}\s+по \d\d\.\d\d\.\d{4}", card["text"]), f"one after the other: {card}"
    shot(page, "admin-keys-validity")


#: A clinic's name as the registry of medical organisations spells it, longer than a phone's line.
LONG_CLINIC = (
    "Государственное бюджетное учреждение здравоохранения города Москвы «Городская поликлиника № 220 Департамента "
    "здравоохранения города Москвы»"
)


def test_a_long_clinic_name_reads_whole_in_the_list_and_where_it_is_chosen(
    tmp_path: Path,
    browser: object,
) -> None:
    """From the clinics' list, «действующих: N» opens the tokens page with that clinic chosen: its select showed
    «GP-220 Государственное бюджетн» cut at the edge of a phone. A registry of its own: the demo's is shared."""
    app = demo_app(tmp_path)
    with app.app_context():
        organisations.create_clinic("GP-220", LONG_CLINIC, "test", "77")
    with serving(app) as base:
        context = browser.new_context(viewport=PHONE, locale="ru-RU")  # type: ignore[attr-defined]
        page = context.new_page()
        log_in(page, base, "admin", "admin-demo-2026")
        page.goto(f"{base}/admin/clinics")
        name = page.locator("td", has_text="Городская поликлиника № 220")
        assert name.evaluate("cell => cell.scrollWidth <= cell.clientWidth"), "the list wraps it"
        with page.expect_navigation():
            page.click("a[href$='/admin/tokens?clinic=GP-220']")
        chosen = page.locator("select[name=clinic]")
        assert chosen.input_value() == "GP-220"
        ems = chosen.evaluate("select => select.clientHeight / parseFloat(getComputedStyle(select).fontSize)")
        assert ems >= 4, f"the chosen clinic's name is cut to one line ({ems:.1f} em high)"
        assert fits_the_screen(page)
        shot(page, "admin-tokens-long-clinic-name")
        context.close()
