"""«Я не представляю этого человека» attacked as an outsider would, on SQLite and PostgreSQL (2026-12-07): a citizen
named as someone's representative ends that link from their phone (webapp/web/views/citizen.py `decline`).

What the card and its code pictures answer from two warm gunicorn workers the moment the link ends, two refusals sent
at once, what becomes of a request the representative filed for the person before, odd `?person=` values, a chain
of links (the mother represents her son, the son his own ward), a newborn covered by the mother's policy at the
clinic's desk, and the son's pages kept on the mother's phone for a visit with no signal (static/js/sw.js).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from policy_codes.codec import moscow_date
from tests.browser.test_pwa import CONTROLLED, KEPT_PAGE, wait_until, wait_until_kept
from tests.faults.registry import prepare
from tests.faults.server import PASSWORD, Server, Session
from tests.helpers.browser import PHONE, apart, chromium, demo_app, log_in, serving, shot
from tests.helpers.browser import Server as Demo
from tests.helpers.registry import person_data, register
from tests.security.test_attack_state_workers import Served, at_once, both_warm, in_app, page_status
from tests.security.test_grown_child_phone_browser import OFFLINE_FETCH, SON, kept_for
from tests.webapp import conftest as webapp_fixtures
from tests.webapp.pages import CHILD, MOTHER, STRANGER, csrf, desk_verdict, logged_in, register_newborn_sofia, take_step
from tests.webapp.test_lapsed_requests import file_both, the_insurer_refuses_and_the_person_files_their_own
from webapp.extensions import db
from webapp.models import AuditEntry, Representation, Role
from webapp.registry import accounts, clock, lifecycle, people
from webapp.registry.verification import Verdict, verify_scan

PARENT = "parent"
ROUNDS = 3
DECLINE = "/me/not-representative?person={enp}"
#: Артём's own ward, in the chain: the mother reaches him through Артём only.
WARD = str(person_data("770000000000006").enp)

#: tests/webapp's registry and logins (tests/webapp/pages.py), whose helpers these attacks reuse.
site = webapp_fixtures.site
#: A `?person=` not naming someone the citizen represents: no such page, or a request refused before it is read.
NOT_HERS = (404, 400)
#: The message the card she lands on shows once, after she confirms.
TOOK_OFF = "Карточка убрана"


def _everything_of(enp: str) -> list[str]:
    """Every citizen page that shows, or acts for, the person `enp` names."""
    return [
        f"/me/{page}?person={enp}"
        for page in (
            "",
            "show",
            "code.svg",
            "code.png",
            "barcode.svg",
            "extract.pdf",
            "live",
            "data-change",
            "not-representative",
        )
    ]


def _post_status(browser: Session, path: str, form: dict[str, str]) -> Callable[[], str]:
    def call() -> str:
        return str(browser.clone().post(path, form).status_code)

    return call


def _ends() -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "end_representation")))


def _link(app: Flask, representative: str, represented: str) -> Representation | None:
    with app.app_context():
        return db.session.scalar(
            select(Representation).where(
                Representation.representative_id == people.person_by_enp(representative).id,
                Representation.represented_id == people.person_by_enp(represented).id,
            )
        )


def test_declined_in_one_warm_worker_the_card_and_its_code_are_gone_from_both_at_once(
    served_database_url: str,
) -> None:
    """The mother's phone has the son's card, code pictures, extract, live code and forms served by both workers;
    she declines in two tabs at once (one refusal is recorded, the other tab reads 404, nothing fails); from then on
    every page of his, and a request for a new code in his name, answers 404 from either worker."""
    today = moscow_date(datetime.now(UTC))
    registry = prepare(served_database_url, people=1)
    mother = registry.enps[0]
    son = person_data("770000000000901", "Иванов", "Пётр", "Сергеевич", today.replace(year=today.year - 10), "M")
    enp = str(son.enp)

    def family() -> None:
        lifecycle.register_person(son, "77001", "test", representative_enp=mother)
        accounts.create_user(PARENT, PASSWORD, Role.CITIZEN, "test", enp=mother)

    in_app(registry.app, family)
    server = Server(served_database_url, workers=2).start()
    try:
        workers = server.wait_for_workers(exclude=0)
        parent = Session.login(server.url, PARENT)
        pages = [page_status(server, parent, path) for path in _everything_of(enp)]
        both_warm(Served(server, registry, parent, workers), lambda: at_once(pages * ROUNDS))
        assert at_once(pages * ROUNDS) == Counter({"200": len(pages) * ROUNDS})

        declined = at_once([_post_status(parent, DECLINE.format(enp=enp), {}) for _ in range(2)])
        assert declined == Counter({"302": 1, "404": 1})
        assert server.workers_pids() == workers, "the same warm workers serve on"
        reissue = _post_status(parent, f"/me/reissue-request?person={enp}", {"reason": "lost_phone"})
        gone = at_once([*pages, reissue] * 2 * ROUNDS)
        assert gone == Counter({"404": (len(pages) + 1) * 2 * ROUNDS})
        card = parent.clone().http.get(f"{server.url}/me/", timeout=30).text
        assert "ПЁТР" not in card.upper()
        assert in_app(registry.app, lambda: len(_ends())) == 1
    finally:
        server.stop()


def test_a_request_the_representative_filed_before_declining_lapses(site: Flask) -> None:
    """A new code and a data change, asked for Артём by the mother, then «я не представляю»: the insurer can answer
    neither, reads them as lapsed, and Артём may file his own."""
    with site.app_context():
        born = people.person_by_enp(CHILD).birth_date
    mother = logged_in(site, "ivanova")
    file_both(mother, CHILD, "Артём", born)
    assert mother.post(DECLINE.format(enp=CHILD), data={"csrf_token": csrf(mother, "/me/")}).status_code == 302
    the_insurer_refuses_and_the_person_files_their_own(site, CHILD, "artem", "Артём")


def test_odd_person_values_answer_404_and_end_nothing(site: Flask) -> None:
    """The number dashed, spaced, padded, escaped, in another script, far too long, with a control character, a
    second `person=` after another's, only in the form body, the mother's own: each answers 404 (a control character
    400, refused before it is read), never a 500, on asking and on confirming, and the link stays. An extra
    parameter changes nothing: the refusal ends her son's link, and sends her to her own card, nowhere else."""
    mother = logged_in(site, "ivanova")
    token = csrf(mother, "/me/")
    odd = (
        f"{CHILD[:4]}-{CHILD[4:8]}-{CHILD[8:12]}-{CHILD[12:]}",
        f"{CHILD[:4]}%20{CHILD[4:8]}%20{CHILD[8:12]}%20{CHILD[12:]}",
        f"%20{CHILD}",
        f"{CHILD}%00",
        f"{CHILD}0",
        CHILD[:-1],
        "".join(f"%26%23{ord(digit)}%3B" for digit in CHILD),
        "%D0%90%D1%80%D1%82%D1%91%D0%BC",
        "7" * 5000,
        f"{STRANGER}&person={CHILD}",
        MOTHER,
        "",
    )
    for value in odd:
        path = f"/me/not-representative?person={value}"
        assert mother.get(path).status_code in NOT_HERS, value[:40]
        assert mother.post(path, data={"csrf_token": token}).status_code in NOT_HERS, value[:40]
    body_only = mother.post("/me/not-representative", data={"person": CHILD, "csrf_token": token})
    assert body_only.status_code == 404, "the form's own `person` is not read"
    assert mother.put(DECLINE.format(enp=CHILD), data={"csrf_token": token}).status_code == 405
    assert _link(site, MOTHER, CHILD).valid_to is None
    with site.app_context():
        assert _ends() == []
    extra = f"{DECLINE.format(enp=CHILD)}&person={STRANGER}&next=https://example.org/&download=1"
    assert mother.get(extra).status_code == 200
    done = mother.post(extra, data={"csrf_token": token, "next": "https://example.org/"})
    assert (done.status_code, done.location) == (302, "/me/")
    assert _link(site, MOTHER, CHILD).valid_to is not None
    assert _link(site, MOTHER, STRANGER) is None


def test_declining_the_son_leaves_his_own_ward_his_and_out_of_the_mothers_reach(site: Flask) -> None:
    """A chain: the mother represents Артём, Артём his ward. The mother declines Артём: she reaches neither; Артём's
    link to his ward is his still, and he cannot decline the mother, whom he does not represent."""
    with site.app_context():
        register(person_data("770000000000006", "Иванов", "Пётр", "Артёмович", sex="M"))
        lifecycle.link_representative(CHILD, WARD, "test")
        accounts.create_user("artem", PASSWORD, Role.CITIZEN, "test", enp=CHILD)
    mother = logged_in(site, "ivanova")
    assert mother.post(DECLINE.format(enp=CHILD), data={"csrf_token": csrf(mother, "/me/")}).status_code == 302
    for enp in (CHILD, WARD):
        for path in _everything_of(enp):
            assert mother.get(path).status_code == 404, path
    assert "Артём" not in mother.get("/me/").get_data(as_text=True)
    artem = logged_in(site, "artem")
    assert artem.get(f"/me/?person={WARD}").status_code == 200, "his ward is his still"
    assert artem.get(DECLINE.format(enp=MOTHER)).status_code == 404
    assert _link(site, CHILD, WARD).valid_to is None
    with site.app_context():
        (entry,) = _ends()
        assert (entry.entity_key, entry.details["representative"]) == (CHILD, MOTHER), "the one link, no other"


def test_a_declined_newborn_is_covered_by_the_mothers_policy_no_more_at_the_desk(site: Flask) -> None:
    """София, registered yesterday with no policy of her own, was valid at reception by her mother's cover; the
    mother declines her: the desk no longer reads her number as valid, and the mother's card offers no code for
    her."""
    sofia = str(register_newborn_sofia(site).enp)
    clinic = logged_in(site, "clinic")
    with site.app_context():
        assert verify_scan(sofia).verdict is Verdict.VALID, "covered before"
    mother = logged_in(site, "ivanova")
    assert mother.post(DECLINE.format(enp=sofia), data={"csrf_token": csrf(mother, "/me/")}).status_code == 302
    with site.app_context():
        result = verify_scan(sofia)
        assert result.verdict is not Verdict.VALID
        assert "newborn_cover" not in result.notes
        assert people.newborn_cover(people.person_by_enp(sofia), clock.today_in_moscow(clock.now())) is None
    verdict = desk_verdict(clinic, sofia)
    assert "помощь оказывается по полису представителя" not in verdict
    assert f"?person={sofia}" not in mother.get("/me/").get_data(as_text=True)
    assert _link(site, MOTHER, sofia).valid_to == clock.today_in_moscow(clock.now()) - timedelta(days=1)
    staff = logged_in(site, "smo")
    assert staff.get(f"/insurer/person/{sofia}").status_code == 200, "a newborn with no representative left"
    assert take_step(staff, sofia, "newborn-policy").status_code == 302
    with site.app_context():
        assert verify_scan(sofia).verdict is Verdict.VALID, "her insurer gives her a policy of her own"


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    """The demo registry of this test's own: the mother declines a son the other browser tests show."""
    app = demo_app(tmp_path)
    with serving(app) as url:
        yield Demo(url, app)


def test_the_declined_sons_pages_leave_the_mothers_phone(demo: Demo) -> None:
    apart(_on_the_mothers_phone, demo)  # a Chromium of its own, beside tests/browser's


def _on_the_mothers_phone(demo: Demo) -> None:
    with chromium() as launched:
        context = launched.new_context(viewport=PHONE, device_scale_factor=2, locale="ru-RU")
        try:
            _she_declines_her_son(demo, context.new_page())
        finally:
            context.close()


def _she_declines_her_son(demo: Demo, page: object) -> None:
    """His card, «show at reception» page and code, kept on her phone for a visit with no signal, go as she taps
    «Я не представляю этого человека» and confirms: the card she lands on names him no more."""
    log_in(page, demo.url, "ivanova", "citizen-demo-2026")
    page.wait_for_function(CONTROLLED)
    page.goto(f"{demo.url}/me/?person={SON}")
    wait_until_kept(page, kept_for(SON))
    page.click("p.not-representative a")
    page.click("button.danger")
    page.wait_for_url(f"{demo.url}/me/")
    assert "Артём" not in page.inner_text("main")
    for path in kept_for(SON):
        wait_until_kept(page, [path], present=False)
    wait_until_kept(page, ["/me/"])
    # Kept again with its message shown once: the card with no network does not say it again at every look.
    wait_until(
        lambda: TOOK_OFF not in page.evaluate(KEPT_PAGE, "/me/"),  # type: ignore[attr-defined]
        "keep the card without its message",
    )

    page.context.set_offline(True)
    page.reload()  # her own card, kept
    assert "Иванова Мария" in page.inner_text("h1")
    assert TOOK_OFF not in page.inner_text("main")
    shot(page, "declined-son-gone-offline")
    for path in kept_for(SON):
        assert page.evaluate(OFFLINE_FETCH, path) == "not kept", path
    page.context.set_offline(False)
