"""A per-key request limit kept in the rate limiter's shared storage, counted in batches.

Flask-Limiter asks its storage (Redis, with several workers) on every request. For the verification
API that round trip cost more than the verification itself (docs/benchmarks.md), so a worker counts
requests per key itself and adds its count to the storage's every `report_every` requests, after
`report_seconds`, and on every request once the total comes near the limit. A key with no request in
the last `report_seconds` is reported at once, so a slow client is counted exactly.

What it costs in accuracy: far from the limit, a worker may let through up to `report_every` requests
that the other workers have not heard of yet. A key served by W workers therefore gets at most
limit + W × `report_every` requests in a window; near the limit every request is counted at once.
Requests a worker reports just after a window ends count in the next one, so a client may be refused
up to W × `report_every` requests early there.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from limits import RateLimitItem
from limits.storage import Storage

#: Counts kept for at most this many keys: each bearer header is a key, and anyone can send new ones.
MAX_KEYS = 1000


@dataclass
class _Count:
    reported: int = 0  # the window's total, as the storage last answered
    unreported: int = 0  # requests let through here since then
    reported_at: float = -math.inf


class BatchedLimit:
    """One limit (e.g. "600 per minute") counted per key across workers; one instance per worker."""

    def __init__(self, limit: RateLimitItem, scope: str, report_every: int = 10, report_seconds: float = 0.1) -> None:
        self.limit = limit
        self.scope = scope
        self.report_every = report_every
        self.report_seconds = report_seconds
        self._counts: dict[str, _Count] = {}
        self._lock = threading.Lock()

    def allow(self, storage: Storage, key: str) -> bool:
        """Count one request for `key`; whether the limit still allows it."""
        window_key = self.limit.key_for(self.scope, key)
        now = time.monotonic()
        with self._lock:
            count = self._counts.get(window_key)
            if count is None:
                if len(self._counts) >= MAX_KEYS:
                    self._report_all(storage)
                count = self._counts[window_key] = _Count()
            count.unreported += 1
            if (
                count.unreported >= self.report_every
                or now - count.reported_at >= self.report_seconds
                or count.reported + count.unreported > self.limit.amount - 2 * self.report_every
            ):
                count.reported = self._report(storage, window_key, count.unreported)
                count.unreported, count.reported_at = 0, now
            return count.reported + count.unreported <= self.limit.amount

    def _report(self, storage: Storage, window_key: str, requests: int) -> int:
        return storage.incr(window_key, self.limit.get_expiry(), amount=requests)

    def _report_all(self, storage: Storage) -> None:
        """Report every count still held and forget them all: each count is reported once at most."""
        for window_key, count in self._counts.items():
            if count.unreported:
                self._report(storage, window_key, count.unreported)
        self._counts.clear()
