"""axe-core (vendored from npm, tests/browser/vendor/axe-core) on every main page: no serious or critical violation.

axe runs through Playwright's evaluate, which the page's CSP does not block, so
the pages are checked exactly as served, with their strict CSP in force.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from policy_codes import Enp
from tests.browser.conftest import Server, log_in, shot

AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
PETROV = str(Enp.with_check_digit("770000000000004"))
LOGINS = {
    "citizen": ("ivanova", "citizen-demo-2026"),
    "clinic": ("clinic", "clinic-demo-2026"),
    "insurer": ("smo-77001", "smo-demo-2026"),
    "admin": ("admin", "admin-demo-2026"),
}
#: Role (None: signed out) → the main pages that role sees.
PAGES: dict[str | None, list[str]] = {
    None: ["/login", "/activate"],
    "citizen": ["/me/", "/me/show", "/account/password"],
    "clinic": ["/clinic/", "/clinic/history", "/account/password"],
    "insurer": [
        "/insurer/",
        f"/insurer/?q={PETROV}",
        f"/insurer/person/{PETROV}",
        f"/insurer/person/{PETROV}/terminate",  # the confirmation page: asking changes nothing
        "/insurer/new",
        "/insurer/transfer",
    ],
    "admin": ["/admin/", "/admin/insurers", "/admin/clinics", "/admin/users", "/admin/tokens", "/admin/keys"],
}


def serious_violations(page: object) -> list[str]:
    page.evaluate(AXE)  # type: ignore[attr-defined]
    found = page.evaluate(  # type: ignore[attr-defined]
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact))"
        ".map(v => `${v.id} (${v.impact}): ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)"
    )
    return list(found)


@pytest.mark.parametrize("role", list(PAGES))
def test_main_pages_have_no_serious_accessibility_violations(live_server: Server, phone: object, role: str) -> None:
    page = phone
    if role is not None:
        log_in(page, live_server.url, *LOGINS[role])
    problems = {}
    for path in PAGES[role]:
        response = page.goto(live_server.url + path)  # type: ignore[attr-defined]
        assert response is not None
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]
        if found := serious_violations(page):
            problems[path] = found
    assert problems == {}


def test_a_verdict_on_the_scan_page_has_no_serious_accessibility_violations(live_server: Server, phone: object) -> None:
    page = phone
    log_in(page, live_server.url, *LOGINS["clinic"])
    page.fill("input[name=code]", PETROV)  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    page.wait_for_selector(".verdict")  # type: ignore[attr-defined]
    shot(page, "clinic-verdict-axe")
    assert serious_violations(page) == []


@pytest.mark.parametrize("role", list(PAGES))
def test_main_pages_fit_a_360_px_phone_without_sideways_scrolling(
    live_server: Server, browser: object, role: str
) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="ru-RU")  # type: ignore[attr-defined]
    page = context.new_page()
    if role is not None:
        log_in(page, live_server.url, *LOGINS[role])
    too_wide = {}
    for path in PAGES[role]:
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 360:
            too_wide[path] = width
            shot(page, "too-wide" + path.replace("/", "-").replace("?", "-"))
    context.close()
    assert too_wide == {}
