"""The verification API's limit, counted in batches (webapp/batched_limit.py): exact for one worker and for
slow clients, within its documented slack across workers, and bounded in memory."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from limits import parse
from limits.storage import MemoryStorage, RedisStorage, Storage

from webapp.batched_limit import MAX_KEYS, BatchedLimit

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture(params=["memory", "redis"])
def storage(request: pytest.FixtureRequest) -> Iterator[Storage]:
    if request.param == "memory":
        yield MemoryStorage()
        return
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {error}")
    finally:
        client.close()
    yield RedisStorage(REDIS_URL)


def fresh_key() -> str:
    return uuid.uuid4().hex  # Redis keeps earlier runs' counts for a window


def test_one_worker_counts_exactly(storage: Storage) -> None:
    limit = BatchedLimit(parse("25 per minute"), "test", report_seconds=60)
    key = fresh_key()
    assert [limit.allow(storage, key) for _ in range(27)] == [True] * 25 + [False] * 2


def test_far_from_the_limit_a_worker_reports_in_batches(storage: Storage) -> None:
    limit = BatchedLimit(parse("1000 per minute"), "test", report_every=10, report_seconds=60)
    key = fresh_key()
    window_key = limit.limit.key_for("test", key)
    limit.allow(storage, key)
    assert storage.get(window_key) == 1, "a key new to this worker is reported at once"
    for _ in range(9):
        limit.allow(storage, key)
    assert storage.get(window_key) == 1, "nine more wait for the batch"
    limit.allow(storage, key)
    assert storage.get(window_key) == 11


def test_a_slow_client_is_counted_on_every_request(storage: Storage) -> None:
    limit = BatchedLimit(parse("1000 per minute"), "test", report_seconds=0.05)
    key = fresh_key()
    for expected in (1, 2, 3):
        limit.allow(storage, key)
        assert storage.get(limit.limit.key_for("test", key)) == expected
        time.sleep(0.06)


def test_workers_share_the_limit_within_the_documented_slack(storage: Storage) -> None:
    """Two workers, one storage: none refused before the limit, and at most limit + 2 × report_every let through."""
    workers = [BatchedLimit(parse("100 per minute"), "test", report_every=10, report_seconds=60) for _ in range(2)]
    key = fresh_key()
    answers = [workers[turn % 2].allow(storage, key) for turn in range(200)]
    allowed = sum(answers)
    assert all(answers[:100])
    assert 100 <= allowed <= 100 + 2 * 10
    assert not any(answers[allowed:]), "once refused, refused for the rest of the window"


def test_a_new_window_allows_again(storage: Storage) -> None:
    limit = BatchedLimit(parse("2 per second"), "test")
    key = fresh_key()
    assert [limit.allow(storage, key) for _ in range(3)] == [True, True, False]
    time.sleep(1.1)
    assert limit.allow(storage, key)


def test_many_keys_keep_memory_bounded_and_counts_reported() -> None:
    """Anyone can send new bearer headers: past MAX_KEYS the worker reports what it holds and starts afresh."""
    storage = MemoryStorage()
    limit = BatchedLimit(parse("1000 per minute"), "test", report_seconds=60)
    keys = [fresh_key() for _ in range(MAX_KEYS + 10)]
    for key in keys:
        limit.allow(storage, key)
        limit.allow(storage, key)  # one count held unreported per key
    assert len(limit._counts) <= MAX_KEYS
    assert all(storage.get(limit.limit.key_for("test", key)) == 2 for key in keys[:MAX_KEYS])
