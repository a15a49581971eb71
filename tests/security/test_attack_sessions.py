"""Issue 16, the sessions part: what an attacker did with sessions, logins, ids, files and look-alike input.

Each test was seen to fail on main before its fix. They run on SQLite and PostgreSQL where the database
holds what is attacked (sessions, users, ids); the rest on SQLite only.
"""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.security.world import client_as
from tests.webapp.pages import csrf
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
