"""Rotating keys and marking them compromised: the operator's key duties."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from signing import KeyStatus
from webapp.db.transactions import atomic
from webapp.models import SigningKeyRecord
from webapp.registry import audit, lifecycle
from webapp.registry.errors import RegistryError
from webapp.registry.keys import keystore


@atomic
def rotate(insurer_code: str, actor: str, now: datetime | None = None) -> SigningKeyRecord:
    """A new active key for the insurer; its previous keys retire and keep verifying."""
    insurer = lifecycle.insurer_by_code(insurer_code)
    retired = keystore.retire_active(insurer.code, now)
    record = keystore.create_key(insurer.code, insurer, now)
    audit.record(
        actor,
        "rotate_key",
        "insurer",
        insurer.code,
        details={"new": record.kid, "retired": [key.kid for key in retired]},
    )
    return record


@atomic
def distrust(kid: str, actor: str, now: datetime | None = None) -> SigningKeyRecord:
    """Mark the key compromised and give its owner a new key, in one transaction; the reissue comes after."""
    record = keystore.record_for(kid)
    if record.status == KeyStatus.COMPROMISED:
        raise RegistryError(f"Ключ {record.kid} уже помечен скомпрометированным")
    was_active = record.status == KeyStatus.ACTIVE
    keystore.set_status(record, KeyStatus.COMPROMISED, now)
    if was_active and record.insurer is not None:
        keystore.create_key(record.owner, record.insurer, now)
    audit.record(actor, "compromise_key", "key", record.kid, "ключ скомпрометирован")
    return record


def mark_compromised(
    kid: str, actor: str, progress: Callable[[int, int], None] | None = None, now: datetime | None = None
) -> int:
    """Distrust the key at once, give its owner a new key, and reissue every code it signed.

    Returns how many codes were reissued. If interrupted, `resume_reissue` finishes the job.
    """
    record = distrust(kid, actor, now)
    return lifecycle.reissue_all_signed_by(record.kid, actor, progress)


def resume_reissue(kid: str, actor: str, progress: Callable[[int, int], None] | None = None) -> int:
    record = keystore.record_for(kid)
    if record.status != KeyStatus.COMPROMISED:
        raise RegistryError("Перевыпуск нужен только для скомпрометированного ключа")
    return lifecycle.reissue_all_signed_by(record.kid, actor, progress)
