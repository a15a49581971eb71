"""The country-wide directories (ЕНП: 0012, СНИЛС: 0019) under two warm gunicorn workers: two insurers register
one person at the same instant, each from its own form, served by different workers (2026-12-06).

Each directory keeps one person per number whatever their region; the check before the write cannot see a
registration that has not committed yet, so the directory's unique key must refuse the second, and the insurer
who lost the race must read why, on a 400, not a 500.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from sqlalchemy import func, select

from tests.faults.registry import INSURER_LOGIN, prepare
from tests.faults.server import PASSWORD, Server, Session
from tests.helpers.registry import person_data
from tests.security.test_attack_state_workers import THREADS, at_once
from tests.security.world import snils
from webapp.db.engines import dispose_engines
from webapp.extensions import db
from webapp.models import Person, Role
from webapp.registry import accounts

OTHER_INSURER = "smo-77002"
ROUNDS = 4
#: What the losing insurer reads, by the directory that refused it (webapp/registry/people.py).
REFUSALS = {"snils": "Застрахованный с этим СНИЛС уже есть в реестре", "enp": "Застрахованный с таким ЕНП уже есть"}


def _register(browser: Session, enp: str, snils_digits: str, given: str) -> Callable[[], str]:
    """One insurer's «new insured» form, sent from a session of its own; the answer's status, and the field a
    refusal names."""
    form = {
        "enp": enp,
        "surname": "Сидоров",
        "given_name": given,
        "patronymic": "Ильич",
        "birth_date": "1980-02-03",
        "sex": "M",
        "snils": snils_digits,
        "category": "citizen",
        "right_valid_until": "",
        "representative_enp": "",
    }

    def call() -> str:
        answer = browser.clone().post("/insurer/new", form)
        if answer.status_code != 400:
            return str(answer.status_code)
        said = [field for field, words in REFUSALS.items() if words in answer.text]
        return f"400 {' '.join(said) or 'other'}"

    return call


def test_one_person_registered_by_two_insurers_at_once_is_written_once(served_database_url: str) -> None:
    registry = prepare(served_database_url, people=1)
    with registry.app.app_context():
        accounts.create_user(OTHER_INSURER, PASSWORD, Role.INSURER, "test", insurer_code="77002")
        db.session.remove()
        dispose_engines()
    server = Server(served_database_url, workers=2).start()
    try:
        server.wait_for_workers(exclude=0)
        insurers = [Session.login(server.url, login) for login in (INSURER_LOGIN, OTHER_INSURER)]
        for round_ in range(ROUNDS):
            # One СНИЛС under different numbers (the person applied twice), then one number under different СНИЛС.
            same_snils = [
                _register(
                    insurers[n % 2],
                    str(person_data(f"7700000001{round_}{n:04d}").enp),
                    snils(f"51{round_}000001").digits,
                    "Олег",
                )
                for n in range(THREADS)
            ]
            seen = at_once(same_snils)
            assert seen == Counter({"302": 1, "400 snils": THREADS - 1}), seen
            enp = str(person_data(f"7700000002{round_}0000").enp)
            same_enp = [
                _register(insurers[n % 2], enp, snils(f"52{round_}0000{n:02d}").digits, "Игорь") for n in range(THREADS)
            ]
            seen = at_once(same_enp)
            assert seen == Counter({"302": 1, "400 enp": THREADS - 1}), seen
        with registry.app.app_context():
            assert db.session.scalar(select(func.count(Person.id))) == 1 + 2 * ROUNDS
            db.session.remove()
            dispose_engines()
    finally:
        server.stop()
