"""Helpers for page tests through Flask's test client: a populated registry, CSRF tokens, logins."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.helpers.registry import person_data, register
from webapp.models import Role
from webapp.registry import accounts, lifecycle, people
from webapp.registry.people import PersonData

PASSWORD = "long-enough-pass"
MOTHER = str(person_data().enp)
CHILD = str(person_data("770000000000002").enp)
STRANGER = str(person_data("770000000000004").enp)


def populate() -> None:
    register()
    register(person_data("770000000000002", "Иванов", "Артём", "Сергеевич", sex="M"))
    register(person_data("770000000000004", "Петров", "Алексей", "Николаевич", sex="M"))
    lifecycle.link_representative(MOTHER, CHILD, "test")
    accounts.create_user("ivanova", PASSWORD, Role.CITIZEN, "test", enp=MOTHER)
    accounts.create_user("clinic", PASSWORD, Role.CLINIC, "test", clinic_code="GP-001")
    accounts.create_user("smo", PASSWORD, Role.INSURER, "test", insurer_code="77001")
    accounts.create_user("admin", PASSWORD, Role.ADMIN, "test")


def csrf(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "every form carries a CSRF token"
    return match.group(1)


def step_form(client: FlaskClient, enp: str, step: str) -> dict[str, str]:
    """The fields of the form on the page a step of the insurer's person page (issue a policy, a code for the
    account) asks on first: what its «Выдать» sends."""
    response = client.get(f"/insurer/person/{enp}/{step}")
    assert response.status_code == 200, response.location
    form = re.search(rf'<form method="post" action="/insurer/person/{enp}/{step}".*?</form>', response.text, re.S)
    assert form, response.text
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(0)))


def take_step(client: FlaskClient, enp: str, step: str, follow_redirects: bool = False) -> TestResponse:
    """A step of the insurer's person page as a clerk takes it: its page, which asks first, then its «Выдать»."""
    form = step_form(client, enp, step)
    return client.post(f"/insurer/person/{enp}/{step}", data=form, follow_redirects=follow_redirects)


def code_text(app: Flask, enp: str) -> str:
    with app.app_context():
        return people.current_code(people.person_by_enp(enp)).text


def logged_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    token = csrf(client)
    response = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def upload(client: FlaskClient, data: bytes, name: str = "registry.csv") -> TestResponse:
    """The insurer's import page given `data` as a file called `name` ("" is the part a browser sends with no
    file chosen)."""
    token = csrf(client, "/insurer/import")
    return client.post(
        "/insurer/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def shown_password(client: FlaskClient, response: TestResponse) -> tuple[str, str]:
    """Where a POST that made a password redirected (the page that shows it once): the page, and the password."""
    assert response.status_code == 302
    assert response.location.endswith("/admin/users/password")
    shown = client.get(response.location)
    assert shown.headers["Cache-Control"] == "no-store"
    page = shown.get_data(as_text=True)
    match = re.search(r'<code class="admin-secret-value">([^<]+)</code>', page)
    assert match
    return page, match.group(1)


def field_error(page: str, field: str) -> str:
    """The message a refused form shows by `field` ("" when none): its text, once the field is tied to it
    (web/form_errors.py; "form" is the form's own error, at its top)."""
    match = re.search(rf'<p class="field-error[^"]*" id="{field}-error" role="alert"[^>]*>(.*?)</p>', page, re.S)
    if match is None:
        return ""
    assert field == "form" or f'aria-describedby="{field}-error"' in page, f"{field} is not tied to its message"
    return re.sub(r"<[^>]+>", "", match.group(1)).replace("✖", "").strip()


def register_newborn_sofia(site: Flask) -> PersonData:
    """София, born three days ago to MOTHER and registered yesterday, with no policy of her own yet."""
    today = datetime.now(UTC).date()
    with site.app_context():
        data = person_data(
            "770000000000012", "Иванова", "София", "Сергеевна", born=today - timedelta(days=3),
            birth_registered_on=today - timedelta(days=1),
        )  # fmt: skip
        lifecycle.register_newborn(data, MOTHER, "test")
    return data


def desk_verdict(client: FlaskClient, code: str) -> str:
    """The verdict section reception sees for `code`, as htmx swaps it in."""
    token = csrf(client, "/clinic/")
    answer = client.post("/clinic/verify", data={"code": code, "csrf_token": token}, headers={"HX-Request": "true"})
    assert answer.status_code == 200
    return answer.get_data(as_text=True)
