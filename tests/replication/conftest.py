"""A primary and a streaming hot standby of the tests' own (tests/replication/servers.py), migrated, and apps
that read verification from the standby."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask_migrate import upgrade

from tests.helpers.registry import make_app, seed_registry
from tests.helpers.replication import Cluster
from tests.replication import servers
from tests.replication.servers import Postgres
from tests.webapp.databases import wipe
from webapp.db.engines import dispose_engines


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
def bouncer(cluster: Cluster) -> Iterator[servers.PgBouncer]:
    """Debian's PgBouncer in front of the cluster: the primary as "oms", the standby as "oms_replica_1"."""
    if not servers.PGBOUNCER.is_file():
        pytest.skip(f"PgBouncer not at {servers.PGBOUNCER} (Debian: apt-get install pgbouncer)")
    cluster.ready()
    with servers.pgbouncer({"oms": cluster.primary, "oms_replica_1": cluster.standby}) as running:
        yield running


@pytest.fixture
def replicated(cluster: Cluster) -> Iterator[Callable[..., Flask]]:
    """Apps on the cluster's primary, reading verification from its standby unless DATABASE_REPLICA_URLS says
    otherwise (settings as keywords), over the
    small registry of tests/webapp; every one's engines closed after the test."""
    cluster.ready()
    apps: list[Flask] = []

    def build(**settings: object) -> Flask:
        settings.setdefault("DATABASE_REPLICA_URLS", [cluster.standby.url()])
        app = make_app(cluster.primary.url(), **settings)
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
