"""Rotating keys and distrusting a compromised one: the operator's key duties.

The reissue of what a compromised key signed is webapp/registry/mass_reissue.py's.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from webapp.db.transactions import atomic
from webapp.models import SigningKeyRecord
from webapp.registry import audit, people, reasons
from webapp.registry.keys import keystore


@atomic
def rotate(
    insurer_code: str, actor: str, now: datetime | None = None, retiring: Collection[str] | None = None
) -> SigningKeyRecord:
    """A new active key for the insurer; its previous keys retire and keep verifying. `retiring`: the active keys
    a confirmation named, refused if they changed since (`keystore.rotate`)."""
    insurer = people.insurer_by_code(insurer_code)
    record, retired = keystore.rotate(insurer.code, insurer, now, retiring)
    audit.record(actor, "rotate_key", "insurer", insurer.code, details={"new": record.kid, "retired": retired})
    if now is None:  # a rotation happening now, not one told when it happened
        keystore.stamp_retired_as_committed(retired)
    return record


@atomic
def distrust(kid: str, actor: str, now: datetime | None = None) -> tuple[SigningKeyRecord, SigningKeyRecord | None]:
    """Mark the key compromised and give its owner a new key, in one transaction; the reissue comes after. The
    key's record, and its successor's if it was its owner's active key."""
    record, successor = keystore.distrust(kid, now)
    audit.record(
        actor, "compromise_key", "key", record.kid, reasons.KEY_COMPROMISED, {"new": successor.kid} if successor else {}
    )
    return record, successor
