"""With several workers, rate limits live in Redis (RATELIMIT_STORAGE_URI): one count across all of them.

Two app instances, or two sets of counts, stand for two gunicorn workers. Skipped, saying so, when
Redis does not answer.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from flask import Flask
from limits.storage import MemoryStorage, Storage, storage_from_string

from tests.helpers.registry import make_app
from tests.webapp.pages import csrf
from webapp.db.shared_counts import STORAGE_TIMEOUT_SECONDS, BatchedFixedWindow, parsed, storage_options

REDIS_URL = "redis://127.0.0.1:6379/15"
#: Nothing listens here: a Redis that is down.
DOWN_URL = "redis://127.0.0.1:1/15"
#: 30 s into a minute, so a test's hits all fall in one window.
NOW = 1_800_000_030.0


@pytest.fixture
def redis_url() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {error}")
    yield REDIS_URL
    client.close()


def test_two_workers_share_one_login_limit_through_redis(site: Flask, database_url: str, redis_url: str) -> None:
    username = f"nobody-{uuid.uuid4().hex[:8]}"  # a fresh count: Redis keeps earlier runs' for a minute
    workers = [make_app(database_url, RATELIMIT_STORAGE_URI=redis_url, WTF_CSRF_ENABLED=True) for _ in range(2)]
    clients = [app.test_client() for app in workers]
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.1"  # the per-address count too
    for client in clients:
        client.environ_base["REMOTE_ADDR"] = address
    tokens = [csrf(client) for client in clients]
    statuses = []
    for attempt in range(6):
        form = {"username": username, "password": f"wrong-{attempt}", "csrf_token": tokens[attempt % 2]}
        statuses.append(clients[attempt % 2].post("/login", data=form).status_code)
    assert statuses == [401] * 5 + [429], "five wrong passwords in all, whichever worker took them"


def test_with_redis_down_logins_are_limited_in_the_worker(site: Flask, database_url: str) -> None:
    client = make_app(database_url, RATELIMIT_STORAGE_URI=DOWN_URL, WTF_CSRF_ENABLED=True).test_client()
    token = csrf(client)
    form = {"username": "nobody", "csrf_token": token}
    statuses = [client.post("/login", data={**form, "password": f"wrong-{n}"}).status_code for n in range(6)]
    assert statuses == [401] * 5 + [429], "no 500: the worker counts the attempts itself"


def workers_counting(storage: Storage, setting: str, workers: int = 2) -> list[BatchedFixedWindow]:
    namespace = f"test-{uuid.uuid4().hex[:8]}"  # a fresh count: Redis keeps earlier runs'
    return [BatchedFixedWindow(storage, parsed(setting), namespace) for _ in range(workers)]


def admitted(workers: list[BatchedFixedWindow], requests: int, key: str = "token:a", now: float = NOW) -> int:
    """How many of `requests`, taken by the workers in turn, each limit let through."""
    return sum(workers[n % len(workers)].hit(key, now) for n in range(requests))


def test_batched_counts_hold_the_limit_across_workers_within_the_batch(redis_url: str) -> None:
    workers = workers_counting(storage_from_string(redis_url), "600 per minute")
    assert workers[0].batch == 6
    passed = admitted(workers, 1000)
    assert 600 <= passed < 600 + 2 * 6, "over by fewer than a batch per worker"
    assert admitted(workers, 10, key="token:b") == 10, "each token has its own count"
    assert admitted(workers, 10, now=NOW + 60) == 10, "the next minute starts from zero"


def test_a_small_limit_is_counted_exactly_across_workers(redis_url: str) -> None:
    workers = workers_counting(storage_from_string(redis_url), "5 per minute")
    assert [worker.hit("token:a", NOW) for worker in workers * 4] == [True] * 5 + [False] * 3


def test_the_shared_total_is_every_request_counted(redis_url: str) -> None:
    storage = storage_from_string(redis_url)
    workers = workers_counting(storage, "600 per minute")
    admitted(workers, 120)  # 60 each: a multiple of the batch, so nothing is left uncounted
    name = f"{workers[0].namespace}/{workers[0].limit.key_for()}/{int(NOW // 60)}/token:a"
    assert int(redis.Redis.from_url(redis_url).get(storage.prefixed_key(name))) == 120


def test_one_worker_with_memory_storage_counts_exactly() -> None:
    assert admitted(workers_counting(MemoryStorage(), "600 per minute", workers=1), 700) == 600


def test_with_redis_down_each_worker_limits_by_its_own_count(caplog: pytest.LogCaptureFixture) -> None:
    worker = workers_counting(storage_from_string(DOWN_URL), "20 per minute", workers=1)[0]
    with caplog.at_level(logging.WARNING, logger="webapp.db.shared_counts"):
        assert admitted([worker], 25) == 20, "no exception, and the limit still holds in the worker"
    assert "rate-limit storage unavailable" in caplog.text
    assert "token:a" not in caplog.text


def test_with_redis_frozen_logins_wait_a_moment_not_for_ever(site: Flask, database_url: str, frozen_redis: str) -> None:
    client = make_app(database_url, RATELIMIT_STORAGE_URI=frozen_redis, WTF_CSRF_ENABLED=True).test_client()
    token = csrf(client)
    form = {"username": "nobody", "csrf_token": token}
    started = time.monotonic()
    statuses = [client.post("/login", data={**form, "password": f"wrong-{n}"}).status_code for n in range(6)]
    assert statuses == [401] * 5 + [429], "the worker counts the attempts itself"
    assert time.monotonic() - started < 6, "each attempt waits for Redis a fraction of a second"


def test_with_redis_frozen_the_api_limit_is_counted_in_the_worker_at_speed(frozen_redis: str) -> None:
    storage = storage_from_string(frozen_redis, **storage_options(frozen_redis))
    worker = workers_counting(storage, "600 per minute", workers=1)[0]
    started = time.monotonic()
    assert admitted([worker], 700) == 600
    assert time.monotonic() - started < 2, "one try of the storage, then local counts until the retry"


def test_while_redis_stays_frozen_the_worker_tries_it_less_and_less_often(frozen_redis: str) -> None:
    """Each try of a frozen Redis costs a request the whole timeout: 40 s of requests try it 6 times (after 0, 1,
    3, 7, 15 and 31 s), not 40."""
    storage = storage_from_string(frozen_redis, **storage_options(frozen_redis))
    worker = workers_counting(storage, "6000 per minute", workers=1)[0]
    started = time.monotonic()
    for tenth in range(400):
        worker.hit("token:a", NOW + tenth / 10)
    assert time.monotonic() - started < 10 * STORAGE_TIMEOUT_SECONDS
