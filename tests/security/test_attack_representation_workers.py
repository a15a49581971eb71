"""A parent's reach into a child's policy, while two warm gunicorn workers serve the parent's open session, when
what the representation's end hangs on changes under them (2026-12-06).

A parent's link ends on the eve of the child's 18th birthday (migration 0020), which is decided at each request
with the Moscow day of that request: no worker keeps the household or the day. The link's end is written when the
link is made, from the birth date the registry had then. A birth date the insurer corrects later (the registry had
the child two years younger than the birth certificate says) left that end where it was: a parent went on seeing,
showing and downloading the code of a child who was an adult by the registry's own record, for up to two years.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from flask import Flask
from sqlalchemy import update

from policy_codes.codec import moscow_date
from tests.faults.registry import prepare
from tests.faults.server import PASSWORD, Server, Session
from tests.helpers.claims import KEY_START
from tests.helpers.registry import person_data
from tests.security.test_attack_compromise_workers import operator
from tests.security.test_attack_state_workers import Served, at_once, both_warm, page_status
from webapp.db.engines import dispose_engines
from webapp.extensions import db
from webapp.models import Representation, Role
from webapp.registry import accounts, data_changes, lifecycle, people
from webapp.registry.rules import majority_eve

PARENT = "parent"
ROUNDS = 4


def _years_before(day: date, years: int) -> date:
    return day.replace(year=day.year - years) if (day.month, day.day) != (2, 29) else date(day.year - years, 2, 28)


def _child_pages(child: str) -> list[str]:
    return [f"/me/?person={child}", f"/me/show?person={child}", f"/me/code.svg?person={child}"]


def test_a_birth_date_corrected_to_an_adults_ends_the_parents_reach_in_every_warm_worker(
    served_database_url: str,
) -> None:
    """The child was registered as 16, with the mother as representative; the insurer corrects the birth date by
    the birth certificate: the child is 19. From the next request on, no worker serves the mother the child's card,
    the picture of the code or the «show at reception» page, and the registry names her no longer."""
    today = moscow_date(datetime.now(UTC))
    registry = prepare(served_database_url, people=1)
    mother = registry.enps[0]
    child = person_data("770000000000901", "Иванов", "Пётр", "Сергеевич", _years_before(today, 16), "M")
    with registry.app.app_context():
        lifecycle.register_person(child, "77001", "test", representative_enp=mother)
        accounts.create_user(PARENT, PASSWORD, Role.CITIZEN, "test", enp=mother)
        db.session.remove()
        dispose_engines()

    server = Server(served_database_url, workers=2).start()
    try:
        workers = server.wait_for_workers(exclude=0)
        parent = Session.login(server.url, PARENT)
        pages: list[Callable[[], str]] = [page_status(server, parent, path) for path in _child_pages(str(child.enp))]
        served = Served(server, registry, parent, workers)
        both_warm(served, lambda: at_once(pages * ROUNDS))
        assert at_once(pages * ROUNDS) == Counter({"200": len(pages) * ROUNDS})

        grown = _years_before(today, 19) - timedelta(days=3)
        operator(
            served_database_url,
            *("persons", "correct", str(child.enp), "--birth-date", grown.isoformat(), "--reason", "registry_error"),
            *("--document", f"birth_certificate;II-МЮ;123456;{grown.isoformat()};Отдел ЗАГС"),
        )
        assert server.workers_pids() == workers, "the same warm workers serve on"
        assert at_once(pages * 3 * ROUNDS) == Counter({"404": len(pages) * 3 * ROUNDS})
        card = parent.clone().http.get(f"{server.url}/me/", timeout=30).text
        assert "ПЁТР" not in card.upper(), "the mother's own card lists the grown son no more"
        with registry.app.app_context():
            assert people.representatives_of(people.person_by_enp(str(child.enp))) == []
            db.session.remove()
            dispose_engines()
    finally:
        server.stop()


def test_a_birth_date_corrected_to_a_minors_revives_the_parents_link_but_closes_no_circle(registry: Flask) -> None:
    """The other way: a son the registry had as 30 is 16 by his birth certificate. His mother's link, ended at the
    majority the registry believed, is hers again to his 18th birthday (one the insurer ended on another day stays
    ended: tests/webapp/test_ending_representations.py); unless he has become her guardian
    meanwhile, where it would close a circle (each seeing the other's policy), which a link never may."""
    today = moscow_date(datetime.now(UTC))
    document = data_changes.Document("birth_certificate", "II-МЮ", "123456", today, "Отдел ЗАГС")
    for enp15, guardian in (("770000000000951", False), ("770000000000952", True)):
        mother = person_data(f"{enp15[:-3]}{int(enp15[-3:]) + 20:03d}", "Иванова", "Анна", born=date(1980, 1, 1))
        son = person_data(enp15, "Иванов", "Пётр", "Сергеевич", _years_before(today, 30), "M")
        lifecycle.register_person(mother, "77001", "test", now=KEY_START)
        lifecycle.register_person(son, "77001", "test", representative_enp=str(mother.enp), now=KEY_START)
        db.session.execute(
            update(Representation)
            .where(Representation.represented_id == people.person_by_enp(str(son.enp)).id)
            .values(valid_to=majority_eve(_years_before(today, 30)))  # ended at the majority believed
        )
        db.session.commit()
        if guardian:
            assert lifecycle.link_representative(str(son.enp), str(mother.enp), "test")
        young = data_changes.NewData("Иванов", "Пётр", "Сергеевич", _years_before(today, 16), "M")
        reason = data_changes.ChangeReason.REGISTRY_ERROR
        data_changes.change_person_data(str(son.enp), young, reason, "", document, "test")
        hers = [person.enp for person in people.represented_by(people.person_by_enp(str(mother.enp)))]
        his = [person.enp for person in people.represented_by(people.person_by_enp(str(son.enp)))]
        if guardian:
            assert (hers, his) == ([], [str(mother.enp)]), "no circle"
        else:
            assert (hers, his) == ([str(son.enp)], []), "a minor's parent again, to his 18th birthday"
