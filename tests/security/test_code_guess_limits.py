"""Guesses at an insurer's one-time code (/activate and /recover, counted together): per address and ЕНП, per ЕНП
from every address, and per address (webapp/web/auth.py). The ЕНП's own limit is also a way to keep its holder out:
one address must not be able to spend it.

A day's limits are reached without a day's wait: the limiter's storage (memory://) reads a clock the test moves on.
"""

from __future__ import annotations

import re
import time

import limits.storage.memory
import pytest
from flask import Flask

from tests.security.world import CHILD, MOTHER, client_as
from tests.webapp.pages import PASSWORD, csrf
from webapp.extensions import db
from webapp.models import AuditEntry
from webapp.registry import activation

#: webapp/web/auth.py: per address and ЕНП, 5 a minute and 10 a day; per ЕНП from every address, 200 a day.
PER_MINUTE = 5
PER_DAY = 10
PER_NUMBER = 200
#: The refusal a person reads when a day's limit is reached.
TOO_MANY_TODAY = "За сутки код для этого ЕНП вводили слишком много раз. Повторите через 24 ч."
INSURER_HELPS = "обратитесь в свою страховую компанию: там сверят ЕНП и выдадут новый код"


class LimiterClock:
    """The clock the limiter's memory storage reads: the real one, moved on by `ahead` seconds."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def time(self) -> float:
        return time.time() + self.ahead


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> LimiterClock:
    moved = LimiterClock()
    monkeypatch.setattr(limits.storage.memory, "time", moved)
    return moved


def guess(app: Flask, address: str, enp: str, code: str = "AAAA-AAAA", path: str = "/recover") -> tuple[int, str]:
    """One try at `enp`'s code from `address`, in a browser of its own: the answer's status and page."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    form = {"enp": enp, "code": code, "username": "guesser", "password": PASSWORD, "password_again": PASSWORD}
    answer = client.post(path, data=form | {"csrf_token": csrf(client, path)})
    return answer.status_code, answer.get_data(as_text=True)


def statuses(app: Flask, address: str, enp: str, tries: int) -> list[int]:
    """Wrong codes from one address, on both pages in turn."""
    return [guess(app, address, enp, path=("/recover", "/activate")[n % 2])[0] for n in range(tries)]


def the_holders_code(app: Flask) -> str:
    with app.app_context():
        return activation.issue_code(str(MOTHER.enp), "test")


def test_one_address_guessing_all_day_does_not_keep_the_holder_out(world: Flask, clock: LimiterClock) -> None:
    """Before, the ЕНП's 10 a quarter of an hour were one address's to spend, again and again: the holder was
    refused all day. Now that address is refused after its own 10 a day, and spends nothing of the ЕНП's."""
    enp = str(MOTHER.enp)
    answers = []
    for _minute in range(PER_NUMBER // PER_MINUTE + 2):  # past the ЕНП's day, at the pace the minute's limit lets
        answers += statuses(world, "203.0.113.7", enp, PER_MINUTE)
        clock.ahead += 61
    assert answers[: PER_DAY + 1] == [400] * PER_DAY + [429]
    assert set(answers[PER_DAY:]) == {429}
    code = the_holders_code(world)
    assert guess(world, "198.51.100.20", enp, code)[0] == 302, "the holder, elsewhere, sets a new password"


def test_an_address_has_ten_guesses_a_day_at_one_number(world: Flask, clock: LimiterClock) -> None:
    enp = str(MOTHER.enp)
    assert statuses(world, "203.0.113.8", enp, PER_MINUTE + 1) == [400] * PER_MINUTE + [429]
    clock.ahead += 61
    assert statuses(world, "203.0.113.8", enp, PER_MINUTE) == [400] * PER_MINUTE, "a refused guess is not counted"
    clock.ahead += 61
    assert guess(world, "203.0.113.8", enp)[0] == 429
    clock.ahead += 23 * 3600
    assert guess(world, "203.0.113.8", enp)[0] == 429, "a new minute, or hour, is no new day"
    assert guess(world, "203.0.113.8", str(CHILD.enp))[0] == 400, "another number from the same address is tried"
    assert guess(world, "203.0.113.9", enp)[0] == 400, "the same number from another address is tried"
    clock.ahead += 3600
    assert guess(world, "203.0.113.8", enp)[0] == 400, "a day later the address tries again"


def test_a_number_has_two_hundred_guesses_a_day_from_every_address_together(world: Flask) -> None:
    enp = str(MOTHER.enp)
    addresses = [f"2001:db8:{n:x}::1" for n in range(PER_NUMBER // PER_MINUTE)]  # 40 networks, 5 each
    assert [status for address in addresses for status in statuses(world, address, enp, PER_MINUTE)] == [400] * (
        PER_NUMBER
    )
    assert guess(world, "198.51.100.30", enp, the_holders_code(world))[0] == 429, (
        "a new address, even with the right code, until the day ends"
    )
    assert guess(world, "198.51.100.30", str(CHILD.enp))[0] == 400, "another number is not held up"


def test_a_new_code_from_the_insurer_lets_the_holder_in_the_same_day(world: Flask) -> None:
    """Strangers spent the ЕНП's day; the holder asks the insurer, as the refusal tells them to, and the new code
    works at once rather than up to a day later."""
    enp = str(MOTHER.enp)
    for n in range(PER_NUMBER // PER_MINUTE):
        statuses(world, f"2001:db8:{n:x}::1", enp, PER_MINUTE)
    assert guess(world, "198.51.100.40", enp)[0] == 429
    staff = client_as(world, "insurer")
    step = f"/insurer/person/{enp}/activation-code"
    shown = staff.post(step, data={"confirmed": "yes", "csrf_token": csrf(staff, step)}, follow_redirects=True)
    code = re.search(r'class="activation-code number">([^<]+)<', shown.get_data(as_text=True))
    assert code, "the code is shown once"
    assert guess(world, "198.51.100.40", enp, code.group(1).strip())[0] == 302
    assert statuses(world, "2001:db8:ffff::1", enp, 1) == [400], "guessers start afresh too, at the new code"


def test_the_number_s_day_reached_is_noted_once_on_the_person_s_trail(world: Flask) -> None:
    addresses = [f"192.0.2.{n}" for n in range(PER_NUMBER // PER_MINUTE + 1)]
    for address in addresses:
        statuses(world, address, str(MOTHER.enp), PER_MINUTE)
    unheld = "7700000000009995"  # a number nobody holds: no trail to note it on
    for address in addresses:
        statuses(world, address, unheld, PER_MINUTE)
    with world.app_context():
        notes = db.session.scalars(
            db.select(AuditEntry).where(AuditEntry.action == activation.GUESS_LIMIT_ACTION)
        ).all()
        assert [(note.actor, note.entity, note.entity_key) for note in notes] == [
            ("anonymous", "person", str(MOTHER.enp))
        ]
        assert notes[0].details["allowed"] == PER_NUMBER
    trail = client_as(world, "insurer").get(f"/insurer/person/{MOTHER.enp}").get_data(as_text=True)
    assert "достигнут дневной лимит попыток ввести код" in trail, "the insurer reads it on the person's page"


def test_the_day_s_refusal_says_what_happened_and_what_to_do(world: Flask) -> None:
    """The same words for either day's limit, whether anyone holds the number or not (the real clock: the page
    counts the hours left by it)."""
    enp = str(MOTHER.enp)
    for n in range(PER_NUMBER // PER_MINUTE):
        statuses(world, f"198.51.100.{n}", enp, PER_MINUTE)
    client = world.test_client()
    form = {"enp": enp, "code": "AAAA-AAAA", "password": PASSWORD, "password_again": PASSWORD}
    answer = client.post("/recover", data=form | {"csrf_token": csrf(client, "/recover")})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 429
    assert TOO_MANY_TODAY in page
    assert INSURER_HELPS in page
    assert 23 * 3600 < int(answer.headers["Retry-After"]) <= 24 * 3600 + 1
    client.post("/language", data={"language": "en", "csrf_token": csrf(client, "/recover")})
    page = client.post("/recover", data=form | {"csrf_token": csrf(client, "/recover")}).get_data(as_text=True)
    assert "A code for this policy number has been entered too many times in one day. Try again in 24 h." in page
    assert "contact your insurer: they will check the policy number and give you a new code" in page
