"""The database fixtures of tests/webapp (on a PostgreSQL database of this folder's own) and a populated world."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.security.world import populate
from tests.webapp import conftest as webapp_fixtures
from tests.webapp.databases import postgres_database

app = webapp_fixtures.app
database_url = webapp_fixtures.database_url
registry = webapp_fixtures.registry


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    with postgres_database(f"oms_security_{os.getpid()}") as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('security-db') / 'oms.sqlite'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def served_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of the test's own, for a gunicorn of its own (tests/faults/server.py) to serve."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'oms.sqlite'}"
        return
    with postgres_database(f"oms_served_{os.getpid()}") as url:
        yield url


@pytest.fixture
def world(app: Flask) -> Flask:
    """The populated registry, with no app context held open: page requests each get their own, as in production."""
    with app.app_context():
        populate()
    app.config["WTF_CSRF_ENABLED"] = True
    # The production default (webapp/config.py); Flask reads both on every response.
    app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = True
    return app
