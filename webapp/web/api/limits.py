"""How the API is rate-limited: per clinic token, counted in batches, with Flask-Limiter kept out of its way.

Both are speed-ups measured in docs/benchmarks.md ("The verification path"):
- a verification is counted against its token's limit in this worker's batch (webapp/db/shared_counts.py):
  Flask-Limiter's decorator sent every request's count to the shared storage, a Redis round trip costing
  as much as the verification itself;
- Flask-Limiter's own check before each request skips the API's blueprint: it found nothing to limit there
  and still cost ~20 µs a request. The exemption is the library's public one, meta limits included.
"""

from __future__ import annotations

from flask import Blueprint, current_app
from flask_limiter import ExemptionScope

from webapp.db import worker_state
from webapp.db.shared_counts import counts_in, parsed
from webapp.extensions import limiter
from webapp.registry.accounts import LiveToken

DEFAULT_VERIFY_LIMIT = "600 per minute"


def exempt_from_the_limiter(blueprint: Blueprint) -> None:
    limiter.exempt(
        blueprint,
        flags=ExemptionScope.DEFAULT | ExemptionScope.APPLICATION | ExemptionScope.META | ExemptionScope.DESCENDENTS,
    )


def verify_refusal(token: LiveToken) -> int | None:
    """Count this request against its token's limit: None within it, else the seconds until its window ends."""
    limit = parsed(current_app.config.get("API_VERIFY_RATE_LIMIT", DEFAULT_VERIFY_LIMIT))
    counts = counts_in(worker_state.of(current_app).batched_limits, limiter.storage, limit, "api.verify")
    return None if counts.hit(f"token:{token.id}") else counts.seconds_left()
