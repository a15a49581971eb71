"""A parent's phone, after the child came of age (2026-12-06): the installed app (static/js/sw.js) keeps the
citizen's pages for each person of the household, so that a code shows with no network.

Once the representation ended, the server answered the grown son's pages with a 404 (tests/webapp/
test_representation_ends.py), and the kept copies go when such an answer comes. But the mother's card no longer
links to him, so nothing asked for them again: his card, his «show at reception» page and his code stayed on her
phone, and showed with no network, for good. The card now tells the worker whom it names, and the worker keeps
pages for those people only.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from tests.browser.test_pwa import CONTROLLED, wait_until_kept
from tests.helpers.browser import PHONE, Server, apart, chromium, demo_app, log_in, serving, shot
from webapp.extensions import db
from webapp.models import Representation
from webapp.registry import clock, people

SON = "7700000000000024"
NEWBORN = "7700000000000032"
#: What the phone answers for a page with no network: the kept copy's status, or "not kept".
OFFLINE_FETCH = "(path) => fetch(path).then((response) => response.status, () => 'not kept')"


def kept_for(enp: str) -> list[str]:
    return [f"/me/?person={enp}", f"/me/show?person={enp}", f"/me/code.svg?person={enp}"]


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Server]:
    """The demo registry of this test's own: it ends a representation the other browser tests show."""
    app = demo_app(tmp_path)
    with serving(app) as url:
        yield Server(url, app)


def test_a_grown_childs_pages_leave_the_parents_phone(live: Server) -> None:
    apart(_on_the_mothers_phone, live)  # a Chromium of its own, beside tests/browser's


def _on_the_mothers_phone(live: Server) -> None:
    with chromium() as launched:
        context = launched.new_context(viewport=PHONE, device_scale_factor=2, locale="ru-RU")
        try:
            _the_son_comes_of_age(live, context.new_page())
        finally:
            context.close()


def _the_son_comes_of_age(live: Server, page: object) -> None:
    log_in(page, live.url, "ivanova", "citizen-demo-2026")
    page.wait_for_function(CONTROLLED)
    for enp in (SON, NEWBORN):
        page.goto(f"{live.url}/me/?person={enp}")
        wait_until_kept(page, kept_for(enp) if enp == SON else [f"/me/?person={enp}"])

    # The son came of age yesterday: his representation ended (as docs/operations.md has the operator end one).
    with live.app.app_context():
        son = people.person_by_enp(SON)
        yesterday = clock.today_in_moscow(clock.now()) - timedelta(days=1)
        db.session.execute(
            update(Representation).where(Representation.represented_id == son.id).values(valid_to=yesterday)
        )
        db.session.commit()
        db.session.remove()

    page.goto(f"{live.url}/me/")
    assert "Артём" not in page.inner_text("nav.people"), "her card names the newborn and herself only"
    for path in kept_for(SON):
        wait_until_kept(page, [path], present=False)
    wait_until_kept(page, ["/me/", f"/me/?person={NEWBORN}"])  # the others' stay

    page.context.set_offline(True)
    page.reload()  # her own card, kept
    shot(page, "grown-child-gone-offline")
    assert "Иванова Мария" in page.inner_text("h1")
    for path in kept_for(SON):
        assert page.evaluate(OFFLINE_FETCH, path) == "not kept", path
    page.context.set_offline(False)
