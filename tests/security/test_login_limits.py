"""Login brute force is limited per address across usernames, and per username however it is spelled.

tests/webapp/test_pages.py holds the plain case (five wrong passwords for one login); these are the ways around it.
The limiter does not depend on the database, so these run on SQLite only.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.webapp.pages import PASSWORD, csrf

#: webapp/web/auth.py: 5 a minute per address and login, 30 a minute per address.
PER_LOGIN = 5
PER_ADDRESS = 30


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue(f"{request.param}_url")


def from_address(app: Flask, address: str) -> tuple[FlaskClient, str]:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client, csrf(client)


def attempt(client: FlaskClient, token: str, username: str, password: str) -> int:
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token}).status_code


def test_one_address_trying_many_usernames_is_stopped(world: Flask) -> None:
    client, token = from_address(world, "203.0.113.7")
    tries = [attempt(client, token, f"user{index}", "guess-guess") for index in range(PER_ADDRESS + 1)]
    assert tries == [401] * PER_ADDRESS + [429]
    assert attempt(client, token, "ivanova", PASSWORD) == 429, "the right password does not skip the limit"
    other, other_token = from_address(world, "198.51.100.9")
    assert attempt(other, other_token, "ivanova", PASSWORD) == 302, "another address is not locked out"


def test_spelling_the_login_differently_does_not_reset_its_count(world: Flask) -> None:
    """The login is looked up trimmed: padded or re-cased spellings count against the same login."""
    client, token = from_address(world, "203.0.113.8")
    assert [attempt(client, token, "ivanova", f"wrong-{index}") for index in range(PER_LOGIN)] == [401] * PER_LOGIN
    variants = [" ivanova", "ivanova ", "\tivanova\n", "IVANOVA", "Ivanova "]
    assert {variant: attempt(client, token, variant, "wrong-again") for variant in variants} == dict.fromkeys(
        variants, 429
    )
    assert attempt(client, token, " ivanova ", PASSWORD) == 429
