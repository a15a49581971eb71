"""A login with the old password, or its holder's own change of it, racing the operator's reset, under two gunicorn
workers.

Checking a password takes argon2's time (~0.1 s at its production cost). A reset that ended every session of
the login while a login with the old password was being checked missed the session that login then started:
the old password's holder stayed logged in for up to 8 hours (an attack of 2026-12-06: 16 tries of 16 on
PostgreSQL). A session now starts only if the password it was checked against is still the login's, read under
the login's lock, which ending every session takes too (webapp/registry/login_sessions.py `start`). The same
holder changing the password themself, at the moment of the reset, got a session for their new one: the change was
checked against the password as it was read before the reset, and the session started for whatever hash was current
after it (a review of 2026-12-06). The change now holds the login's row, and its session is for the hash it set.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
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
#: The password the holder of the stolen one sets for themself.
MINE = "the-holders-own-password"
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


def logs_in(browser: requests.Session, csrf: str, base: str, username: str, password: str = PASSWORD) -> int:
    form = {"username": username, "password": password, "csrf_token": csrf}
    return browser.post(f"{base}/login", data=form, allow_redirects=False, timeout=30).status_code


def race(operator: Session, user_id: int, send: Callable[[], int], delay: float) -> int:
    """The operator resets the login's password while, `delay` later, a browser sends its request (`send`): that
    request's answer."""

    def sent_later() -> int:
        time.sleep(delay)
        return send()

    with ThreadPoolExecutor(max_workers=2) as pool:
        reset = pool.submit(lambda: operator.clone().post(f"/admin/users/{user_id}/password", {}).status_code)
        answer = pool.submit(sent_later)
        assert reset.result() == 302
        return answer.result()


def logged_in_at(browser: requests.Session, base: str) -> bool:
    return browser.get(f"{base}/insurer/", allow_redirects=False, timeout=30).status_code == 200


@pytest.fixture
def served(served_database_url: str) -> Iterator[tuple[Server, Session, dict[str, int], float]]:
    """Two workers serving TRIALS + 1 insurer logins, the operator logged in, and how long one login takes."""
    prepare(served_database_url, people=1)
    ids = staff_logins(served_database_url, TRIALS + 1)
    server = Server(served_database_url, workers=2).start()
    try:
        operator = Session.login(server.url, "operator")
        operator.csrf = operator.csrf_from("/admin/users")
        started = time.monotonic()
        assert logs_in(*login_form(server.url), server.url, f"staff{TRIALS}") == 302
        yield server, operator, ids, time.monotonic() - started  # the argon2 check and a little more
    finally:
        server.stop()


def test_no_session_from_the_old_password_outlives_a_reset_that_raced_it(
    served: tuple[Server, Session, dict[str, int], float],
) -> None:
    server, operator, ids, check = served
    outcomes = []
    for trial in range(TRIALS):  # the login sent from at once to most of a check after the reset
        username = f"staff{trial}"
        browser, csrf = login_form(server.url)
        answer = race(
            operator,
            ids[username],
            partial(logs_in, browser, csrf, server.url, username),
            check * trial / TRIALS,
        )
        outcomes.append((answer, logged_in_at(browser, server.url)))
        assert logs_in(*login_form(server.url), server.url, username) == 401, "the old password is refused"
    assert [alive for _, alive in outcomes] == [False] * TRIALS, outcomes


def test_the_holders_own_change_racing_a_reset_keeps_neither_a_session_nor_its_password(
    served: tuple[Server, Session, dict[str, int], float],
) -> None:
    """Whoever holds a stolen password changes it at the moment the operator resets it: the reset stands."""
    server, operator, ids, check = served
    outcomes = []
    for trial in range(TRIALS):
        username = f"staff{trial}"
        browser, csrf = login_form(server.url)
        assert logs_in(browser, csrf, server.url, username) == 302
        token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get(f"{server.url}/account/password").text)
        form = {"current_password": PASSWORD, "password": MINE, "password_again": MINE, "csrf_token": token.group(1)}  # type: ignore[union-attr]

        def change(browser: requests.Session = browser, form: dict[str, str] = form) -> int:
            return browser.post(
                f"{server.url}/account/password", data=form, allow_redirects=False, timeout=30
            ).status_code

        answer = race(operator, ids[username], change, check * trial / TRIALS)
        outcomes.append((answer, logged_in_at(browser, server.url)))
        for password in (PASSWORD, MINE):
            assert logs_in(*login_form(server.url), server.url, username, password) == 401, (trial, password)
    assert [alive for _, alive in outcomes] == [False] * TRIALS, outcomes
