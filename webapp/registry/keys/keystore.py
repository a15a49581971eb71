"""Signing keys kept in the database: private halves encrypted, public halves as a trust list.

Decrypted keys and parsed public keys are cached per process. Every change to
a key bumps one counter (`KeyChanges`), the trust list's version: a worker's
cached list is read again when the counter has moved. Verification does not
rely on that cache for a key's status: it reads the status of the key that
signed the scanned code in the same query as the registry row
(webapp/registry/verification.py), so a key marked compromised is refused by every
worker from the next verification on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from sqlalchemy import select, update

from signing import KeyStatus, PublicKey, SigningKey, TrustList
from webapp.db import worker_state
from webapp.extensions import db
from webapp.models import Insurer, KeyChanges, SigningKeyRecord
from webapp.registry import clock
from webapp.registry.errors import NotFound, RegistryError

KEY_LIFETIME = timedelta(days=3 * 365)
REGISTRY_OWNER = "registry"


def _passphrase() -> bytes:
    return current_app.config["SIGNING_KEY_PASSPHRASE"].encode("utf-8")


def public_key_of(record: SigningKeyRecord) -> PublicKey:
    key = serialization.load_der_public_key(record.public_key_der)
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return PublicKey(
        kid=bytes.fromhex(record.kid),
        key=key,
        owner=record.owner,
        not_before=record.not_before,
        not_after=record.not_after,
        status=KeyStatus(record.status),
    )


def create_key(owner: str, insurer: Insurer | None, now: datetime | None = None) -> SigningKeyRecord:
    """A new active key for `owner`, stored encrypted. The caller's transaction holds it."""
    moment = clock.now(now)
    key = SigningKey.generate(owner, moment, KEY_LIFETIME)
    while db.session.scalar(select(SigningKeyRecord.id).where(SigningKeyRecord.kid == key.kid.hex())):
        key = SigningKey.generate(owner, moment, KEY_LIFETIME)
    record = SigningKeyRecord(
        kid=key.kid.hex(),
        owner=owner,
        insurer=insurer,
        public_key_der=key.public.key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        encrypted_private_pem=key.to_encrypted_pem(_passphrase()),
        not_before=key.public.not_before,
        not_after=key.public.not_after,
        status=KeyStatus.ACTIVE,
        changed_at=moment,
    )
    db.session.add(record)
    db.session.flush()
    _count_change()
    return record


def record_for(kid_hex: str) -> SigningKeyRecord:
    record = db.session.scalar(select(SigningKeyRecord).where(SigningKeyRecord.kid == kid_hex.lower()))
    if record is None:
        raise NotFound(f"Ключ {kid_hex} не найден")
    return record


def set_status(record: SigningKeyRecord, status: KeyStatus, now: datetime | None = None) -> None:
    record.status = status
    record.changed_at = now or datetime.now(UTC)
    _count_change()


def _count_change() -> None:
    """Bump the trust list's version, in the caller's transaction (it holds the row until it commits).

    The row is made with the first key, so a new database holds no rows at all; two first keys made at
    once clash on its id, and the @atomic caller runs again.
    """
    bumped = db.session.execute(update(KeyChanges).where(KeyChanges.id == 1).values(count=KeyChanges.count + 1))
    if not bumped.rowcount:  # type: ignore[attr-defined]
        db.session.add(KeyChanges(id=1, count=1))
        db.session.flush()


def version() -> int:
    """The trust list's version: it moves on every change to any key."""
    return db.session.scalar(select(KeyChanges.count).where(KeyChanges.id == 1)) or 0


def retire_active(owner: str, now: datetime | None = None) -> list[SigningKeyRecord]:
    active = db.session.scalars(
        select(SigningKeyRecord).where(SigningKeyRecord.owner == owner, SigningKeyRecord.status == KeyStatus.ACTIVE)
    ).all()
    for record in active:
        set_status(record, KeyStatus.RETIRED, now)
    return list(active)


def signing_key(owner: str, at: datetime) -> SigningKey:
    """The newest active key of `owner` covering `at`, decrypted (cached per process)."""
    record = db.session.scalar(
        select(SigningKeyRecord)
        .where(
            SigningKeyRecord.owner == owner,
            SigningKeyRecord.status == KeyStatus.ACTIVE,
            SigningKeyRecord.not_before <= at,
            SigningKeyRecord.not_after >= at,
        )
        .order_by(SigningKeyRecord.not_before.desc())
        .limit(1)
    )
    if record is None:
        raise RegistryError(f"У владельца {owner} нет действующего ключа подписи: выполните ротацию ключей")
    return _cache().private(record)


def trust_list() -> TrustList:
    """Every key with its current status, checked against the database on every call."""
    return _cache().trust_list()


def cached_trust_list(refresh: bool = False) -> TrustList:
    """The last trust list read, for the verification hot path; `refresh` reads it again.

    What it is trusted for never changes: a key id's public key, owner and window. The status it
    holds may be stale; verification reads the signing key's status afresh with the registry row.
    """
    cache = _cache()
    if refresh or cache.trusted is None:
        return cache.trust_list()
    return cache.trusted


@dataclass
class _KeyCache:
    version: int | None = None
    trusted: TrustList | None = None
    decrypted: dict[str, SigningKey] | None = None

    def private(self, record: SigningKeyRecord) -> SigningKey:
        self.decrypted = self.decrypted or {}
        cached = self.decrypted.get(record.kid)
        public = public_key_of(record)
        if cached is None:
            cached = SigningKey.from_encrypted_pem(record.encrypted_private_pem, _passphrase(), public)
            self.decrypted[record.kid] = cached
        return SigningKey(cached.private_key, public)  # the status as the database has it now

    def trust_list(self) -> TrustList:
        current = version()
        if self.trusted is None or current != self.version:
            records = db.session.scalars(select(SigningKeyRecord)).all()
            self.trusted = TrustList(public_key_of(record) for record in records)
            self.version = current
        return self.trusted


def _cache() -> _KeyCache:
    """One cache per app: tests run SQLite and PostgreSQL apps side by side."""
    state = worker_state.of(current_app)
    state.key_cache = state.key_cache or _KeyCache()
    return state.key_cache
