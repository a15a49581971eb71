"""Attack: staff end a parent's link (webapp/registry/representations.py `end`) while a colleague corrects the child's
birth date, on SQLite and PostgreSQL (2026-12-06). The correction moves the links that end at the old majority; read
before the end committed, it wrote the moved day over the insurer's: the parent kept the child, whom the court had
taken from them, to the new majority. The end now holds the representations' lock the correction holds."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from policy_codes.codec import moscow_date
from tests.helpers.claims import KEY_START
from tests.helpers.registry import person_data
from webapp.extensions import db
from webapp.models import Representation
from webapp.registry import audit, data_changes, lifecycle, people, representations


def _years_before(day: date, years: int) -> date:
    return day.replace(year=day.year - years, day=min(day.day, 28))


def in_context(app: Flask, work: Callable[[], object], failures: list[BaseException]) -> threading.Thread:
    def run() -> None:
        with app.app_context():
            try:
                work()
            except BaseException as error:  # the test says what failed
                failures.append(error)
            finally:
                db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_an_end_and_a_birth_date_correction_at_once_keep_the_insurers_end(
    registry: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    today = moscow_date(datetime.now(UTC))
    mother = person_data("770000000000961", "Иванова", "Анна", born=date(1980, 1, 1))
    son = person_data("770000000000962", "Иванов", "Пётр", "Сергеевич", _years_before(today, 10), "M")
    lifecycle.register_person(mother, "77001", "test", now=KEY_START)
    lifecycle.register_person(son, "77001", "test", representative_enp=str(mother.enp), now=KEY_START)
    db.session.commit()
    db.session.remove()

    paused, release = threading.Event(), threading.Event()
    recorded = audit.record

    def record_then_wait(actor: str, action: str, *args: object, **kwargs: object) -> object:
        entry = recorded(actor, action, *args, **kwargs)
        if action == "end_representation":  # the end written, not yet committed
            paused.set()
            release.wait(30)
        return entry

    monkeypatch.setattr(audit, "record", record_then_wait)
    failures: list[BaseException] = []
    ending = in_context(
        registry, lambda: representations.end(str(mother.enp), str(son.enp), "court", "smo:one"), failures
    )
    assert paused.wait(30), failures
    document = data_changes.Document("birth_certificate", "II-МЮ", "123456", today, "Отдел ЗАГС")
    older = data_changes.NewData("Иванов", "Пётр", "Сергеевич", _years_before(today, 12), "M")
    reason = data_changes.ChangeReason.REGISTRY_ERROR
    correcting = in_context(
        registry,
        lambda: data_changes.change_person_data(str(son.enp), older, reason, "", document, "smo:two"),
        failures,
    )
    correcting.join(1)  # it reaches the end's transaction and waits for it
    release.set()
    ending.join(30)
    correcting.join(30)
    assert failures == []
    db.session.remove()
    last_day = db.session.scalar(
        select(Representation.valid_to).where(Representation.represented_id == people.person_by_enp(str(son.enp)).id)
    )
    assert people.person_by_enp(str(son.enp)).birth_date == _years_before(today, 12)
    assert last_day == today - timedelta(days=1), "the court's end stands: the mother no longer sees her son"
