"""The installed app on the holder's phone: with no network, the last code still shows and scans."""

from __future__ import annotations

import time
from datetime import date

import pytest
from flask import Flask
from playwright.sync_api import Error as PlaywrightError

from tests.browser.test_citizen import read_qr
from tests.helpers.browser import Server, log_in, shot
from webapp.extensions import db
from webapp.models import Role
from webapp.registry import accounts, lifecycle, people
from webapp.registry.people import PersonData

CONTROLLED = "() => navigator.serviceWorker.controller !== null"
KEPT = "async (paths) => (await Promise.all(paths.map((path) => caches.match(path)))).every(Boolean)"
OFFLINE_PAGES = ["/me/", "/me/show", "/me/code.svg"]


def wait_until_kept(page: object, paths: list[str], present: bool = True) -> None:
    """wait_for_function does not await a promise, so poll the Cache API from here."""
    deadline = time.monotonic() + 15
    while page.evaluate(KEPT, paths) is not present:  # type: ignore[attr-defined]
        assert time.monotonic() < deadline, f"the service worker did not {'keep' if present else 'drop'} {paths}"
        time.sleep(0.2)


def current_code(app: Flask, enp: str) -> str:
    with app.app_context():
        return people.current_code(people.person_by_enp(enp)).text


def test_the_last_code_shows_and_scans_with_no_network(live_server: Server, phone: object) -> None:
    page = phone
    log_in(page, live_server.url, "petrov", "citizen-demo-2026")
    page.wait_for_selector("#live")
    page.wait_for_function(CONTROLLED)
    wait_until_kept(page, OFFLINE_PAGES)
    enp = page.inner_text(".card .number").replace(" ", "")  # shown in groups of four
    expected = current_code(live_server.app, enp)

    page.context.set_offline(True)
    assert page.evaluate("fetch('/me/live').then(() => 'online', () => 'offline')") == "offline"
    page.reload()
    page.wait_for_selector("#live[data-showing=static] img")
    page.locator("#live img").evaluate("image => image.decode()")
    assert "Петров Алексей Николаевич" in page.inner_text("h1")
    shot(page, "pwa-offline-card")
    assert read_qr(page.locator("#live img").screenshot()) == expected

    page.goto(f"{live_server.url}/me/show")
    page.locator("img.reception-qr").evaluate("image => image.decode()")  # wait_for_function would need eval
    shot(page, "pwa-offline-show-at-reception")
    assert read_qr(page.locator("img.reception-qr").screenshot()) == expected
    page.context.set_offline(False)


#: A citizen of this test's own: the demo citizens stay as the other browser tests expect them.
SOLDIER = PersonData.of("779900000000010", "Солдатов", "Иван", "Петрович", date(2005, 5, 5), "M")
SOLDIER_PASSWORD = "soldier-pwa-2026"


def test_a_suspended_policys_code_is_no_longer_kept(live_server: Server, phone: object) -> None:
    """Suspended, the holder's code is withdrawn: the phone drops its kept copies when the pages answer 404."""
    enp = str(SOLDIER.enp)
    with live_server.app.app_context():
        lifecycle.register_person(SOLDIER, "77001", "browser-test")
        accounts.create_user("soldier-pwa", SOLDIER_PASSWORD, Role.CITIZEN, "browser-test", enp=enp)
        db.session.remove()
    page = phone
    log_in(page, live_server.url, "soldier-pwa", SOLDIER_PASSWORD)
    page.wait_for_selector("#live")
    page.wait_for_function(CONTROLLED)
    wait_until_kept(page, OFFLINE_PAGES)
    with live_server.app.app_context():
        lifecycle.suspend(enp, "browser-test", "военная служба")
        db.session.remove()
    page.reload()
    assert page.locator("#live").count() == 0, "no code on the card"
    for path in ("/me/show", "/me/code.svg"):
        assert page.evaluate("(path) => fetch(path).then((response) => response.status)", path) == 404
        wait_until_kept(page, [path], present=False)
    page.context.set_offline(True)
    with pytest.raises(PlaywrightError, match=r"ERR_FAILED|ERR_INTERNET_DISCONNECTED"):
        page.goto(f"{live_server.url}/me/show")
    page.context.set_offline(False)


def test_logging_out_drops_the_kept_pages(live_server: Server, phone: object) -> None:
    page = phone
    log_in(page, live_server.url, "petrov", "citizen-demo-2026")
    page.wait_for_function(CONTROLLED)
    wait_until_kept(page, OFFLINE_PAGES)
    page.click("text=Выйти")
    page.wait_for_url("**/login")
    wait_until_kept(page, ["/me/"], present=False)
    assert page.evaluate("caches.keys().then((names) => names.length)") == 0, "Clear-Site-Data: nothing kept"

    page.context.set_offline(True)
    with pytest.raises(PlaywrightError, match=r"ERR_FAILED|ERR_INTERNET_DISCONNECTED"):
        page.goto(f"{live_server.url}/me/")
    page.context.set_offline(False)

    log_in(page, live_server.url, "clinic", "clinic-demo-2026")
    page.wait_for_url("**/clinic/")
    assert page.evaluate("navigator.serviceWorker.controller") is None, "logout unregistered the worker"
    assert page.evaluate("caches.match(location.href).then(Boolean)") is False, "another role's page is never kept"


def test_the_manifest_makes_an_installable_app(live_server: Server, phone: object) -> None:
    page = phone
    page.goto(f"{live_server.url}/login")
    href = page.get_attribute("link[rel=manifest]", "href")
    manifest = page.evaluate(f"fetch('{href}').then((response) => response.json())")
    assert manifest["start_url"] == "/me/"
    assert manifest["display"] == "standalone"
    assert manifest["lang"] == "ru"
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        assert page.evaluate(f"fetch('{icon['src']}').then((response) => response.status)") == 200
