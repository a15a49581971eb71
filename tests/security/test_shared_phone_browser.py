"""A family's phone: the next person signs in over the previous one's session, and the kept pages must go with it.

The service worker keeps the signed-in citizen's own pages for showing with no network (static/js/sw.js). The login
page drops them when nobody is signed in; but the login, first sign-in and recovery pages are also reached while
someone still is (they did not log out): whoever signs in there replaces that session, and the kept «show at
reception» page and code picture were still the previous person's, shown to the new one at reception offline.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.test_citizen import read_qr
from tests.browser.test_pwa import CONTROLLED, OFFLINE_PAGES, current_code, wait_until_kept
from tests.helpers.browser import PHONE, Server, apart, chromium, demo_app, log_in, serving, shot

#: The demo's Petrov (webapp/ops/demo.py), who signs in on Ivanova's phone.
PETROV_ENP = "7700000000000040"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    app = demo_app(Path(tmp_path_factory.mktemp("shared-phone")))
    with serving(app) as url:
        yield Server(url, app)


@pytest.mark.parametrize("page_first", ["/login", "/recover", "/activate"])
def test_signing_in_over_someone_elses_session_drops_their_kept_pages(live: Server, page_first: str) -> None:
    shown, scanned = apart(_petrov_signs_in_on_ivanovas_phone, live, page_first)  # beside tests/browser's Chromium
    assert "Иванова" not in shown, "the phone shows the previous person's code at reception"
    assert "Петров" in shown
    assert scanned == current_code(live.app, PETROV_ENP), "and scans as theirs"


def _petrov_signs_in_on_ivanovas_phone(live: Server, page_first: str) -> tuple[str, str]:
    """What the phone shows at reception offline once Petrov signed in, reaching the sign-in by `page_first`."""
    with chromium() as browser:
        context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="ru-RU")
        page = context.new_page()
        log_in(page, live.url, "ivanova", "citizen-demo-2026")  # the mother's phone, and she did not log out
        page.wait_for_function(CONTROLLED)
        wait_until_kept(page, OFFLINE_PAGES)

        page.goto(f"{live.url}{page_first}")  # another of the family opens a page that signs in
        wait_until_kept(page, ["/me/show"], present=False)
        if page_first != "/login":
            page.goto(f"{live.url}/login")
        page.fill("input[name=username]", "petrov")
        page.fill("input[name=password]", "citizen-demo-2026")
        page.click("button.primary")
        page.wait_for_selector("#live")
        wait_until_kept(page, OFFLINE_PAGES)

        context.set_offline(True)
        page.goto(f"{live.url}/me/show")
        shown = page.inner_text("main")
        page.locator("img.reception-qr").evaluate("image => image.decode()")
        scanned = read_qr(page.locator("img.reception-qr").screenshot())
        shot(page, f"shared-phone-offline-show{page_first.replace('/', '-')}")
        context.set_offline(False)
        context.close()
    return shown, scanned
