"""What a worker process keeps from one request to the next: every such cache, named in one place.

Kept per app, in `app.extensions`, because the tests run SQLite and PostgreSQL apps side by side in one
process. Each cache says what it holds, who owns it and why keeping it cannot make a verdict wrong:

- `trusted_api_tokens` (webapp/registry/accounts.py): token hash → until when this worker trusts it
  without asking the database, and who the token is (its id and clinic); a revocation reaches every
  worker within API_TOKEN_TRUST_SECONDS.
- `batched_limits` (webapp/db/shared_counts.py): this worker's uncounted requests per limit, added to
  the shared storage in batches; the limits, not the verdicts, depend on them.
- `key_cache` (webapp/registry/keys/keystore.py): decrypted private keys and the parsed trust list;
  a key's status is never taken from it where it matters (verification reads it afresh).
- `replica_health` (webapp/db/replicas.py): the primary's WAL positions and each replica's proven
  catch-up moment; a replica serves a read only while that proof keeps it within MAX_REPLICA_LAG, judged
  at the read, so a stale check can only send reads to the primary, never to a replica further behind.
- `insurer_regions` (webapp/registry/verification.py): insurer code → its region's code, the partition a
  code's registry row is read in. An insurer's region does not change in the registry; if it did, a stale
  entry would cost a miss, and the miss is read again in the region the ЕНП directory names.
- `pooler_decisions` (webapp/db/poolers.py): whether each PgBouncer address keeps prepared statements,
  asked once; asked again only when the worker restarts (a PgBouncer upgraded meanwhile keeps them off).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app


@dataclass
class WorkerState:
    #: The values are (a monotonic time, the registry's identity of the token).
    trusted_api_tokens: dict[str, tuple[float, Any]] = field(default_factory=dict)
    batched_limits: dict[Any, Any] = field(default_factory=dict)
    #: Made by its owner on first use: this floor knows none of the registry's types.
    key_cache: Any = None
    replica_health: Any = None
    insurer_regions: dict[str, str] = field(default_factory=dict)
    pooler_decisions: dict[tuple[str, int], bool] = field(default_factory=dict)


def current() -> WorkerState:
    """The current app's state. The app is taken from Flask's proxy once: every attribute read through
    `current_app` resolves the proxy again, ~9,000 instructions each, and a verification asked five times."""
    return of(current_app._get_current_object())  # type: ignore[attr-defined]


def of(app: Flask) -> WorkerState:
    state = app.extensions.get("oms_worker_state")
    if state is None:  # not setdefault: that builds a WorkerState on every call, several per verification
        state = app.extensions["oms_worker_state"] = WorkerState()
    return state
