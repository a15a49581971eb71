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


def guesses_from(app: Flask, addresses: list[str]) -> list[int]:
    """One wrong password for a new username from each address in turn: what each was answered."""
    return [
        attempt(*from_address(app, address), f"user{index}", "guess-guess") for index, address in enumerate(addresses)
    ]


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


@pytest.mark.parametrize("network", ["2001:db8:7:1", "2001:DB8:7:1"])
def test_one_ipv6_network_trying_many_usernames_from_its_many_addresses_is_stopped(world: Flask, network: str) -> None:
    """An IPv6 client holds a whole /64 (2^64 addresses; a home line or a rented server gets one, or more): a
    new address for each try would make the per-address limits no limit. The network counts as one address;
    an IPv4 address written as IPv6 (::ffff:…, a dual-stack socket) counts as itself."""
    addresses = [f"{network}:{index:x}:0:0:{index + 1:x}" for index in range(PER_ADDRESS + 1)]
    assert guesses_from(world, addresses) == [401] * PER_ADDRESS + [429]
    neighbour, token = from_address(world, "2001:db8:7:2::1")
    assert attempt(neighbour, token, "ivanova", PASSWORD) == 302, "the next /64 is someone else"


def test_an_ipv4_address_written_as_ipv6_counts_as_itself(world: Flask) -> None:
    addresses = ["203.0.113.21" if index % 2 else "::ffff:203.0.113.21" for index in range(PER_ADDRESS + 1)]
    assert guesses_from(world, addresses) == [401] * PER_ADDRESS + [429]
    neighbour, token = from_address(world, "::ffff:203.0.113.22")
    assert attempt(neighbour, token, "ivanova", PASSWORD) == 302, "the next IPv4 address is someone else"


def test_one_ipv6_network_guessing_one_time_codes_from_its_many_addresses_is_stopped(world: Flask) -> None:
    """The pages that take an insurer's one-time code count per address too (30 a minute, whatever the number)."""
    tries = []
    for index in range(PER_ADDRESS + 1):
        client, token = from_address(world, f"2001:db8:9:1:{index + 1:x}::")
        form = {"enp": f"{7700000000000100 + index}", "code": "ABCD-EFGH", "password": "x" * 12, "csrf_token": token}
        tries.append(client.post("/recover", data=form | {"password_again": form["password"]}).status_code)
    assert tries == [400] * PER_ADDRESS + [429]


@pytest.mark.parametrize("written", ["203.0.113.31:{port}", "[2001:db8:31::1]:{port}"])
def test_an_address_counts_without_the_port_a_proxy_wrote_after_it(world: Flask, written: str) -> None:
    """Some proxies write the client's port after its address in X-Forwarded-For: it changes with each connection."""
    addresses = [written.format(port=40000 + index) for index in range(PER_ADDRESS + 1)]
    assert guesses_from(world, addresses) == [401] * PER_ADDRESS + [429]
