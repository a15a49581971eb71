"""What the reception desk reads besides the verdict, where the verdict alone leaves the clerk guessing: that the
code is a temporary certificate's and until when it stands, until when a newborn is covered by the
representative's policy, and that a replaced code's name is the one from before the holder's data changed."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.registry import person_data
from tests.webapp.pages import MOTHER, code_text, csrf, desk_verdict, logged_in, register_newborn_sofia
from webapp.models import Category
from webapp.registry import data_changes, lifecycle, people
from webapp.registry.data_changes import ChangeReason, Document, NewData

CERTIFICATE_HOLDER = str(person_data("770000000000020").enp)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _terms(body: str) -> str:
    """The verdict's line on the kind of cover and its end, as words ("" when there is none)."""
    match = re.search(r'<p class="verdict-terms"[^>]*>(.*?)</p>', body, re.S)
    return _text(match.group(1)) if match else ""


def _english(client: FlaskClient) -> None:
    client.post("/language", data={"language": "en", "next": "/clinic/", "csrf_token": csrf(client, "/clinic/")})


def _certificate(site: Flask, at: datetime) -> date:
    """A temporary certificate issued at `at`; its last day."""
    with site.app_context():
        lifecycle.register_person(
            person_data("770000000000020", "Смирнова", "Анна", "Викторовна"), "77001", "test", temporary=True, now=at
        )
        valid_to = people.open_policy(people.person_by_enp(CERTIFICATE_HOLDER)).valid_to
    assert valid_to is not None
    return valid_to


def test_a_temporary_certificate_says_so_and_until_when(site: Flask) -> None:
    valid_to = _certificate(site, datetime.now(UTC))
    day = valid_to.strftime("%d.%m.%Y")
    client = logged_in(site, "clinic")
    for scanned in (code_text(site, CERTIFICATE_HOLDER), CERTIFICATE_HOLDER):  # its QR, then its number typed
        body = desk_verdict(client, scanned)
        assert 'data-verdict="valid"' in body
        assert 'data-terms="temporary_certificate"' in body
        assert _terms(body) == f"Временное свидетельство, действует до {day} включительно"
        assert body.index("verdict-terms") < body.index("Смирнова Анна"), "read before the name"
    _english(client)
    body = desk_verdict(client, code_text(site, CERTIFICATE_HOLDER))
    assert _terms(body) == f"Temporary certificate, valid until {day} inclusive"


def test_a_certificate_that_ran_out_says_when(site: Flask) -> None:
    valid_to = _certificate(site, datetime(2026, 6, 1, 9, tzinfo=UTC))
    assert valid_to < datetime.now(UTC).date()
    body = desk_verdict(logged_in(site, "clinic"), CERTIFICATE_HOLDER)
    assert 'data-verdict="expired"' in body
    assert _terms(body) == f"Временное свидетельство, действовало до {valid_to.strftime('%d.%m.%Y')} включительно"


def test_a_policy_with_an_end_says_until_when(site: Flask) -> None:
    """A worker's policy ends with their right to stay: the desk reads that day as it reads a certificate's."""
    right_ends = datetime.now(UTC).date() + timedelta(days=200)
    worker = person_data(
        "770000000000021", "Каримов", "Ильдар", sex="M", category=Category.EAEU_WORKER, right_valid_until=right_ends
    )
    with site.app_context():
        lifecycle.register_person(worker, "77001", "test")
        valid_to = people.open_policy(people.person_by_enp(str(worker.enp))).valid_to
    assert valid_to == right_ends
    client = logged_in(site, "clinic")
    for scanned in (code_text(site, str(worker.enp)), str(worker.enp)):
        body = desk_verdict(client, scanned)
        assert 'data-verdict="valid"' in body
        assert 'data-terms="policy"' in body
        assert _terms(body) == f"Полис ОМС единого образца, действует до {valid_to.strftime('%d.%m.%Y')} включительно"


def test_a_policy_that_ran_out_says_when_in_its_own_gender(site: Flask) -> None:
    """«Полис …, действовал до …»: the certificate's «действовало» was said of a policy too."""
    ended = date(2026, 7, 1)
    worker = person_data("770000000000022", "Каримов", sex="M", category=Category.EAEU_WORKER, right_valid_until=ended)
    with site.app_context():
        lifecycle.register_person(worker, "77001", "test", now=datetime(2026, 6, 1, 9, tzinfo=UTC))
    body = desk_verdict(logged_in(site, "clinic"), str(worker.enp))
    assert 'data-verdict="expired"' in body
    assert _terms(body) == "Полис ОМС единого образца, действовал до 01.07.2026 включительно"


def test_a_policy_with_no_end_has_no_terms_line(site: Flask) -> None:
    client = logged_in(site, "clinic")
    for scanned in (code_text(site, MOTHER), MOTHER):
        body = desk_verdict(client, scanned)
        assert 'data-verdict="valid"' in body
        assert "verdict-terms" not in body


def test_a_newborns_number_says_until_when_the_representatives_policy_covers_her(site: Flask) -> None:
    data = register_newborn_sofia(site)
    last_day = (data.birth_registered_on + timedelta(days=30)).strftime("%d.%m.%Y")
    client = logged_in(site, "clinic")
    body = desk_verdict(client, str(data.enp))
    assert 'data-verdict="valid"' in body
    assert _terms(body) == (
        f"Покрытие по полису представителя (Демо-Мед) действует до {last_day} включительно; "
        "дальше ребёнку нужен свой полис."
    )
    assert "Иванова Мария" not in body, "the representative is not named: reception sees the child's verdict"
    assert "Иванова София Сергеевна" in body
    _english(client)
    assert _terms(desk_verdict(client, str(data.enp))) == (
        f"Cover through the representative's policy (Демо-Мед) lasts until {last_day} inclusive; "
        "after that the child needs a policy of their own."
    )


def test_a_newborn_whose_cover_ran_out_says_when(site: Flask) -> None:
    today = datetime.now(UTC).date()
    registered = today - timedelta(days=40)
    with site.app_context():
        data = person_data(
            "770000000000013", "Иванов", "Лев", "Сергеевич", born=registered - timedelta(days=2),
            birth_registered_on=registered,
        )  # fmt: skip
        lifecycle.register_newborn(data, MOTHER, "test")
    body = desk_verdict(logged_in(site, "clinic"), str(data.enp))
    assert 'data-verdict="expired"' in body
    ended = (registered + timedelta(days=30)).strftime("%d.%m.%Y")
    assert (
        _terms(body)
        == f"Покрытие новорождённого по полису представителя закончилось {ended}, а своего полиса у ребёнка нет."
    )


def test_a_code_from_before_a_data_change_names_its_old_data_as_the_old_codes(site: Flask) -> None:
    old = code_text(site, MOTHER)
    with site.app_context():
        data_changes.change_person_data(
            MOTHER,
            NewData("Петрова", "Мария", "Петровна", date(1990, 4, 12), "F"),
            ChangeReason.MARRIAGE,
            "",
            Document("marriage_certificate", "II-МЮ", "123456", date(2026, 11, 20), "Отдел ЗАГС"),
            "test",
        )
    client = logged_in(site, "clinic")
    body = desk_verdict(client, old)
    assert 'data-reason="data_changed"' in body
    holder = _text(re.search(r'<p class="holder">(.*?)</p>', body, re.S).group(1))
    assert holder == "В старом коде: Иванова Мария Петровна, 12.04.1990"
    assert "Петрова" not in body, "the signed path does not read the registry's new name"
    assert "Сверьте имя и дату рождения с документом" not in body
    assert "Это данные до изменения" in body
    assert "Попросите показать новый код или введите номер полиса" in _text(body), "the new code, or the number"
    _english(client)
    body = desk_verdict(client, old)
    holder = _text(re.search(r'<p class="holder">(.*?)</p>', body, re.S).group(1))
    assert holder == "In the old code: Иванова Мария Петровна, 12.04.1990"


def test_the_pages_words_for_a_certificate_offline_are_in_its_language(site: Flask) -> None:
    """The browser words a certificate's code offline from the page's texts (static/js/clinic-page.js): in the
    page's language, whichever language the page was first shown in."""
    client = logged_in(site, "clinic")

    def texts() -> list[str]:
        page = client.get("/clinic/").get_data(as_text=True)
        return re.findall(r'<p data-text="(?:temporary-certificate|valid-until)">([^<]*)</p>', page)

    assert texts() == ["Временное свидетельство", "действует до {date} включительно"]
    _english(client)
    assert texts() == ["Temporary certificate", "valid until {date} inclusive"]
