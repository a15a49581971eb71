"""With several workers, rate limits live in Redis (RATELIMIT_STORAGE_URI): one count across all of them.

Two app instances stand for two gunicorn workers. Skipped, saying so, when Redis does not answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis
from flask import Flask

from tests.webapp.conftest import make_app
from tests.webapp.pages import csrf

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_url() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {error}")
    yield REDIS_URL
    client.close()


def test_two_workers_share_one_login_limit_through_redis(people: Flask, database_url: str, redis_url: str) -> None:
    username = f"nobody-{uuid.uuid4().hex[:8]}"  # a fresh count: Redis keeps earlier runs' for a minute
    workers = [make_app(database_url, RATELIMIT_STORAGE_URI=redis_url, WTF_CSRF_ENABLED=True) for _ in range(2)]
    clients = [app.test_client() for app in workers]
    tokens = [csrf(client) for client in clients]
    statuses = []
    for attempt in range(6):
        form = {"username": username, "password": f"wrong-{attempt}", "csrf_token": tokens[attempt % 2]}
        statuses.append(clients[attempt % 2].post("/login", data=form).status_code)
    assert statuses == [401] * 5 + [429], "five wrong passwords in all, whichever worker took them"
