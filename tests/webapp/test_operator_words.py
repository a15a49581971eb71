"""What the registry operator reads on a phone (a walk of the admin pages in Russian and English): the list of
tokens a clinic's count of them opens, a refused form that keeps what was chosen, one's own login in the list."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from tests.webapp.pages import csrf, field_error, logged_in
from webapp.registry import accounts, organisations


def admin_post(client: FlaskClient, path: str, data: dict[str, str]) -> str:
    response = client.post(path, data={**data, "csrf_token": csrf(client, "/admin/")})
    assert response.status_code == 400
    return response.get_data(as_text=True)


def in_english(client: FlaskClient) -> FlaskClient:
    client.post("/language", data={"language": "en", "next": "/admin/", "csrf_token": csrf(client, "/admin/")})
    return client


def test_a_clinics_tokens_link_lists_that_clinics_tokens_only(site: Flask) -> None:
    """A clinic's count of tokens opened every clinic's, the chosen clinic's marked by a grey background alone."""
    with site.app_context():
        organisations.create_clinic("GP-002", "Поликлиника №2", "test")
        accounts.create_token("GP-001", "МИС первой", "test")
        accounts.create_token("GP-002", "МИС второй", "test")
    client = logged_in(site, "admin")
    chosen = client.get("/admin/tokens?clinic=GP-002").get_data(as_text=True)
    assert 'Токены клиники <span class="number">GP-002</span>' in chosen
    assert "МИС второй" in chosen
    assert "МИС первой" not in chosen
    assert 'href="/admin/tokens">Токены всех клиник</a>' in chosen
    every = client.get("/admin/tokens").get_data(as_text=True)
    assert "МИС первой" in every
    assert "МИС второй" in every
    assert "admin-selected" not in every + chosen


def test_a_clinics_tokens_are_counted_in_words_not_after_a_second_colon(site: Flask) -> None:
    """The phone's card read «API-токены: действующих: 0»."""
    client = logged_in(site, "admin")
    link = re.compile(r'<a href="/admin/tokens\?clinic=GP-001">(.*?)</a>')
    assert link.findall(client.get("/admin/clinics").get_data(as_text=True)) == ["0 действующих"]
    with site.app_context():
        accounts.create_token("GP-001", "МИС", "test")
    assert link.findall(client.get("/admin/clinics").get_data(as_text=True)) == ["1 действующий"]
    assert link.findall(in_english(client).get("/admin/clinics").get_data(as_text=True)) == ["1 active"]


def test_a_token_with_no_clinic_says_so_by_the_clinic_field_and_keeps_what_it_is_for(site: Flask) -> None:
    """The reason was a message at the top of the page, away from the one field it is about."""
    page = admin_post(logged_in(site, "admin"), "/admin/tokens", {"clinic": "", "name": "МИС регистратуры"})
    assert field_error(page, "clinic") == "Выберите клинику"
    assert 'name="name" value="МИС регистратуры"' in page


def test_tokens_are_listed_by_what_they_are_for_as_the_form_asks(site: Flask) -> None:
    with site.app_context():
        token = accounts.create_token("GP-001", "МИС", "test")[0]
        token_id = token.id
    client = logged_in(site, "admin")
    assert re.search(r'<td data-label="Для чего">МИС</td>', client.get("/admin/tokens").get_data(as_text=True))
    asked = client.get(f"/admin/tokens/{token_id}/revoke").get_data(as_text=True)
    assert "<p>Для чего: МИС</p>" in asked
    assert 'href="/admin/tokens?clinic=GP-001">Отмена</a>' in asked, "back to the clinic's tokens"
    empty = client.get("/admin/tokens?clinic=NOPE").get_data(as_text=True)
    assert "Токены всех клиник" in empty


def test_no_tokens_yet_says_what_to_do(site: Flask) -> None:
    page = logged_in(site, "admin").get("/admin/tokens").get_data(as_text=True)
    assert "Токенов ещё нет: выпустите первый формой выше." in page


def test_a_refused_new_login_keeps_the_generated_password_choice(site: Flask) -> None:
    """The box «создать пароль автоматически» came back unticked after a refusal: ticked by the admin, the next
    submit asked for a password they never meant to type."""
    typed = {"username": "clinic", "role": "clinic", "clinic": "GP-001", "generate": "1"}
    page = admin_post(logged_in(site, "admin"), "/admin/users/new", typed)
    assert field_error(page, "username")
    assert re.search(r'<input type="checkbox" name="generate" value="1" checked>', page)


def test_ones_own_login_says_why_it_has_no_buttons(site: Flask) -> None:
    page = logged_in(site, "admin").get("/admin/users?q=admin").get_data(as_text=True)
    assert 'Это вы. <a href="/account/password">Сменить свой пароль</a>' in page


def test_the_users_sign_in_column_is_not_a_log_in_button_in_english(site: Flask) -> None:
    """«Вход» is the login page's «Log in»; over the column of who may sign in it read as a command."""
    page = in_english(logged_in(site, "admin")).get("/admin/users").get_data(as_text=True)
    assert "<th>Sign-in</th>" in page
    assert 'data-label="Sign-in"' in page
    assert "Log in" not in re.sub(r"<header.*?</header>", "", page, flags=re.S)


def test_a_stopped_reissue_counts_codes_in_both_languages(site: Flask) -> None:
    """«0 / 3», «осталось 3»: three of what, the page did not say."""
    from tests.webapp.test_admin_pages import active_kid
    from webapp.registry.keys import rotation

    kid = active_kid(site)
    with site.app_context():
        rotation.distrust(kid, "test")  # the process died before any batch ran
    client = logged_in(site, "admin")
    assert " / 3" not in client.get(f"/admin/keys/{kid}").get_data(as_text=True)  # the Russian: test_admin_pages.py
    english = in_english(client).get(f"/admin/keys/{kid}").get_data(as_text=True)
    assert "0 of 3 codes reissued" in english
    assert "reissue stopped, 3 codes left" in english
    assert "reissue unfinished: 3 codes left" in client.get("/admin/keys").get_data(as_text=True)
