"""The insurer ends a representation (webapp/registry/representations.py), on SQLite and PostgreSQL: from the
person's page through a confirmation page, or with `flask registry end-representation`. The former representative
loses the person on their next page; a link not there, one ended already and another insurer's insured's are
refused in words, and nothing is written."""

from __future__ import annotations

import html
import re
from datetime import date

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.helpers.moscow_day import yesterday
from tests.helpers.registry import person_data, register
from tests.webapp.pages import CHILD, MOTHER, STRANGER, csrf, field_error, logged_in
from webapp.extensions import db
from webapp.models import AuditEntry, Representation
from webapp.registry import lifecycle, people

#: The confirmation page of the mother's guardianship of Артём (born 1990: named for an adult, no end).
MOTHERS_LINK = f"/insurer/person/{CHILD}/representative/{MOTHER}/end"
#: A son of the mother's insured by the other insurer.
ELSEWHERE = "7700000000000065"


def _flash(page: str) -> str:
    found = re.search(r'<p class="flash [^"]*" role="alert">(.*?)</p>', page, re.S)
    return html.unescape(found.group(1)) if found else ""


def _followed(client: FlaskClient, response) -> str:
    assert response.status_code == 302, response.status_code
    return client.get(response.location).get_data(as_text=True)


def last_day(app: Flask, representative: str, represented: str) -> date | None:
    with app.app_context():
        return db.session.scalar(
            select(Representation.valid_to).where(
                Representation.representative_id == people.person_by_enp(representative).id,
                Representation.represented_id == people.person_by_enp(represented).id,
            )
        )


def _ended_entries(app: Flask) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "end_representation")))


def test_staff_end_a_guardianship_and_the_guardian_loses_the_ward_at_once(site: Flask) -> None:
    mother = logged_in(site, "ivanova")
    assert mother.get(f"/me/?person={CHILD}").status_code == 200
    staff = logged_in(site, "smo")
    page = staff.get(f"/insurer/person/{CHILD}").get_data(as_text=True)
    assert MOTHERS_LINK in page, "the ward's page offers to end the guardian's link"
    assert f"/insurer/person/{MOTHER}/dependant/{CHILD}/end" in staff.get(f"/insurer/person/{MOTHER}").get_data(
        as_text=True
    ), "and so does the guardian's"
    confirm = staff.get(MOTHERS_LINK).get_data(as_text=True)
    for words in ("Прекратить представительство?", "Иванова Мария Петровна", "Иванов Артём Сергеевич", "без срока"):
        assert words in confirm
    assert f"вчерашний день, {yesterday():%d.%m.%Y}" in confirm
    assert 'value="court"' in confirm
    assert "Решение суда" in confirm
    token = csrf(staff, MOTHERS_LINK)
    assert staff.post(MOTHERS_LINK, data={"grounds": "court"}).status_code == 400, "no CSRF token, no change"
    unchosen = staff.post(MOTHERS_LINK, data={"grounds": "", "csrf_token": token})
    assert unchosen.status_code == 400
    assert field_error(unchosen.get_data(as_text=True), "grounds") == "Выберите причину из списка"
    assert last_day(site, MOTHER, CHILD) is None
    assert _ended_entries(site) == []
    done = _followed(staff, staff.post(MOTHERS_LINK, data={"grounds": "court", "csrf_token": token}))
    assert _flash(done).startswith(f"Представительство прекращено, его последний день — {yesterday():%d.%m.%Y}")
    assert "представительство прекращено" in done, "the person's journal says so"
    assert MOTHERS_LINK not in done
    assert last_day(site, MOTHER, CHILD) == yesterday()
    (entry,) = _ended_entries(site)
    assert (entry.actor, entry.entity_key, entry.reason) == ("smo:smo", CHILD, "Решение суда")
    assert entry.details == {"representative": MOTHER, "valid_to": yesterday().isoformat()}
    for path in ("/me/", "/me/code.svg", "/me/extract.pdf", "/me/data-change"):
        assert mother.get(f"{path}?person={CHILD}").status_code == 404, f"{path}: no longer hers"
    assert "Артём" not in mother.get("/me/").get_data(as_text=True)


def test_a_link_ended_already_is_refused_and_nothing_is_written_twice(site: Flask) -> None:
    staff = logged_in(site, "smo")
    token = csrf(staff, MOTHERS_LINK)
    _followed(staff, staff.post(MOTHERS_LINK, data={"grounds": "registry_error", "csrf_token": token}))
    said = f"Это представительство уже прекращено: его последний день — {yesterday():%d.%m.%Y}"
    assert _flash(_followed(staff, staff.get(MOTHERS_LINK))) == said
    assert _flash(_followed(staff, staff.post(MOTHERS_LINK, data={"grounds": "court", "csrf_token": token}))) == said
    assert len(_ended_entries(site)) == 1


def test_a_link_that_is_not_there_is_refused(site: Flask) -> None:
    staff = logged_in(site, "smo")
    token = csrf(staff, MOTHERS_LINK)
    for other in (STRANGER, "7700000000000099"):  # a person not linked, and a number nobody has: said alike
        path = f"/insurer/person/{MOTHER}/dependant/{other}/end"
        assert _flash(_followed(staff, staff.get(path))) == "Такого представительства в реестре нет"
        posted = staff.post(path, data={"grounds": "court", "csrf_token": token})
        assert _flash(_followed(staff, posted)) == "Такого представительства в реестре нет"
    assert _ended_entries(site) == []


def test_another_insurers_insured_is_theirs_to_end(site: Flask) -> None:
    with site.app_context():
        son = person_data(ELSEWHERE[:15], "Иванов", "Олег", "Сергеевич", born=date(2015, 6, 1), sex="M")
        register(son, insurer="77002")
        lifecycle.link_representative(MOTHER, ELSEWHERE, "test")
    staff = logged_in(site, "smo")
    page = staff.get(f"/insurer/person/{MOTHER}").get_data(as_text=True)
    assert "застрахованное лицо другой СМО" in page
    path = f"/insurer/person/{MOTHER}/dependant/{ELSEWHERE}/end"
    assert path not in page, "no action offered for another insurer's insured"
    said = "Представляемого ведёт другая СМО: прекратить представительство может только она"
    assert _flash(_followed(staff, staff.get(path))) == said
    token = csrf(staff, MOTHERS_LINK)
    assert _flash(_followed(staff, staff.post(path, data={"grounds": "court", "csrf_token": token}))) == said
    assert last_day(site, MOTHER, ELSEWHERE) == date(2033, 5, 31), "still the son's majority eve"
    assert _ended_entries(site) == []


def _command(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["registry", "end-representation", *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_the_command_ends_a_link_and_a_running_site_sees_it_on_the_next_page(site: Flask) -> None:
    mother = logged_in(site, "ivanova")
    assert "Артём" in mother.get("/me/").get_data(as_text=True)
    code, said = _command(site, MOTHER, CHILD, "--reason", "of_age")
    assert code == 0, said
    assert f"Представительство прекращено, его последний день — {yesterday():%d.%m.%Y}" in said
    assert "Артём" not in mother.get("/me/").get_data(as_text=True), "no worker keeps the links it read"
    assert mother.get(f"/me/?person={CHILD}").status_code == 404
    (entry,) = _ended_entries(site)
    assert (entry.reason, entry.actor.startswith("cli:")) == ("Совершеннолетие", True)


def test_the_command_refuses_in_words_with_a_non_zero_exit(site: Flask) -> None:
    refusals = {
        (MOTHER, STRANGER, "court"): "Такого представительства в реестре нет",
        (MOTHER, "12345", "court"): "ЕНП",
        (CHILD, MOTHER, "court"): "Такого представительства в реестре нет",
    }
    for (representative, represented, grounds), words in refusals.items():
        code, said = _command(site, representative, represented, "--reason", grounds)
        assert code == 1, said
        assert words in said
    code, said = _command(site, MOTHER, CHILD, "--reason", "whim")
    assert code == 2
    assert "court" in said
    assert _command(site, MOTHER, CHILD, "--reason", "court")[0] == 0
    code, said = _command(site, MOTHER, CHILD, "--reason", "court")
    assert code == 1
    assert "уже прекращено" in said
    assert len(_ended_entries(site)) == 1
    with site.app_context():
        assert db.session.scalar(select(func.count()).select_from(Representation)) == 1


def test_coming_of_age_is_no_grounds_for_a_minor(site: Flask) -> None:
    with site.app_context():
        son = person_data(ELSEWHERE[:15], "Иванов", "Олег", "Сергеевич", born=date(2015, 6, 1), sex="M")
        register(son)
        lifecycle.link_representative(MOTHER, ELSEWHERE, "test")
    staff = logged_in(site, "smo")
    path = f"/insurer/person/{ELSEWHERE}/representative/{MOTHER}/end"
    assert 'value="of_age"' not in staff.get(path).get_data(as_text=True), "not offered for a minor"
    assert 'value="of_age"' in staff.get(MOTHERS_LINK).get_data(as_text=True), "offered for an adult"
    token = csrf(staff, path)
    refused = staff.post(path, data={"grounds": "of_age", "csrf_token": token})  # an old page, or typed
    assert refused.status_code == 400
    said = field_error(refused.get_data(as_text=True), "grounds")
    assert said == "Представляемому ещё нет 18 лет: основание «совершеннолетие» к нему не подходит"
    assert last_day(site, MOTHER, ELSEWHERE) == date(2033, 5, 31)
    assert _ended_entries(site) == []
    _followed(staff, staff.post(path, data={"grounds": "court", "csrf_token": token}))
    assert last_day(site, MOTHER, ELSEWHERE) == yesterday()
