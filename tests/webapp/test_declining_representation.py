"""A citizen the insurer named as someone's representative says «Я не представляю этого человека» from their phone,
on SQLite and PostgreSQL: asked first, then the link ends (webapp/registry/representations.py `end`, on the
representative's own grounds) and the card leaves their account. Only their own direct link, only theirs to end:
anything else answers 404, with no hint."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.helpers.moscow_day import yesterday
from tests.helpers.registry import person_data, register
from tests.webapp.pages import (
    CHILD,
    MOTHER,
    PASSWORD,
    STRANGER,
    csrf,
    field_error,
    logged_in,
    register_newborn_sofia,
)
from tests.webapp.test_ending_representations import last_day
from webapp.extensions import db
from webapp.models import AuditEntry, Role
from webapp.registry import accounts, lifecycle, reasons, representations
from webapp.registry.errors import RegistryError

DECLINE = f"/me/not-representative?person={CHILD}"
#: Артём's own ward: the mother reaches him through Артём, not directly.
GRANDCHILD = str(person_data("770000000000006").enp)


def _flash(page: str) -> str:
    found = re.search(r'<p class="flash [^"]*" role="alert">(.*?)</p>', page, re.S)
    return html.unescape(found.group(1)) if found else ""


def _ended(app: Flask) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "end_representation")))


def _decline(client: FlaskClient, path: str = DECLINE):
    return client.post(path, data={"csrf_token": csrf(client, "/me/")})


def test_a_citizen_removes_a_person_they_do_not_represent_after_being_asked(site: Flask) -> None:
    mother = logged_in(site, "ivanova")
    card = mother.get(f"/me/?person={CHILD}").get_data(as_text=True)
    assert DECLINE in card
    assert "Я не представляю этого человека" in card
    assert "/me/not-representative" not in mother.get("/me/").get_data(as_text=True), "not on her own card"
    asked = mother.get(DECLINE)
    assert asked.status_code == 200
    page = asked.get_data(as_text=True)
    for words in (
        "Вы не представляете этого человека?",
        "Иванов Артём Сергеевич",
        "Карточка сразу исчезнет из вашего личного кабинета",
        "только страховая компания этого человека",
        "не подтверждайте: обратитесь в его страховую компанию",
        "Да, я не представляю этого человека",
        "Отмена",
    ):
        assert words in page
    assert last_day(site, MOTHER, CHILD) is None, "asking changes nothing"
    assert mother.post(DECLINE).status_code == 400, "no CSRF token, no change"
    assert last_day(site, MOTHER, CHILD) is None
    done = _decline(mother)
    assert (done.status_code, done.location) == (302, "/me/")
    own = mother.get(done.location).get_data(as_text=True)
    assert _flash(own) == "Карточка убрана из вашего личного кабинета: вы больше не представитель этого человека."
    assert "Артём" not in own
    assert mother.get(f"/me/?person={CHILD}").status_code == 404
    assert last_day(site, MOTHER, CHILD) == yesterday()
    (entry,) = _ended(site)
    assert (entry.actor, entry.entity_key, entry.reason) == (
        "citizen:ivanova",
        CHILD,
        "Представитель отказался от представительства",
    )
    assert entry.details == {"representative": MOTHER, "valid_to": yesterday().isoformat()}
    assert _decline(mother).status_code == 404, "ended already: no longer hers"
    assert len(_ended(site)) == 1


def test_a_newborn_covered_by_the_citizens_policy_is_said_to_lose_that_cover(site: Flask) -> None:
    sofia = str(register_newborn_sofia(site).enp)
    mother = logged_in(site, "ivanova")
    lost = "Своего полиса у этого ребёнка пока нет: помощь ему перестанут оказывать по вашему полису."
    assert lost in mother.get(f"/me/not-representative?person={sofia}").get_data(as_text=True)
    assert lost not in mother.get(DECLINE).get_data(as_text=True), "Артём has a policy of his own"


def test_the_insurer_reads_who_ended_the_link_and_why_in_either_language(site: Flask) -> None:
    _decline(logged_in(site, "ivanova"))
    staff = logged_in(site, "smo")
    journal = staff.get(f"/insurer/person/{CHILD}").get_data(as_text=True)
    for words in ("застрахованный, вход ivanova", "представительство прекращено", "Представитель отказался"):
        assert words in journal
    staff.post("/language", data={"language": "en", "csrf_token": csrf(staff, "/insurer/")})
    journal = html.unescape(staff.get(f"/insurer/person/{CHILD}").get_data(as_text=True))
    assert "The representative declined to represent the person" in journal


def test_a_citizen_ends_nobody_but_their_own_direct_dependant(site: Flask) -> None:
    with site.app_context():
        register(person_data("770000000000006", "Иванов", "Пётр", "Артёмович", sex="M"))
        lifecycle.link_representative(CHILD, GRANDCHILD, "test")
        accounts.create_user("petrov", PASSWORD, Role.CITIZEN, "test", enp=STRANGER)
    mother = logged_in(site, "ivanova")
    assert GRANDCHILD not in mother.get("/me/").get_data(as_text=True), "reached through Артём: no card, no control"
    for path in (
        f"/me/not-representative?person={GRANDCHILD}",
        "/me/not-representative",
        DECLINE.replace(CHILD, STRANGER),
    ):
        assert mother.get(path).status_code == 404, path
        assert _decline(mother, path).status_code == 404, path
    stranger = logged_in(site, "petrov")
    assert stranger.get(DECLINE).status_code == 404
    assert _decline(stranger).status_code == 404, "another citizen cannot end the mother's link"
    for login in ("smo", "clinic", "admin"):
        staff = logged_in(site, login)
        token = csrf(staff, "/account/password")
        assert staff.post(DECLINE, data={"csrf_token": token}).status_code == 403, login
    assert last_day(site, MOTHER, CHILD) is None
    assert last_day(site, CHILD, GRANDCHILD) is None
    assert _ended(site) == []


def test_neither_staff_nor_the_operator_give_the_representatives_own_grounds(site: Flask) -> None:
    """The refusal is the representative's word (representations.decline): representations.end, through which staff
    and the operator's command end links, does not record it for them."""
    with site.app_context(), pytest.raises(RegistryError, match="Выберите причину из списка"):
        representations.end(MOTHER, CHILD, reasons.DECLINED, "operator")
    staff = logged_in(site, "smo")
    path = f"/insurer/person/{CHILD}/representative/{MOTHER}/end"
    assert 'value="declined"' not in staff.get(path).get_data(as_text=True), "not among the insurer's choices"
    refused = staff.post(path, data={"grounds": "declined", "csrf_token": csrf(staff, path)})
    assert refused.status_code == 400
    assert field_error(refused.get_data(as_text=True), "grounds") == "Выберите причину из списка"
    assert last_day(site, MOTHER, CHILD) is None
