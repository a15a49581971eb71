"""A real Redis for the job queue's tests: db 11 of the local server, emptied before and after each test."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis
from flask import Flask
from rq import SimpleWorker

from webapp.registry import job_queue

#: This suite's own database number on the shared Redis: nobody else's keys are touched.
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


def queued_jobs(app: Flask) -> int:
    with app.app_context():
        return job_queue.queue().count


def work_off(app: Flask) -> None:
    """Run what is on the queue with a real RQ worker in this process (no fork), then return."""
    with app.app_context():
        queue = job_queue.queue()
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
