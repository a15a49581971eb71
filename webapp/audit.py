"""The append-only audit log: every change records who, when, what and why.

Each entry's hash covers its fields and the previous entry's hash, so an
edited entry breaks its own hash and a deleted one breaks the link after it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import AuditEntry

GENESIS = "0" * 64


def entry_hash(
    prev_hash: str,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_key: str,
    reason: str,
    details: dict[str, Any],
) -> str:
    fields = {
        "prev": prev_hash,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_key": entity_key,
        "reason": reason,
        "details": details,
    }
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record(
    actor: str,
    action: str,
    entity: str,
    entity_key: str,
    reason: str = "",
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append an entry in the caller's transaction (it commits or rolls back with the change)."""
    moment = at or datetime.now(UTC)
    details = details or {}
    head = db.session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)) or GENESIS
    entry = AuditEntry(
        at=moment,
        actor=actor,
        action=action,
        entity=entity,
        entity_key=entity_key,
        reason=reason,
        details=details,
        prev_hash=head,
        hash=entry_hash(head, moment, actor, action, entity, entity_key, reason, details),
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def problems() -> Iterator[str]:
    """Every break in the chain, in order; nothing if the log is whole."""
    expected_prev = GENESIS
    for entry in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).yield_per(1000):
        if entry.prev_hash != expected_prev:
            yield f"запись {entry.id}: цепочка разорвана (запись перед ней удалена или изменена)"
        recomputed = entry_hash(
            entry.prev_hash,
            entry.at,
            entry.actor,
            entry.action,
            entry.entity,
            entry.entity_key,
            entry.reason,
            entry.details,
        )
        if recomputed != entry.hash:
            yield f"запись {entry.id}: содержимое изменено"
        expected_prev = entry.hash
