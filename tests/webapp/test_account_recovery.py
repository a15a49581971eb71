"""A forgotten password: a citizen's new one by a code from their insurer, a member of staff's from the operator."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from policy_codes import Enp
from tests.helpers.registry import NOW, register
from tests.webapp.pages import CHILD, MOTHER, PASSWORD, csrf, field_error, logged_in, shown_password, take_step
from tests.webapp.test_insurer_flows import activate, issue_activation_code
from webapp.extensions import db
from webapp.models import ActivationCode, AuditEntry, Role, User
from webapp.registry import accounts, activation, lifecycle
from webapp.registry.errors import RegistryError

NEW_PASSWORD = "a-new-long-password"
#: Both test insurers are in region 77: a transfer between them needs its grounds on a document.
DOCUMENT = "письмо ТФОМС № 12-345"


def recover(app: Flask, enp: str, code: str, password: str = NEW_PASSWORD, again: str | None = None) -> tuple[int, str]:
    client = app.test_client()
    form = {
        "enp": enp,
        "code": code,
        "password": password,
        "password_again": password if again is None else again,
        "csrf_token": csrf(client, "/recover"),
    }
    response = client.post("/recover", data=form, follow_redirects=True)
    return response.status_code, response.get_data(as_text=True)


def logs_in(app: Flask, username: str, password: str, address: str = "127.0.0.1") -> bool:
    client = app.test_client()
    token = csrf(client)
    form = {"username": username, "password": password, "csrf_token": token}
    return client.post("/login", data=form, environ_base={"REMOTE_ADDR": address}).status_code == 302


def still_in(client: FlaskClient, path: str) -> bool:
    return client.get(path).status_code == 200


def test_a_citizen_sets_a_new_password_with_a_code_from_their_insurer(site: Flask) -> None:
    on_her_phone = logged_in(site, "ivanova")
    staff = logged_in(site, "smo")
    person_page = staff.get(f"/insurer/person/{MOTHER}").get_data(as_text=True)
    assert 'логин <span translate="no">ivanova</span>' in person_page, "the insurer can tell her the login too"
    code = issue_activation_code(staff, MOTHER)
    status, page = recover(site, MOTHER, code.lower())
    assert status == 200
    assert "Пароль изменён. Ваш логин: ivanova" in page, "logged in on the card, told the login"
    assert not still_in(on_her_phone, "/me/"), "whoever was logged in with the old password is not any more"
    assert not logs_in(site, "ivanova", PASSWORD)
    assert logs_in(site, "ivanova", NEW_PASSWORD)
    status, page = recover(site, MOTHER, code, "yet-another-password")
    assert status == 400
    assert field_error(page, "code") == activation.REJECTED, "the code works once"
    trail = staff.get(f"/insurer/person/{MOTHER}").get_data(as_text=True)
    assert "выдан код для нового пароля" in trail
    assert "задан новый пароль по коду из СМО" in trail


def test_the_code_page_tells_the_insurer_it_is_for_a_new_password(site: Flask) -> None:
    staff = logged_in(site, "smo")
    response = take_step(staff, MOTHER, "activation-code")
    page = staff.get(response.location).get_data(as_text=True)
    assert "<h1>Код для нового пароля</h1>" in page
    assert "«Забыли пароль?»" in page
    assert 'логин остаётся прежним: <span translate="no">ivanova</span>' in page


def test_a_code_for_a_person_without_an_account_opens_one_and_sets_no_password(site: Flask) -> None:
    staff = logged_in(site, "smo")
    assert "учётной записи нет" in staff.get(f"/insurer/person/{CHILD}").get_data(as_text=True)
    code = issue_activation_code(staff, CHILD)
    status, page = recover(site, CHILD, code)
    assert status == 400
    assert field_error(page, "code") == "Учётной записи ещё нет. С этим кодом создайте её на странице «Первый вход»"
    assert activate(site, CHILD, code)[1] == 302, "the refusal used nothing up"


def test_a_new_password_code_opens_no_second_account(site: Flask) -> None:
    staff = logged_in(site, "smo")
    code = issue_activation_code(staff, MOTHER)
    _, status, page = activate(site, MOTHER, code, username="second-account")
    assert status == 400
    assert "«Забыли пароль?»" in field_error(page, "code")
    assert recover(site, MOTHER, code)[0] == 200, "the refusal used nothing up"
    with site.app_context():
        assert db.session.query(User).filter_by(role=Role.CITIZEN).count() == 1


def disable(app: Flask, username: str) -> None:
    with app.app_context():
        accounts.set_active(user_id_of(app, username), False, "test")


def test_a_disabled_login_is_not_opened_again_by_a_new_password(site: Flask) -> None:
    with site.app_context():
        code = activation.issue_code(MOTHER, "test")
    disable(site, "ivanova")
    status, page = recover(site, MOTHER, code)
    assert status == 400
    assert field_error(page, "code") == activation.LOGIN_DISABLED
    assert not logs_in(site, "ivanova", NEW_PASSWORD)


def test_no_code_is_issued_for_a_disabled_login(site: Flask) -> None:
    disable(site, "ivanova")
    staff = logged_in(site, "smo")
    page = staff.get(f"/insurer/person/{MOTHER}").get_data(as_text=True)
    assert "вход отключён оператором реестра" in page
    assert "Выдать код" not in page, "a code could do nothing for her"
    asked = staff.get(f"/insurer/person/{MOTHER}/activation-code", follow_redirects=True)
    assert asked.request.path == f"/insurer/person/{MOTHER}", "nothing to ask about"
    assert "код ничего не изменит" in asked.get_data(as_text=True)
    refused = staff.post(
        f"/insurer/person/{MOTHER}/activation-code",
        data={"csrf_token": csrf(staff, "/insurer/"), "confirmed": "yes"},
        follow_redirects=True,
    )
    assert refused.request.path == f"/insurer/person/{MOTHER}", "the page's hidden button is the server's refusal too"
    assert "код ничего не изменит" in refused.get_data(as_text=True)
    with site.app_context():
        assert db.session.query(ActivationCode).count() == 0
        assert db.session.query(AuditEntry).filter_by(action="issue_recovery_code").count() == 0


def test_a_new_password_ends_the_codes_handed_out_before_it(site: Flask) -> None:
    """A code given out, then the password changed by its owner: the code must not set another over it."""
    with site.app_context():
        code = activation.issue_code(MOTHER, "test")
    citizen = logged_in(site, "ivanova")
    form = {"current_password": PASSWORD, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    assert (
        citizen.post("/account/password", data=form | {"csrf_token": csrf(citizen, "/account/password")}).status_code
        == 302
    )
    status, page = recover(site, MOTHER, code, "taken-over-password")
    assert status == 400
    assert field_error(page, "code") == activation.REJECTED
    assert logs_in(site, "ivanova", NEW_PASSWORD)


def test_the_codes_a_member_of_staff_issued_end_when_the_operator_disables_their_login(site: Flask) -> None:
    """A stolen insurer password issues new-password codes for the insurer's citizens; the operator disables the
    login. Its codes had another week to open those citizens' accounts (an attack of 2026-12-06): they end with it.
    A colleague's code, and an account opened before, stay as they were."""
    with site.app_context():
        accounts.create_user("smo-2", PASSWORD, Role.INSURER, "test", insurer_code="77001")
    thief, colleague = logged_in(site, "smo"), logged_in(site, "smo-2")
    stolen_for_her, stolen_for_the_child = issue_activation_code(thief, MOTHER), issue_activation_code(thief, CHILD)
    operator = logged_in(site, "admin")
    form = {"active": "0", "csrf_token": csrf(operator, "/admin/users")}
    assert operator.post(f"/admin/users/{user_id_of(site, 'smo')}/active", data=form).status_code == 302

    status, page = recover(site, MOTHER, stolen_for_her)
    assert status == 400
    assert field_error(page, "code") == activation.REJECTED
    assert activate(site, CHILD, stolen_for_the_child)[1] == 400
    assert not logs_in(site, "ivanova", NEW_PASSWORD)
    assert logs_in(site, "ivanova", PASSWORD)

    honest = issue_activation_code(colleague, MOTHER)
    assert recover(site, MOTHER, honest)[0] == 200, "a code from a colleague still in works"
    assert logs_in(site, "ivanova", NEW_PASSWORD)


def test_a_transfer_ends_the_former_insurers_codes(site: Flask) -> None:
    with site.app_context():
        code = activation.issue_code(MOTHER, "smo:77001")
        lifecycle.change_insurer(MOTHER, "77002", NOW.date(), "test", "insurer_left", now=NOW, document=DOCUMENT)
    assert field_error(recover(site, MOTHER, code)[1], "code") == activation.REJECTED


def test_a_termination_ends_the_codes_given_before_it_and_gives_no_more(site: Flask) -> None:
    """A terminated policy is final: a code handed out before opens no account, and none is issued after."""
    with site.app_context():
        code = activation.issue_code(MOTHER, "smo:77001")
        lifecycle.terminate(MOTHER, "smo:smo", "Смерть застрахованного")
        with pytest.raises(RegistryError, match="Полис прекращён"):
            activation.issue_code(MOTHER, "smo:77001")
    assert field_error(recover(site, MOTHER, code)[1], "code") == activation.REJECTED


def test_a_code_is_one_persons(site: Flask) -> None:
    with site.app_context():
        code = activation.issue_code(MOTHER, "test")
    assert field_error(recover(site, CHILD, code)[1], "code") == activation.REJECTED
    assert recover(site, MOTHER, code)[0] == 200


@pytest.mark.parametrize("path", ["/recover", "/activate"])
def test_a_refused_code_says_what_to_do_next(site: Flask, path: str) -> None:
    """«ЕНП или код не подходят» left a citizen at the form with nothing to try: it says which two things to
    compare, and who gives a new code when they still do not match."""
    client = site.test_client()
    form = {"enp": MOTHER, "code": "AAAA-AAAA", "username": "someone", "password": NEW_PASSWORD}
    form |= {"password_again": NEW_PASSWORD, "csrf_token": csrf(client, path)}
    said = field_error(client.post(path, data=form).get_data(as_text=True), "code")
    assert "Сверьте 16 цифр ЕНП с полисом" in said
    assert "новый код выдаст ваша страховая компания" in said
    client.post("/language", data={"language": "en", "csrf_token": csrf(client, path)})
    said = field_error(client.post(path, data=form).get_data(as_text=True), "code")
    assert "your insurer will give you a new code" in said


@pytest.mark.parametrize(
    ("password", "again", "field", "message"),
    [
        ("short", None, "password", "Пароль должен быть не короче 10 знаков"),
        (NEW_PASSWORD, "something-else", "password_again", "Пароли не совпадают"),
    ],
)
def test_a_bad_new_password_is_said_and_uses_up_nothing(
    site: Flask, password: str, again: str | None, field: str, message: str
) -> None:
    with site.app_context():
        code = activation.issue_code(MOTHER, "test")
    status, page = recover(site, MOTHER, code, password, again)
    assert status == 400
    assert field_error(page, field) == message
    assert logs_in(site, "ivanova", PASSWORD), "the old password still works"
    assert recover(site, MOTHER, code)[0] == 200


def test_guesses_on_both_code_pages_count_together(site: Flask) -> None:
    client = site.test_client()
    token = csrf(client, "/recover")
    form = {"enp": MOTHER, "code": "AAAA-AAAA", "password": PASSWORD, "password_again": PASSWORD, "csrf_token": token}
    answers = []
    for n in range(3):
        answers.append(client.post("/activate", data=form | {"username": f"guess-{n}"}).status_code)
        answers.append(client.post("/recover", data=form).status_code)
    assert answers == [400] * 5 + [429]


def test_guesses_from_one_address_count_on_both_pages_whatever_the_number(site: Flask) -> None:
    client = site.test_client()
    token = csrf(client, "/recover")
    form = {"code": "AAAA-AAAA", "password": PASSWORD, "password_again": PASSWORD, "csrf_token": token}
    answers = []
    for n in range(16):
        enp = str(Enp.with_check_digit(f"{500000000000000 + n}"))
        answers.append(client.post("/activate", data=form | {"enp": enp, "username": f"guess-{n}"}).status_code)
        answers.append(client.post("/recover", data=form | {"enp": enp}).status_code)
    assert answers == [400] * 30 + [429] * 2


def test_the_login_page_says_who_gives_a_forgotten_password(site: Flask) -> None:
    login = site.test_client().get("/login").get_data(as_text=True)
    assert 'href="/recover"' in login
    page = site.test_client().get("/recover").get_data(as_text=True)
    assert "новый пароль выдаёт оператор реестра" in page
    assert "выдаёт их страховая компания" in page


def test_the_characters_a_login_may_have_are_named_in_words(site: Flask) -> None:
    """«(латинские буквы, цифры, . - _)»: three marks a citizen reads as a stray dot and dashes, with «_)» left
    alone on a phone's line."""
    for client, path in ((site.test_client(), "/activate"), (logged_in(site, "admin"), "/admin/users/new")):
        page = client.get(path).get_data(as_text=True)
        assert "латинские буквы, цифры, точка, дефис, подчёркивание" in page, path
        assert ". - _" not in page, path


def test_the_password_page_offers_no_second_change_password_button(site: Flask) -> None:
    """The footer's «Сменить пароль» stood under the form's own button of the same words, leading to itself."""
    citizen = logged_in(site, "ivanova")
    assert 'href="/account/password"' in citizen.get("/me/").get_data(as_text=True), "the footer everywhere else"
    page = citizen.get("/account/password").get_data(as_text=True)
    assert 'href="/account/password"' not in page
    assert page.count("Сменить пароль") == 1, "the form's button only"


def test_recovery_is_audited_and_the_code_kept_hashed(registry: Flask) -> None:
    register()
    accounts.create_user("ivanova", PASSWORD, Role.CITIZEN, "test", enp=MOTHER)
    code = activation.issue_code(MOTHER, "smo:staff", now=NOW)
    with pytest.raises(RegistryError, match="истёк"):
        activation.recover(MOTHER, code, NEW_PASSWORD, now=NOW + activation.CODE_LIFETIME)
    user = activation.recover(MOTHER, code, NEW_PASSWORD, now=NOW).user
    assert accounts.password_matches(user, NEW_PASSWORD)
    assert db.session.query(ActivationCode).one().used_at is not None
    entry = db.session.query(AuditEntry).filter_by(action="recover_password").one()
    assert (entry.actor, entry.entity_key) == ("citizen:ivanova", MOTHER)


# The operator gives a member of staff a new password


def new_password_of(client: FlaskClient, user_id: int) -> tuple[str, str]:
    """Ask, confirm, and read the password page: its location and the password shown."""
    asked = client.get(f"/admin/users/{user_id}/password")
    assert asked.status_code == 200
    assert "старый пароль перестаёт действовать" in asked.get_data(as_text=True)
    token = csrf(client, f"/admin/users/{user_id}/password")
    response = client.post(f"/admin/users/{user_id}/password", data={"csrf_token": token})
    page, password = shown_password(client, response)
    assert "Новый пароль для" in page
    return response.location, password


def user_id_of(app: Flask, username: str) -> int:
    with app.app_context():
        return db.session.query(User).filter_by(username=username).one().id


def test_the_operator_gives_a_member_of_staff_a_new_password_shown_once(site: Flask) -> None:
    at_the_desk = logged_in(site, "smo")
    admin = logged_in(site, "admin")
    location, password = new_password_of(admin, user_id_of(site, "smo"))
    assert admin.get(location).status_code == 302, "shown once: a reload goes to the list"
    assert not still_in(at_the_desk, "/insurer/"), "the old password's sessions end"
    assert not logs_in(site, "smo", PASSWORD)
    assert logs_in(site, "smo", password)
    with site.app_context():
        entry = db.session.query(AuditEntry).filter_by(action="reset_password").one()
        assert (entry.actor, entry.entity_key) == ("admin:admin", "smo")
        assert password not in str(entry.details), "the password is kept nowhere"


def test_a_new_password_lets_a_member_of_staff_in_past_the_guessers(site: Flask) -> None:
    """Guessers locked the login out of every browser it was not used in; the operator's new password is not."""
    for n in range(10):  # from ten addresses: the limit per login counts them all
        assert not logs_in(site, "smo", "a-wrong-guess", f"203.0.113.{n}")
    assert not logs_in(site, "smo", PASSWORD, "198.51.100.1"), "the right password waits too"
    _, password = new_password_of(logged_in(site, "admin"), user_id_of(site, "smo"))
    assert logs_in(site, "smo", password, "198.51.100.2")


def test_a_new_password_does_not_let_a_disabled_login_in(site: Flask) -> None:
    disable(site, "smo")
    _, password = new_password_of(logged_in(site, "admin"), user_id_of(site, "smo"))
    assert not logs_in(site, "smo", password)


def test_the_operator_gives_no_password_to_a_citizen_nor_to_themself(site: Flask) -> None:
    admin = logged_in(site, "admin")
    users = admin.get("/admin/users").get_data(as_text=True)
    assert f'href="/admin/users/{user_id_of(site, "smo")}/password' in users
    refusals = {
        "ivanova": "Новый пароль гражданину выдаёт его страховая компания, по коду",
        "admin": "Свой пароль меняют на странице «Сменить пароль»",
    }
    for login, message in refusals.items():
        user_id = user_id_of(site, login)
        assert f'href="/admin/users/{user_id}/password' not in users
        assert admin.get(f"/admin/users/{user_id}/password").status_code == 302
        token = csrf(admin, "/admin/users")
        refused = admin.post(f"/admin/users/{user_id}/password", data={"csrf_token": token}, follow_redirects=True)
        assert refused.request.path == "/admin/users"
        assert message in refused.get_data(as_text=True)
    assert logs_in(site, "ivanova", PASSWORD)
    assert still_in(admin, "/admin/users"), "the operator's own session goes on"
    token = csrf(admin, "/admin/users")
    assert admin.post("/admin/users/999999/password", data={"csrf_token": token}).status_code == 404


def test_the_only_operator_gets_a_new_password_at_the_command_line(site: Flask) -> None:
    """No other operator can make them one on the page: the server's shell can, and ends their sessions."""
    at_the_office = logged_in(site, "admin")
    result = site.test_cli_runner().invoke(
        args=["users", "password", "--username", "Admin"], input=f"{NEW_PASSWORD}\n" * 2
    )
    assert result.exit_code == 0, result.output
    assert "Пароль admin изменён" in result.output
    assert NEW_PASSWORD not in result.output, "the password typed is not echoed"
    assert not still_in(at_the_office, "/admin/users")
    assert logs_in(site, "admin", NEW_PASSWORD)
    refused = site.test_cli_runner().invoke(args=["users", "password", "--username", "ivanova"])
    assert refused.exit_code == 1
    assert "страховая компания" in refused.output
    assert logs_in(site, "ivanova", PASSWORD)
