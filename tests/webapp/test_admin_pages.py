"""The registry operator's pages through the test client, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from policy_codes import Verdict
from signing.trust_list import b64url
from tests.webapp.pages import (
    CHILD,
    MOTHER,
    PASSWORD,
    STRANGER,
    code_text,
    csrf,
    field_error,
    logged_in,
    shown_password,
)
from tests.webapp.queues import queued_jobs, work_off
from tests.webapp.test_cli import run
from webapp.extensions import db
from webapp.models import AuditEntry, CodeStatus, IssuedCode, SigningKeyRecord, User
from webapp.registry import accounts, organisations, people
from webapp.registry.keys import keystore, rotation
from webapp.registry.verification import verify_scan

PAGES = [
    "/admin/",
    "/admin/insurers",
    "/admin/clinics",
    "/admin/users",
    "/admin/users/new",
    "/admin/tokens",
    "/admin/keys",
    "/admin/keys/rotate?insurer=77001",
]


def active_kid(app: Flask, insurer: str = "77001") -> str:
    with app.app_context():
        (kid,) = db.session.scalars(
            select(SigningKeyRecord.kid).where(SigningKeyRecord.owner == insurer, SigningKeyRecord.status == "active")
        )
        return kid


def admin_post(client: FlaskClient, path: str, data: dict[str, str], page: str = "/admin/") -> object:
    return client.post(path, data={**data, "csrf_token": csrf(client, page)})


def audited(app: Flask, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


@pytest.mark.parametrize("path", PAGES)
def test_each_page_is_for_the_admin_only(site: Flask, path: str) -> None:
    page = logged_in(site, "admin").get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "no inline script under the CSP"
    assert " style=" not in html
    for username in ("ivanova", "clinic", "smo"):
        assert logged_in(site, username).get(path).status_code == 403, username
    anonymous = site.test_client().get(path)
    assert anonymous.status_code == 302
    assert "/login" in anonymous.location


def test_admin_logs_in_to_the_admin_pages(site: Flask) -> None:
    assert logged_in(site, "admin").get("/").location.endswith("/admin/")


def test_the_overview_counts_active_signing_keys(site: Flask) -> None:
    """`counts.keys` in a template is the dict's method, not the count: it showed «<built-in method keys…>»."""
    page = logged_in(site, "admin").get("/admin/").get_data(as_text=True)
    assert re.search(r"<strong>2</strong> действующих ключа подписи", page), "one key for each of the two insurers"


def tile(page: str, href: str) -> str:
    """An overview tile's words, tags stripped: «2 клиники»."""
    tiles = re.search(r'<ul class="admin-tiles">(.*?)</ul>', page, re.S)
    assert tiles, page
    found = re.search(rf'<a href="{href}">(.*?)</a>', tiles.group(1), re.S)
    assert found, page
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def test_the_overview_counts_in_russian_and_english_plurals(site: Flask) -> None:
    """Issue 18: «1 клиник». Russian has three forms (1 клиника, 2 клиники, 5 клиник), English two."""
    client = logged_in(site, "admin")
    seen = {}
    for count in (1, 2, 5, 11, 21):
        with site.app_context():
            while organisations.counts()["clinics"] < count:
                number = organisations.counts()["clinics"] + 1
                organisations.create_clinic(f"GP-{number:03}", f"Поликлиника №{number}", "test")
        seen[count] = tile(client.get("/admin/").get_data(as_text=True), "/admin/clinics")
    assert seen == {1: "1 клиника", 2: "2 клиники", 5: "5 клиник", 11: "11 клиник", 21: "21 клиника"}
    page = client.get("/admin/").get_data(as_text=True)
    assert tile(page, "/admin/users") == "4 пользователя"
    assert tile(page, "/admin/tokens") == "0 действующих API-токенов"
    assert tile(page, "/admin/keys") == "2 действующих ключа подписи"
    assert not re.search(r"built-in|object at 0x", page), "no Python object's repr"
    client.post("/language", data={"language": "en", "next": "/admin/", "csrf_token": csrf(client, "/admin/")})
    english = client.get("/admin/").get_data(as_text=True)
    assert tile(english, "/admin/clinics") == "21 clinics"
    assert tile(english, "/admin/insurers") == "2 insurers"
    with site.app_context():
        organisations.create_insurer("50001", "Подмосковье-Мед", "test", "50")
        accounts.create_token("GP-001", "МИС", "test")
    english = client.get("/admin/").get_data(as_text=True)
    assert tile(english, "/admin/tokens") == "1 live API token"
    assert tile(english, "/admin/insurers") == "3 insurers"


def test_the_key_rotation_asks_for_one_insurer_in_english(site: Flask) -> None:
    """Its field borrowed the «СМО» of the menu, which is «Insurers» in English: one is chosen."""
    client = logged_in(site, "admin")
    client.post("/language", data={"language": "en", "next": "/admin/", "csrf_token": csrf(client, "/admin/")})
    page = client.get("/admin/keys").get_data(as_text=True)
    field = re.search(r"<label>\s*([^<]*?)\s*<select name=\"insurer\"", page)
    assert field, page
    assert field.group(1) == "Insurer"


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/admin/insurers", {"code": "77003", "name": "Новая"}),
        ("/admin/clinics", {"code": "GP-009", "name": "Новая"}),
        ("/admin/users/new", {"username": "x", "role": "admin", "generate": "1"}),
        ("/admin/users/1/active", {"active": "0"}),
        ("/admin/tokens", {"clinic": "GP-001"}),
        ("/admin/tokens/1/revoke", {}),
        ("/admin/keys/rotate", {"insurer": "77001"}),
        ("/admin/keys/0000000000000000/compromise", {}),
        ("/admin/keys/0000000000000000/resume", {}),
    ],
)
def test_every_form_needs_its_csrf_token(site: Flask, path: str, data: dict[str, str]) -> None:
    client = logged_in(site, "admin")
    assert client.post(path, data=data).status_code == 400
    assert client.post(path, data={**data, "csrf_token": "forged"}).status_code == 400


def test_admin_creates_an_insurer_with_its_first_key(site: Flask) -> None:
    client = logged_in(site, "admin")
    response = admin_post(client, "/admin/insurers", {"code": "50001", "name": "Подмосковье-Мед", "region": "50"})
    assert response.status_code == 302
    page = client.get("/admin/insurers").get_data(as_text=True)
    assert "Подмосковье-Мед" in page
    assert "Московская область" in page
    with site.app_context():
        (key,) = db.session.scalars(select(SigningKeyRecord).where(SigningKeyRecord.owner == "50001"))
        assert key.status == "active"
    assert [entry.actor for entry in audited(site, "create_insurer")][-1] == "admin:admin"
    assert key.kid in client.get("/admin/keys").get_data(as_text=True)


def test_insurers_list_counts_insured_and_active_keys(site: Flask) -> None:
    page = logged_in(site, "admin").get("/admin/insurers").get_data(as_text=True)
    row = re.search(r"<tr>\s*<td[^>]*>77001</td>(.*?)</tr>", page, re.S)
    assert row, page
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    assert cells[2:] == ["3", "1"], "three insured, one active key"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"code": "77001", "name": "Дубль"}, "code", "СМО с кодом 77001 уже есть"),
        ({"code": "7700", "name": "Коротко"}, "code", "Код СМО — 5 цифр"),
        ({"code": "77009", "name": "  "}, "name", "Укажите название СМО"),
        ({"code": "77009", "name": "Где-то", "region": "99"}, "region", "Регион 99 не найден"),
        ({"code": "77009", "name": "Я" * 201}, "name", "Название: не длиннее 200 знаков"),
        ({"code": "77009", "name": "Демо\u202eдеМ"}, "name", "Только видимые знаки"),
    ],
)
def test_bad_insurer_is_refused_with_the_form_kept(site: Flask, data: dict[str, str], field: str, message: str) -> None:
    client = logged_in(site, "admin")
    response = admin_post(client, "/admin/insurers", data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in field_error(page, field), "the message stands by its field"
    assert f'value="{data["code"]}"' in page, "the form keeps what was typed"


def test_admin_creates_a_clinic_and_refuses_a_duplicate(site: Flask) -> None:
    client = logged_in(site, "admin")
    assert admin_post(client, "/admin/clinics", {"code": "GP-002", "name": "Поликлиника №2"}).status_code == 302
    assert "Поликлиника №2" in client.get("/admin/clinics").get_data(as_text=True)
    again = admin_post(client, "/admin/clinics", {"code": "GP-002", "name": "Ещё раз"})
    assert again.status_code == 400
    assert field_error(again.get_data(as_text=True), "code") == "Клиника с кодом GP-002 уже есть"
    assert 'value="Ещё раз"' in again.get_data(as_text=True)
    assert audited(site, "create_clinic")[-1].entity_key == "GP-002"


def test_a_clinics_name_longer_than_its_column_is_refused_not_cut(site: Flask) -> None:
    """The form cut a 400-character name to 200 unsaid; the command kept it whole on SQLite and failed on
    PostgreSQL. Both are refused by the one rule, saying how long a name may be, in the page's language."""
    client = logged_in(site, "admin")
    longest = "Поликлиника " + "Я" * 188
    assert admin_post(client, "/admin/clinics", {"code": "GP-003", "name": longest}).status_code == 302
    typed = "Поликлиника " + "Я" * 388
    refused = admin_post(client, "/admin/clinics", {"code": "GP-004", "name": typed})
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert field_error(page, "name") == "Название: не длиннее 200 знаков"
    assert f'value="{typed}"' in page, "the form keeps what was typed"
    client.post("/language", data={"language": "en", "csrf_token": csrf(client, "/admin/clinics")})
    english = admin_post(client, "/admin/clinics", {"code": "GP-004", "name": typed}).get_data(as_text=True)
    assert field_error(english, "name") == "Name: at most 200 characters"
    code, output = run(site, "clinics", "create", "GP-004", typed)
    assert code == 1
    assert "Название: не длиннее 200 знаков" in output
    with site.app_context():
        assert [clinic.code for clinic in organisations.clinics()] == ["GP-001", "GP-003"]


def test_a_refused_daily_ceiling_keeps_what_was_typed_beside_its_reason(site: Flask) -> None:
    """The page came back with the clinic's old ceiling in the field, the typed one gone, and the reason far
    from it at the top: the operator could not see what was wrong with what they typed."""
    client = logged_in(site, "admin")
    assert admin_post(client, "/admin/clinics", {"code": "GP-002", "name": "Поликлиника №2"}).status_code == 302
    refused = admin_post(client, "/admin/clinics/GP-001/ceiling", {"ceiling": "20 000"}, "/admin/clinics")
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    fields = [
        (re.search(r'value="([^"]*)"', tag).group(1), 'aria-invalid="true"' in tag)  # type: ignore[union-attr]
        for tag in re.findall(r'<input name="ceiling"[^>]*>', page)
    ]
    assert fields == [("20 000", True), ("2000", False)], "the typed value in its own clinic's field only"
    assert field_error(page, "ceiling") == "Дневной лимит — целое число от 0 до 10 000 000"
    client.post("/language", data={"language": "en", "csrf_token": csrf(client, "/admin/clinics")})
    english = admin_post(client, "/admin/clinics/GP-001/ceiling", {"ceiling": "много"}, "/admin/clinics")
    assert 'value="много"' in english.get_data(as_text=True)
    assert field_error(english.get_data(as_text=True), "ceiling").startswith("The daily limit")


def clinic_row(page: str, code: str) -> str:
    """The words of a clinic's row on the clinics page, tags and extra spaces gone."""
    row = re.search(rf'<tr>\s*<td[^>]*class="number">{code}</td>(.*?)</tr>', page, re.S)
    assert row, f"no row for {code}"
    return " ".join(re.sub(r"<[^>]+>", " ", row.group(1)).split())


def test_a_ceiling_has_its_unit_and_a_ceiling_of_0_reads_as_look_ups_turned_off(site: Flask) -> None:
    """The box held a bare number, and a clinic at 0 read «0 из 0 лимит исчерпан», as if it had used up its day:
    0 lets no look-up by number through at all (clinic_checks), so the page says it is off. The unit and the
    message after a change are counted in Russian plurals."""
    client = logged_in(site, "admin")
    seen = {}
    for ceiling in ("1", "3", "2000", "0"):
        changed = admin_post(client, "/admin/clinics/GP-001/ceiling", {"ceiling": ceiling}, "/admin/clinics")
        assert changed.status_code == 302
        page = client.get("/admin/clinics").get_data(as_text=True)
        seen[ceiling] = (clinic_row(page, "GP-001"), page)
    assert "проверка по номеру в день" in seen["1"][0]
    assert "проверки по номеру в день" in seen["3"][0]
    assert "0 из 2000" in seen["2000"][0]
    assert "проверок по номеру в день" in seen["2000"][0]
    assert "Дневной лимит для GP-001: 3 проверки по номеру" in seen["3"][1]
    assert "Дневной лимит для GP-001: 2000 проверок по номеру" in seen["2000"][1]
    off, page = seen["0"]
    assert "поиск по номеру выключен" in off
    assert "из 0" not in off
    assert "исчерпан" not in off
    assert "Поиск по номеру для GP-001 выключен" in page
    client.post("/language", data={"language": "en", "csrf_token": csrf(client, "/admin/clinics")})
    english = clinic_row(client.get("/admin/clinics").get_data(as_text=True), "GP-001")
    assert "look-up by number turned off" in english
    assert "number look-ups a day" in english
    assert admin_post(client, "/admin/clinics/GP-001/ceiling", {"ceiling": "1"}, "/admin/clinics").status_code == 302
    english = clinic_row(client.get("/admin/clinics").get_data(as_text=True), "GP-001")
    assert "0 of 1" in english
    assert "number look-up a day" in english


def test_admin_creates_staff_with_a_typed_password(site: Flask) -> None:
    client = logged_in(site, "admin")
    data = {"username": "anna", "role": "insurer", "insurer": "77002", "password": "anna-pass-2026"}
    mismatch = admin_post(client, "/admin/users/new", {**data, "password_again": "other"}, "/admin/users/new")
    assert mismatch.status_code == 400
    assert field_error(mismatch.get_data(as_text=True), "password_again") == "Пароли не совпадают"
    assert 'value="anna"' in mismatch.get_data(as_text=True)
    weak = admin_post(
        client, "/admin/users/new", {**data, "password": "short", "password_again": "short"}, "/admin/users/new"
    )
    assert weak.status_code == 400
    assert "Пароль должен быть не короче 10 знаков" in weak.get_data(as_text=True)
    created = admin_post(client, "/admin/users/new", {**data, "password_again": data["password"]}, "/admin/users/new")
    assert created.status_code == 302
    page = client.get("/admin/users?q=anna").get_data(as_text=True)
    assert "77002 Пример-Полис" in page
    anna = site.test_client()
    token = csrf(anna)
    login = anna.post("/login", data={"username": "anna", "password": "anna-pass-2026", "csrf_token": token})
    assert login.location.endswith("/insurer/")
    assert audited(site, "create_user")[-1].entity_key == "anna"


def session_data(app: Flask, client: FlaskClient) -> str:
    """What the browser's session cookie holds, decoded: signed, not encrypted, so anyone with it reads it."""
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    assert cookie is not None
    return str(app.session_interface.get_signing_serializer(app).loads(cookie.value))  # type: ignore[attr-defined]


def test_a_generated_password_is_shown_once_after_a_redirect_and_works(site: Flask) -> None:
    """Post/redirect/get (issue 18, item 9): the password page is a GET, and a reload shows it no more."""
    client = logged_in(site, "admin")
    data = {"username": "boris", "role": "clinic", "clinic": "GP-001", "generate": "1"}
    response = admin_post(client, "/admin/users/new", data, "/admin/users/new")
    _, password = shown_password(client, response)
    again = client.get(response.location)
    assert again.status_code == 302, "shown once: a reload goes to the list"
    assert password not in client.get(again.location).get_data(as_text=True)
    boris = site.test_client()
    token = csrf(boris)
    login = boris.post("/login", data={"username": "boris", "password": password, "csrf_token": token})
    assert login.location.endswith("/clinic/")


def test_the_password_rides_the_redirect_sealed(site: Flask) -> None:
    """The session cookie is signed, not encrypted: the password crosses the redirect sealed in it."""
    client = logged_in(site, "admin")
    data = {"username": "vera", "role": "clinic", "clinic": "GP-001", "generate": "1"}
    admin_post(client, "/admin/users/new", data, "/admin/users/new")
    sealed = session_data(site, client)
    page = client.get("/admin/users/password").get_data(as_text=True)
    password = re.search(r'<code class="admin-secret-value">([^<]+)</code>', page).group(1)  # type: ignore[union-attr]
    assert password not in sealed
    assert "shown_once" in sealed, "it was in the cookie, sealed"
    assert "shown_once" not in session_data(site, client), "and is gone once shown"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"username": "ivanova", "role": "admin"}, "username", "Пользователь ivanova уже есть"),
        ({"username": "x", "role": "citizen"}, "role", "Выберите роль сотрудника"),
        ({"username": "x", "role": "insurer"}, "insurer", "Укажите СМО"),
        ({"username": "x", "role": "insurer", "insurer": "99999"}, "insurer", "СМО с кодом 99999 не найдена"),
        ({"username": " ", "role": "admin"}, "username", "Укажите имя пользователя"),
    ],
)
def test_bad_user_is_refused(site: Flask, data: dict[str, str], field: str, message: str) -> None:
    client = logged_in(site, "admin")
    response = admin_post(client, "/admin/users/new", {**data, "generate": "1"}, "/admin/users/new")
    assert response.status_code == 400
    assert field_error(response.get_data(as_text=True), field) == message


def test_a_new_user_form_shows_every_mistake_at_once(site: Flask) -> None:
    """The operator sees all that is wrong in one go, the first field focused, not one refusal per attempt."""
    client = logged_in(site, "admin")
    created_before = len(audited(site, "create_user"))
    data = {"username": "Иван", "role": "", "password": "short", "password_again": "other"}
    page = admin_post(client, "/admin/users/new", data, "/admin/users/new").get_data(as_text=True)
    assert field_error(page, "username").startswith("Логин — до 80 латинских букв")
    assert field_error(page, "role") == "Выберите роль сотрудника"
    assert field_error(page, "password") == "Пароль должен быть не короче 10 знаков"
    assert field_error(page, "password_again") == "Пароли не совпадают"
    assert re.search(r'name="username"[^>]*autofocus', page), "the first mistake gets the focus"
    assert page.count("autofocus") == 1
    nothing = admin_post(client, "/admin/users/new", {"role": "clinic", "generate": "1"}, "/admin/users/new")
    page = nothing.get_data(as_text=True)
    assert field_error(page, "username") == "Укажите имя пользователя"
    assert field_error(page, "clinic") == "Укажите клинику"
    assert len(audited(site, "create_user")) == created_before


def test_admin_disables_and_enables_a_citizen(site: Flask) -> None:
    citizen = logged_in(site, "ivanova")
    admin = logged_in(site, "admin")
    with site.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == "ivanova"))
    listing = admin.get("/admin/users?q=ivanova").get_data(as_text=True)
    asked = f"/admin/users/{user_id}/disable"
    assert f'href="{asked}?q=ivanova' in listing, "disabling starts with a page, not at one tap"
    page = admin.get(f"{asked}?q=ivanova").get_data(as_text=True)
    assert "Отключить вход для" in page
    assert "все открытые сеансы этого логина завершаются" in page
    assert citizen.get("/me/").status_code == 200, "asking ends nothing"
    assert admin_post(admin, f"/admin/users/{user_id}/active", {"active": "0"}, asked).status_code == 302
    assert admin.get(asked).status_code == 302, "a disabled login is not asked about again"
    assert "отключён" in admin.get("/admin/users?q=ivanova").get_data(as_text=True)
    assert citizen.get("/me/").status_code == 302, "the open session ends"
    again = site.test_client()
    token = csrf(again)
    refused = again.post("/login", data={"username": "ivanova", "password": PASSWORD, "csrf_token": token})
    assert refused.status_code == 403
    assert field_error(refused.get_data(as_text=True), "form").startswith("Вход для этой учётной записи отключён")
    wrong = again.post("/login", data={"username": "ivanova", "password": "not-the-password", "csrf_token": token})
    assert wrong.status_code == 401, "only who knows the password is told the login is disabled"
    assert "отключён" not in wrong.get_data(as_text=True)
    assert admin_post(admin, f"/admin/users/{user_id}/active", {"active": "1"}).status_code == 302
    assert logged_in(site, "ivanova").get("/me/").status_code == 200
    assert [entry.action for entry in audited(site, "disable_user") + audited(site, "enable_user")] == [
        "disable_user",
        "enable_user",
    ]
    assert admin_post(admin, "/admin/users/999999/active", {"active": "0"}).status_code == 404
    assert admin.get("/admin/users/999999/disable").status_code == 404


def test_admin_cannot_lock_themself_out(site: Flask) -> None:
    admin = logged_in(site, "admin")
    with site.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == "admin"))
    admin_post(admin, f"/admin/users/{user_id}/active", {"active": "0"})
    assert admin.get("/admin/").status_code == 200


def test_token_is_shown_once_works_and_stops_working_when_revoked(site: Flask) -> None:
    client = logged_in(site, "admin")
    response = admin_post(client, "/admin/tokens", {"clinic": "GP-001", "name": "МИС"}, "/admin/tokens")
    assert response.status_code == 302, "post/redirect/get: reloading the token page makes no second token"
    assert response.location.endswith("/admin/tokens?clinic=GP-001")
    shown = client.get(response.location)
    assert shown.headers["Cache-Control"] == "no-store"
    page = shown.get_data(as_text=True)
    assert "Скопируйте токен сейчас" in page
    token = re.search(r'<code class="admin-secret-value">(oms_[^<]+)</code>', page).group(1)  # type: ignore[union-attr]
    reloaded = client.get(response.location).get_data(as_text=True)
    assert token not in reloaded
    assert "Скопируйте токен сейчас" not in reloaded
    with site.app_context():
        assert organisations.counts()["tokens"] == 1, "one token, however often the page is reloaded"
    listing = client.get("/admin/tokens").get_data(as_text=True)
    assert token not in listing
    assert "МИС" in listing
    clinic = re.search(r'<td data-label="Клиника">(.*?)</td>', listing).group(1)  # type: ignore[union-attr]
    assert clinic == '<span class="number">GP-001</span> — Поликлиника №1', "the clinic's name, not its code alone"
    api = site.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    verified = api.post("/api/v1/verify", json={"code": code_text(site, MOTHER)}, headers=headers)
    assert verified.status_code == 200
    assert verified.get_json()["verdict"] == "valid"
    token_id = re.search(r'/admin/tokens/(\d+)/revoke"', listing).group(1)  # type: ignore[union-attr]
    assert f'<form method="post" action="/admin/tokens/{token_id}/revoke"' not in listing, "no one-tap revocation"
    asked = client.get(f"/admin/tokens/{token_id}/revoke").get_data(as_text=True)
    assert 'Отозвать токен клиники <span class="number">GP-001</span>?' in asked
    assert "Это нельзя отменить" in asked
    asking = api.post("/api/v1/verify", json={"code": MOTHER}, headers=headers)
    assert asking.status_code == 200, "asking revokes nothing"
    revoke = f"/admin/tokens/{token_id}/revoke"
    assert admin_post(client, revoke, {}, revoke).status_code == 302
    assert "отозван" in client.get("/admin/tokens").get_data(as_text=True)
    assert client.get(revoke).status_code == 302, "a revoked token is not asked about again"
    assert api.post("/api/v1/verify", json={"code": MOTHER}, headers=headers).status_code == 401
    assert [entry.action for entry in audited(site, "create_token") + audited(site, "revoke_token")] == [
        "create_token",
        "revoke_token",
    ]


def test_token_for_no_clinic_or_an_unknown_one_is_refused(site: Flask) -> None:
    client = logged_in(site, "admin")
    assert admin_post(client, "/admin/tokens", {"clinic": ""}, "/admin/tokens").status_code == 400
    unknown = admin_post(client, "/admin/tokens", {"clinic": "NOPE"}, "/admin/tokens")
    assert unknown.status_code == 400
    assert "Клиника с кодом NOPE не найдена" in unknown.get_data(as_text=True)
    assert admin_post(client, "/admin/tokens/999999/revoke", {}, "/admin/tokens").status_code == 404
    assert client.get("/admin/tokens/999999/revoke").status_code == 404


def test_rotated_key_is_in_the_trust_list(site: Flask) -> None:
    client = logged_in(site, "admin")
    old = active_kid(site)
    asked = client.get("/admin/keys/rotate?insurer=77001").get_data(as_text=True)
    assert "Выпустить новый ключ для СМО 77001?" in asked
    assert f"Ключ {old} перестаёт подписывать" in asked
    unconfirmed = admin_post(client, "/admin/keys/rotate", {"insurer": "77001"}, "/admin/keys")
    assert unconfirmed.location.endswith("/admin/keys/rotate?insurer=77001"), "an old tab's form: the question first"
    assert active_kid(site) == old
    assert f'name="retiring" value="{old}"' in asked, "the question names the keys it retires"
    form = {"insurer": "77001", "confirmed": "yes", "retiring": old}
    confirmed = admin_post(client, "/admin/keys/rotate", form, "/admin/keys")
    assert confirmed.status_code == 302
    new = active_kid(site)
    assert new != old
    assert client.get("/admin/keys").status_code == 200  # its message shown
    twice = admin_post(client, "/admin/keys/rotate", form, "/admin/keys")
    assert twice.location.endswith("/admin/keys"), "the same form sent again (a double tap, an old tab)"
    said = client.get("/admin/keys").get_data(as_text=True)
    assert "Ключи СМО 77001 сменились, пока страница с вопросом была открыта: новый ключ не выпущен" in said
    assert active_kid(site) == new, "rotated once"
    assert len(audited(site, "rotate_key")) == 1
    trust = {key["kid"]: key for key in site.test_client().get("/api/v1/trust-list").get_json()["keys"]}
    assert trust[b64url(bytes.fromhex(new))]["status"] == "active"
    assert trust[b64url(bytes.fromhex(old))]["status"] == "retired"
    page = client.get("/admin/keys").get_data(as_text=True)
    assert new in page
    assert old in page
    for ask in (
        lambda code: client.get(f"/admin/keys/rotate?insurer={code}"),
        lambda code: admin_post(client, "/admin/keys/rotate", {"insurer": code, "confirmed": "yes"}, "/admin/keys"),
    ):
        assert ask("99999").location.endswith("/admin/keys")
        assert "СМО с кодом 99999 не найдена" in client.get("/admin/keys").get_data(as_text=True)
        assert ask("").location.endswith("/admin/keys")
        assert "Выберите СМО" in client.get("/admin/keys").get_data(as_text=True), "not «СМО с кодом  не найдена»"
        assert ask("77001 отозвана. Срочно позвоните +7 900 000-00-00").location.endswith("/admin/keys")
        said = client.get("/admin/keys").get_data(as_text=True)
        assert "Код СМО — 5 цифр (реестровый номер)" in said
        assert "Срочно позвоните" not in said, "a link's words are not said to the operator as the registry's"
    assert active_kid(site) == new


def wait_for_reissue(client: FlaskClient, kid: str, timeout: float = 60) -> str:
    """Poll the progress block as htmx does, until the run is over."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        block = client.get(f"/admin/keys/{kid}/progress", headers={"HX-Request": "true"}).get_data(as_text=True)
        if "hx-trigger" not in block:
            return block
        time.sleep(0.1)
    raise AssertionError("the reissue did not finish")


def current_codes(app: Flask, kid: str) -> int:
    with app.app_context():
        return len(
            db.session.scalars(
                select(IssuedCode.id).where(IssuedCode.kid == kid, IssuedCode.status == CodeStatus.CURRENT)
            ).all()
        )


def test_compromise_asks_first_then_reissues_everything_the_key_signed(site: Flask) -> None:
    client = logged_in(site, "admin")
    kid = active_kid(site)
    old_codes = {enp: code_text(site, enp) for enp in (MOTHER, CHILD, STRANGER)}
    confirm = client.get(f"/admin/keys/{kid}/compromise").get_data(as_text=True)
    assert "Это нельзя отменить" in confirm
    assert "сейчас 3" in confirm
    # The desk's own headline: it said «ключ скомпрометирован», and reception reads «Подпись отозвана».
    assert f"проверка отвечает «{Verdict.KEY_COMPROMISED.headline('ru')}»" in confirm
    response = admin_post(client, f"/admin/keys/{kid}/compromise", {}, f"/admin/keys/{kid}/compromise")
    assert response.status_code == 302
    with site.app_context():
        assert keystore.record_for(kid).status == "compromised", "distrusted before the reissue ends"
    block = wait_for_reissue(client, kid)
    assert "Перевыпущено 3 из 3 кодов" in block
    assert "все коды перевыпущены" in block
    assert current_codes(site, kid) == 0
    new_kid = active_kid(site)
    with site.app_context():
        for enp, old in old_codes.items():
            assert verify_scan(old).verdict is Verdict.KEY_COMPROMISED
            fresh = people.current_code(people.person_by_enp(enp))
            assert fresh.kid == new_kid
            assert verify_scan(fresh.text).verdict is Verdict.VALID
    assert audited(site, "compromise_key")[-1].entity_key == kid
    assert sum(entry.details["codes"] for entry in audited(site, "mass_reissue")) == 3
    again = admin_post(client, f"/admin/keys/{kid}/compromise", {}, f"/admin/keys/{kid}")
    assert again.status_code == 302, "a second submit is refused, not a 500"
    assert "уже помечен скомпрометированным" in client.get(f"/admin/keys/{kid}").get_data(as_text=True)
    assert len(audited(site, "compromise_key")) == 1


def test_compromising_the_registry_key_on_its_page_makes_its_successor_and_reissues_nothing(site: Flask) -> None:
    """The registry operator's key signs the published lists, not codes: its page promised a reissue of its codes
    (none), started an empty job, and said nothing of the clinics' pins, which must change."""
    from webapp.models import Job
    from webapp.registry.keys import publication

    client = logged_in(site, "admin")
    with site.app_context():
        old = publication.registry_key().kid.hex()
        db.session.commit()
    confirm = client.get(f"/admin/keys/{old}/compromise").get_data(as_text=True)
    assert "перевыпускать нечего" in confirm
    assert "перевыпускаются новым ключом" not in confirm
    assert "flask --app webapp keys registry-jwks" in confirm
    response = admin_post(client, f"/admin/keys/{old}/compromise", {}, f"/admin/keys/{old}/compromise")
    assert response.status_code == 302
    with site.app_context():
        new = next(record.kid for record in keystore.all_keys() if record.owner == "registry" and record.kid != old)
        assert keystore.record_for(old).status == "compromised"
        assert keystore.record_for(new).status == "active"
        assert db.session.scalar(select(func.count(Job.id))) == 0, "no reissue job"
    page = client.get(f"/admin/keys/{old}").get_data(as_text=True)
    assert f"списки подписывает новый ключ {new}" in page
    assert "Раздайте клиникам новый ключ оператора" in page
    assert "Перевыпуск подписанных им кодов" not in page
    assert "Пометить скомпрометированным" not in page


#: The rotation's question page's warning while a reissue of the insurer's codes is unfinished.
ROTATION_STOPS_A_REISSUE = "Перевыпуск кодов этой СМО после компрометации ещё не завершён: ротация остановит его"
ROTATION_QUESTION = "/admin/keys/rotate?insurer=77001"


def test_an_interrupted_reissue_is_resumed_from_the_page(site: Flask) -> None:
    kid = active_kid(site)
    with site.app_context():
        rotation.distrust(kid, "test")  # the process died before any batch ran
    client = logged_in(site, "admin")
    page = client.get(f"/admin/keys/{kid}").get_data(as_text=True)
    assert "Перевыпущено 0 из 3 кодов" in page
    assert "перевыпуск остановлен, осталось 3 кода" in page
    assert "Продолжить перевыпуск" in page
    assert "перевыпущено 0 из 3 кодов" in client.get("/admin/").get_data(as_text=True)
    assert "перевыпуск не завершён: осталось 3 кода" in client.get("/admin/keys").get_data(as_text=True)
    question = client.get(ROTATION_QUESTION).get_data(as_text=True)
    assert ROTATION_STOPS_A_REISSUE in question, "warned before rotating"
    assert f'href="/admin/keys/{kid}"' in question, "the way to the key's page, where it is resumed"
    assert ROTATION_STOPS_A_REISSUE not in client.get("/admin/keys/rotate?insurer=77002").get_data(as_text=True)
    assert admin_post(client, f"/admin/keys/{kid}/resume", {}, f"/admin/keys/{kid}").status_code == 302
    block = wait_for_reissue(client, kid)
    assert "Перевыпущено 3 из 3 кодов" in block
    assert current_codes(site, kid) == 0
    assert ROTATION_STOPS_A_REISSUE not in client.get(ROTATION_QUESTION).get_data(as_text=True)
    with site.app_context():
        assert verify_scan(code_text(site, MOTHER)).verdict is Verdict.VALID


def test_resume_is_refused_for_a_key_that_is_not_compromised(site: Flask) -> None:
    client = logged_in(site, "admin")
    kid = active_kid(site)
    assert admin_post(client, f"/admin/keys/{kid}/resume", {}, f"/admin/keys/{kid}").status_code == 302
    assert "не скомпрометирован" in client.get(f"/admin/keys/{kid}").get_data(as_text=True)
    assert client.get(f"/admin/keys/{kid}/progress").status_code == 404
    assert client.get("/admin/keys/ffffffffffffffff").status_code == 404
    assert current_codes(site, kid) == 3


def test_with_a_queue_the_reissue_is_a_job_for_a_worker_and_a_second_resume_starts_nothing(
    site: Flask, queue_url: str
) -> None:
    site.config["JOB_QUEUE_URL"] = queue_url
    kid = active_kid(site)
    with site.app_context():
        rotation.distrust(kid, "test")
    client = logged_in(site, "admin")
    admin_post(client, f"/admin/keys/{kid}/resume", {}, f"/admin/keys/{kid}")
    assert "Перевыпуск продолжен" in client.get(f"/admin/keys/{kid}").get_data(as_text=True)
    block = client.get(f"/admin/keys/{kid}/progress").get_data(as_text=True)
    assert "hx-trigger" in block, "the page polls while the job waits"
    assert "в очереди" in block
    assert current_codes(site, kid) == 3, "the request did not do the work"
    admin_post(client, f"/admin/keys/{kid}/resume", {}, f"/admin/keys/{kid}")
    assert "Перевыпуск уже идёт" in client.get(f"/admin/keys/{kid}").get_data(as_text=True)
    assert queued_jobs(site) == 1
    work_off(site)
    block = wait_for_reissue(client, kid)
    assert "Перевыпущено 3 из 3 кодов" in block
    assert "все коды перевыпущены" in block
    with site.app_context():
        serials = db.session.scalars(select(IssuedCode.serial).where(IssuedCode.status == CodeStatus.CURRENT)).all()
    assert sorted(serials) == [2, 2, 2], "each code reissued once"
    assert len(audited(site, "mass_reissue")) == 1


def test_admin_pages_name_things_in_words_and_times_in_moscow_time(site: Flask) -> None:
    """Issue 18: the keys table's column read «kid»; times carry «МСК» wherever they are shown."""
    client = logged_in(site, "admin")
    keys = client.get("/admin/keys").get_data(as_text=True)
    assert "Идентификатор ключа" in keys
    assert not re.search(r">\s*kid\s*<|data-label=\"kid\"", keys)
    assert re.search(r'data-icon="check".*?</svg> действует', keys), "a key's state: an icon and its words"
    assert not re.search("[✔✖⚠◌⏳]", keys), "no symbol a phone without an emoji font shows as an empty box"
    kid = active_kid(site)
    assert re.search(r"\d\d\.\d\d\.\d{4} \d\d:\d\d МСК", client.get(f"/admin/keys/{kid}").get_data(as_text=True))
    admin_post(client, "/admin/tokens", {"clinic": "GP-001", "name": "МИС"}, "/admin/tokens")
    tokens = client.get("/admin/tokens").get_data(as_text=True)
    assert re.search(r"\d\d\.\d\d\.\d{4} \d\d:\d\d МСК", tokens)
    users = client.get("/admin/users").get_data(as_text=True)
    roles = re.findall(r'data-label="Роль">(.*?)</td>', users, re.S)
    assert roles, users
    words = {"Гражданин", "Регистратура", "Сотрудник СМО", "Оператор реестра"}
    assert {role.strip() for role in roles} <= words


def test_the_user_list_says_it_is_cut_short_only_when_it_is(site: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """«Показаны первые 100» above four logins read as if some were hidden."""
    client = logged_in(site, "admin")
    users = client.get("/admin/users").get_data(as_text=True)
    assert "Показаны первые" not in users
    assert "Граждане открывают учётные записи сами" in users
    monkeypatch.setattr("webapp.web.views.admin.USERS_SHOWN", 2)
    cut = client.get("/admin/users").get_data(as_text=True)
    assert "Показаны первые 2 по алфавиту: остальных найдите по логину или роли." in cut


def test_clinic_history_times_are_moscow_time(site: Flask) -> None:
    client = logged_in(site, "clinic")
    client.post("/clinic/verify", data={"code": code_text(site, MOTHER), "csrf_token": csrf(client, "/clinic/")})
    history = client.get("/clinic/history").get_data(as_text=True)
    assert re.search(r"\d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d МСК", history)


def test_a_sealed_token_opens_only_in_the_login_session_it_was_made_in(site: Flask) -> None:
    made_in, elsewhere = logged_in(site, "admin"), logged_in(site, "admin")
    admin_post(made_in, "/admin/tokens", {"clinic": "GP-001", "name": "МИС"}, "/admin/tokens")
    with made_in.session_transaction() as first:
        sealed = first["shown_once:api_token"]
    with elsewhere.session_transaction() as second:
        second["shown_once:api_token"] = sealed
    assert "Скопируйте токен сейчас" not in elsewhere.get("/admin/tokens").get_data(as_text=True)
    assert "Скопируйте токен сейчас" in made_in.get("/admin/tokens").get_data(as_text=True)


def test_a_tokens_name_and_a_login_longer_than_their_columns_are_refused_not_cut(site: Flask) -> None:
    """Both were cut unsaid (to 100 and 80 characters): a login of 81 became another login than the one typed."""
    client = logged_in(site, "admin")
    made = admin_post(client, "/admin/tokens", {"clinic": "GP-001", "name": "М" * 101})
    assert made.status_code == 400
    assert "Название токена (для чего он): не длиннее 100 знаков" in made.get_data(as_text=True)
    with site.app_context():
        assert not accounts.live_tokens_by_clinic(), "no token was made"
    login = "a" * 81
    password = "long-enough-pass-1"
    typed = {"username": login, "role": "admin", "password": password, "password_again": password}
    page = admin_post(client, "/admin/users/new", typed)
    assert page.status_code == 400
    assert field_error(page.get_data(as_text=True), "username").startswith("Логин — до 80 латинских букв")
    with site.app_context():
        assert not accounts.find_users(login[:80], "", 10)
