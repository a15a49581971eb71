"""When a session ends under an open page: the citizen's card stays on screen, the reception desk is sent
to the login page (webapp/web/auth.py, `_unauthorized`)."""

from __future__ import annotations

from sqlalchemy import select

from tests.browser.test_citizen import read_qr
from tests.browser.test_pwa import current_code
from tests.helpers.browser import PHONE, Server, log_in, shot
from tests.helpers.registry import staff_idle_limit
from webapp.extensions import db
from webapp.models import User
from webapp.registry import login_sessions


def end_sessions(server: Server, username: str) -> None:
    """What a password change on another device does to this one."""
    with server.app.app_context():
        login_sessions.end_all(db.session.scalar(select(User.id).where(User.username == username)))
        db.session.remove()


def test_a_card_whose_session_ends_keeps_showing_the_static_code(live_server: Server, phone: object) -> None:
    page = phone
    page.clock.install()  # type: ignore[attr-defined]
    log_in(page, live_server.url, "petrov", "citizen-demo-2026")
    page.wait_for_selector("#live[data-showing=live] svg")  # type: ignore[attr-defined]
    end_sessions(live_server, "petrov")
    page.clock.run_for(31_000)  # type: ignore[attr-defined]  # the next refresh of the live code
    page.wait_for_selector("#live[data-showing=static] img")  # type: ignore[attr-defined]
    assert page.url == f"{live_server.url}/me/", "the card stays: the person may be at the desk"  # type: ignore[attr-defined]
    page.locator("#live img").evaluate("image => image.decode()")  # type: ignore[attr-defined]
    shot(page, "session-ended-card")
    enp = page.inner_text(".card .number").replace(" ", "")  # type: ignore[attr-defined]  # in groups of four
    assert read_qr(page.locator("#live img").screenshot()) == current_code(live_server.app, enp)  # type: ignore[attr-defined]
    page.reload()  # type: ignore[attr-defined]
    assert page.url.startswith(f"{live_server.url}/login")  # type: ignore[attr-defined]


def test_an_idle_reception_desk_is_sent_to_the_login_page(live_server: Server, browser: object) -> None:
    context = browser.new_context(viewport=PHONE, locale="ru-RU")  # type: ignore[attr-defined]
    page = context.new_page()
    log_in(page, live_server.url, "clinic", "clinic-demo-2026")
    page.wait_for_url(f"{live_server.url}/clinic/")
    with staff_idle_limit(live_server.app, 2):
        page.wait_for_timeout(2500)
        page.fill("#code", "7700000000000040")
        page.click("#scan-form button.primary")
        page.wait_for_url(f"{live_server.url}/login")
    assert page.locator("#verdict").count() == 0, "the login page, whole, not inside the verdict"
    shot(page, "session-idle-clinic")
    log_in(page, live_server.url, "clinic", "clinic-demo-2026")
    page.wait_for_url(f"{live_server.url}/clinic/")
    page.fill("#code", "7700000000000040")
    page.click("#scan-form button.primary")
    page.wait_for_selector(".verdict")
    assert "Петров Алексей Николаевич" in page.inner_text("#verdict")
    context.close()
