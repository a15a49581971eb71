"""How the API is rate-limited: per clinic token, counted in batches, with Flask-Limiter kept out of its way.

Both are speed-ups measured in docs/benchmarks.md ("The verification path"):
- a verification is counted against its token's limit in this worker's batch (webapp/db/shared_counts.py):
  Flask-Limiter's decorator sent every request's count to the shared storage, a Redis round trip costing
  as much as the verification itself;
- Flask-Limiter's own check before each request finds nothing to limit on the API: its public exemption
  says so (meta limits included), and its public request filter makes the check leave an API request at
  once. The exemption alone still let the check search the app's limits for every verification, ~40 µs
  of a worker's ~1,100 (docs/benchmarks.md, "Issue 17"); with the filter ~20 µs are left.
"""

from __future__ import annotations

from flask import Blueprint, current_app, request
from flask_limiter import ExemptionScope

from webapp.db import worker_state
from webapp.db.shared_counts import counts_in, parsed
from webapp.extensions import limiter
from webapp.registry.accounts import LiveToken

DEFAULT_VERIFY_LIMIT = "600 per minute"


#: The blueprints whose limits are their own: every app's (the limiter is one for the process).
_COUNTING_THEIR_OWN: set[str] = set()


def exempt_from_the_limiter(blueprint: Blueprint) -> None:
    limiter.exempt(
        blueprint,
        flags=ExemptionScope.DEFAULT | ExemptionScope.APPLICATION | ExemptionScope.META | ExemptionScope.DESCENDENTS,
    )
    _COUNTING_THEIR_OWN.add(blueprint.name)


@limiter.request_filter  # once, at import: an app's init_app would add one more filter to every request
def _counting_its_own() -> bool:
    """Whether Flask-Limiter's check may leave this request at once: its blueprint counts its own limits."""
    return request.blueprint in _COUNTING_THEIR_OWN


def verify_refusal(token: LiveToken) -> int | None:
    """Count this request against its token's limit: None within it, else the seconds until its window ends."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # once (webapp/db/worker_state.py)
    limit = parsed(app.config.get("API_VERIFY_RATE_LIMIT", DEFAULT_VERIFY_LIMIT))
    counts = counts_in(worker_state.of(app).batched_limits, limiter.storage, limit, "api.verify")
    return None if counts.hit(f"token:{token.id}") else counts.seconds_left()
