"""A per-key rate limit that each worker counts itself and adds to the shared storage in batches.

POST /api/v1/verify is limited per clinic token, and the counts must be shared by all gunicorn
workers (Redis). A round trip to Redis on every request cost as much as the verification itself
(docs/benchmarks.md). So each worker counts requests itself, and when one key has gathered `batch`
of them (a hundredth of the limit, at least 1) it adds all its keys' counts to the storage in one
pipeline, learning every worker's totals from the answers. With W workers a key can pass its limit
by fewer than W × batch requests (6 per worker for 600 a minute); a limit of 100 or less is counted
in the storage on every request, exactly as before.

Windows are fixed and aligned to the clock. If the storage fails, the counts wait for the next try
(one a second at first, less often while it goes on failing) and the worker decides by what it knows: an
outage locks no clinic out.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from collections import Counter

from limits import RateLimitItem, parse
from limits.storage import RedisStorage, Storage

from webapp.config import REDIS_SCHEMES

log = logging.getLogger(__name__)

#: After the storage failed, how long to go on by local counts before trying it again; doubled after each
#: failure in a row, up to MAX_RETRY_SECONDS: a Redis that has frozen costs each try its whole answer timeout.
RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 30.0
#: How long a request waits for Redis to connect or answer before the worker counts by itself. Redis answers
#: in well under a millisecond; without a timeout, one that froze (its machine hung) held every request.
STORAGE_TIMEOUT_SECONDS = 0.25


def storage_options(uri: str) -> dict[str, float]:
    """The limiter's storage options (RATELIMIT_STORAGE_OPTIONS) for RATELIMIT_STORAGE_URI: timeouts for Redis."""
    if not uri.startswith(REDIS_SCHEMES):
        return {}
    return {"socket_timeout": STORAGE_TIMEOUT_SECONDS, "socket_connect_timeout": STORAGE_TIMEOUT_SECONDS}


@functools.cache
def parsed(setting: str) -> RateLimitItem:
    """A limit setting such as "600 per minute", parsed once."""
    return parse(setting)


def counts_in(
    kept: dict[str, BatchedFixedWindow], storage: Storage, limit: RateLimitItem, namespace: str
) -> BatchedFixedWindow:
    """The counts for one limit kept in `kept` (an app's extensions), started afresh when its setting changes."""
    counts = kept.get(namespace)
    if counts is None or counts.limit is not limit:
        counts = kept[namespace] = BatchedFixedWindow(storage, limit, namespace)
    return counts


class BatchedFixedWindow:
    """One worker's counts for one limit; `hit` counts a request and says whether it is within the limit."""

    def __init__(self, storage: Storage, limit: RateLimitItem, namespace: str) -> None:
        self.storage = storage
        self.limit = limit
        self.namespace = namespace
        self.batch = max(1, math.ceil(limit.amount / 100))
        self._lock = threading.Lock()  # the development server serves requests in threads
        self._window = -1
        self._uncounted: Counter[str] = Counter()
        self._totals: dict[str, int] = {}  # all workers' counts, as of this worker's last sync
        self._retry_at = 0.0
        self._failures = 0

    def hit(self, key: str, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        with self._lock:
            self._start_window(int(now // self.limit.get_expiry()))
            if self._totals.get(key, 0) >= self.limit.amount:
                return False  # refused already: nothing to count until the window ends
            self._uncounted[key] += 1
            if self._uncounted[key] >= self.batch and now >= self._retry_at:
                self._sync(now)
            return self._totals.get(key, 0) + self._uncounted[key] <= self.limit.amount

    def spent(self, key: str, now: float | None = None) -> bool:
        """Whether the key has used up this window's limit, as far as this worker knows; counts nothing.

        For limits on failures, checked before the attempt and counted (`hit`) only when it fails: a worker
        learns the other workers' counts when it next counts, so each may let one more through a window.
        """
        now = time.time() if now is None else now
        with self._lock:
            self._start_window(int(now // self.limit.get_expiry()))
            return self._totals.get(key, 0) + self._uncounted[key] >= self.limit.amount

    def seconds_left(self, now: float | None = None) -> int:
        """Seconds until this window ends."""
        now = time.time() if now is None else now
        seconds = self.limit.get_expiry()
        return math.ceil((int(now // seconds) + 1) * seconds - now)

    def _start_window(self, window: int) -> None:
        """A new window starts from zero; what the last one left uncounted no longer matters."""
        if window != self._window:
            self._window, self._uncounted, self._totals = window, Counter(), {}

    def _sync(self, now: float) -> None:
        try:
            totals = self._add(dict(self._uncounted))
        except self.storage.base_exceptions as error:
            self._retry_at = now + min(RETRY_SECONDS * 2**self._failures, MAX_RETRY_SECONDS)
            self._failures += 1
            log.warning("rate-limit storage unavailable, counting in this worker: %s", type(error).__name__)
            return
        self._failures = 0
        self._uncounted.clear()
        self._totals.update(totals)

    def _add(self, counts: dict[str, int]) -> dict[str, int]:
        """Add the counts to the shared storage; each key's total over all workers."""
        window_seconds = self.limit.get_expiry()
        names = {key: f"{self.namespace}/{self.limit.key_for()}/{self._window}/{key}" for key in counts}
        if isinstance(self.storage, RedisStorage):  # one round trip for all keys
            pipeline = self.storage.storage.pipeline(transaction=False)
            for key, amount in counts.items():
                name = self.storage.prefixed_key(names[key])
                pipeline.incrby(name, amount)
                pipeline.expireat(name, (self._window + 1) * window_seconds + 1)
            return dict(zip(counts, pipeline.execute()[::2], strict=True))
        return {key: self.storage.incr(names[key], window_seconds, amount) for key, amount in counts.items()}
