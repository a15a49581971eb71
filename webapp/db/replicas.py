"""Read replicas: which one this worker's published reads may use now, and what /healthz says of each.

A replica serves a read only while it is provably at most MAX_REPLICA_LAG seconds behind the primary.
The proof is a position in the primary's write-ahead log. At each check a worker asks the primary for its
insert position (`pg_current_wal_insert_lsn()`: every commit acknowledged before the question was sent
lies below it, asynchronous commits too) and notes the moment it sent the question; then it asks each
replica how far it has replayed (`pg_last_wal_replay_lsn()`). A replica that has replayed up to the
position noted at moment t holds every change committed before t, and goes on holding them: at any later
moment it is at most (now - t) behind, whether it replays meanwhile or not. The newest such t for the
position it answers at the latest check is the replica's `caught_up_at` (never one an earlier answer
proved: the server at its address may since have been replaced by one restored from an older backup); a
read at moment `now` may use the replica only if now - caught_up_at is within MAX_REPLICA_LAG, judged at
the read, not at the check. Positions compare only within one history: a replica must be a standby of the
primary's cluster (the same system identifier) on the timeline the primary writes, or it is skipped. So a
change committed on the primary at moment c (a revocation) is seen by every read on a replica made after
c + MAX_REPLICA_LAG: the check interval does not add to the bound, it only decides how often caught_up_at
moves on. The measure errs on the safe side: a
replica a few milliseconds behind a busy primary reads as up to one check interval behind.

The usual measures are wrong here: on the standby, `now() - pg_last_xact_replay_timestamp()` grows while
the primary has nothing to write, so a standby that replayed everything reads as minutes behind; the
primary's `pg_stat_replication.replay_lag` is only measured when the standby replays something, so while
replay is paused it keeps its last, small value (and it is NULL when idle); a standby's received and
replayed positions agree when it has stopped receiving.

Each worker checks at most every CHECK_SECONDS, on the request that finds its last check older. A replica
that lags, does not answer or is not a standby is skipped until a check shows it caught up (one that did not
answer is asked again only every UNREACHABLE_RETRY_SECONDS), and a read that fails on one, or waits longer than
REPLICA_ANSWER_TIMEOUT, is read again on the primary (webapp/db/published_reads.py). A warning names the replica by
its place in DATABASE_REPLICA_URLS (`replica-2`), never its address, when it starts being skipped.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from flask import current_app
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from webapp.config import DEFAULT_MAX_REPLICA_LAG
from webapp.db import worker_state
from webapp.db.engines import reads_connection, replica_binds
from webapp.extensions import db

log = logging.getLogger(__name__)

#: At most one check of the replicas per worker in this many seconds.
CHECK_SECONDS = 1.0
#: How long the primary's positions are kept: a replica behind all of them is lagging by more than this.
POSITIONS_KEPT_SECONDS = 300.0
#: A replica that did not answer is asked again after this long, not at every check: asking one that is gone
#: holds up the request that asks for up to the connection's or the answer's timeout (webapp/db/engines.py).
UNREACHABLE_RETRY_SECONDS = 5.0

#: The primary's WAL insert position, in bytes from the start, its cluster's system identifier, and the timeline
#: it writes (the first 8 hex digits of its WAL file's name: exact at once after a promotion, where its control
#: file's timeline waits for the next checkpoint).
_PRIMARY_POSITION = text(
    "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint, "
    "(SELECT system_identifier FROM pg_control_system()), "
    "('x' || substr(pg_walfile_name(pg_current_wal_insert_lsn()), 1, 8))::bit(32)::bigint"
)
#: Whether a replica is a standby, how far it has replayed (NULL on a server that is not one), of which cluster,
#: and the timeline of its last restartpoint (the timeline it replays, or an older one for up to a checkpoint
#: interval after it followed a promotion).
_REPLAYED = text(
    "SELECT pg_is_in_recovery(), pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint, "
    "(SELECT system_identifier FROM pg_control_system()), (SELECT timeline_id FROM pg_control_checkpoint())"
)


class State(StrEnum):
    #: Not yet proven caught up: no check yet, or the first check found it behind with nothing older to go by.
    UNCHECKED = "unchecked"
    CAUGHT_UP = "caught_up"
    LAGGING = "lagging"
    UNREACHABLE = "unreachable"
    #: It answers but is not in recovery: promoted, or not a standby at all.
    NOT_A_STANDBY = "not_a_standby"
    #: A standby, but of another cluster than the primary's (another system identifier): its replayed position
    #: says nothing of the primary's (a primary restored from a dump into a new cluster, a wrong URL).
    ANOTHER_CLUSTER = "another_cluster"
    #: A standby of the primary's cluster, on another timeline than the primary writes: it follows a primary from
    #: before a promotion (or one promoted since), and its positions past the fork are another history. Also, for
    #: up to a checkpoint interval, a standby that follows the promoted primary but has made no restartpoint since.
    ANOTHER_TIMELINE = "another_timeline"


@dataclass
class Replica:
    bind: str
    #: The newest moment (time.monotonic) before which the replica provably holds every commit, by its last answer
    #: alone: a server restored from an older backup at its address must not inherit its predecessor's proof.
    caught_up_at: float | None = None
    #: Why it is skipped whatever its lag, or None when it answered the last check as a standby.
    problem: State | None = State.UNCHECKED
    #: What was last logged of it: the state it was skipped in, or CAUGHT_UP (or nothing yet).
    logged: State | None = None
    #: When a check last asked it (time.monotonic).
    asked_at: float = -math.inf

    def lag(self, now: float) -> float | None:
        return None if self.caught_up_at is None else now - self.caught_up_at

    def state(self, now: float, max_lag: float) -> State:
        if self.problem is not None:
            return self.problem
        lag = self.lag(now)
        return State.CAUGHT_UP if lag is not None and lag <= max_lag else State.LAGGING


@dataclass
class ReplicaHealth:
    """One worker's view of the app's replicas (webapp/db/worker_state.py)."""

    replicas: list[Replica]
    max_lag: float
    checked_at: float = -math.inf
    #: (moment the question was sent, the primary's insert position), oldest first.
    positions: deque[tuple[float, int]] = field(default_factory=deque)
    #: The primary's cluster (pg_control_system's system_identifier), once it has answered.
    cluster: int | None = None
    #: The timeline the primary writes, once it has answered.
    timeline: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def _health() -> ReplicaHealth:
    state = worker_state.current()
    if state.replica_health is None:
        config = current_app.config
        state.replica_health = ReplicaHealth(
            [Replica(bind) for bind in replica_binds(config)], config.get("MAX_REPLICA_LAG", DEFAULT_MAX_REPLICA_LAG)
        )
    health: ReplicaHealth = state.replica_health
    return health


def engine_for_reads() -> Engine | None:
    """The engine of a caught-up replica for this worker's published reads, or None for the primary.

    With several caught up, each worker keeps to one (chosen by its process id), so the workers spread
    over them and each keeps one connection open.
    """
    health = _health()
    if not health.replicas:
        return None
    _check_if_due(health)
    now = time.monotonic()
    usable = [replica for replica in health.replicas if replica.state(now, health.max_lag) is State.CAUGHT_UP]
    if not usable:
        return None
    return db.engines[usable[os.getpid() % len(usable)].bind]


def failed(engine: Engine, error: DBAPIError) -> None:
    """A read on a replica's engine failed: skip the replica until a check finds it answering again."""
    health = _health()
    for replica in health.replicas:
        if db.engines[replica.bind] is engine:
            replica.problem = State.UNREACHABLE
            replica.asked_at = time.monotonic()  # as good as a check that found it gone
            _log_change(replica, health, error)


def report() -> dict[str, Any] | None:
    """For /healthz: where this worker's verification reads go, and each replica's state and lag in
    seconds (null when unknown). None without replicas. No address, name or credential of a server."""
    health = _health()
    if not health.replicas:
        return None
    chosen = engine_for_reads()
    now = time.monotonic()
    reads, replicas = "primary", []
    for replica in health.replicas:
        state = replica.state(now, health.max_lag)
        lag = replica.lag(now) if state in (State.CAUGHT_UP, State.LAGGING) else None
        shown = None if lag is None else round(lag, 3)
        replicas.append({"name": replica.bind, "state": str(state), "lag_seconds": shown})
        if db.engines[replica.bind] is chosen:
            reads = replica.bind
    return {
        "verification_reads": reads,
        "max_replica_lag_seconds": health.max_lag,
        "replicas": replicas,
    }


def _check_if_due(health: ReplicaHealth) -> None:
    if time.monotonic() - health.checked_at < CHECK_SECONDS or not health.lock.acquire(blocking=False):
        return
    try:
        if time.monotonic() - health.checked_at >= CHECK_SECONDS:
            _check(health)
            health.checked_at = time.monotonic()
    finally:
        health.lock.release()


def _check(health: ReplicaHealth) -> None:
    sent = time.monotonic()
    try:
        with reads_connection() as connection:
            position, cluster, timeline = connection.execute(_PRIMARY_POSITION).one()
    except DBAPIError:
        pass  # no new proof: the replicas' lag grows until the primary answers (its own reads fail meanwhile)
    else:
        if (cluster, timeline) != (health.cluster, health.timeline):
            # Another server at the primary's address, or a promotion: its positions are another history's.
            health.positions.clear()
            health.cluster, health.timeline = cluster, timeline
        health.positions.append((sent, int(position)))
        while len(health.positions) > 1 and sent - health.positions[0][0] > POSITIONS_KEPT_SECONDS:
            health.positions.popleft()
    for replica in health.replicas:
        if replica.problem is State.UNREACHABLE and time.monotonic() - replica.asked_at < UNREACHABLE_RETRY_SECONDS:
            continue
        error = _ask(replica, health)
        _log_change(replica, health, error)


def _ask(replica: Replica, health: ReplicaHealth) -> DBAPIError | None:
    """Ask one replica how far it has replayed, and move its proof on; the error if it did not answer."""
    replica.asked_at = time.monotonic()
    try:
        with reads_connection(db.engines[replica.bind]) as connection:
            in_recovery, replayed, cluster, timeline = connection.execute(_REPLAYED).one()
    except DBAPIError as error:
        replica.problem = State.UNREACHABLE
        return error
    if not in_recovery or replayed is None:
        replica.problem = State.NOT_A_STANDBY
        return None
    if health.cluster is None or (cluster, timeline) != (health.cluster, health.timeline):
        replica.caught_up_at = None
        if health.cluster is None:
            replica.problem = State.UNCHECKED
        else:
            replica.problem = State.ANOTHER_CLUSTER if cluster != health.cluster else State.ANOTHER_TIMELINE
        return None
    # Only what it answers now proves anything: the server at a replica's address may have been replaced since it
    # last answered (restored from an older backup, rebuilt, restarted into an earlier consistent point, or another
    # server behind the same PgBouncer entry), and an earlier proof, kept, would vouch for it meanwhile.
    reached = [moment for moment, position in health.positions if position <= replayed]
    replica.caught_up_at = reached[-1] if reached else None
    first_check = replica.caught_up_at is None and len(health.positions) < 2
    replica.problem = State.UNCHECKED if first_check else None
    return None


#: Why a replica is skipped whatever its lag, as its warning says.
_WHY_SKIPPED = {
    State.NOT_A_STANDBY: "it is not a standby in recovery",
    State.ANOTHER_CLUSTER: (
        "it is a standby of another cluster than the primary's (its system identifier is not the primary's), so "
        "how far it has replayed says nothing of the primary"
    ),
    State.ANOTHER_TIMELINE: (
        "it is on another timeline than the primary writes (it follows a primary from before a promotion, or has "
        "made no restartpoint since it followed one)"
    ),
}


def _log_change(replica: Replica, health: ReplicaHealth, error: DBAPIError | None) -> None:
    """A warning when a replica starts being skipped (or for another reason), a line when it is used again."""
    now = time.monotonic()
    state = replica.state(now, health.max_lag)
    if state is State.UNCHECKED or state is replica.logged:
        return
    if state is State.CAUGHT_UP:
        if replica.logged is not None:
            log.info("%s is caught up with the primary: verification reads use it again", replica.bind)
    elif state is State.LAGGING:
        lag = replica.lag(now)
        if lag is None:
            behind = f"more than {now - health.positions[0][0]:.0f} s" if health.positions else "an unknown time"
        else:
            behind = f"{lag:.1f} s"
        log.warning(
            "%s skipped for verification reads: %s behind the primary, more than MAX_REPLICA_LAG (%s s)",
            replica.bind,
            behind,
            health.max_lag,
        )
    elif state is State.UNREACHABLE:
        # Only the error's class and SQLSTATE: a driver's message may quote what was read.
        cause = error.orig if error is not None else None
        said = " ".join(filter(None, [type(cause).__name__, getattr(cause, "sqlstate", None)]))
        log.warning("%s skipped for verification reads: it did not answer (%s)", replica.bind, said)
    else:
        log.warning("%s skipped for verification reads: %s", replica.bind, _WHY_SKIPPED[state])
    replica.logged = state
