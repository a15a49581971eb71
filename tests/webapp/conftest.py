"""App and registry fixtures, run once on SQLite and once on PostgreSQL (flaskr's shape)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask
from flask_migrate import upgrade

from tests.helpers.registry import TEST_QUEUE_NAME, make_app, seed_registry
from tests.webapp import pages
from tests.webapp.databases import postgres_database, wipe
from webapp.db.engines import dispose_engines
from webapp.extensions import db


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


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    app = make_app(database_url)
    with app.app_context():
        upgrade()
        wipe()
    yield app
    with app.app_context():
        dispose_engines()


@pytest.fixture(params=["sqlite", "postgresql"])
def older_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    """An app on a database of its own one migration behind the head, as before an upgrade's `db upgrade`."""
    with contextlib.ExitStack() as cleanup:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'older.sqlite'}"
        else:
            url = cleanup.enter_context(postgres_database(f"oms_older_{os.getpid()}"))
        app = make_app(url)
        with app.app_context():
            upgrade(revision="0021")
        yield app
        with app.app_context():
            dispose_engines()


@pytest.fixture
def registry(app: Flask) -> Iterator[Flask]:
    """The small registry, with an app context held open for the test's direct calls."""
    with app.app_context():
        seed_registry()
        yield app
        db.session.remove()


@pytest.fixture
def site(app: Flask) -> Flask:
    """The registry of tests/webapp/pages.py, with logins. Requests run with no app context held open,
    as in production: each gets its own `g`."""
    with app.app_context():
        seed_registry()
        pages.populate()
    app.config["WTF_CSRF_ENABLED"] = True
    return app


#: The job queue's tests' own database number on the shared Redis: nobody else's keys are touched.
REDIS_URL = os.environ.get("TEST_JOB_QUEUE_URL", "redis://127.0.0.1:6379/11")


@pytest.fixture
def queue_url() -> Iterator[str]:
    """The queue's Redis, with this test run's queue (JOB_QUEUE_NAME, tests/helpers/registry.py) empty: two runs
    at once (two checkouts on one machine) neither take nor wipe each other's jobs. The test is skipped, saying
    why, when Redis does not answer."""
    server = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        server.ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {error}")
    empty_queue(server)
    yield REDIS_URL
    empty_queue(server)


def empty_queue(server: redis.Redis) -> None:
    """Drop this run's queue and its registries (RQ names them after the queue); jobs' own keys expire."""
    for pattern in (f"*:{TEST_QUEUE_NAME}", f"*:{TEST_QUEUE_NAME}:*"):
        for key in server.scan_iter(pattern):
            server.delete(key)


@pytest.fixture
def frozen_redis() -> Iterator[str]:
    """A real redis-server of this test's own, on a free port, stopped with SIGSTOP: it takes connections (the
    kernel does) and answers nothing, as a Redis whose machine hangs. It is woken after 30 s whatever happens,
    so that a request which waits for it ends, and fails its test, rather than hang the suite."""
    server_binary = shutil.which("redis-server")
    if server_binary is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [server_binary, "--port", str(port), "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(url, socket_connect_timeout=1).ping()
                break
            except redis.RedisError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        server.send_signal(signal.SIGSTOP)
        waking = threading.Timer(30, server.send_signal, (signal.SIGCONT,))
        waking.start()
        yield url
        waking.cancel()
    finally:
        server.send_signal(signal.SIGCONT)
        server.kill()
        server.wait()
