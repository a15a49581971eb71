"""A login with the old password racing the operator's reset of it, under two gunicorn workers.

Checking a password takes argon2's time (~0.1 s at its production cost). A reset that ended every session of
the login while a login with the old password was being checked missed the session that login then started:
the old password's holder stayed logged in for up to 8 hours (an attack of 2026-12-06: 16 tries of 16 on
PostgreSQL). A session now starts only if the password it was checked against is still the login's, read under
the login's lock, which ending every session takes too (webapp/registry/login_sessions.py `start`).
"""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from flask import Flask

from tests.faults.registry import prepare
from tests.faults.server import PASSWORD, Server, Session
from tests.helpers.registry import make_app
from webapp.db.engines import dispose_engines
from webapp.extensions import db
from webapp.models import Role
from webapp.registry import accounts

TRIALS = 8
#: argon2id's production cost (webapp/registry/accounts.py: the library's defaults), so a check takes as long
#: as it does for real, and the window is as wide.
PRODUCTION_COST = {"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_KIB": 65536}


def staff_logins(database_url: str, count: int) -> dict[str, int]:
    """The operator, and `count` insurer logins whose passwords were hashed at the production cost: login → id."""
    app: Flask = make_app(database_url, **PRODUCTION_COST)
    with app.app_context():
        accounts.create_user("operator", PASSWORD, Role.ADMIN, "test")
        made = {
            f"staff{n}": accounts.create_user(f"staff{n}", PASSWORD, Role.INSURER, "test", insurer_code="77001").id
            for n in range(count)
        }
        db.session.remove()
        dispose_engines()
    return made


def login_form(base: str) -> tuple[requests.Session, str]:
    browser = requests.Session()
    page = browser.get(f"{base}/login", timeout=30).text
    return browser, re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def logs_in(browser: requests.Session, csrf: str, base: str, username: str) -> int:
    form = {"username": username, "password": PASSWORD, "csrf_token": csrf}
    return browser.post(f"{base}/login", data=form, allow_redirects=False, timeout=30).status_code


def race(server: Server, operator: Session, user_id: int, username: str, delay: float) -> tuple[int, bool]:
    """The operator resets the login's password while, `delay` later, a browser logs in with the old one: the
    login's answer, and whether that browser is logged in once both are done."""
    browser, csrf = login_form(server.url)

    def log_in() -> int:
        time.sleep(delay)
        return logs_in(browser, csrf, server.url, username)

    with ThreadPoolExecutor(max_workers=2) as pool:
        reset = pool.submit(lambda: operator.clone().post(f"/admin/users/{user_id}/password", {}).status_code)
        login = pool.submit(log_in)
        assert reset.result() == 302
        answer = login.result()
    return answer, browser.get(f"{server.url}/insurer/", allow_redirects=False, timeout=30).status_code == 200


def test_no_session_from_the_old_password_outlives_a_reset_that_raced_it(served_database_url: str) -> None:
    prepare(served_database_url, people=1)
    ids = staff_logins(served_database_url, TRIALS + 1)
    server = Server(served_database_url, workers=2).start()
    try:
        operator = Session.login(server.url, "operator")
        operator.csrf = operator.csrf_from("/admin/users")
        started = time.monotonic()
        assert logs_in(*login_form(server.url), server.url, f"staff{TRIALS}") == 302
        check = time.monotonic() - started  # one login: the argon2 check and a little more
        outcomes = []
        for trial in range(TRIALS):  # the login sent from at once to most of a check after the reset
            username = f"staff{trial}"
            outcomes.append(race(server, operator, ids[username], username, check * trial / TRIALS))
            assert logs_in(*login_form(server.url), server.url, username) == 401, "the old password is refused"
        assert [alive for _, alive in outcomes] == [False] * TRIALS, outcomes
    finally:
        server.stop()
