"""The holder's screens as a mother with children reads them (issue 18, item 6 and the smaller items):
the number in groups of four, the status as a badge, a newborn's card that says what to show, the
reception view with only the code and its facts, and downloads each named for its person."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from policy_codes import Enp
from policy_codes.render import code128_svg
from tests.helpers.registry import person_data
from tests.webapp.pages import CHILD, MOTHER, logged_in, register_newborn_sofia
from webapp.registry import lifecycle

#: A newborn of MOTHER's, registered today: no policy of her own, covered by her mother's for 30 days.
NEWBORN = str(person_data("770000000000012").enp)


def _grouped(enp: str) -> str:
    return " ".join(enp[index : index + 4] for index in range(0, 16, 4))


def test_the_number_reads_in_groups_of_four(site: Flask) -> None:
    client = logged_in(site, "ivanova")
    card = client.get("/me/").get_data(as_text=True)
    assert _grouped(MOTHER) in card
    assert _grouped(MOTHER) == "7700 0000 0000 0016"
    assert _grouped(MOTHER) in client.get("/me/show").get_data(as_text=True)
    assert MOTHER not in re.sub(r"person=\d+|<img[^>]*>", "", card), "never as 16 run-on digits to read"


def test_the_digits_under_the_barcode_are_grouped_in_a_sans_font() -> None:
    svg = code128_svg(Enp("1234567890123452")).decode()
    texts = re.findall(r"<text[^>]*>\s*([^<]*?)\s*</text>", svg)
    assert texts == ["1234 5678 9012 3452"]
    (tag,) = re.findall(r"<text[^>]*>", svg)
    assert 'font-family="DejaVu Sans, sans-serif"' in tag, "browsers draw a text with no font in serif"


def test_the_status_is_a_badge_with_words_and_an_icon(site: Flask) -> None:
    card = logged_in(site, "ivanova").get("/me/").get_data(as_text=True)
    badge = re.search(r'<span class="badge badge-active">(.*?)</span>', card, re.S)
    assert badge, "the status stands out as a badge"
    assert 'data-icon="check"' in badge.group(1)
    assert "действует" in badge.group(1), "words and an icon, not colour alone"


def test_the_reception_view_is_the_code_and_its_facts_alone(site: Flask) -> None:
    page = logged_in(site, "ivanova").get("/me/show").get_data(as_text=True)
    assert "Выйти" not in page
    assert 'class="bar"' not in page, "no header: nothing but the code and what the desk needs"
    assert "badge-active" in page
    assert re.search(r"Срок действия: с \d\d\.\d\d\.\d{4}\s+бессрочно", re.sub(r"<[^>]+>", "", page))
    assert "Иванова Мария Петровна" in page


def test_a_newborns_card_says_to_show_the_mothers_code_and_shows_it(site: Flask) -> None:
    register_newborn_sofia(site)
    client = logged_in(site, "ivanova")
    card = client.get(f"/me/?person={NEWBORN}").get_data(as_text=True)
    assert "Действующего кода нет" not in card
    assert 'class="flash error"' not in card
    assert "покажите свой код" in card
    cover = re.search(r'<section class="cover"(.*?)</section>', card, re.S)
    assert cover, "the mother's code is on the newborn's card"
    assert 'src="/me/code.svg"' in cover.group(1), "her own code, not the child's"
    assert _grouped(MOTHER) in cover.group(1)
    assert 'href="/me/show"' in cover.group(1)
    assert client.get("/me/code.svg").status_code == 200


@pytest.mark.parametrize(
    ("path", "extension"),
    [("/me/code.svg", "svg"), ("/me/code.png", "png"), ("/me/barcode.svg", "svg"), ("/me/extract.pdf", "pdf")],
)
def test_each_family_members_download_has_a_name_of_its_own(site: Flask, path: str, extension: str) -> None:
    client = logged_in(site, "ivanova")
    names = []
    for suffix in ("?download=1", f"?person={CHILD}&download=1"):
        disposition = client.get(path + suffix).headers["Content-Disposition"]
        assert disposition.isascii()
        match = re.fullmatch(rf'attachment; filename="([a-z0-9-]+\.{extension})"', disposition)
        assert match, disposition
        names.append(match.group(1))
    assert names[0] != names[1], "a mother saving her children's codes keeps each"
    assert "ivanova-mariia" in names[0]
    assert "ivanov-artem" in names[1]


def test_the_card_of_a_policy_with_no_code_still_says_so(site: Flask) -> None:
    with site.app_context():
        lifecycle.revoke(CHILD, "test", "телефон украден")
    card = logged_in(site, "ivanova").get(f"/me/?person={CHILD}").get_data(as_text=True)
    assert "Действующего кода нет" in card
