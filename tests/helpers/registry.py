"""Building the registry in tests: an app as production configures it, a small seeded registry, persons."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta

from flask import Flask

from signing.pkcs8 import ScryptCost
from tests.helpers.claims import KEY_START, NOW
from tests.webapp.databases import audit_settings
from webapp import create_app
from webapp.models import Category, IssuedCode
from webapp.registry import lifecycle, organisations, public_holidays
from webapp.registry.people import PersonData

#: Secrets as production must set them (webapp/config.py refuses weak ones from the environment).
PASSPHRASE = "test-passphrase-Hq7vR2mXk9LwT4zB8nYc"
SECRET_KEY = "test-secret-key-Jd5sQ1pZr8VxG3fKm6Wt"
CHEAP_KEY_ENCRYPTION = ScryptCost(n=2**4, r=8, p=1)
#: This test run's job queue on the shared Redis: another run's workers never take its jobs.
TEST_QUEUE_NAME = f"oms-test-{os.getpid()}"


def make_app(database_url: str, **overrides: object) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": SECRET_KEY,
            "SIGNING_KEY_PASSPHRASE": PASSPHRASE,
            "RATELIMIT_STORAGE_URI": "memory://",
            "JOB_QUEUE_NAME": TEST_QUEUE_NAME,
            # Real argon2id and scrypt, at a cost a test suite can afford.
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_KIB": 8192,
            "SIGNING_KEY_ENCRYPTION": CHEAP_KEY_ENCRYPTION,
            **audit_settings(database_url),
            **overrides,
        }
    )


@contextmanager
def staff_idle_limit(app: Flask, seconds: float) -> Iterator[None]:
    """A staff idle limit of `seconds` while the block runs. Set once the desk has logged in: a login slower than
    that on a loaded machine would otherwise have ended its own session before the desk's page was read."""
    usual = app.config["STAFF_IDLE_TIMEOUT"]
    app.config["STAFF_IDLE_TIMEOUT"] = timedelta(seconds=seconds)
    try:
        yield
    finally:
        app.config["STAFF_IDLE_TIMEOUT"] = usual


def seed_registry() -> None:
    """A small registry: two insurers with keys, a clinic, holidays."""
    organisations.create_region("77", "г. Москва", "test")
    organisations.create_region("50", "Московская область", "test")
    organisations.create_insurer("77001", "Демо-Мед", "test", "77", now=KEY_START)
    organisations.create_insurer("77002", "Пример-Полис", "test", "77", now=KEY_START)
    organisations.create_clinic("GP-001", "Поликлиника №1", "test", "77")
    for year in (2026, 2027):
        public_holidays.seed_year(year, "test")


def person_data(
    enp15: str = "770000000000001",
    surname: str = "Иванова",
    given: str = "Мария",
    patronymic: str = "Петровна",
    born: date = date(1990, 4, 12),
    sex: str = "F",
    category: Category = Category.CITIZEN,
    **extra: object,
) -> PersonData:
    """`PersonData.of` with a default for every field, so a test names only what it is about."""
    return PersonData.of(enp15, surname, given, patronymic, born, sex, category, **extra)


def register(
    data: PersonData | None = None, insurer: str = "77001", at: datetime = NOW, **kwargs: object
) -> IssuedCode:
    return lifecycle.register_person(data or person_data(), insurer, "test", now=at, **kwargs)  # type: ignore[arg-type]
