"""What the reception desk reads (issue 18, items 3 and 5): a headline of a word or two, then what it means and
what to do; words that do not mislead; and the history in words, not the verdicts' internal names."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from policy_codes import Verdict
from policy_codes.verdicts import Shown
from tests.helpers.registry import NOW, person_data, register
from tests.security.test_attack_harvest import legacy_paper
from tests.webapp.pages import MOTHER, code_text, csrf, desk_verdict, logged_in, register_newborn_sofia
from tests.webapp.test_data_changes import CERTIFICATE, MARRIED
from webapp.models import Category
from webapp.registry import data_changes, lifecycle, people
from webapp.registry.codes import live_code
from webapp.registry.data_changes import ChangeReason
from webapp.registry.verification import message, verify_scan

#: MOTHER with its last (check) digit changed: a typo.
MISTYPED = MOTHER[:-1] + str((int(MOTHER[-1]) + 1) % 10)


def _headline(body: str) -> str:
    match = re.search(r'<h2 class="verdict-headline">(.*?)</h2>', body, re.S)
    assert match, "the verdict starts with its headline"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def _english(client: FlaskClient) -> None:
    client.post("/language", data={"language": "en", "next": "/clinic/", "csrf_token": csrf(client, "/clinic/")})


def _stale_live_code(app: Flask) -> str:
    with app.app_context():
        return live_code(people.current_code(people.person_by_enp(MOTHER)), datetime.now(UTC) - timedelta(minutes=5))


def test_an_out_of_date_live_code_asks_for_a_fresh_one_not_a_new_policy(site: Flask) -> None:
    client = logged_in(site, "clinic")
    body = desk_verdict(client, _stale_live_code(site))
    assert 'data-verdict="expired"' in body
    assert _headline(body) == "Код устарел"
    assert "Код на экране устарел" in body
    assert "обновить" in body
    assert "Срок действия истёк" not in body, "a clerk reads that as the policy having ended"
    _english(client)
    body = desk_verdict(client, _stale_live_code(site))
    assert _headline(body) == "Outdated code"
    assert "The code on the screen is out of date" in body


def test_an_out_of_date_live_code_through_the_api_says_so_too(site: Flask) -> None:
    with site.app_context():
        result = verify_scan(_stale_live_code(site))
        assert (result.verdict, result.shown) == (Verdict.EXPIRED, Shown.LIVE_CODE)
        assert message(result).startswith("Код на экране устарел")


def test_a_mistyped_number_is_called_a_typo(site: Flask) -> None:
    client = logged_in(site, "clinic")
    body = desk_verdict(client, MISTYPED)
    assert 'data-verdict="malformed"' in body
    assert _headline(body) == "Опечатка"
    assert "В номере опечатка" in body
    assert "Отсканируйте ещё раз" not in body
    _english(client)
    assert _headline(desk_verdict(client, MISTYPED)) == "Typo"


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        (MOTHER[:-1], "Введено 15 цифр, а в номере полиса (ЕНП) их 16"),
        (f"{MOTHER[:4]}-{MOTHER[4:8]}-{MOTHER[8:12]}-{MOTHER[12:]}7", "Введено 17 цифр"),
        (f"{MOTHER}00000", "Введена 21 цифра"),
    ],
)
def test_a_number_with_a_digit_dropped_or_doubled_is_counted(site: Flask, typed: str, words: str) -> None:
    """A receptionist who dropped a digit was told the patient's document is no policy («Не полис»): the desk
    says how many digits it read, and asks for the number again. The verdict (the API's) stays what it was."""
    client = logged_in(site, "clinic")
    body = desk_verdict(client, typed)
    assert 'data-verdict="not_a_policy_code"' in body
    assert _headline(body) == "Не 16 цифр"
    assert words in body
    assert "Это не код полиса" not in body
    _english(client)
    body = desk_verdict(client, typed)
    assert _headline(body) == "Not 16 digits"
    assert "digits typed, but a policy number has 16" in body


def test_other_text_is_still_no_policy(site: Flask) -> None:
    client = logged_in(site, "clinic")
    nbsp = "\u00a0".join(MOTHER[i : i + 4] for i in range(0, 16, 4))  # 16 digits: «Не 16 цифр» would be false
    for text in ("1234567890", "12345678901234567890123", "+7 (999) 123-45-67", "7700 0000 00x0 0016", nbsp):
        body = desk_verdict(client, text)
        assert _headline(body) == "Не полис", text
        assert "Это не код полиса" in body


@pytest.mark.parametrize("language", ["ru", "en"])
def test_every_headline_is_a_word_or_two(language: str) -> None:
    for verdict in Verdict:
        for shown in (None, *Shown):
            words = verdict.headline(language, shown).split()
            assert 1 <= len(words) <= 2, (verdict, shown, words)


def test_the_verdict_headline_comes_first_and_the_message_under_it(site: Flask) -> None:
    body = desk_verdict(logged_in(site, "clinic"), code_text(site, MOTHER))
    assert _headline(body) == "Действителен"
    headline_at = body.index('class="verdict-headline"')
    assert headline_at < body.index("Полис действителен: подпись верна") < body.index("Иванова Мария Петровна")


def history_verdicts(client: FlaskClient) -> list[str]:
    """The verdicts of the clinic's history as the page shows them, newest first."""
    page = client.get("/clinic/history").get_data(as_text=True)
    cells = re.findall(r'<td[^>]*class="verdict-cell"[^>]*>(.*?)</td>', page, re.S)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]


def test_the_history_names_verdicts_in_words(site: Flask) -> None:
    client = logged_in(site, "clinic")
    for code in (code_text(site, MOTHER), "OMS1:!!", "https://example.org/", MISTYPED):
        desk_verdict(client, code)
    assert history_verdicts(client) == ["Опечатка", "Не полис", "Не читается", "Действителен"]
    page = client.get("/clinic/history").get_data(as_text=True)
    for raw in ("valid", "malformed", "not_a_policy_code"):
        assert f">{raw}<" not in page
    _english(client)
    assert history_verdicts(client) == ["Typo", "Wrong code", "Unreadable", "Valid"]


def test_the_history_says_a_data_change_as_the_desk_read_it(site: Flask) -> None:
    """The desk read «Данные изменились» for a code superseded by its holder's data change, and the history said
    «Код заменён», as for a code superseded by a plain reissue, which still says so."""
    before_the_change = code_text(site, MOTHER)
    with site.app_context():
        data_changes.change_person_data(MOTHER, MARRIED, ChangeReason.MARRIAGE, "", CERTIFICATE, "test")
    before_the_reissue = code_text(site, MOTHER)
    with site.app_context():
        lifecycle.reissue(MOTHER, "test", "потерян телефон")
    client = logged_in(site, "clinic")
    read = [_headline(desk_verdict(client, code)) for code in (before_the_change, before_the_reissue)]
    assert read == ["Данные изменились", "Код заменён"]
    assert history_verdicts(client) == read[::-1]
    _english(client)
    assert history_verdicts(client) == ["Code replaced", "Data changed"]


def test_the_history_says_whose_checks_it_lists_and_how_many(site: Flask) -> None:
    """A clerk saw a colleague's checks and numbers cut to four digits, with no word of either, nor of why the
    morning's checks were gone by the afternoon."""
    client = logged_in(site, "clinic")
    page = client.get("/clinic/history").get_data(as_text=True)
    assert "Последние 100 проверок в клинике, со всех рабочих мест, новые сверху." in page
    assert "От номера видны только последние четыре цифры." in page
    _english(client)
    page = client.get("/clinic/history").get_data(as_text=True)
    assert "The clinic’s last 100 checks, from every desk, newest first." in page


def test_a_newborns_number_says_whose_policy_covers_the_child(site: Flask) -> None:
    """Item 6 at the desk: the number of a newborn with no policy of her own is valid by the mother's."""
    data = register_newborn_sofia(site)
    body = desk_verdict(logged_in(site, "clinic"), str(data.enp))
    assert _headline(body) == "Действителен"
    assert "Новорождённый: своего полиса ещё нет, помощь оказывается по полису представителя." in body
    assert "Номер найден в реестре. Подписи у номера нет: сверьте документ." in body
    assert "полис действующий" not in body, "the child has no policy yet: the desk read both at once"
    client = logged_in(site, "clinic")
    _english(client)
    english = desk_verdict(client, str(data.enp))
    assert "The number is in the registry. A number carries no signature" in english
    assert "the policy is current" not in english


EMERGENCY = "Помощь в экстренной форме оказывается без полиса"


def test_an_old_code_points_to_the_number_and_leaves_out_the_emergency_line(site: Flask) -> None:
    """A replaced code is an old code, not a patient without cover: the desk asks for the current one or checks
    the number. The emergency line stays where the patient's cover is in doubt (a withdrawn code)."""
    old = code_text(site, MOTHER)
    with site.app_context():
        lifecycle.reissue(MOTHER, "smo:test", "потерян телефон")
    client = logged_in(site, "clinic")
    replaced = desk_verdict(client, old)
    assert 'data-verdict="superseded"' in replaced
    assert "проверьте полис по номеру" in replaced
    assert EMERGENCY not in replaced
    assert EMERGENCY not in desk_verdict(client, "просто текст"), "not a policy's code: scan again"
    current = code_text(site, MOTHER)
    with site.app_context():
        lifecycle.revoke(MOTHER, "smo:test", "украден телефон")
    withdrawn = desk_verdict(client, current)
    assert 'data-verdict="revoked"' in withdrawn
    assert "Проверьте полис по номеру или по документу" in withdrawn
    assert EMERGENCY in withdrawn


def test_a_number_typed_with_dashes_is_the_number(site: Flask) -> None:
    client = logged_in(site, "clinic")
    dashed = "-".join(MOTHER[i : i + 4] for i in range(0, 16, 4))
    body = desk_verdict(client, dashed)
    assert 'data-verdict="valid"' in body
    assert "Иванова" in body


def test_enter_on_an_empty_field_is_no_check(site: Flask) -> None:
    """Nothing scanned: said what to do, with no verdict, no «emergency care» line and nothing in the history."""
    client = logged_in(site, "clinic")
    before = client.get("/clinic/history").get_data(as_text=True).count("<tr")
    for blank in ("", "   "):
        body = desk_verdict(client, blank)
        assert "Отсканируйте код или введите 16 цифр номера полиса." in body
        assert "data-verdict" not in body
        assert EMERGENCY not in body
    assert client.get("/clinic/history").get_data(as_text=True).count("<tr") == before


def test_a_policy_past_its_last_day_sends_the_patient_to_the_insurer_not_for_a_fresh_code(registry: Flask) -> None:
    """A static code, or the number, of a policy that ended by its dates (an EAEU worker's contract): a fresh code
    would read the same, so the desk is told where the patient must go."""
    worker = person_data("770000000000005", category=Category.EAEU_WORKER, right_valid_until=NOW.date())
    text = register(worker).text
    for scanned in (text, str(worker.enp)):
        result = verify_scan(scanned, now=NOW + timedelta(days=2))
        assert result.verdict is Verdict.EXPIRED
        assert "обратиться в свою страховую компанию" in message(result)
        assert "обновить" not in message(result)


def test_a_2011_paper_reads_as_a_paper_and_its_history_says_what_the_desk_read(site: Flask) -> None:
    """A paper's verdict said «Статус в реестре: Номер найден в реестре… Подписи у номера нет» (a typed number's
    words) and the history «Старый бланк», which tells the desk nothing of whether it was valid."""
    client = logged_in(site, "clinic")
    body = desk_verdict(client, legacy_paper(MOTHER))
    text = " ".join(re.sub(r"<[^>]+>", " ", body).split())
    assert _headline(body) == "Действителен"
    assert "образца 2011 года" in text
    assert "По реестру полис действующий." in text
    for words in ("Номер найден", "Подписи у номера нет", "Статус в реестре", "старого образца"):
        assert words not in text, words
    with site.app_context():
        lifecycle.terminate(MOTHER, "smo:smo", "Смерть застрахованного")
    body = desk_verdict(client, legacy_paper(MOTHER))
    assert _headline(body) == "Прекращён"
    assert "По реестру действие полиса прекращено." in body
    assert history_verdicts(client) == ["Прекращён (бланк 2011\u00a0года)", "Действителен (бланк 2011\u00a0года)"]
    _english(client)
    body = desk_verdict(client, legacy_paper(MOTHER))
    words = re.sub(r"<[^>]+>", " ", re.sub(r'<p class="holder">.*?</p>', "", body))  # the name is the registry's
    assert not re.search("[А-Яа-яЁё]", words), words
    page = client.get("/clinic/history").get_data(as_text=True)
    assert "Terminated (2011\u00a0paper policy)" in page
