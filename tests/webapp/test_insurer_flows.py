"""Insurer pages beyond search: register a person, temporary certificates, transfers, activation codes."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from policy_codes import Enp
from tests.helpers.registry import NOW, register
from tests.webapp.pages import CHILD, MOTHER, PASSWORD, STRANGER, csrf, field_error, logged_in, take_step
from webapp.extensions import db
from webapp.models import ActivationCode, AuditEntry, PolicyKind, RequestStatus, Role, User
from webapp.registry import accounts, activation, clock, lifecycle, people, reissue_requests
from webapp.registry.errors import RegistryError
from webapp.web.labels import moscow_time

NEWCOMER = str(Enp.with_check_digit("770000000000099"))
#: Both test insurers are in region 77: the exception the registry cannot check, on a document.
DOCUMENT = "письмо ТФОМС № 12-345"


def new_person_form(client: FlaskClient, **changes: str) -> dict[str, str]:
    form = {
        "enp": NEWCOMER,
        "surname": "Сидорова",
        "given_name": "Анна",
        "patronymic": "",
        "birth_date": "2001-02-03",
        "sex": "F",
        "snils": "",
        "category": "citizen",
        "right_valid_until": "",
        "representative_enp": "",
        "kind": "policy",
        "csrf_token": csrf(client, "/insurer/new"),
    }
    return form | changes


def open_policy_kind(app: Flask, enp: str) -> str | None:
    with app.app_context():
        policy = people.open_policy(people.person_by_enp(enp))
        return policy.kind if policy else None


@pytest.mark.parametrize("kind", ["policy", "temporary"])
def test_insurer_registers_a_person_with_a_policy_or_a_temporary_certificate(site: Flask, kind: str) -> None:
    client = logged_in(site, "smo")
    # Both numbers pasted as the pages print them, in fours: the fields took 16 characters and cut them short.
    typed = {"enp": Enp(NEWCOMER).grouped(), "representative_enp": Enp(MOTHER).grouped()}
    response = client.post("/insurer/new", data=new_person_form(client, kind=kind, **typed))
    assert response.status_code == 302
    assert response.location.endswith(f"/insurer/person/{NEWCOMER}")
    expected = PolicyKind.TEMPORARY_CERTIFICATE if kind == "temporary" else PolicyKind.POLICY
    assert open_policy_kind(site, NEWCOMER) == expected
    mother = logged_in(site, "ivanova")
    assert mother.get(f"/me/?person={NEWCOMER}").status_code == 200, "the representative sees the new dependant"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"enp": "1234567890123458"}, "enp", "ЕНП"),
        ({"birth_date": "03.02.2001"}, "birth_date", "ГГГГ-ММ-ДД"),
        ({"birth_date": "1800-02-03"}, "birth_date", "Дата рождения раньше 1900 года"),
        ({"birth_date": "2999-02-03"}, "birth_date", "Дата рождения в будущем"),
        ({"category": "martian"}, "category", "категория"),
        ({"surname": ""}, "surname", "фамилия"),
        ({"enp": MOTHER}, "enp", "уже есть в реестре"),
        ({"representative_enp": str(Enp.with_check_digit("770000000000077"))}, "representative_enp", "Представитель"),
    ],
)
def test_bad_registration_keeps_the_form_says_why_and_writes_nothing(
    site: Flask, changes: dict[str, str], field: str, message: str
) -> None:
    client = logged_in(site, "smo")
    response = client.post("/insurer/new", data=new_person_form(client, **changes))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in field_error(page, field), "the message stands by its field"
    assert 'value="Сидорова"' in page or changes.get("surname") == "", "the form keeps what was typed"
    if changes.get("enp") != MOTHER:
        with site.app_context():
            assert db.session.query(User).count() == 4
            with pytest.raises(RegistryError):
                people.person_by_enp(changes.get("enp", NEWCOMER))


def test_a_registration_with_several_bad_fields_says_each_beside_its_own(site: Flask) -> None:
    """All at once, not one per send: the clerk mends the form in one go."""
    client = logged_in(site, "smo")
    bad = {"enp": "12345", "birth_date": "32.13.2020", "surname": "Smith", "snils": "112-233-445 96"}
    response = client.post("/insurer/new", data=new_person_form(client, **bad))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "16" in field_error(page, "enp")
    assert "ГГГГ-ММ-ДД" in field_error(page, "birth_date")
    assert "русскими буквами" in field_error(page, "surname")
    assert "СНИЛС" in field_error(page, "snils")
    assert page.count("autofocus") == 1, "the first field in error takes the focus"
    assert re.search(r'name="enp"[^>]*autofocus', page), "the form's first field in error"


@pytest.mark.parametrize(
    ("field", "typed"), [("given_name", "-Анна"), ("surname", "Сидорова-"), ("given_name", "Анна--Мария")]
)
def test_a_name_with_a_hyphen_joining_no_two_letters_is_refused_beside_its_field(
    site: Flask, field: str, typed: str
) -> None:
    """The code format reads a hyphen anywhere in a name, so «-Анна» was registered and signed into a code as
    typed; the registry takes a hyphen only between two letters, as a double name has it."""
    client = logged_in(site, "smo")
    response = client.post("/insurer/new", data=new_person_form(client, **{field: typed}))
    assert response.status_code == 400
    assert (
        field_error(response.get_data(as_text=True), field) == "Дефис ставится только между буквами, как в «Анна-Мария»"
    )
    client.post("/language", data={"language": "en", "csrf_token": csrf(client, "/insurer/new")})
    english = client.post("/insurer/new", data=new_person_form(client, **{field: typed}))
    assert (
        field_error(english.get_data(as_text=True), field)
        == "A hyphen goes only between two letters, as in «Анна-Мария»"
    )
    with site.app_context(), pytest.raises(RegistryError):
        people.person_by_enp(NEWCOMER)
    double = client.post(
        "/insurer/new", data=new_person_form(client, surname="Римская-Корсакова", given_name="Анна-Мария")
    )
    assert double.status_code == 302, "a double name is a name"


def test_a_registration_s_refusals_name_no_column_or_code(site: Flask) -> None:
    """Said as a clerk at the form reads it: no file's column names, no letters sorted into a code."""
    client = logged_in(site, "smo")
    bad = {"birth_date": "", "sex": "", "surname": "Smith1", "category": "eaeu_worker", "right_valid_until": ""}
    page = client.post("/insurer/new", data=new_person_form(client, **bad)).get_data(as_text=True)
    assert field_error(page, "birth_date") == "Укажите дату"
    assert field_error(page, "surname") == "Недопустимые знаки в ФИО: S M I T H 1 (ФИО пишется русскими буквами)"
    page = client.post("/insurer/new", data=new_person_form(client, sex="")).get_data(as_text=True)
    assert field_error(page, "sex") == "Укажите пол (в файле: M или F)"
    page = client.post("/insurer/new", data=new_person_form(client, category="eaeu_worker")).get_data(as_text=True)
    assert field_error(page, "right_valid_until").startswith("Укажите, до какого дня действует документ")
    assert "(right_valid_until)" not in page, "the file's column is named as the file's"


@pytest.mark.parametrize(
    ("changes", "field", "english"),
    [
        (
            {"enp": "1234567890123458"},
            "enp",
            (
                "The policy number has a typo: its check digit (the last one) does not match the others. "
                "Compare all 16 digits with the policy and correct the number."
            ),
        ),
        ({"enp": "12345"}, "enp", "A policy number must be exactly 16 digits"),
        (
            {"surname": "Smith"},
            "surname",
            "Characters not allowed in a name: S M I T H (names are written in Russian letters)",
        ),
        (
            {"snils": "112-233-445 96"},
            "snils",
            (
                "The СНИЛС has a typo: its check number (the last two digits) does not match the others. "
                "Compare all 11 digits with the document and correct the number."
            ),
        ),
    ],
)
def test_the_code_formats_word_on_a_value_reads_in_english_on_an_english_page(
    site: Flask, changes: dict[str, str], field: str, english: str
) -> None:
    """The code format's own refusals (an ЕНП's check digit, a name's letters) come from the verifiers' catalog."""
    client = logged_in(site, "smo")
    client.post("/language", data={"language": "en", "csrf_token": csrf(client, "/insurer/new")})
    response = client.post("/insurer/new", data=new_person_form(client, **changes))
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), field) == english.replace("'", "&#39;")


def test_a_birth_date_before_1900_is_refused_in_the_pages_language(site: Flask) -> None:
    client = logged_in(site, "smo")
    client.post("/language", data={"language": "en", "csrf_token": csrf(client, "/insurer/new")})
    response = client.post("/insurer/new", data=new_person_form(client, birth_date="1800-02-03"))
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "birth_date") == "The date of birth is before 1900"


def test_a_ready_policy_replaces_the_temporary_certificate(site: Flask) -> None:
    client = logged_in(site, "smo")
    client.post("/insurer/new", data=new_person_form(client, kind="temporary"))
    page = client.get(f"/insurer/person/{NEWCOMER}").get_data(as_text=True)
    assert "Полис готов" in page
    response = take_step(client, NEWCOMER, "issue-policy")
    assert response.status_code == 302
    assert open_policy_kind(site, NEWCOMER) == PolicyKind.POLICY
    asked_again = client.get(f"/insurer/person/{NEWCOMER}/issue-policy", follow_redirects=True)
    assert asked_again.request.path == f"/insurer/person/{NEWCOMER}", "nothing left to ask about"
    assert "Полис уже выдан" in asked_again.get_data(as_text=True)
    again = client.post(
        f"/insurer/person/{NEWCOMER}/issue-policy",
        data={"csrf_token": csrf(client, "/insurer/"), "confirmed": "yes"},
        follow_redirects=True,
    )
    assert "Полис уже выдан" in again.get_data(as_text=True)


def transfer_form(client: FlaskClient, **changes: str) -> dict[str, str]:
    form = {
        "enp": STRANGER,
        "birth_date": "1990-04-12",
        "applied_on": clock.today_in_moscow(datetime.now(UTC)).isoformat(),
        "exception": "insurer_left",
        "document": DOCUMENT,
        "csrf_token": csrf(client, "/insurer/transfer"),
    }
    return form | changes


@pytest.fixture
def stranger_with_the_other_insurer(site: Flask) -> Flask:
    with site.app_context():
        lifecycle.change_insurer(STRANGER, "77002", NOW.date(), "test", "insurer_left", now=NOW, document=DOCUMENT)
    return site


def test_insurer_accepts_a_transfer_and_signs_a_new_code(stranger_with_the_other_insurer: Flask) -> None:
    app = stranger_with_the_other_insurer
    client = logged_in(app, "smo")
    assert client.get(f"/insurer/person/{STRANGER}").status_code == 404, "not ours yet"
    with app.app_context():
        old_serial = people.current_code(people.person_by_enp(STRANGER)).serial
    pasted = "-".join(STRANGER[i : i + 4] for i in range(0, 16, 4))  # as a clinic's system prints it
    response = client.post("/insurer/transfer", data=transfer_form(client) | {"enp": pasted})
    assert response.status_code == 302
    assert client.get(f"/insurer/person/{STRANGER}").status_code == 200
    with app.app_context():
        person = people.person_by_enp(STRANGER)
        assert person.insurer.code == "77001"
        assert people.current_code(person).serial == old_serial + 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"birth_date": "1991-01-01"}, "нет застрахованного с таким ЕНП и датой рождения"),
        ({"enp": str(Enp.with_check_digit("770000000000077"))}, "нет застрахованного с таким ЕНП и датой рождения"),
        ({"document": ""}, "Укажите документ"),
        ({"applied_on": "2099-01-01"}, "позже сегодняшнего"),
        ({"applied_on": "вчера"}, "ГГГГ-ММ-ДД"),
    ],
)
def test_a_refused_transfer_says_why_and_moves_nobody(
    stranger_with_the_other_insurer: Flask, changes: dict[str, str], message: str
) -> None:
    app = stranger_with_the_other_insurer
    client = logged_in(app, "smo")
    response = client.post("/insurer/transfer", data=transfer_form(client, **changes))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert people.person_by_enp(STRANGER).insurer.code == "77002"


@pytest.mark.parametrize(
    ("language", "message"),
    [("ru", "Застрахованный уже в этой СМО"), ("en", "The insured person is already with this insurer")],
)
def test_a_transfer_of_someone_already_ours_is_said_in_the_pages_language(
    site: Flask, language: str, message: str
) -> None:
    client = logged_in(site, "smo")
    with client.session_transaction() as session:
        session["language"] = language
    response = client.post("/insurer/transfer", data=transfer_form(client, enp=MOTHER))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_a_transfer_with_several_bad_fields_says_each_beside_its_own(stranger_with_the_other_insurer: Flask) -> None:
    client = logged_in(stranger_with_the_other_insurer, "smo")
    bad = transfer_form(client, enp="12345", birth_date="abc", applied_on="вчера")
    page = client.post("/insurer/transfer", data=bad).get_data(as_text=True)
    assert "16" in field_error(page, "enp")
    assert "ГГГГ-ММ-ДД" in field_error(page, "birth_date")
    assert "ГГГГ-ММ-ДД" in field_error(page, "applied_on")


def issue_activation_code(client: FlaskClient, enp: str) -> str:
    """Post, then the page the post redirects to (issue 18, item 9): the code is on that page, once."""
    response = take_step(client, enp, "activation-code")
    assert response.status_code == 302
    assert response.location.endswith(f"/insurer/person/{enp}/activation-code/shown")
    shown = client.get(response.location)
    assert shown.headers["Cache-Control"] == "no-store"
    match = re.search(r'class="activation-code number">([A-Z0-9]{4}-[A-Z0-9]{4})<', shown.get_data(as_text=True))
    assert match
    return match.group(1)


def test_the_activation_code_page_says_until_when_the_code_works(site: Flask) -> None:
    """«действует 7 дней» left the clerk counting: the page gives the day and the time, as the registry keeps it."""
    staff = logged_in(site, "smo")
    shown = staff.get(take_step(staff, CHILD, "activation-code").location).get_data(as_text=True)
    with site.app_context():
        expires_at = db.session.scalar(select(ActivationCode.expires_at))
    assert f"Действует до {moscow_time(expires_at)}." in shown


def test_reloading_the_activation_code_page_issues_no_second_code(site: Flask) -> None:
    staff = logged_in(site, "smo")
    code = issue_activation_code(staff, CHILD)
    reload = staff.get(f"/insurer/person/{CHILD}/activation-code/shown")
    assert reload.status_code == 302
    assert reload.location.endswith(f"/insurer/person/{CHILD}")
    page = staff.get(reload.location).get_data(as_text=True)
    assert code not in page
    assert "показан один раз" in page
    with site.app_context():
        assert db.session.query(ActivationCode).count() == 1


def activate(app: Flask, enp: str, code: str, username: str = "sidorova") -> tuple[FlaskClient, int, str]:
    client = app.test_client()
    form = {
        "enp": enp,
        "code": code,
        "username": username,
        "password": PASSWORD,
        "password_again": PASSWORD,
        "csrf_token": csrf(client, "/activate"),
    }
    response = client.post("/activate", data=form)
    return client, response.status_code, response.get_data(as_text=True)


def test_a_citizen_opens_their_account_with_the_insurers_one_time_code(site: Flask) -> None:
    staff = logged_in(site, "smo")
    code = issue_activation_code(staff, CHILD)
    citizen, status, _ = activate(site, CHILD, code.lower().replace("-", " "))
    assert status == 302
    assert citizen.get("/me/").status_code == 200
    assert citizen.get(f"/me/?person={MOTHER}").status_code == 404, "a child does not see the parent"
    _, status, page = activate(site, CHILD, code, username="someone-else")
    assert status == 400
    assert activation.REJECTED in page, "the code works once"
    person_page = staff.get(f"/insurer/person/{CHILD}").get_data(as_text=True)
    assert 'логин <span translate="no">sidorova</span>' in person_page
    assert "Выдать код для нового пароля" in person_page, "the next code is for a forgotten password"


def test_activation_refuses_a_wrong_number_an_old_code_and_a_mismatched_password(site: Flask) -> None:
    staff = logged_in(site, "smo")
    first = issue_activation_code(staff, CHILD)
    second = issue_activation_code(staff, CHILD)
    assert activate(site, CHILD, first)[1] == 400, "a newer code voids the older one"
    assert activate(site, STRANGER, second)[1] == 400, "the code belongs to one person"
    client = site.test_client()
    mismatch = {"enp": CHILD, "code": second, "username": "x", "password": PASSWORD, "password_again": "other"}
    response = client.post("/activate", data=mismatch | {"csrf_token": csrf(client, "/activate")})
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), "password_again") == "Пароли не совпадают"
    assert activate(site, CHILD, second)[1] == 302


@pytest.mark.parametrize("path", ["/activate", "/recover"])
def test_a_code_page_names_the_empty_fields(site: Flask, path: str) -> None:
    """Nothing typed is said so by each field, not as a code that does not match."""
    client = site.test_client()
    blank = {"enp": " ", "code": " - ", "username": "", "password": PASSWORD, "password_again": PASSWORD}
    response = client.post(path, data=blank | {"csrf_token": csrf(client, path)})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert field_error(page, "enp") == "Укажите ЕНП"
    assert field_error(page, "code") == "Укажите код"
    assert activation.REJECTED not in page


def test_an_activation_code_expires_after_a_week(registry: Flask) -> None:
    register()
    enp = MOTHER
    code = activation.issue_code(enp, "test", now=NOW)
    with pytest.raises(RegistryError, match="истёк"):
        activation.activate(enp, code, "late", PASSWORD, now=NOW + activation.CODE_LIFETIME + timedelta(seconds=1))
    user = activation.activate(
        enp, code, "in-time", PASSWORD, now=NOW + activation.CODE_LIFETIME - timedelta(hours=1)
    ).user
    assert user.role == Role.CITIZEN
    actions = [entry.action for entry in db.session.query(AuditEntry).filter_by(entity_key=enp)]
    assert "issue_activation_code" in actions
    assert "activate" in actions


def test_activation_codes_are_only_for_the_insurers_own_people(site: Flask) -> None:
    with site.app_context():
        lifecycle.change_insurer(STRANGER, "77002", NOW.date(), "test", "insurer_left", now=NOW, document=DOCUMENT)
    staff = logged_in(site, "smo")
    assert staff.get(f"/insurer/person/{STRANGER}/activation-code").status_code == 404
    form = {"csrf_token": csrf(staff, "/insurer/"), "confirmed": "yes"}
    assert staff.post(f"/insurer/person/{STRANGER}/activation-code", data=form).status_code == 404


def test_activation_is_rate_limited(site: Flask) -> None:
    client = site.test_client()
    token = csrf(client, "/activate")
    form = {"enp": CHILD, "code": "AAAA-AAAA", "password": PASSWORD, "password_again": PASSWORD}
    codes = [
        client.post("/activate", data=form | {"username": f"guess-{n}", "csrf_token": token}).status_code
        for n in range(6)
    ]
    assert codes == [400] * 5 + [429], "a new made-up login each time does not reset the count for the number"


def test_activation_codes_are_stored_hashed(registry: Flask) -> None:
    register()
    code = activation.issue_code(MOTHER, "test", now=NOW)
    stored = db.session.query(ActivationCode).one()
    assert code not in stored.code_hash
    key = hmac.new(registry.config["SECRET_KEY"].encode(), b"oms-activation-code", hashlib.sha256).digest()
    assert stored.code_hash == hmac.new(key, code.encode(), hashlib.sha256).hexdigest()


def open_request(app: Flask, enp: str, reason: str = "телефон потерян") -> int:
    with app.app_context():
        return reissue_requests.request_reissue(people.person_by_enp(enp), reason, "test").id


def test_insurer_answers_a_citizens_request_with_a_new_code(site: Flask) -> None:
    request_id = open_request(site, CHILD)
    with site.app_context():
        serial = people.current_code(people.person_by_enp(CHILD)).serial
    staff = logged_in(site, "smo")
    listing = staff.get("/insurer/requests").get_data(as_text=True)
    assert "Иванов Артём Сергеевич" in listing
    assert "телефон потерян" in listing
    asked = f"/insurer/requests/{request_id}/reissue"
    assert f'href="{asked}"' in listing, "a new code starts with a page, not at one tap"
    page = staff.get(asked).get_data(as_text=True)
    assert "Перевыпустить код по заявке?" in page
    assert f"код № {serial} перестаёт приниматься" in page
    with site.app_context():
        assert people.current_code(people.person_by_enp(CHILD)).serial == serial, "asking changes nothing"
    response = staff.post(asked, data={"csrf_token": csrf(staff, asked)})
    assert response.status_code == 302
    with site.app_context():
        child = people.person_by_enp(CHILD)
        assert people.current_code(child).serial == serial + 1
        assert reissue_requests.latest_request(child).status == RequestStatus.DONE
    again = staff.post(
        f"/insurer/requests/{request_id}/reissue", data={"csrf_token": csrf(staff, "/insurer/")}, follow_redirects=True
    )
    assert "Заявка уже закрыта" in again.get_data(as_text=True)
    # An old tab's page, or a colleague's answer: said, not a bare «Не найдено».
    answered = staff.get(asked, follow_redirects=True)
    assert answered.request.path == "/insurer/requests"
    assert "Заявка уже закрыта" in answered.get_data(as_text=True)
    with site.app_context():
        assert people.current_code(people.person_by_enp(CHILD)).serial == serial + 1, "no second reissue"


def test_a_citizens_listed_reason_reads_in_the_staffs_language(site: Flask) -> None:
    """Chosen from the citizen's list, it is stored in Russian and read in the page's language."""
    listed = open_request(site, CHILD, "Телефон потерян или украден")
    staff = logged_in(site, "smo")
    with staff.session_transaction() as session:
        session["language"] = "en"
    for page in (f"/insurer/requests/{listed}/reissue", "/insurer/requests"):
        assert "Reason: The phone was lost or stolen" in staff.get(page).get_data(as_text=True)


def test_insurer_declines_a_request_and_cannot_touch_another_insurers(site: Flask) -> None:
    ours = open_request(site, CHILD)
    with site.app_context():
        lifecycle.change_insurer(STRANGER, "77002", NOW.date(), "test", "insurer_left", now=NOW, document=DOCUMENT)
    theirs = open_request(site, STRANGER)
    staff = logged_in(site, "smo")
    token = csrf(staff, "/insurer/")
    listing = staff.get("/insurer/requests").get_data(as_text=True)
    assert f'href="/insurer/requests/{ours}/decline"' in listing, "declining starts with a page, not at one tap"
    page = staff.get(f"/insurer/requests/{ours}/decline").get_data(as_text=True)
    assert "Отклонить заявку на новый код?" in page
    assert "прежний код по-прежнему принимается" in page
    with site.app_context():
        assert reissue_requests.latest_request(people.person_by_enp(CHILD)).status == RequestStatus.OPEN, "not yet"
    assert staff.get(f"/insurer/requests/{theirs}/decline").status_code == 404
    unexplained = staff.post(f"/insurer/requests/{ours}/decline", data={"csrf_token": token, "decline_reason": " "})
    assert unexplained.status_code == 400, "the citizen is told why"
    assert field_error(unexplained.get_data(as_text=True), "decline_reason") == "Напишите причину отказа: до 500 знаков"
    because = {"csrf_token": token, "decline_reason": "Код перевыпущен вчера по вашему звонку"}
    declined = staff.post(f"/insurer/requests/{ours}/decline", data=because, follow_redirects=True)
    # Which request, and that the reason reaches the citizen, as a declined data change says it.
    assert "Заявка на новый код отклонена, застрахованный увидит причину" in declined.get_data(as_text=True)
    answered = staff.get(f"/insurer/requests/{ours}/decline", follow_redirects=True)
    assert "Заявка уже закрыта" in answered.get_data(as_text=True), "answered: nothing to decline, and it says so"
    assert staff.post(f"/insurer/requests/{theirs}/decline", data=because).status_code == 404
    assert staff.post(f"/insurer/requests/{theirs}/reissue", data={"csrf_token": token}).status_code == 404
    assert staff.post(f"/insurer/requests/{ours}/shred", data={"csrf_token": token}).status_code == 404
    assert staff.get(f"/insurer/requests/{theirs}/reissue").status_code == 404
    assert "Петров" not in staff.get("/insurer/requests").get_data(as_text=True)
    with site.app_context():
        assert reissue_requests.latest_request(people.person_by_enp(CHILD)).status == RequestStatus.DECLINED
        assert reissue_requests.latest_request(people.person_by_enp(STRANGER)).status == RequestStatus.OPEN
    mother = logged_in(site, "ivanova").get(f"/me/?person={CHILD}").get_data(as_text=True)
    assert "отклонена. Причина: Код перевыпущен вчера по вашему звонку" in mother


def test_a_reissue_from_the_persons_page_answers_their_open_request(site: Flask) -> None:
    open_request(site, CHILD)
    staff = logged_in(site, "smo")
    assert "Перевыпуск кода её закроет" in staff.get(f"/insurer/person/{CHILD}").get_data(as_text=True)
    form = {"reason": "asked", "csrf_token": csrf(staff, "/insurer/")}
    assert staff.post(f"/insurer/person/{CHILD}/reissue", data=form).status_code == 302
    with site.app_context():
        assert reissue_requests.latest_request(people.person_by_enp(CHILD)).status == RequestStatus.DONE
    assert "Иванов Артём" not in staff.get("/insurer/requests").get_data(as_text=True)


def test_a_person_never_gets_a_second_account(registry: Flask) -> None:
    register()
    code = activation.issue_code(MOTHER, "test", now=NOW)
    accounts.create_user("made-by-staff", PASSWORD, Role.CITIZEN, "test", enp=MOTHER)
    with pytest.raises(RegistryError, match="уже есть учётная запись"):
        activation.activate(MOTHER, code, "second", PASSWORD, now=NOW)
    with pytest.raises(RegistryError, match="уже есть учётная запись"):
        accounts.create_user("third", PASSWORD, Role.CITIZEN, "test", enp=MOTHER)
    assert db.session.query(User).filter_by(person_id=people.person_by_enp(MOTHER).id).count() == 1
    assert db.session.query(ActivationCode).one().used_at is None, "the refused activation used nothing up"


def test_the_number_is_taken_as_the_card_prints_it(site: Flask) -> None:
    """The card shows the ЕНП in groups of four (7700 0000 0000 0016): typed so, it is the same number."""
    staff = logged_in(site, "smo")
    code = issue_activation_code(staff, CHILD)
    client = site.test_client()
    grouped = " ".join(CHILD[i : i + 4] for i in range(0, 16, 4))
    form = {"enp": grouped, "code": code, "username": "grouped", "password": PASSWORD, "password_again": PASSWORD}
    page = client.get("/activate").get_data(as_text=True)
    assert re.search(r'name="enp"[^>]*maxlength="24"', page), "the field takes the spaces too"
    longer = {**form, "enp": grouped + " 0"}
    assert client.post("/activate", data=longer | {"csrf_token": csrf(client, "/activate")}).status_code == 400
    assert client.post("/activate", data=form | {"csrf_token": csrf(client, "/activate")}).status_code == 302
