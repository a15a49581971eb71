"""A secret shown once (a generated password, an API token, a citizen's one-time code) survives the language
switch on the page that shows it: the person switching had not written it down yet. It is still shown only on
that page, once, and only to the login session it was made in."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.webapp.pages import CHILD, csrf, logged_in
from webapp.web import shown_once

#: What makes each secret: who, where the form is posted (from which page), what it sends; and how the secret
#: reads on its page.
SECRETS = {
    "password": (
        "admin",
        "/admin/users/new",
        {"username": "boris", "role": "clinic", "clinic": "GP-001", "generate": "1"},
        r'<code class="admin-secret-value">([^<]+)</code>',
    ),
    "api token": (
        "admin",
        "/admin/tokens",
        {"clinic": "GP-001", "name": "МИС"},
        r'<code class="admin-secret-value">(oms_[^<]+)</code>',
    ),
    "one-time code": (
        "smo",
        f"/insurer/person/{CHILD}/activation-code",
        {"confirmed": "yes"},  # what its page, which asks first, sends
        r'class="activation-code number">([A-Z0-9]{4}-[A-Z0-9]{4})<',
    ),
}


#: A page of each login's, for a CSRF token.
HOME = {"admin": "/admin/", "smo": "/insurer/"}


def language_form(page: str) -> dict[str, str]:
    """The hidden fields of the page's language switch."""
    form = re.search(r'<form method="post" action="/language".*?</form>', page, re.S)
    assert form, "every page has the language switch"
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(0)))


def switch_to_english(client: FlaskClient, fields: dict[str, str]) -> str:
    switched = client.post("/language", data={**fields, "language": "en"})
    assert switched.status_code == 302
    return client.get(switched.location).get_data(as_text=True)


@pytest.mark.parametrize("secret", list(SECRETS))
def test_the_language_switch_shows_the_secret_again_on_its_page_only(site: Flask, secret: str) -> None:
    login, path, form, reads = SECRETS[secret]
    client = logged_in(site, login)
    made = client.post(path, data={**form, "csrf_token": csrf(client, HOME[login])})
    assert made.status_code == 302
    page = client.get(made.location).get_data(as_text=True)
    shown = re.search(reads, page)
    assert shown, page
    fields = language_form(page)
    assert "shown_once" in fields

    english = switch_to_english(client, fields)
    assert 'lang="en"' in english
    assert shown.group(1) in english, "the same page, in English, with the secret"
    assert shown.group(1) not in client.get(made.location).get_data(as_text=True), "then, a reload: gone"

    stranger = logged_in(site, login)  # the same login at another desk: another login session
    assert shown.group(1) not in switch_to_english(stranger, {**fields, "csrf_token": csrf(stranger, HOME[login])})


def test_a_page_without_a_secret_carries_none(site: Flask) -> None:
    assert "shown_once" not in language_form(logged_in(site, "admin").get("/admin/tokens").get_data(as_text=True))


@pytest.mark.parametrize("posted", ["x:" + "A" * 500, "api_token:" + "A" * 100_000])
def test_whatever_is_posted_as_a_secret_is_not_kept_in_the_session_cookie(site: Flask, posted: str) -> None:
    """Only a secret's own name, and no more than a sealed secret's length: the cookie is not filled up."""
    client = logged_in(site, "admin")
    cookie = client.get_cookie("session")
    assert cookie is not None
    before = len(cookie.value)
    form = {"language": "en", "next": "/admin/", "shown_once": posted, "csrf_token": csrf(client, "/admin/")}
    client.post("/language", data=form)
    after = client.get_cookie("session")
    assert after is not None
    assert len(after.value) < before + 100


def test_a_carried_secret_opens_only_for_a_while_after_it_was_made(
    site: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sealed value stays in the page's form: it is good for switching the language, not for coming back."""
    login, path, form, reads = SECRETS["api token"]
    client = logged_in(site, login)
    made = client.post(path, data={**form, "csrf_token": csrf(client, HOME[login])})
    page = client.get(made.location).get_data(as_text=True)
    shown = re.search(reads, page)
    assert shown
    monkeypatch.setattr(shown_once, "SHOWN_FOR", -1)  # as if SHOWN_FOR had passed since it was made
    assert shown.group(1) not in switch_to_english(client, language_form(page))
