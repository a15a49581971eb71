"""The installed app on the holder's phone: with no network, the last code still shows and scans."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from flask import Flask
from playwright.sync_api import Error as PlaywrightError

from policy_codes.codec import MOSCOW
from tests.browser.test_citizen import read_qr
from tests.helpers.browser import PHONE, Server, log_in, shot
from tests.helpers.moscow_day import today
from webapp.extensions import db
from webapp.models import Category, Role
from webapp.registry import accounts, lifecycle, people
from webapp.registry.people import PersonData

CONTROLLED = "() => navigator.serviceWorker.controller !== null"
KEPT = "async (paths) => (await Promise.all(paths.map((path) => caches.match(path)))).every(Boolean)"
OFFLINE_PAGES = ["/me/", "/me/show", "/me/code.svg"]


#: The text of a page the service worker keeps, "" for none.
KEPT_PAGE = (
    "(path) => caches.open('oms-personal-v1')"
    ".then((cache) => cache.match(location.origin + path, { ignoreVary: true }))"
    ".then((kept) => (kept ? kept.text() : ''))"
)


def wait_until(done: Callable[[], bool], what: str) -> None:
    """Poll `done` for up to 15 s: the service worker works in the background, and wait_for_function does not
    await a promise, so the Cache API is read from here."""
    deadline = time.monotonic() + 15
    while not done():
        assert time.monotonic() < deadline, f"the service worker did not {what}"
        time.sleep(0.2)


def wait_until_kept(page: object, paths: list[str], present: bool = True) -> None:
    wait_until(
        lambda: page.evaluate(KEPT, paths) is present,  # type: ignore[attr-defined]
        f"{'keep' if present else 'drop'} {paths}",
    )


def own_citizen(app: Flask, person: PersonData, username: str, password: str) -> str:
    """A citizen of a test's own, registered and able to log in: the demo citizens stay as the other browser tests
    expect them. Their ЕНП."""
    with app.app_context():
        lifecycle.register_person(person, "77001", "browser-test")
        accounts.create_user(username, password, Role.CITIZEN, "browser-test", enp=str(person.enp))
        db.session.remove()
    return str(person.enp)


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


SOLDIER = PersonData.of("779900000000010", "Солдатов", "Иван", "Петрович", date(2005, 5, 5), "M")
SOLDIER_PASSWORD = "soldier-pwa-2026"


def test_a_suspended_policys_code_is_no_longer_kept(live_server: Server, phone: object) -> None:
    """Suspended, the holder's code is withdrawn: the phone drops its kept copies when the pages answer 404."""
    enp = own_citizen(live_server.app, SOLDIER, "soldier-pwa", SOLDIER_PASSWORD)
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


#: Citizens of these tests' own, who send a form (the second on a weak signal).
SENDER = PersonData.of("779900000000036", "Отправкин", "Пётр", "Ильич", date(1980, 3, 3), "M")
SENDER_PASSWORD = "sender-pwa-2026"
SENT = "Заявка на новый код отправлена"
SLOW_SENDER = PersonData.of("779900000000044", "Медленнов", "Олег", "Ильич", date(1981, 4, 4), "M")
#: The form's answer reaches the phone, its redirect not yet followed: the message waits in the session.
SEND_WITHOUT_FOLLOWING = """async () => {
  const form = new FormData(document.querySelector('form[action$="/me/reissue-request"]'));
  form.set("reason", "lost_phone");
  const answer = await fetch("/me/reissue-request", { method: "POST", body: form, redirect: "manual" });
  return answer.type;
}"""


def test_the_pages_kept_in_the_background_leave_a_forms_message_to_the_person(
    live_server: Server, phone: object
) -> None:
    """On a slow network the service worker's background fetch of the card (kept again, or kept for the first
    time) can reach the server between a form's answer and the page it leads to. It must not take the form's
    message: the person reads «Заявка на новый код отправлена» on the card they land on."""
    own_citizen(live_server.app, SENDER, "sender-pwa", SENDER_PASSWORD)
    page = phone
    log_in(page, live_server.url, "sender-pwa", SENDER_PASSWORD)
    page.wait_for_function(CONTROLLED)
    wait_until_kept(page, OFFLINE_PAGES)
    before = page.evaluate(KEPT_PAGE, "/me/")

    assert page.evaluate(SEND_WITHOUT_FOLLOWING) == "opaqueredirect"
    page.evaluate("navigator.serviceWorker.controller.postMessage({ type: 'remember', urls: [], again: ['/me/'] })")
    wait_until(lambda: page.evaluate(KEPT_PAGE, "/me/") != before, "keep the card again")
    kept = page.evaluate(KEPT_PAGE, "/me/")
    assert "ждёт ответа страховой компании" in kept, "kept as it is now"
    assert SENT not in kept

    page.goto(f"{live_server.url}/me/")
    assert SENT in page.locator(".flash.ok").inner_text()
    shot(page, "pwa-message-kept-for-the-person")


#: Longer than the service worker waits for the network before it shows the kept copy (NETWORK_WAIT_MS, 4 s).
SLOW_ANSWER_SECONDS = 5.5


def test_a_forms_answer_on_a_weak_signal_is_waited_for_not_the_kept_copy_shown(
    live_server: Server, phone: object
) -> None:
    """A page is answered from the phone's kept copy when the network takes over 4 s; not the page a form the
    person has just sent leads to: that one says whether it went through, and the kept copy, older, would not."""
    own_citizen(live_server.app, SLOW_SENDER, "slow-pwa", SENDER_PASSWORD)
    page = phone
    log_in(page, live_server.url, "slow-pwa", SENDER_PASSWORD)
    page.wait_for_function(CONTROLLED)
    wait_until_kept(page, OFFLINE_PAGES)

    def slowly(route: object) -> None:
        time.sleep(SLOW_ANSWER_SECONDS)
        route.continue_()  # type: ignore[attr-defined]

    page.context.route(f"{live_server.url}/me/", slowly)
    page.click("text=Нужен новый код?")
    page.select_option('form[action$="/me/reissue-request"] select[name=reason]', "lost_phone")
    page.click('form[action$="/me/reissue-request"] button')
    page.wait_for_selector(".flash.ok", timeout=(SLOW_ANSWER_SECONDS + 10) * 1000)
    assert SENT in page.locator(".flash.ok").inner_text()
    assert "ждёт ответа страховой компании" in page.inner_text("main")
    page.context.unroute(f"{live_server.url}/me/")


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


WORKER_PASSWORD = "worker-pwa-2026"


def registered_worker() -> date:
    """A worker from an ЕАЭС country, whose policy ends on the last day of their labour contract, three days after
    the day they are first registered; that last day."""
    (worker,) = accounts.find_users("worker-pwa", "", 1) or [None]
    if worker is None:
        contract_ends = today() + timedelta(days=3)
        data = PersonData.of(
            "779900000000028",
            "Каримова",
            "Айгуль",
            "",
            date(1990, 1, 1),
            "F",
            Category.EAEU_WORKER,
            right_valid_until=contract_ends,
        )
        lifecycle.register_person(data, "77001", "browser-test")
        worker = accounts.create_user("worker-pwa", WORKER_PASSWORD, Role.CITIZEN, "browser-test", enp=str(data.enp))
    return worker.person.right_valid_until


def in_moscow(day: date, hour: int, minute: int, second: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=MOSCOW)


def shown_badges(page: object) -> list[str]:
    return page.locator(".badge:visible").all_inner_texts()  # type: ignore[attr-defined]


@pytest.mark.parametrize(("time_zone", "language"), [("Asia/Vladivostok", "ru"), ("Europe/London", "en")])
def test_the_kept_card_stops_saying_valid_when_the_last_day_is_over_in_moscow(
    live_server: Server, browser: object, time_zone: str, language: str
) -> None:
    """The kept card said «действует» as the server wrote it, however long after the policy's last day the phone
    showed it with no network. The last day is a Moscow date: the card turns at Moscow's midnight, whether the
    phone's own midnight came hours before it (Vladivostok, UTC+10) or comes hours after it (London)."""
    with live_server.app.app_context():
        last_day = registered_worker()
        db.session.remove()
    context = browser.new_context(viewport=PHONE, locale="ru-RU", timezone_id=time_zone)  # type: ignore[attr-defined]
    page = context.new_page()
    try:
        log_in(page, live_server.url, "worker-pwa", WORKER_PASSWORD)
        page.wait_for_selector("#live")
        page.wait_for_function(CONTROLLED)  # installed before the pages change language, as on a phone in use
        if language == "en":
            page.click("button[name=language][value=en]")
            page.goto(f"{live_server.url}/me/show")
            page.goto(f"{live_server.url}/me/")
        wait_until_kept(page, OFFLINE_PAGES)
        valid, ended = {"ru": ("действует", "срок истёк"), "en": ("active", "term ended")}[language]
        page.context.set_offline(True)

        page.clock.set_fixed_time(in_moscow(last_day, 23, 59, 30))
        page.reload()
        assert shown_badges(page) == [valid], "the last day itself is still valid"
        assert page.locator(".flash.error:visible").count() == 0

        page.clock.set_fixed_time(in_moscow(last_day + timedelta(days=1), 0, 0, 30))
        page.reload()
        assert shown_badges(page) == [ended]
        assert last_day.strftime("%d.%m.%Y") in page.locator(".flash.error:visible").inner_text()
        shot(page, f"pwa-offline-card-ended-{language}")
        page.goto(f"{live_server.url}/me/show")
        assert shown_badges(page) == [ended]
        shot(page, f"pwa-offline-show-ended-{language}")
    finally:
        context.close()
