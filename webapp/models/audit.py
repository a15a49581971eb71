from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db


class AuditEntry(db.Model):
    """One change: who, when, what and why. Append-only, hash-chained under AUDIT_KEY (webapp/registry/audit.py).

    `prev_hash` is unique, so two writers racing for the chain's head cannot
    both append after it: one of them fails and retries.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    entity: Mapped[str] = mapped_column(String(50))
    entity_key: Mapped[str] = mapped_column(String(80), index=True)  # a login, up to 80 characters
    reason: Mapped[str] = mapped_column(String(500), default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
