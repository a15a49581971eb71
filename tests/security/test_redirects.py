"""The language switch sends the browser back where it was, and never to another site or into a 500."""

from __future__ import annotations

import pytest
from flask import Flask
from werkzeug.routing import MapAdapter

from tests.webapp.pages import csrf


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest) -> str:
    """No database is involved in a redirect."""
    return request.getfixturevalue(f"{request.param}_url")


HOSTILE_TARGETS = [
    "//evil.example/",
    "/\t/evil.example/",  # browsers and werkzeug drop the tab: //evil.example
    "/\n/evil.example/",
    "/\\evil.example/",  # browsers read a backslash as a slash (werkzeug writes it %5C: harmless)
    "https://evil.example/",
    "javascript:alert(1)",
    "/\r\nSet-Cookie: session=stolen",  # a header split was a 500
    " /clinic/",
]


def test_the_language_switch_never_leaves_the_site(world: Flask) -> None:
    client = world.test_client()
    token = csrf(client)
    for target in HOSTILE_TARGETS:
        response = client.post("/language", data={"language": "en", "next": target, "csrf_token": token})
        assert response.status_code == 302, target
        location = response.headers["Location"]
        assert location.startswith("/"), (target, location)
        assert not location.startswith(("//", "/\\")), (target, location)
        assert "stolen" not in " ".join(response.headers.getlist("Set-Cookie"))


def test_the_language_switch_returns_to_the_page(world: Flask) -> None:
    client = world.test_client()
    response = client.post("/language", data={"language": "en", "next": "/login?x=1", "csrf_token": csrf(client)})
    assert response.headers["Location"] == "/login?x=1"


@pytest.mark.parametrize(
    ("form_answer", "page"),
    [
        ("/clinic/verify", "/clinic"),
        ("/me/reissue-request", "/me"),
        ("/admin/clinics/GP-001/ceiling", "/admin/clinics"),
    ],
)
def test_the_language_switch_after_a_form_goes_to_the_page_above_it(world: Flask, form_answer: str, page: str) -> None:
    """A form's answer (the reception page without JavaScript, a refused form) is at an address only a POST
    reaches: the switch returns to the nearest page above it, not to a 405."""
    client = world.test_client()
    response = client.post("/language", data={"language": "en", "next": form_answer, "csrf_token": csrf(client)})
    assert response.headers["Location"] == page


def test_a_huge_address_to_return_to_is_not_walked(world: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each segment of the address was a look-up in the URL map: 16 KB of them took seconds of a worker. Counted
    here in look-ups (the real ones, on their way through), not timed."""
    looked_up: list[str] = []
    real = MapAdapter.test

    def counted(self: MapAdapter, path_info: str | None = None, method: str | None = None) -> bool:
        looked_up.append(path_info or "")
        return real(self, path_info, method)

    monkeypatch.setattr(MapAdapter, "test", counted)
    client = world.test_client()
    response = client.post("/language", data={"language": "en", "next": "/a" * 8000, "csrf_token": csrf(client)})
    assert response.headers["Location"] == "/"
    assert looked_up == []


def test_the_language_switch_keeps_the_pages_query(world: Flask) -> None:
    """The login page's `next`, a list's filter: the switch's own `next` carries them."""
    client = world.test_client()
    page = client.get("/login?next=%2Finsurer%2F").get_data(as_text=True)
    assert 'name="next" value="/login?next=%2Finsurer%2F"' in page
