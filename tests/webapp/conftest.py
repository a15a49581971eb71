"""App and registry fixtures, run once on SQLite and once on PostgreSQL (flaskr's shape)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import redis
from flask import Flask
from flask_migrate import upgrade

from signing.pkcs8 import ScryptCost
from tests.webapp.databases import audit_settings, postgres_database, wipe
from webapp import create_app
from webapp.db.engines import dispose_engines
from webapp.extensions import db
from webapp.models import Category, IssuedCode
from webapp.registry import lifecycle, organisations, public_holidays
from webapp.registry.people import PersonData

KEY_START = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
#: Secrets as production must set them (webapp/config.py refuses weak ones from the environment).
PASSPHRASE = "test-passphrase-Hq7vR2mXk9LwT4zB8nYc"
SECRET_KEY = "test-secret-key-Jd5sQ1pZr8VxG3fKm6Wt"
CHEAP_KEY_ENCRYPTION = ScryptCost(n=2**4, r=8, p=1)


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    with postgres_database(f"oms_test_{os.getpid()}") as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'oms.sqlite'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue(f"{request.param}_url")


def make_app(database_url: str, **overrides: object) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": SECRET_KEY,
            "SIGNING_KEY_PASSPHRASE": PASSPHRASE,
            "RATELIMIT_STORAGE_URI": "memory://",
            # Real argon2id and scrypt, at a cost a test suite can afford.
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_KIB": 8192,
            "SIGNING_KEY_ENCRYPTION": CHEAP_KEY_ENCRYPTION,
            **audit_settings(database_url),
            **overrides,
        }
    )


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    app = make_app(database_url)
    with app.app_context():
        upgrade()
        wipe()
    yield app
    with app.app_context():
        dispose_engines()


def seed_registry() -> None:
    """A small registry: two insurers with keys, a clinic, holidays."""
    organisations.create_region("77", "г. Москва", "test")
    organisations.create_region("50", "Московская область", "test")
    organisations.create_insurer("77001", "Демо-Мед", "test", "77", now=KEY_START)
    organisations.create_insurer("77002", "Пример-Полис", "test", "77", now=KEY_START)
    organisations.create_clinic("GP-001", "Поликлиника №1", "test", "77")
    for year in (2026, 2027):
        public_holidays.seed_year(year, "test")


@pytest.fixture
def registry(app: Flask) -> Iterator[Flask]:
    """The small registry, with an app context held open for the test's direct calls."""
    with app.app_context():
        seed_registry()
        yield app
        db.session.remove()


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


@pytest.fixture
def site(app: Flask) -> Flask:
    """The registry of tests/webapp/pages.py, with logins. Requests run with no app context held open,
    as in production: each gets its own `g`."""
    from tests.webapp import pages  # it builds on this module's helpers

    with app.app_context():
        seed_registry()
        pages.populate()
    app.config["WTF_CSRF_ENABLED"] = True
    return app


#: The job queue's tests' own database number on the shared Redis: nobody else's keys are touched.
REDIS_URL = os.environ.get("TEST_JOB_QUEUE_URL", "redis://127.0.0.1:6379/11")


@pytest.fixture
def queue_url() -> Iterator[str]:
    """The queue's Redis, empty; the test is skipped, saying why, when Redis does not answer."""
    server = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        server.ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {error}")
    server.flushdb()
    yield REDIS_URL
    server.flushdb()
