"""The insurer's screens as a clerk reads them (issue 18): plain words for every stored value, Moscow time,
only the actions the policy's state allows, each confirmed with a reason, and a search that says what it
needs. Through the test client, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from policy_codes import Enp, Verdict
from tests.helpers.registry import NOW, person_data, register
from tests.webapp.pages import CHILD, MOTHER, csrf, field_error, logged_in, register_newborn_sofia, take_step
from webapp.extensions import db
from webapp.models import ActivationCode, AuditEntry, Category
from webapp.registry import activation, lifecycle, people, reissue_requests
from webapp.registry.errors import RegistryError
from webapp.registry.reasons import DETAILS_ONLY_FOR_OTHER
from webapp.registry.rules import newborn_cover_last_day

#: The internal words a clerk must never read: statuses, actions, actor prefixes.
RAW = re.compile(r">\s*(active|suspended|terminated|revoked|superseded|current|register|revoke|reissue|"
                 r"request_reissue|suspend|terminate|resume)\s*<|\bsmo:|\bcitizen:")  # fmt: skip


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_persons_page_reads_in_words_and_moscow_time(site: Flask) -> None:
    with site.app_context():
        reissue_requests.request_reissue(people.person_by_enp(CHILD), "телефон потерян", "citizen:ivanova", now=NOW)
        lifecycle.revoke(CHILD, "smo:smo", "украден телефон", now=NOW)
    staff = logged_in(site, "smo")
    page = staff.get(f"/insurer/person/{CHILD}").get_data(as_text=True)
    assert not RAW.search(page), RAW.search(page)
    words = text_of(page)
    assert "23.11.2026 15:00 МСК" in words, "registered and revoked at 12:00 UTC: 15:00 in Moscow"
    assert "12:00" not in words
    assert "сотрудник СМО smo" in words
    assert "застрахованный, вход ivanova" in words
    assert "код отозван" in words
    assert "заявка на новый код" in words
    assert "отозван" in words


def test_the_requests_list_shows_moscow_time(site: Flask) -> None:
    with site.app_context():
        reissue_requests.request_reissue(people.person_by_enp(MOTHER), "телефон потерян", "citizen:ivanova", now=NOW)
    words = text_of(logged_in(site, "smo").get("/insurer/requests").get_data(as_text=True))
    assert "23.11.2026 15:00 МСК" in words


def test_the_persons_page_in_english_reads_english_words(site: Flask) -> None:
    with site.app_context():
        lifecycle.revoke(CHILD, "smo:smo", "украден телефон", now=NOW)
    staff = logged_in(site, "smo")
    staff.post("/language", data={"language": "en", "next": "/insurer/", "csrf_token": csrf(staff, "/insurer/")})
    words = text_of(staff.get(f"/insurer/person/{CHILD}").get_data(as_text=True))
    assert "23.11.2026 15:00 MSK" in words
    assert "insurer staff smo" in words
    assert "code revoked" in words


# Item 2: only what the state allows, a reason from a list, and a confirmation that needs no JavaScript.

ACTIONS = ("reissue", "revoke", "suspend", "resume", "terminate")
STATUS_CODES = re.compile(r"\b(active|suspended|terminated|closed|temporary_certificate)\b")


def offered(client: FlaskClient, enp: str) -> set[str]:
    page = client.get(f"/insurer/person/{enp}").get_data(as_text=True)
    return {action for action in ACTIONS if f'href="/insurer/person/{enp}/{action}"' in page}


def test_the_person_page_offers_only_what_the_policys_state_allows(site: Flask) -> None:
    staff = logged_in(site, "smo")
    assert offered(staff, MOTHER) == {"reissue", "revoke", "suspend", "terminate"}, "active: nothing to resume"
    with site.app_context():
        lifecycle.suspend(MOTHER, "smo:smo", "срочная служба", now=NOW)
    assert offered(staff, MOTHER) == {"resume", "terminate"}
    with site.app_context():
        lifecycle.terminate(MOTHER, "smo:smo", "смерть", now=NOW)
    assert offered(staff, MOTHER) == set(), "terminated is final"
    assert 'name="reason"' not in staff.get(f"/insurer/person/{MOTHER}").get_data(as_text=True), "asked on its own page"


def test_every_action_that_asks_first_says_so_with_an_ellipsis(site: Flask) -> None:
    """«Перевыпустить код» and «Возобновить полис» open a confirmation as «Отозвать код…» does, but read as if
    one tap did it."""
    staff = logged_in(site, "smo")
    with site.app_context():
        lifecycle.suspend(CHILD, "smo:smo", "срочная служба", now=NOW)
    for enp in (MOTHER, CHILD):
        page = staff.get(f"/insurer/person/{enp}").get_data(as_text=True)
        nav = re.search(r'<nav class="links person-actions"[^>]*>(.*?)</nav>', page, re.S)
        assert nav, page
        labels = re.findall(r'<a class="button" href="/insurer/person/\d+/\w+">([^<]+)</a>', nav.group(1))
        assert labels
        assert all(label.endswith("…") for label in labels), labels


def action_page(client: FlaskClient, enp: str, action: str) -> str:
    response = client.get(f"/insurer/person/{enp}/{action}")
    assert response.status_code == 200, response.location
    return response.get_data(as_text=True)


def form_of(page: str) -> tuple[str, list[str]]:
    """The confirmation form's action and its reasons' values."""
    form = re.search(r'<form method="post" action="([^"]+)"(.*?)</form>', page.split("<main>")[1], re.S)
    assert form, page
    return form.group(1), re.findall(r'<option value="([^"]*)"', form.group(2))


@pytest.mark.parametrize(
    ("action", "warning"),
    [
        ("terminate", "Это окончательно"),
        ("suspend", "перестанет приниматься"),
        ("revoke", "перестанет приниматься"),
    ],
)
def test_an_irreversible_action_asks_first_naming_the_person_and_what_happens(
    site: Flask, action: str, warning: str
) -> None:
    staff = logged_in(site, "smo")
    page = action_page(staff, MOTHER, action)
    words = text_of(page)
    assert "Иванова Мария Петровна" in words
    assert warning in words
    assert "<script" not in page.split("<main>")[1], "a plain form: it works without JavaScript"
    target, choices = form_of(page)
    assert target == f"/insurer/person/{MOTHER}/{action}"
    assert choices[0] == "", "nothing chosen until the clerk chooses"
    assert "other" in choices
    assert len(choices) >= 3
    with site.app_context():
        assert people.open_policy(people.person_by_enp(MOTHER)).status == "active", "asking changed nothing"
        assert people.current_code(people.person_by_enp(MOTHER)) is not None


def test_terminate_records_the_reason_chosen_from_the_list(site: Flask) -> None:
    with site.app_context():
        people.open_policy(people.person_by_enp(MOTHER)).valid_to = date(2027, 6, 24)  # a worker's, time-limited
        db.session.commit()
    staff = logged_in(site, "smo")
    assert "по 24.06.2027" in staff.get(f"/insurer/person/{MOTHER}").get_data(as_text=True)
    page = action_page(staff, MOTHER, "terminate")
    assert "Смерть застрахованного" in page
    response = staff.post(f"/insurer/person/{MOTHER}/terminate", data={"reason": "death", "csrf_token": csrf_of(page)})
    assert response.status_code == 302
    assert response.location.endswith(f"/insurer/person/{MOTHER}")
    with site.app_context():
        policy = people.open_policy(people.person_by_enp(MOTHER))
        assert policy.status == "terminated"
        assert policy.status_reason == "Смерть застрахованного"
    after = staff.get(f"/insurer/person/{MOTHER}").get_data(as_text=True)
    assert "Полис прекращён" in after
    line = re.search(r'<p class="policy-kind">(.*?)</p>', after)
    assert line, after
    assert "2027" not in line.group(1), "the end date it had is not when it ended: it read as valid until then"
    assert "(Смерть застрахованного)" in re.search(r'<p class="policy-status">(.*?)</p>', after).group(1)
    staff.post("/language", data={"language": "en", "next": "/insurer/", "csrf_token": csrf(staff, "/insurer/")})
    assert "(Death of the insured person)" in staff.get(f"/insurer/person/{MOTHER}").get_data(as_text=True)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({}, "reason", "Выберите причину из списка"),
        ({"reason": "bored"}, "reason", "Выберите причину из списка"),
        ({"reason": "other", "details": "   "}, "details", "Опишите причину своими словами"),
        ({"reason": "other", "details": "я" * 501}, "details", "Причина длиннее 500 знаков"),
        ({"reason": "misused", "details": "в метро"}, "details", DETAILS_ONLY_FOR_OTHER),
    ],
)
def test_a_reason_is_chosen_or_described_and_a_missing_one_is_said_beside_the_field(
    site: Flask, form: dict[str, str], field: str, message: str
) -> None:
    staff = logged_in(site, "smo")
    page = action_page(staff, MOTHER, "revoke")
    response = staff.post(f"/insurer/person/{MOTHER}/revoke", data={**form, "csrf_token": csrf_of(page)})
    assert response.status_code == 400
    answer = response.get_data(as_text=True)
    assert field_error(answer, field) == message, answer
    assert re.search(rf'name="{field}"[^>]*aria-describedby="{field}-error"', answer), "the field names its error"
    assert 'class="flash' not in answer, "said beside the field, not at the top of the page"
    assert "Иванова Мария Петровна" in answer, "still the confirmation page"
    with site.app_context():
        assert people.current_code(people.person_by_enp(MOTHER)) is not None, "nothing revoked"


def test_other_records_the_clerks_own_words(site: Flask) -> None:
    staff = logged_in(site, "smo")
    page = action_page(staff, MOTHER, "revoke")
    data = {"reason": "other", "details": "  код  отправлен  не тому  ", "csrf_token": csrf_of(page)}
    assert staff.post(f"/insurer/person/{MOTHER}/revoke", data=data).status_code == 302
    with site.app_context():
        assert people.current_code(people.person_by_enp(MOTHER)) is None
    assert "код отправлен не тому" in staff.get(f"/insurer/person/{MOTHER}").get_data(as_text=True)


@pytest.mark.parametrize(("state", "action"), [("terminate", "reissue"), ("terminate", "resume"), (None, "resume")])
def test_a_refused_action_says_why_in_words_never_a_status_code(site: Flask, state: str | None, action: str) -> None:
    with site.app_context():
        if state:
            getattr(lifecycle, state)(MOTHER, "smo:smo", "смерть", now=NOW)
    staff = logged_in(site, "smo")
    asked = staff.get(f"/insurer/person/{MOTHER}/{action}")
    assert asked.status_code == 302, "no confirmation page for what the state refuses"
    page = staff.get(asked.location).get_data(as_text=True)
    flash = re.search(r'<p class="flash error"[^>]*>(.*?)</p>', page, re.S)
    assert flash, page
    assert "прекращён" in flash.group(1) or "действует" in flash.group(1)
    assert not STATUS_CODES.search(flash.group(1))
    form = {"reason": "other", "details": "проверка", "csrf_token": csrf_of(page)}
    posted = staff.post(f"/insurer/person/{MOTHER}/{action}", data=form)
    assert posted.status_code == 302
    refusal = re.search(r'<p class="flash error"[^>]*>(.*?)</p>', staff.get(posted.location).get_data(as_text=True))
    assert refusal
    assert not STATUS_CODES.search(refusal.group(1))


def test_an_unknown_action_is_not_found(site: Flask) -> None:
    staff = logged_in(site, "smo")
    assert staff.get(f"/insurer/person/{MOTHER}/shred").status_code == 404
    token = csrf(staff, "/insurer/")
    assert staff.post(f"/insurer/person/{MOTHER}/shred", data={"csrf_token": token}).status_code == 404


def test_the_confirmation_page_in_english(site: Flask) -> None:
    staff = logged_in(site, "smo")
    staff.post("/language", data={"language": "en", "next": "/insurer/", "csrf_token": csrf(staff, "/insurer/")})
    page = action_page(staff, MOTHER, "terminate")
    assert "Death of the insured person" in page
    assert not re.search("[А-Яа-яЁё]", text_of(page.split("<main>")[1]).replace("Иванова Мария Петровна", ""))


@pytest.mark.parametrize(
    ("action", "verdict"),
    [("reissue", "superseded"), ("revoke", "revoked"), ("suspend", "suspended"), ("terminate", "terminated")],
)
def test_a_confirmation_quotes_what_reception_will_see_in_its_own_words(site: Flask, action: str, verdict: str) -> None:
    """«регистратура увидит «заменён новым»» while the desk read «Код заменён», «полис прекращён» while it read
    «Прекращён»: a clerk on the phone with a clinic heard words the page never promised. It quotes the headline."""
    staff = logged_in(site, "smo")
    assert f"регистратура увидит «{Verdict(verdict).headline('ru')}»" in text_of(action_page(staff, MOTHER, action))
    staff.post("/language", data={"language": "en", "next": "/insurer/", "csrf_token": csrf(staff, "/insurer/")})
    assert f"reception will see “{Verdict(verdict).headline('en')}”" in text_of(action_page(staff, MOTHER, action))


# Item 7: the search says what it needs before it fails, and never fails and finds nothing at once.


def test_the_search_says_what_it_needs_before_it_is_used(site: Flask) -> None:
    page = text_of(logged_in(site, "smo").get("/insurer/").get_data(as_text=True))
    assert "по фамилии — вместе с датой рождения" in page
    assert "фамилия и имя" not in page, "it promised «surname and name»; a surname with the birth date is enough"


def test_a_surname_alone_is_refused_with_one_message_and_no_empty_result(site: Flask) -> None:
    staff = logged_in(site, "smo")
    response = staff.get("/insurer/?q=Иванова")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Для поиска по фамилии укажите дату рождения" in page
    assert "Никого не нашли" not in page
    assert 'value="Иванова"' in page, "what was typed stays"
    found = staff.get("/insurer/?q=Иванова&birth_date=1990-04-12").get_data(as_text=True)
    assert f"/insurer/person/{MOTHER}" in found
    assert Enp(MOTHER).grouped() in found, "the ЕНП in fours, as everywhere else"
    assert 'class="field-error"' not in found
    miscounted = staff.get(f"/insurer/?q={MOTHER[:15]}")
    assert miscounted.status_code == 400
    assert "В ЕНП 16 цифр, в СНИЛС 11" in miscounted.get_data(as_text=True), "15 digits are no surname"
    nobody = staff.get("/insurer/?q=Сидорова&birth_date=1990-04-12").get_data(as_text=True)
    assert "Никого не нашли" in nobody
    assert 'class="field-error"' not in nobody


def test_a_search_by_an_enp_with_a_typo_says_so(site: Flask) -> None:
    """«Никого не нашли» for a mistyped check digit sent the clerk looking for the person elsewhere (a transfer,
    a new registration) when the number was wrong; the desk and the import said «опечатка» already."""
    staff = logged_in(site, "smo")
    mistyped = MOTHER[:-1] + str((int(MOTHER[-1]) + 1) % 10)
    response = staff.get(f"/insurer/?q={mistyped}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "В ЕНП опечатка" in page
    assert "Никого не нашли" not in page
    grouped = staff.get("/insurer/", query_string={"q": Enp(MOTHER).grouped()}).get_data(as_text=True)
    assert f"/insurer/person/{MOTHER}" in grouped, "the number as the card prints it"


def test_a_search_that_finds_nobody_says_where_the_person_may_be(site: Flask) -> None:
    """«Никого не нашли» as a lone list item, and the clerk with the person at the desk was left to guess: it
    says what to compare, and leads to the two ways a person not among theirs comes in."""
    nobody = logged_in(site, "smo").get("/insurer/?q=Сидорова&birth_date=1990-04-12").get_data(as_text=True)
    found = re.search(r'<section class="nobody-found"[^>]*>(.*?)</section>', nobody, re.S)
    assert found, "said in its own place, not as a result"
    assert "Сверьте ЕНП или фамилию с датой рождения" in found.group(1)
    assert 'href="/insurer/transfer"' in found.group(1)
    assert 'href="/insurer/new"' in found.group(1)
    assert '<ul class="results">' not in nobody, "no list of one line that is not a person"


@pytest.mark.parametrize("language", ["ru", "en"])
def test_a_snils_mistyped_in_the_search_is_said_so_beside_the_field(site: Flask, language: str) -> None:
    """Eleven digits whose check number is wrong: a СНИЛС with a typo, said as such (it was a 500)."""
    staff = logged_in(site, "smo")
    with staff.session_transaction() as session:
        session["language"] = language
    response = staff.get("/insurer/?q=123-456-789 01")
    assert response.status_code == 400
    said = {"ru": "В СНИЛС опечатка: контрольно", "en": "The СНИЛС has a typo: its "}[language]
    assert said in field_error(response.get_data(as_text=True), "query")


def test_a_person_with_no_code_yet_says_so_under_codes(site: Flask) -> None:
    """A newborn covered by the mother's policy has no code of their own: the table says so, not empty headers."""
    sofia = register_newborn_sofia(site)
    page = text_of(logged_in(site, "smo").get(f"/insurer/person/{sofia.enp}").get_data(as_text=True))
    assert "Кодов ещё нет" in page
    assert "Кодов ещё нет" not in text_of(
        logged_in(site, "smo").get(f"/insurer/person/{MOTHER}").get_data(as_text=True)
    )


def test_the_persons_page_names_their_representatives_and_children(site: Flask) -> None:
    staff = logged_in(site, "smo")
    mother = text_of(staff.get(f"/insurer/person/{MOTHER}").get_data(as_text=True))
    assert "Дети и подопечные Иванов Артём Сергеевич" in mother
    child = staff.get(f"/insurer/person/{CHILD}").get_data(as_text=True)
    assert f'href="/insurer/person/{MOTHER}"' in child
    assert "Законные представители Иванова Мария Петровна" in text_of(child)


def test_a_linked_person_another_insurer_holds_is_not_named(site: Flask) -> None:
    """Nor told by sex: "застрахована" would tell a clerk who linked anyone's ЕНП whether it is a woman's."""
    with site.app_context():
        person = people.person_by_enp(MOTHER)
        person.insurer_id = people.insurer_by_code("77002").id  # as a change of insurer leaves her
        db.session.commit()
    child = text_of(logged_in(site, "smo").get(f"/insurer/person/{CHILD}").get_data(as_text=True))
    assert "Законные представители застрахованное лицо другой СМО" in child
    assert "Иванова" not in child


def test_the_insured_page_counts_the_requests_waiting_for_an_answer(site: Flask) -> None:
    staff = logged_in(site, "smo")
    assert "ждут ответа" not in staff.get("/insurer/").get_data(as_text=True)
    with site.app_context():
        for enp in (MOTHER, CHILD):
            reissue_requests.request_reissue(people.person_by_enp(enp), "телефон потерян", "citizen:ivanova", now=NOW)
    assert "Заявки застрахованных (ждут ответа: 2)" in text_of(staff.get("/insurer/").get_data(as_text=True))
    with site.app_context():
        other = people.insurer_by_code("77002").id
        person = people.person_by_enp(CHILD)
        person.insurer_id = other  # another insurer's insured: not this clerk's to answer
        db.session.commit()
    assert "(ждут ответа: 1)" in text_of(staff.get("/insurer/").get_data(as_text=True))


def test_a_newborns_page_says_until_when_the_representatives_policy_covers_them(site: Flask) -> None:
    sofia = register_newborn_sofia(site)
    staff = logged_in(site, "smo")
    page = text_of(staff.get(f"/insurer/person/{sofia.enp}").get_data(as_text=True))
    assert sofia.birth_registered_on is not None
    last_day = newborn_cover_last_day(sofia.birth_registered_on).strftime("%d.%m.%Y")
    assert f"своего ещё нет; до {last_day} включительно помощь оказывается по полису представителя (Демо-Мед)" in page
    with site.app_context():
        lifecycle.terminate(MOTHER, "smo:smo", "смерть застрахованного", now=NOW)
    ended = text_of(staff.get(f"/insurer/person/{sofia.enp}").get_data(as_text=True))
    assert "своего нет, и полис представителя ребёнка больше не покрывает" in ended


def test_the_policy_line_names_its_kind_once(site: Flask) -> None:
    """«Полис: Полис ОМС единого образца, действует» said «полис» twice: the kind is the line's own words."""
    staff = logged_in(site, "smo")
    words = text_of(staff.get(f"/insurer/person/{MOTHER}").get_data(as_text=True))
    assert "Полис: Полис" not in words
    assert "Полис ОМС единого образца с " in words
    assert "Статус полиса: действует" in words
    staff.post("/language", data={"language": "en", "next": "/insurer/", "csrf_token": csrf(staff, "/insurer/")})
    words = text_of(staff.get(f"/insurer/person/{MOTHER}").get_data(as_text=True))
    assert "Policy: " not in words


def test_the_card_says_when_the_policy_stands_but_no_code_does(site: Flask) -> None:
    """A revoked code left the card reading «Статус: действует», its code's state only in the list far below: a
    clerk told the person all was well."""
    staff = logged_in(site, "smo")
    assert code_line(staff) == "Код: № 1, действующий"
    with site.app_context():
        lifecycle.revoke(MOTHER, "smo:smo", "украден", now=NOW)
    assert "Статус полиса: действует" in text_of(staff.get(f"/insurer/person/{MOTHER}").get_data(as_text=True))
    assert code_line(staff) == "Код: действующего нет, последний № 1 — отозван"
    staff.post("/language", data={"language": "en", "next": "/insurer/", "csrf_token": csrf(staff, "/insurer/")})
    assert code_line(staff) == "Code: no valid one, the last (no. 1): revoked"


def code_line(staff: FlaskClient) -> str:
    page = staff.get(f"/insurer/person/{MOTHER}").get_data(as_text=True)
    line = re.search(r'<p class="code-status"[^>]*>(.*?)</p>', page, re.S)
    assert line, "the card has its code's line"
    return re.sub(r"<[^>]+>", "", line.group(1)).strip()


def test_a_terminated_policy_gets_no_code_for_the_account(site: Flask) -> None:
    with site.app_context():
        lifecycle.terminate(MOTHER, "smo:smo", "Смерть застрахованного", now=NOW)
    staff = logged_in(site, "smo")
    page = staff.get(f"/insurer/person/{MOTHER}").get_data(as_text=True)
    assert "activation-code" not in page, "nothing to open or recover an account for"
    assert "ничего сделать нельзя" not in page, "an error in the data can still be corrected"
    asked = staff.get(f"/insurer/person/{MOTHER}/activation-code")
    assert asked.status_code == 302, "no page to ask on"
    assert "код для входа в личный кабинет не выдаётся" in staff.get(asked.location).get_data(as_text=True)
    form = {"csrf_token": csrf_of(page), "confirmed": "yes"}
    refused = staff.post(f"/insurer/person/{MOTHER}/activation-code", data=form)
    assert refused.status_code == 302
    assert refused.location.endswith(f"/insurer/person/{MOTHER}")
    assert "код для входа в личный кабинет не выдаётся" in staff.get(refused.location).get_data(as_text=True)


# The person page's steps with nothing to choose (a policy for the certificate, the newborn's, the next term, a code
# for the account) were forms of one button: a mis-tap issued a policy, or voided a code just handed out on paper.
# Each now asks first on a page of its own, as the actions do, and only that page's form does it.

NEWCOMER = str(person_data("770000000000065", "Смирнова", "Анна", "Викторовна", date(2001, 11, 5)).enp)
WORKER = person_data(
    "770000000000057", "Каримов", "Ильдар", "Рустамович", date(1995, 6, 17), "M", Category.EAEU_WORKER,
    right_valid_until=date.today() + timedelta(days=30),
)  # fmt: skip


def _held_certificate(site: Flask) -> str:
    with site.app_context():
        register(person_data("770000000000065", "Смирнова", "Анна", "Викторовна", date(2001, 11, 5)), temporary=True)
    return NEWCOMER


def _newborn(site: Flask) -> str:
    return str(register_newborn_sofia(site).enp)


def _new_contract(site: Flask) -> str:
    """An EAEU worker whose contract was extended after the policy was issued: a next term to give."""
    with site.app_context():
        register(WORKER, at=datetime.now(UTC))
        people.person_by_enp(str(WORKER.enp)).right_valid_until = date.today() + timedelta(days=300)
        db.session.commit()
    return str(WORKER.enp)


def _unused_code(site: Flask) -> str:
    """MOTHER, holding a code for a new password handed out and not used yet."""
    with site.app_context():
        activation.issue_code(MOTHER, "smo:smo")
    return MOTHER


def _state(site: Flask, enp: str) -> tuple[object, ...]:
    """What a step changes: the policies, the codes, the one-time codes, the audit."""
    with site.app_context():
        person = people.person_by_enp(enp)
        policy = people.open_policy(person)
        one_time = db.session.scalars(select(ActivationCode.expires_at).where(ActivationCode.person_id == person.id))
        return (
            policy and (policy.id, policy.kind, policy.valid_to),
            [(code.serial, code.status) for code in people.codes_of(person)],
            sorted(one_time),
            db.session.scalar(select(func.count()).select_from(AuditEntry)),
        )


STEPS = {
    "issue-policy": (_held_certificate, "Полис готов: выдать вместо временного свидетельства…",
                     "Выдать полис вместо временного свидетельства?",
                     ["Временное свидетельство закрывается", "код № 1 перестаёт приниматься"]),
    "newborn-policy": (_newborn, "Выдать полис новорождённому…", "Выдать полис новорождённому?",
                       ["свой полис ОМС единого образца в Демо-Мед", "первый код полиса ребёнка"]),
    "renew-policy": (_new_contract, "Выдать полис на новый срок…", "Выдать полис на новый срок?",
                     ["Нынешний полис закрывается", "код № 1 перестаёт приниматься"]),
    "activation-code": (_unused_code, "Выдать код для нового пароля…", "Выдать код для нового пароля?",
                        ["ещё не использован: он перестанет действовать", "логин остаётся прежним"]),
}  # fmt: skip


@pytest.mark.parametrize("step", list(STEPS))
def test_a_step_asks_first_in_words_and_changes_nothing_until_confirmed(site: Flask, step: str) -> None:
    prepare, label, heading, words = STEPS[step]
    enp = prepare(site)
    staff = logged_in(site, "smo")
    person_page = staff.get(f"/insurer/person/{enp}").get_data(as_text=True)
    address = f"/insurer/person/{enp}/{step}"
    link = re.search(rf'<a class="[^"]+" href="{address}">([^<]+)</a>', person_page)
    assert link, person_page
    assert link.group(1) == label, "an ellipsis: it asks first"
    assert f'action="{address}"' not in person_page, "no form on the person's page does it at one tap"
    before = _state(site, enp)

    page = action_page(staff, enp, step)
    assert f"<h1>{heading}</h1>" in page
    text = text_of(page)
    for said in words:
        assert said in text
    assert "<script" not in page.split("<main>")[1], "a plain form: it works without JavaScript"
    target, _ = form_of(page)
    assert target == address
    assert f'<a class="button" href="/insurer/person/{enp}">Отмена</a>' in page, "and a way back"
    assert _state(site, enp) == before, "asking changed nothing"

    unasked = staff.post(address, data={"csrf_token": csrf_of(page)})  # the person's page as it was: one tap
    assert unasked.status_code == 303
    assert unasked.location.endswith(address), "it asks instead"
    assert _state(site, enp) == before

    done = take_step(staff, enp, step)
    assert done.status_code == 302
    assert _state(site, enp) != before


def test_the_renewal_page_says_until_when(site: Flask) -> None:
    enp = _new_contract(site)
    with site.app_context():
        old_end = people.open_policy(people.person_by_enp(enp)).valid_to
        new_end = lifecycle.next_term_end(people.person_by_enp(enp))
    assert new_end > old_end
    words = text_of(action_page(logged_in(site, "smo"), enp, "renew-policy"))
    assert f"новый действует с сегодняшнего дня по {new_end.strftime('%d.%m.%Y')}" in words


def test_a_renewal_with_no_later_term_is_not_asked(site: Flask) -> None:
    """The contract not extended: the next term would end when this one does. Said on the person's page, as a
    refused action is, rather than asked about and refused after «Выдать»."""
    with site.app_context():
        register(WORKER, at=datetime.now(UTC))
    staff = logged_in(site, "smo")
    asked = staff.get(f"/insurer/person/{WORKER.enp}/renew-policy")
    assert asked.status_code == 302
    assert "продлевать пока нечего" in staff.get(asked.location).get_data(as_text=True)


def test_the_account_code_page_for_someone_without_an_account_or_earlier_code(site: Flask) -> None:
    words = text_of(action_page(logged_in(site, "smo"), CHILD, "activation-code"))
    assert "Выдать код активации для входа?" in words
    assert "создаёт учётную запись на странице «Первый вход»" in words
    assert "Других действующих кодов для входа у человека нет" in words
    assert "перестанет действовать" not in words


def test_the_earlier_code_works_until_the_new_one_is_confirmed(site: Flask) -> None:
    """The code voided by a mis-tap was one just handed to the person on paper: until «Выдать код», it opens the
    account; after, it does not."""
    with site.app_context():
        handed_out = activation.issue_code(CHILD, "smo:smo")
    staff = logged_in(site, "smo")
    action_page(staff, CHILD, "activation-code")
    staff.post(f"/insurer/person/{CHILD}/activation-code", data={"csrf_token": csrf(staff, "/insurer/")})
    with site.app_context():
        assert activation.unused_code_issued_at(people.person_by_enp(CHILD)) is not None, "still good"
    assert take_step(staff, CHILD, "activation-code").status_code == 302
    with site.app_context(), pytest.raises(RegistryError):
        activation.activate(CHILD, handed_out, "artyom", "long-enough-pass")


def test_a_step_page_in_english(site: Flask) -> None:
    enp = _unused_code(site)
    staff = logged_in(site, "smo")
    staff.post("/language", data={"language": "en", "next": "/insurer/", "csrf_token": csrf(staff, "/insurer/")})
    page = action_page(staff, enp, "activation-code")
    assert not re.search("[А-Яа-яЁё]", text_of(page.split("<main>")[1]).replace("Иванова Мария Петровна", ""))
