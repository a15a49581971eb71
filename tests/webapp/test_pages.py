"""Pages through Flask's test client: login, roles, CSRF, headers. (Browser tests come with the UI issue.)"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from policy_codes import Verdict
from tests.helpers.registry import make_app
from tests.webapp.pages import CHILD, MOTHER, PASSWORD, STRANGER, code_text, csrf, field_error, logged_in
from webapp.models import Role
from webapp.registry import accounts, organisations
from webapp.registry.verification import verify_scan

ROOT = Path(__file__).resolve().parents[2]
METHODS = [("webapp/**.py", "python"), ("templates/**.html", "jinja2")]


def test_login_sends_each_role_home(site: Flask) -> None:
    assert logged_in(site, "ivanova").get("/").location.endswith("/me/")
    assert logged_in(site, "clinic").get("/").location.endswith("/clinic/")


def test_wrong_password_is_refused_without_saying_which_part(site: Flask) -> None:
    client = site.test_client()
    token = csrf(client)
    response = client.post("/login", data={"username": "ivanova", "password": "nope", "csrf_token": token})
    assert response.status_code == 401
    assert field_error(response.get_data(as_text=True), "password") == "Неверный логин или пароль"


def test_login_is_rate_limited(site: Flask) -> None:
    client = site.test_client()
    token = csrf(client)
    codes = [
        client.post("/login", data={"username": "ivanova", "password": f"x{i}", "csrf_token": token}).status_code
        for i in range(6)
    ]
    assert codes == [401] * 5 + [429]
    response = client.post("/login", data={"username": "ivanova", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 429, "the right password does not skip the limit"


def login_statuses(app: Flask, client_addresses: list[str]) -> list[int]:
    """Failed logins, each as another username (so only the per-address limit counts), each sent with
    the client address a proxy would put in X-Forwarded-For."""
    client = app.test_client()
    token = csrf(client)
    return [
        client.post(
            "/login",
            data={"username": f"nobody-{n}", "password": "x", "csrf_token": token},
            headers={"X-Forwarded-For": address},
        ).status_code
        for n, address in enumerate(client_addresses)
    ]


def test_behind_a_proxy_each_client_address_has_its_own_login_limit(site: Flask, database_url: str) -> None:
    """With PROXY_HOPS=1 the address comes from the proxy's X-Forwarded-For; without, that header is ignored."""
    behind_a_proxy = make_app(database_url, PROXY_HOPS=1)
    assert login_statuses(behind_a_proxy, ["10.0.0.1"] * 31 + ["10.0.0.2"]) == [401] * 30 + [429, 401]
    direct = make_app(database_url)
    statuses = login_statuses(direct, ["10.0.0.1"] * 30 + ["10.0.0.2"])
    assert statuses == [401] * 30 + [429], "with no proxy, a client cannot choose its own address"


def test_a_post_without_csrf_token_is_refused(site: Flask) -> None:
    client = logged_in(site, "clinic")
    assert client.post("/clinic/verify", data={"code": MOTHER}).status_code == 400
    assert client.post("/logout").status_code == 400
    anonymous = site.test_client()
    assert anonymous.post("/login", data={"username": "ivanova", "password": PASSWORD}).status_code == 400


@pytest.mark.parametrize(
    ("username", "path", "expected"),
    [
        (None, "/me/", 302),
        (None, "/clinic/", 302),
        ("ivanova", "/me/", 200),
        ("ivanova", "/me/code.svg", 200),
        ("ivanova", "/me/code.png", 200),
        ("ivanova", "/me/barcode.svg", 200),
        ("ivanova", "/me/live", 200),
        ("ivanova", "/me/show", 200),
        ("ivanova", f"/me/show?person={STRANGER}", 404),
        ("clinic", "/me/show", 403),
        ("ivanova", f"/me/?person={CHILD}", 200),
        ("ivanova", f"/me/code.svg?person={CHILD}", 200),
        ("ivanova", f"/me/?person={STRANGER}", 404),
        ("ivanova", f"/me/code.svg?person={STRANGER}", 404),
        ("ivanova", "/clinic/", 403),
        ("clinic", "/clinic/", 200),
        ("clinic", "/me/", 403),
        ("clinic", "/me/code.svg", 403),
        ("smo", "/me/", 403),
        ("smo", "/clinic/", 403),
        ("admin", "/me/", 403),
        ("admin", "/clinic/", 403),
    ],
)
def test_routes_by_role(site: Flask, username: str | None, path: str, expected: int) -> None:
    client = logged_in(site, username) if username else site.test_client()
    assert client.get(path).status_code == expected


def test_clinic_verdict_by_htmx_and_by_plain_form(site: Flask) -> None:
    client = logged_in(site, "clinic")
    token = csrf(client, "/clinic/")
    text = code_text(site, MOTHER)
    partial = client.post("/clinic/verify", data={"code": text, "csrf_token": token}, headers={"HX-Request": "true"})
    body = partial.get_data(as_text=True)
    assert "<html" not in body
    assert "Полис действителен" in body
    assert "Иванова Мария Петровна, 12.04.1990" in body
    assert 'data-icon="check"' in body, "the verdict has an icon and a word, not colour alone"
    assert "Действителен" in body
    page = client.post("/clinic/verify", data={"code": "1234567890123458", "csrf_token": token})
    assert "<html" in page.get_data(as_text=True)
    assert 'data-icon="cross"' in page.get_data(as_text=True)
    assert "Опечатка" in page.get_data(as_text=True)


def test_english_is_one_click_away(site: Flask) -> None:
    client = logged_in(site, "clinic")
    token = csrf(client, "/clinic/")
    client.post("/language", data={"language": "en", "next": "/clinic/", "csrf_token": token})
    token = csrf(client, "/clinic/")
    text = code_text(site, MOTHER)
    body = client.post("/clinic/verify", data={"code": text, "csrf_token": token}).get_data(as_text=True)
    assert "The policy is valid" in body
    assert '<html lang="en">' in body


@pytest.mark.parametrize("path", ["/", "/login", "/api/v1/trust-list", "/nope"])
def test_security_headers_on_every_response(site: Flask, path: str) -> None:
    response = site.test_client().get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_session_cookie_flags(site: Flask) -> None:
    site.config["SESSION_COOKIE_SECURE"] = True
    client = site.test_client()
    token = csrf(client)
    response = client.post("/login", data={"username": "ivanova", "password": PASSWORD, "csrf_token": token})
    cookies = {cookie.partition("=")[0]: cookie for cookie in response.headers.getlist("Set-Cookie")}
    assert cookies.keys() == {"session", "known_browser"}
    for cookie in cookies.values():
        assert "HttpOnly" in cookie
        assert "Secure" in cookie
    assert "SameSite=Lax" in cookies["session"]
    assert "SameSite=Strict" in cookies["known_browser"], "sent by the site's own pages only"


def test_a_session_expires_and_logout_ends_it(site: Flask) -> None:
    # 3 s: a login and a page can take over a second on a loaded machine (a 1 s lifetime failed the first read).
    site.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=3)
    client = logged_in(site, "ivanova")
    assert client.get("/me/").status_code == 200
    time.sleep(4.1)  # past the lifetime: the signed session's timestamp is too old to be accepted
    assert client.get("/me/").location.startswith("/login")
    again = logged_in(site, "ivanova")
    site.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=8)
    logout = again.post("/logout", data={"csrf_token": csrf(again, "/me/")})
    assert logout.status_code == 302
    assert logout.headers["Clear-Site-Data"] == '"cache", "storage"', "a shared phone keeps no card after logout"
    assert again.get("/me/").location.startswith("/login")


def test_no_inline_script_in_pages(site: Flask) -> None:
    client = logged_in(site, "ivanova")
    for path in ("/me/", "/login", "/"):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert " style=" not in html, path


def test_every_interface_string_has_an_english_translation() -> None:
    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    catalog_path = ROOT / "webapp" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
    with catalog_path.open("rb") as catalog_file:
        catalog = read_po(catalog_file)
    untranslated = [
        message.id
        for message in catalog
        if message.id and (not all(message.string) if message.pluralizable else not message.string)
    ]
    assert untranslated == []
    assert [message.id for message in catalog if message.id and message.fuzzy] == [], "a fuzzy entry is not compiled"
    in_code = {message for _, _, message, *_ in extract_from_dir(str(ROOT), method_map=METHODS) if message}
    assert in_code <= {message.id for message in catalog}, "run `make translations` and translate what is new"
    assert (catalog_path.with_suffix(".mo")).stat().st_mtime >= catalog_path.stat().st_mtime - 1, "compile the catalog"


@pytest.mark.parametrize(
    "catalog_path",
    [
        "webapp/translations/en/LC_MESSAGES/messages.po",
        "policy_codes/translations/en/LC_MESSAGES/policy_codes.po",
    ],
)
def test_english_says_policy_number_for_the_enp(catalog_path: str) -> None:
    """An English reader is told «policy number», never the Russian abbreviation ЕНП (СНИЛС stays СНИЛС)."""
    from babel.messages.pofile import read_po

    with (ROOT / catalog_path).open("rb") as catalog_file:
        catalog = read_po(catalog_file)
    said = [text for message in catalog if message.id for text in _texts(message.string)]
    assert [text for text in said if re.search(r"ЕНП|\bENP\b", text, re.IGNORECASE)] == []
    assert any("policy number" in text.lower() for text in said)


def test_the_offline_verifiers_reasons_say_policy_number_for_the_enp() -> None:
    """static/js/clinic-offline.js's reasons a code is malformed are English, for a developer: the reception screen
    shows the verdict's words (clinic-page.js), never these. They name the ЕНП as the English catalogs do."""
    source = (ROOT / "static" / "js" / "clinic-offline.js").read_text(encoding="utf-8")
    reasons = [text for _quote, text in re.findall(r"(?:Error|CodeError|BadList)\((?:[\w.]+, )?([`\"])(.+?)\1", source)]
    assert any("policy number" in reason for reason in reasons)
    assert [reason for reason in reasons if re.search(r"ЕНП|\bENP\b", reason, re.IGNORECASE)] == []


def _texts(string: str | tuple[str, ...]) -> tuple[str, ...]:
    return (string,) if isinstance(string, str) else string


def test_english_chosen_before_logging_in_stays_after_logging_in_and_out(site: Flask) -> None:
    client = site.test_client()
    client.post("/language", data={"language": "en", "next": "/login", "csrf_token": csrf(client)})
    data = {"username": "ivanova", "password": PASSWORD, "csrf_token": csrf(client)}
    home = client.post("/login", data=data, follow_redirects=True).get_data(as_text=True)
    assert '<html lang="en">' in home, "a new session for the login, but the language kept"
    out = client.post("/logout", data={"csrf_token": csrf(client, "/me/")}, follow_redirects=True)
    assert '<html lang="en">' in out.get_data(as_text=True)


def test_a_refresh_in_flight_does_not_undo_a_language_switch(site: Flask) -> None:
    """The citizen's card refreshes its live code every 30 s. A refresh sent just before the holder switches to
    English, and answered after, carried the session as it was sent: when every answer set the cookie again, it
    put the old language back (seen in Chromium, 4 switches in 12). An answer sets the cookie only when it
    changes the session."""
    holder = logged_in(site, "ivanova")
    name = site.config["SESSION_COOKIE_NAME"]
    sent_before_the_switch = holder.get_cookie(name)
    assert sent_before_the_switch is not None
    switched = holder.post("/language", data={"language": "en", "next": "/me/", "csrf_token": csrf(holder, "/me/")})
    assert any(header.startswith(f"{name}=") for header in switched.headers.getlist("Set-Cookie"))
    in_flight = site.test_client()
    in_flight.set_cookie(name, sent_before_the_switch.value)
    refreshed = in_flight.get("/me/live", headers={"HX-Request": "true"})
    assert refreshed.status_code == 200
    assert not any(header.startswith(f"{name}=") for header in refreshed.headers.getlist("Set-Cookie"))
    assert '<html lang="en">' in holder.get("/me/").get_data(as_text=True)


def test_every_russian_plural_has_its_three_forms() -> None:
    """Message ids are Russian with two forms; the Russian catalog gives the three Russian needs
    (1 клиника, 2 клиники, 5 клиник), and nothing else: the ids stay the Russian text."""
    from babel.messages.pofile import read_po

    with (ROOT / "webapp" / "translations" / "ru" / "LC_MESSAGES" / "messages.po").open("rb") as catalog_file:
        catalog = read_po(catalog_file)
    plurals = [message for message in catalog if message.id and message.pluralizable]
    assert plurals, "the admin overview counts in plurals"
    assert [message.id for message in plurals if len(message.string) != 3 or not all(message.string)] == []
    assert [message.id for message in catalog if message.id and not message.pluralizable and message.string] == []


def test_pages_in_english(site: Flask) -> None:
    client = site.test_client()
    token = csrf(client)
    client.post("/language", data={"language": "en", "next": "/login", "csrf_token": token})
    page = client.get("/login").get_data(as_text=True)
    assert "Password" in page
    assert "Пароль" not in page


@pytest.mark.parametrize(
    ("username", "path", "expected"),
    [
        (None, "/insurer/", 302),
        ("smo", "/insurer/", 200),
        ("smo", f"/insurer/?q={MOTHER}", 200),
        ("smo", f"/insurer/person/{MOTHER}", 200),
        ("smo", "/insurer/person/1234567890123452", 404),
        ("other-smo", f"/insurer/person/{MOTHER}", 404),
        ("ivanova", "/insurer/", 403),
        ("clinic", "/insurer/", 403),
        ("admin", "/insurer/", 403),
    ],
)
def test_insurer_routes(site: Flask, username: str | None, path: str, expected: int) -> None:
    with site.app_context():
        if username == "other-smo":
            accounts.create_user("other-smo", PASSWORD, Role.INSURER, "test", insurer_code="77002")
    client = logged_in(site, username) if username else site.test_client()
    assert client.get(path).status_code == expected


def test_insurer_never_finds_another_insurers_person(site: Flask) -> None:
    with site.app_context():
        accounts.create_user("other-smo", PASSWORD, Role.INSURER, "test", insurer_code="77002")
    client = logged_in(site, "other-smo")
    page = client.get(f"/insurer/?q={MOTHER}").get_data(as_text=True)
    assert "Иванова" not in page
    assert "Никого не нашли" in page
    token = csrf(client, "/insurer/")
    assert client.post(f"/insurer/person/{MOTHER}/revoke", data={"reason": "x", "csrf_token": token}).status_code == 404


def test_insurer_finds_by_name_and_birth_date_and_revokes(site: Flask) -> None:
    client = logged_in(site, "smo")
    found = client.get("/insurer/?q=Иванова+Мария&birth_date=1990-04-12").get_data(as_text=True)
    assert f"/insurer/person/{MOTHER}" in found
    assert client.get("/insurer/?q=Иванова").status_code == 400, "a name alone is not enough"
    text = code_text(site, MOTHER)
    token = csrf(client, f"/insurer/person/{MOTHER}")
    stolen = {"reason": "other", "details": "украден телефон", "csrf_token": token}
    response = client.post(f"/insurer/person/{MOTHER}/revoke", data=stolen)
    assert response.status_code == 302
    page = client.get(f"/insurer/person/{MOTHER}").get_data(as_text=True)
    assert "украден телефон" in page
    assert "отозван" in page
    with site.app_context():
        assert verify_scan(text).verdict is Verdict.REVOKED
    assert client.post(f"/insurer/person/{MOTHER}/revoke", data={"reason": "x"}).status_code == 400, "CSRF"


def test_clinic_history_keeps_time_verdict_and_a_masked_number_only(site: Flask) -> None:
    client = logged_in(site, "clinic")
    token = csrf(client, "/clinic/")
    client.post("/clinic/verify", data={"code": code_text(site, MOTHER), "csrf_token": token})
    client.post("/clinic/verify", data={"code": "https://example.org", "csrf_token": token})
    page = client.get("/clinic/history").get_data(as_text=True)
    assert "Действителен" in page
    assert "Не полис" in page
    assert "•" * 12 + MOTHER[-4:] in page
    assert MOTHER not in page
    assert "Иванова" not in page
    with site.app_context():
        accounts.create_user("clinic-2", PASSWORD, Role.CLINIC, "test", clinic_code="GP-001")
        organisations.create_clinic("GP-002", "Другая", "test")
        accounts.create_user("other-clinic", PASSWORD, Role.CLINIC, "test", clinic_code="GP-002")
    assert "•" * 12 in logged_in(site, "clinic-2").get("/clinic/history").get_data(as_text=True)
    assert "•" * 12 not in logged_in(site, "other-clinic").get("/clinic/history").get_data(as_text=True)
    assert logged_in(site, "ivanova").get("/clinic/history").status_code == 403
