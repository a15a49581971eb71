"""Issue 16, the sessions part: what an attacker did with sessions, logins, ids, files and look-alike input.

Each test was seen to fail on main before its fix. They run on SQLite and PostgreSQL where the database
holds what is attacked (sessions, users, ids); the rest on SQLite only.
"""

from __future__ import annotations

import re

import argon2
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.security.world import client_as
from tests.webapp.pages import csrf
from webapp import accounts
from webapp.extensions import db
from webapp.models import User

OVERSIZED_ID = "99999999999999999999"
NEW_PASSWORD = "another-long-pass"


def session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None, "a logged-in client holds a session cookie"
    return cookie.value


def with_cookie(app: Flask, value: str) -> FlaskClient:
    """Another browser, holding a copy of someone's session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", value)
    return thief


def user_id(app: Flask, username: str) -> int:
    with app.app_context():
        found = db.session.scalar(select(User.id).where(User.username == username))
        db.session.remove()
    assert found is not None
    return found


def post(client: FlaskClient, path: str, data: dict[str, str], form_page: str = "/") -> int:
    return client.post(path, data={**data, "csrf_token": csrf(client, form_page)}).status_code


# 2. Login timing


@pytest.fixture
def argon2_verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every argon2 verification the app runs (the real one, counted on its way through)."""
    calls: list[str] = []
    real = argon2.PasswordHasher.verify

    def counted(self: argon2.PasswordHasher, hash: str, password: str) -> bool:
        calls.append(hash)
        return real(self, hash, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counted)
    return calls


def test_an_unknown_or_disabled_login_costs_one_argon2_verification(
    world: Flask, argon2_verifications: list[str]
) -> None:
    with world.app_context():
        accounts.set_active(user_id(world, "smo"), False, "test")
        db.session.remove()
    client = world.test_client()
    token = csrf(client)
    spent = {}
    for login in ("nobody-here", "smo", "ivanova"):
        argon2_verifications.clear()
        status = client.post("/login", data={"username": login, "password": "wrong-password", "csrf_token": token})
        assert status.status_code == 401
        spent[login] = len(argon2_verifications)
    assert spent == {"nobody-here": 1, "smo": 1, "ivanova": 1}


# 3. Oversized ids


def test_an_oversized_id_is_404_on_every_integer_route(world: Flask) -> None:
    rules = [rule for rule in world.url_map.iter_rules() if "<int:" in rule.rule]
    assert len(rules) >= 3, "the app has integer routes"
    answers = {}
    for role in ("anonymous", "citizen", "clinic", "insurer", "admin"):
        client = client_as(world, role)
        token = csrf(client, "/activate")
        for rule in rules:
            url = re.sub(r"<[^>]+>", "decline", re.sub(r"<int:\w+>", OVERSIZED_ID, rule.rule))
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                data = {"csrf_token": token} if method == "POST" else None
                answers[(role, method, url)] = client.open(url, method=method, data=data).status_code
    assert set(answers.values()) == {404}, {key: status for key, status in answers.items() if status != 404}
