"""A primary and a streaming hot standby of the tests' own (tests/replication/servers.py), migrated, and apps
that read verification from the standby."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade

from tests.replication import servers
from tests.replication.servers import Postgres
from tests.webapp.conftest import make_app, seed_registry
from tests.webapp.databases import wipe
from tests.webapp.pages import populate
from webapp.db.engines import dispose_engines
from webapp.registry import accounts


@dataclass
class Cluster:
    primary: Postgres
    standby: Postgres

    def caught_up(self) -> None:
        servers.wait_for_replay(self.primary, self.standby)

    def ready(self) -> None:
        """The standby running and replaying, as each test starts."""
        if not self.standby.running():
            self.standby.start()
        self.standby.value("SELECT pg_wal_replay_resume()")
        self.caught_up()


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    reason = servers.missing()
    if reason:
        pytest.skip(reason)
    root = servers.private_folder("oms-replication-")
    started: list[Postgres] = []
    try:
        started.append(servers.make_primary(root))
        started.append(servers.make_standby(root, started[0]))
        app = make_app(started[0].url())
        with app.app_context():
            upgrade()
            dispose_engines()
        yield Cluster(*started)
    finally:
        for server in reversed(started):
            if server.running():
                server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def replicated(cluster: Cluster) -> Iterator[Callable[..., Flask]]:
    """Apps on the cluster's primary, reading verification from its standby (settings as keywords), over the
    small registry of tests/webapp; every one's engines closed after the test."""
    cluster.ready()
    apps: list[Flask] = []

    def build(**settings: object) -> Flask:
        app = make_app(cluster.primary.url(), DATABASE_REPLICA_URLS=[cluster.standby.url()], **settings)
        if not apps:
            with app.app_context():
                wipe()
                seed_registry()
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            dispose_engines()


def with_registry(app: Flask) -> str:
    """tests/webapp/pages.py's people and logins on `app`; a clinic system's API token."""
    with app.app_context():
        populate()
        return accounts.create_token("GP-001", "МИС", "test")[1]


def by_api(client: FlaskClient, token: str, text: str) -> str:
    response = client.post("/api/v1/verify", json={"code": text}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return str(response.get_json()["verdict"])
