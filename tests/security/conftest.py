"""The database fixtures of tests/webapp, on a PostgreSQL database of this folder's own."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.webapp.conftest import app, database_url, registry  # noqa: F401 -- fixtures, used by name
from tests.webapp.databases import create_postgres_database, drop_postgres_database, postgres_unreachable


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    reason = postgres_unreachable()
    if reason is not None:
        pytest.skip(f"PostgreSQL not reachable: {reason}")
    name = f"oms_security_{os.getpid()}"
    yield create_postgres_database(name)
    drop_postgres_database(name)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('security-db') / 'oms.sqlite'}"
