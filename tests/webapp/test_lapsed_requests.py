"""A request a representative filed stops being open when their representation ends (webapp/registry/open_requests.py),
on SQLite and PostgreSQL: the insurer cannot accept it, nor sees it in its queue, and the person may file their own.
The link ends on the insurer's word, or by the calendar at the child's majority."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, update

from tests.helpers.moscow_day import today, years_ago
from tests.helpers.registry import person_data, register
from tests.webapp.pages import CHILD, MOTHER, PASSWORD, csrf, logged_in
from webapp.extensions import db
from webapp.models import DataChangeRequest, Person, ReissueRequest, Representation, RequestStatus, Role
from webapp.registry import accounts, data_changes, open_requests, people, reissue_requests
from webapp.registry.data_changes import ChangeReason, Document, NewData
from webapp.registry.open_requests import Lapsed
from webapp.registry.rules import majority_eve

REFUSED = "Заявку подал представитель, чьё представительство прекращено: её нельзя принять"
DOCUMENT = {
    "document_kind": "passport",
    "document_series": "4510",
    "document_number": "123456",
    "document_issued_on": "2026-11-20",
    "document_issuer": "ГУ МВД России по г. Москве",
}


def _change_form(token: str, given: str, born: date) -> dict[str, str]:
    """A surname corrected, as the registry got it wrong."""
    return {
        "surname": "Иванов-Петров",
        "given_name": given,
        "patronymic": "Сергеевич",
        "birth_date": born.isoformat(),
        "sex": "M",
        "reason": "registry_error",
        "reason_text": "",
        "csrf_token": token,
        **DOCUMENT,
    }


def _flash(page: str) -> str:
    found = re.search(r'<p class="flash [^"]*" role="alert">(.*?)</p>', page, re.S)
    return html.unescape(found.group(1)) if found else ""


def file_both(client: FlaskClient, enp: str, given: str, born: date) -> None:
    """A data change and a new code, asked for `enp` by whoever `client` is logged in as."""
    token = csrf(client, f"/me/?person={enp}")
    sent = client.post(f"/me/data-change?person={enp}", data=_change_form(token, given, born))
    assert sent.status_code == 302, sent.get_data(as_text=True)
    asked = client.post(f"/me/reissue-request?person={enp}", data={"reason": "lost_phone", "csrf_token": token})
    assert asked.status_code == 302


def _requests(app: Flask, enp: str) -> tuple[list[DataChangeRequest], list[ReissueRequest]]:
    with app.app_context():
        person = people.person_by_enp(enp)
        changes = db.session.scalars(select(DataChangeRequest).where(DataChangeRequest.person_id == person.id))
        codes = db.session.scalars(select(ReissueRequest).where(ReissueRequest.person_id == person.id))
        return list(changes.all()), list(codes.all())


def the_insurer_refuses_and_the_person_files_their_own(app: Flask, enp: str, login: str, given: str) -> None:
    (change,), (reissue,) = _requests(app, enp)
    with app.app_context():
        serial = people.current_code(people.person_by_enp(enp)).serial
    staff = logged_in(app, "smo")
    listing = staff.get("/insurer/requests").get_data(as_text=True)
    assert f"/insurer/data-requests/{change.id}/" not in listing, "not in the queue: nothing to answer"
    assert f"/insurer/requests/{reissue.id}/" not in listing
    assert "ждут ответа" not in staff.get("/insurer/").get_data(as_text=True), "nor counted"
    accept = f"/insurer/data-requests/{change.id}/accept"
    token = csrf(staff, "/insurer/")
    for method, path in (
        ("GET", accept),
        ("POST", accept),
        ("GET", f"/insurer/requests/{reissue.id}/reissue"),
        ("POST", f"/insurer/requests/{reissue.id}/reissue"),
        ("POST", f"/insurer/requests/{reissue.id}/decline"),
        ("POST", f"/insurer/data-requests/{change.id}/decline"),
    ):
        response = staff.open(path, method=method, data={"csrf_token": token} if method == "POST" else None)
        assert response.status_code == 302, (method, path)
        assert _flash(staff.get(response.location).get_data(as_text=True)) == REFUSED
    with app.app_context():
        person = people.person_by_enp(enp)
        assert person.surname == "ИВАНОВ", "the former representative's word changed nothing"
        assert people.current_code(person).serial == serial
    assert [row.status for row in _requests(app, enp)[0]] == [RequestStatus.OPEN]
    _the_insurer_reads_them_as_lapsed_on_the_persons_page(staff, enp, [change], [reissue])

    with app.app_context():
        accounts.create_user(login, PASSWORD, Role.CITIZEN, "test", enp=enp)
    grown = logged_in(app, login)
    card = grown.get("/me/").get_data(as_text=True)
    assert 'href="/me/data-change' in card, "the former representative's request does not block theirs"
    assert "ждёт ответа" not in card
    with app.app_context():
        born = people.person_by_enp(enp).birth_date
    file_both(grown, enp, given, born)
    changes, reissues = _requests(app, enp)
    assert [row.status for row in changes] == [RequestStatus.LAPSED, RequestStatus.OPEN]
    assert [row.status for row in reissues] == [RequestStatus.LAPSED, RequestStatus.OPEN]
    with app.app_context():
        assert changes[1].filed_by_id == people.person_by_enp(enp).id
    listing = staff.get("/insurer/requests").get_data(as_text=True)
    assert f"/insurer/data-requests/{changes[1].id}/accept" in listing, "their own waits for the insurer"
    assert f"/insurer/requests/{reissues[1].id}/reissue" in listing
    _the_insurer_reads_them_as_lapsed_on_the_persons_page(staff, enp, changes, reissues)


#: A lapsed request's line on the person's page, in each language: {asked} its kind, {day} filed and lapsed today.
LAPSED_LINES = {
    "ru": "Заявка представителя на {asked} от {day} закрыта {day}: представительство прекращено.",
    "en": "A representative's request {asked}, filed on {day}, was closed on {day}: the representation ended.",
}
ASKED = {"ru": ("новый код", "изменение данных"), "en": ("for a new code", "to change the person's data")}


def _lapsed_lines(staff: FlaskClient, enp: str, language: str) -> list[str]:
    staff.post("/language", data={"language": language, "csrf_token": csrf(staff, "/insurer/")})
    page = staff.get(f"/insurer/person/{enp}").get_data(as_text=True)
    return sorted(html.unescape(line) for line in re.findall(r'<p class="flash lapsed-request">(.*?)</p>', page, re.S))


def _the_insurer_reads_them_as_lapsed_on_the_persons_page(
    staff: FlaskClient, enp: str, changes: list[DataChangeRequest], reissues: list[ReissueRequest]
) -> None:
    """The former representative's two, lapsed from the day the link ended (today), once each in plain words with
    their days, whether still open or closed as the person filed their own; nothing offered to answer them, beside
    the person's own that waits."""
    day = today().strftime("%d.%m.%Y")
    for language in ("en", "ru"):
        expected = sorted(LAPSED_LINES[language].format(asked=asked, day=day) for asked in ASKED[language])
        assert _lapsed_lines(staff, enp, language) == expected
    page = staff.get(f"/insurer/person/{enp}").get_data(as_text=True)
    assert f"/insurer/data-requests/{changes[0].id}/" not in page
    assert f"/insurer/requests/{reissues[0].id}/" not in page
    own = len(changes) > 1  # the person's own, filed after, waits for an answer
    assert ("Рассмотреть заявку" in page, "Перевыпуск кода её закроет" in page) == (own, own)


def test_the_insurer_ends_the_link_and_the_guardians_open_requests_lapse(site: Flask) -> None:
    mother = logged_in(site, "ivanova")
    with site.app_context():
        born = people.person_by_enp(CHILD).birth_date
    file_both(mother, CHILD, "Артём", born)
    staff = logged_in(site, "smo")
    (change,), _ = _requests(site, CHILD)
    assert staff.get(f"/insurer/data-requests/{change.id}/accept").status_code == 200, "answerable while she acts"
    end = f"/insurer/person/{CHILD}/representative/{MOTHER}/end"
    assert staff.post(end, data={"grounds": "court", "csrf_token": csrf(staff, end)}).status_code == 302
    the_insurer_refuses_and_the_person_files_their_own(site, CHILD, "artem", "Артём")


def test_a_childs_majority_lapses_the_parents_open_requests_with_nothing_run_that_day(site: Flask) -> None:
    """A son 18 the day after tomorrow: his mother files for him, then two days pass (his birth date and the link's
    last day move back by two days, as the calendar moves on) and he is of age."""
    with site.app_context():
        born = years_ago(18) + timedelta(days=2)
        son = person_data("770000000000031", "Иванов", "Пётр", "Сергеевич", born=born, sex="M")
        register(son, representative_enp=MOTHER)
    enp = str(son.enp)
    file_both(logged_in(site, "ivanova"), enp, "Пётр", born)
    with site.app_context():
        person = people.person_by_enp(enp)
        born_earlier = born - timedelta(days=2)
        db.session.execute(update(Person).where(Person.id == person.id).values(birth_date=born_earlier))
        moved = db.session.execute(
            update(Representation)
            .where(Representation.represented_id == person.id)
            .values(valid_to=majority_eve(born_earlier))  # not the old last day less two: 29 February
        )
        assert moved.rowcount == 1
        db.session.commit()
    assert logged_in(site, "ivanova").get(f"/me/?person={enp}").status_code == 404, "of age: his own"
    the_insurer_refuses_and_the_person_files_their_own(site, enp, "petr", "Пётр")


def test_a_request_filed_before_the_filer_was_recorded_stands_as_before(registry: Flask) -> None:
    """Migration 0021 gives the requests already there no filer: they stay open, whatever became of the links."""
    register()
    child = register(person_data("770000000000002", "Иванов", "Артём", "Сергеевич", sex="M")).person
    new = NewData.of(child)
    new = NewData("ИВАНОВ-ПЕТРОВ", new.given_name, new.patronymic, new.birth_date, new.sex)
    document = Document("passport", "4510", "123456", date(2026, 11, 20), "ГУ МВД")
    request = data_changes.request_change(child, new, ChangeReason.REGISTRY_ERROR, "", document, "test")
    reissue_requests.request_reissue(child, "Потерян телефон", "test")
    request_id, child_id, insurer_id = request.id, child.id, child.insurer_id
    db.session.commit()
    db.session.remove()
    downgrade(revision="0020")
    upgrade()
    assert db.session.scalar(select(DataChangeRequest.filed_by_id)) is None
    assert db.session.scalar(select(ReissueRequest.filed_by_id)) is None
    assert data_changes.open_change_request_of(child_id).id == request_id
    assert [item.id for item in data_changes.open_change_requests(insurer_id)] == [request_id]
    assert data_changes.accept_change_request(request_id, "test") is not None
    assert reissue_requests.open_request_of(child_id) is not None


def test_an_open_request_lapses_on_the_first_day_its_link_was_not_in_force(site: Flask) -> None:
    """Ended five days ago, the mother's link: her request, still open, reads as lapsed since the day after its last
    day, not since the page was read; in force again, it waits again and shows as lapsed no more."""
    with site.app_context():
        child, mother = people.person_by_enp(CHILD), people.person_by_enp(MOTHER)
        request = reissue_requests.request_reissue(child, "Потерян телефон", "test", filed_by=mother)
        link = update(Representation).where(Representation.represented_id == child.id)
        db.session.execute(link.values(valid_to=today() - timedelta(days=5)))
        db.session.commit()
        assert open_requests.lapsed_of(child.id) == [Lapsed("reissue", request.created_at, today() - timedelta(days=4))]
        db.session.execute(link.values(valid_to=None))
        db.session.commit()
        assert open_requests.lapsed_of(child.id) == []
