"""The insurer's screens as a clerk reads them (issue 18): plain words for every stored value, Moscow time,
only the actions the policy's state allows, each confirmed with a reason, and a search that says what it
needs. Through the test client, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from flask import Flask

from tests.webapp.conftest import NOW
from tests.webapp.pages import CHILD, MOTHER, csrf, logged_in
from webapp.registry import lifecycle, people, reissue_requests

#: The internal words a clerk must never read: statuses, actions, actor prefixes.
RAW = re.compile(r">\s*(active|suspended|terminated|revoked|superseded|current|register|revoke|reissue|"
                 r"request_reissue|suspend|terminate|resume)\s*<|\bsmo:|\bcitizen:")  # fmt: skip


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_persons_page_reads_in_words_and_moscow_time(site: Flask) -> None:
    with site.app_context():
        reissue_requests.request_reissue(people.person_by_enp(CHILD), "телефон потерян", "citizen:ivanova", now=NOW)
        lifecycle.revoke(CHILD, "smo:smo", "украден телефон", now=NOW)
    staff = logged_in(site, "smo")
    page = staff.get(f"/insurer/person/{CHILD}").get_data(as_text=True)
    assert not RAW.search(page), RAW.search(page)
    words = text_of(page)
    assert "23.11.2026 15:00 МСК" in words, "registered and revoked at 12:00 UTC: 15:00 in Moscow"
    assert "12:00" not in words
    assert "сотрудник СМО smo" in words
    assert "застрахованный, вход ivanova" in words
    assert "код отозван" in words
    assert "заявка на новый код" in words
    assert "отозван" in words


def test_the_requests_list_shows_moscow_time(site: Flask) -> None:
    with site.app_context():
        reissue_requests.request_reissue(people.person_by_enp(MOTHER), "телефон потерян", "citizen:ivanova", now=NOW)
    words = text_of(logged_in(site, "smo").get("/insurer/requests").get_data(as_text=True))
    assert "23.11.2026 15:00 МСК" in words


def test_the_persons_page_in_english_reads_english_words(site: Flask) -> None:
    with site.app_context():
        lifecycle.revoke(CHILD, "smo:smo", "украден телефон", now=NOW)
    staff = logged_in(site, "smo")
    staff.post("/language", data={"language": "en", "next": "/insurer/", "csrf_token": csrf(staff, "/insurer/")})
    words = text_of(staff.get(f"/insurer/person/{CHILD}").get_data(as_text=True))
    assert "23.11.2026 15:00 MSK" in words
    assert "insurer staff smo" in words
    assert "code revoked" in words
