"""Reception when a scan gets no verdict from the server, in Chromium against a demo registry of its own.

The network is up, but the server answers an error (its database gone), nothing in time (its database locked), or a
refusal (the page's form gone stale). The last verdict must go as soon as the next code is scanned, never standing
beside it. Where the registry did not answer, the code is checked in the browser against the stored lists, as with no
network, and the verdict says so; a refused scan says to reload the page.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.demo_codes import MOTHER, PETROV, SON, code_text
from tests.browser.fake_camera import CLINIC_LOGIN, clinic_storage_state
from tests.helpers.browser import PHONE, Server, demo_app, log_in, serving, shot
from webapp.db.engines import dispose_engines


@pytest.fixture
def reception(browser: object, tmp_path: Path) -> Iterator[tuple[Server, object]]:
    """A demo registry of its own (its database is taken away), and its reception page with the lists stored."""
    app = demo_app(tmp_path)
    with serving(app) as url:
        context = browser.new_context(  # type: ignore[attr-defined]
            viewport=PHONE, device_scale_factor=2, locale="ru-RU", storage_state=clinic_storage_state(browser, url)
        )
        page = context.new_page()
        page.goto(f"{url}/clinic/")
        page.wait_for_selector("#offline-lists[data-state=ready]")
        yield Server(url, app), page
        context.close()


def _database(server: Server) -> Path:
    return Path(server.app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))


def _scan(page: object, text: str, timeout: float = 5_000) -> dict[str, str]:
    """Scan as a USB scanner does, over whatever the page shows: the verdict that then stands."""
    page.fill("#code", text)  # type: ignore[attr-defined]
    page.press("#code", "Enter")  # type: ignore[attr-defined]
    verdict = page.wait_for_selector("#verdict [data-verdict]", timeout=timeout)  # type: ignore[attr-defined]
    return {
        "verdict": verdict.get_attribute("data-verdict"),
        "offline": verdict.get_attribute("data-offline") or "",
        "text": verdict.inner_text(),
    }


def test_a_registry_that_fails_leaves_no_earlier_verdict_standing(reception: tuple[Server, object]) -> None:
    server, page = reception
    mothers_code = code_text(server.app, MOTHER)
    before = _scan(page, PETROV)
    assert (before["verdict"], before["offline"]) == ("valid", "")

    os.rename(_database(server), _database(server).with_suffix(".gone"))
    with server.app.app_context():
        dispose_engines()  # the registry's database is gone: every request now fails (503)

    number = _scan(page, SON)
    assert number["verdict"] == "unchecked", "not the last patient's verdict"
    assert "Петров" not in number["text"]
    assert number["text"].startswith("РЕЕСТР НЕ ОТВЕТИЛ\n"), "its headline (in capitals, by the style)"
    assert "а он сейчас не отвечает" in number["text"]
    shot(page, "clinic-registry-failed-number")

    signed = _scan(page, mothers_code)
    assert (signed["verdict"], signed["offline"]) == ("valid", "true"), "the signed code checked in the browser"
    assert "Иванова Мария Петровна" in signed["text"]
    assert "Реестр не ответил: проверено в браузере по спискам реестра" in signed["text"]
    assert "Нет сети" not in signed["text"], "the network is up"
    shot(page, "clinic-registry-failed-code")


def test_a_registry_that_does_not_answer_in_time_is_not_waited_for(reception: tuple[Server, object]) -> None:
    """The registry's database locked by another writer: the scan's request would wait for it (10 s, then an
    error). The page stops waiting after its timeout and checks the code in the browser."""
    server, page = reception
    mothers_code = code_text(server.app, MOTHER)
    assert _scan(page, PETROV)["verdict"] == "valid"
    writer = sqlite3.connect(_database(server), isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        page.fill("#code", mothers_code)  # type: ignore[attr-defined]
        page.press("#code", "Enter")  # type: ignore[attr-defined]
        pending = page.locator("#verdict")  # type: ignore[attr-defined]
        assert "Проверяем" in pending.inner_text(), "the last verdict is gone while the scan waits"
        assert pending.locator("[data-verdict]").count() == 0
        signed = page.wait_for_selector("#verdict [data-verdict]", timeout=9_500)  # type: ignore[attr-defined]
        assert (signed.get_attribute("data-verdict"), signed.get_attribute("data-offline")) == ("valid", "true")
        assert "Реестр не ответил: проверено в браузере" in signed.inner_text()
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert _scan(page, PETROV)["offline"] == "", "the registry answers again"


def test_a_scan_from_a_page_gone_stale_says_to_reload_it(reception: tuple[Server, object]) -> None:
    """Logged in again in another tab: the new session has a new CSRF token, and this page's form is refused."""
    server, page = reception
    assert _scan(page, PETROV)["verdict"] == "valid"
    other_tab = page.context.new_page()  # type: ignore[attr-defined]
    log_in(other_tab, server.url, *CLINIC_LOGIN)
    other_tab.wait_for_url(f"{server.url}/clinic/")
    refused = _scan(page, SON)
    assert refused["verdict"] == "unchecked", "not the last patient's verdict"
    assert refused["text"].startswith("ПРОВЕРКА НЕ ВЫПОЛНЕНА\n")
    assert "Обновите страницу и отсканируйте код снова." in refused["text"]
    drawn = page.locator("#verdict .verdict-headline [data-icon]")  # type: ignore[attr-defined]
    assert drawn.get_attribute("data-icon") == "blocked", "refused, not offline: the network is up"
    shot(page, "clinic-stale-form")
    page.reload()  # type: ignore[attr-defined]
    assert _scan(page, SON)["verdict"] == "valid"


def test_a_fault_in_the_server_is_not_taken_for_an_outage(reception: tuple[Server, object]) -> None:
    """A code that made the server fail (a 500, which no input should give) gets no verdict from the browser's lists
    either: there, a code revoked minutes ago still passes, and the fault would be the way to that verdict. The
    server gives no 500 on any input (tests/security), so this one is made in the browser."""
    server, page = reception
    page.route("**/clinic/verify", lambda route: route.fulfill(status=500, body="fault"))  # type: ignore[attr-defined]
    refused = _scan(page, code_text(server.app, MOTHER))
    assert refused["verdict"] == "unchecked"
    assert refused["text"].startswith("ПРОВЕРКА НЕ ВЫПОЛНЕНА\n")
    assert "Иванова" not in refused["text"]
