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

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from sqlalchemy import func, select, update

from signing import KeyRing, KeyStatus, KeyUnusable, PublicKey, SigningKey, TrustList, WrongPassphrase
from webapp.db import worker_state
from webapp.db.published_reads import ReadSession
from webapp.db.transactions import RunAgain, locked
from webapp.extensions import db
from webapp.models import CodeStatus, Insurer, IssuedCode, KeyChanges, SigningKeyRecord
from webapp.registry import clock
from webapp.registry.errors import N_, NotFound, RegistryError

KEY_LIFETIME = timedelta(days=3 * 365)
REGISTRY_OWNER = "registry"


def _passphrase() -> bytes:
    return current_app.config["SIGNING_KEY_PASSPHRASE"].encode("utf-8")


def public_key_of(record: SigningKeyRecord) -> PublicKey:
    """The trust-list entry of a stored key, as the database holds it now."""
    return _cache().public(record)


def _parse_public(der: bytes) -> ec.EllipticCurvePublicKey:
    key = serialization.load_der_public_key(der)
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return key


def create_key(owner: str, insurer: Insurer | None, now: datetime | None = None) -> SigningKeyRecord:
    """A new active key for `owner`, beside any it has, stored encrypted. The caller's transaction holds it."""
    ring, records = _ring_of(owner)
    key = ring.create(owner, clock.now(now), KEY_LIFETIME)
    _save(ring, records, insurer, clock.now(now))
    return record_for(key.kid.hex())


#: A rotation confirmed for the keys a page showed, when they are no longer the owner's active keys.
KEYS_CHANGED = N_(
    "Ключи СМО %(code)s сменились, пока страница с вопросом была открыта: новый ключ не выпущен. Посмотрите "
    "ключи ниже и решите снова"
)


def rotate(
    owner: str, insurer: Insurer | None, now: datetime | None = None, retiring: Collection[str] | None = None
) -> tuple[SigningKeyRecord, list[str]]:
    """A new active key for `owner`; its active keys retire (the ring's rule). The new record, and the
    ids of the keys retired. With `retiring`, the ids of the active keys a confirmation named: read under the
    ring's lock, the owner's must still be those, so that a form sent twice rotates once."""
    moment = clock.now(now)
    ring, records = _ring_of(owner)
    active = {record.kid for record in records.values() if record.status == KeyStatus.ACTIVE}
    if retiring is not None and active != set(retiring):
        raise RegistryError(KEYS_CHANGED, code=owner)
    key = ring.rotate(owner, moment, KEY_LIFETIME)
    changed = _save(ring, records, insurer, moment)
    return record_for(key.kid.hex()), [kid for kid in changed if kid != key.kid.hex()]


def stamp_retired_as_committed(kids: list[str]) -> None:
    """Stamp keys a rotation retires as retired when it commits, not when it began: the rotation's last write.
    Until it commits every signer reads them as active, and a rotation takes a while by design (scrypt encrypts
    the new key): a holder's live code signed meanwhile says it was signed after the rotation began, and read
    `forged` for its 90 s. The stamp is one second on, as codes say when they were signed in whole seconds."""
    at = clock.now() + timedelta(seconds=1)
    db.session.execute(update(SigningKeyRecord).where(SigningKeyRecord.kid.in_(kids)).values(changed_at=at))


def retire(kid_hex: str, now: datetime | None = None) -> None:
    """Retire one key; a compromised key stays compromised (the ring's rule refuses)."""
    record = record_for(kid_hex)
    ring, records = _ring_of(record.owner)
    try:
        ring.retire(bytes.fromhex(record.kid), clock.now(now))
    except KeyUnusable as error:
        raise RegistryError(N_("Скомпрометированный ключ остаётся скомпрометированным")) from error
    _save(ring, records, record.insurer, clock.now(now))


def retire_active(owner: str, now: datetime | None = None) -> list[str]:
    """Retire every active key of `owner`, leaving it none to sign with; the ids of those retired."""
    ring, records = _ring_of(owner)
    moment = clock.now(now)
    for entry in ring.owned_by(owner):
        if entry.status is KeyStatus.ACTIVE:
            ring.retire(entry.kid, moment)
    return _save(ring, records, None, moment)


def distrust(kid_hex: str, now: datetime | None = None) -> tuple[SigningKeyRecord, SigningKeyRecord | None]:
    """Mark the key compromised; if it was its owner's active key (an insurer's, or the registry's, which signs the
    published lists), the owner gets a new one at once. The key's record, and the new key's record if one was made."""
    record = record_for(kid_hex)
    if record.status == KeyStatus.COMPROMISED:
        raise RegistryError(N_("Ключ %(kid)s уже помечен скомпрометированным"), kid=record.kid)
    moment = clock.now(now)
    ring, records = _ring_of(record.owner)
    was_active = ring.entry(bytes.fromhex(record.kid)).status is KeyStatus.ACTIVE
    ring.mark_compromised(bytes.fromhex(record.kid))
    successor = ring.create(record.owner, moment, KEY_LIFETIME) if was_active else None
    _save(ring, records, record.insurer, moment)
    return record, successor and record_for(successor.kid.hex())


def _ring_of(owner: str) -> tuple[KeyRing, dict[bytes, SigningKeyRecord]]:
    """The owner's keys as a ring of their public entries (nothing decrypted), and their records,
    locked: two rotations of one owner at once must not both keep a key active.

    The key changes' count, which every change writes, is locked first, and the keys read after it: locked alone,
    the keys were read as the change that held them left them, without the key it added, which the next rotation
    then kept active beside its own (PostgreSQL), or read before another change committed (SQLite)."""
    db.session.execute(locked(KeyChanges, KeyChanges.id == 1))
    records = db.session.scalars(
        select(SigningKeyRecord)
        .where(SigningKeyRecord.owner == owner)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    by_kid = {bytes.fromhex(record.kid): record for record in records}
    return KeyRing(_cache().public(record) for record in records), by_kid


def _save(
    ring: KeyRing, records: dict[bytes, SigningKeyRecord], insurer: Insurer | None, moment: datetime
) -> list[str]:
    """Write back what the ring's rules changed: statuses of stored keys, and new keys, encrypted.
    The ids of the keys written; each change bumps the trust list's version."""
    written = []
    for entry in ring:
        record = records.get(entry.kid)
        if record is None:
            db.session.add(_new_record(ring.get(entry.kid), insurer, moment))
        elif record.status != entry.status:
            record.status = entry.status
            record.changed_at = moment
        else:
            continue
        written.append(entry.kid.hex())
        _count_change()
    db.session.flush()
    return written


#: Why a new key is refused: SIGNING_KEY_PASSPHRASE (of a command run without the servers' environment, say, which
#: then generates one of its own into the instance folder) does not open the keys already stored.
OTHER_PASSPHRASE = N_(
    "SIGNING_KEY_PASSPHRASE не открывает ключи, уже хранимые в базе: новый ключ не создан, прежние не тронуты. "
    "Задайте ту же парольную фразу, что у серверов реестра"
)


def _require_the_stored_keys_passphrase() -> None:
    """Refuse to encrypt a new key under a passphrase that does not open the newest stored key: no server could
    open the new key, and a rotation would have retired the one they sign with."""
    with db.session.no_autoflush:
        newest = db.session.scalars(select(SigningKeyRecord).order_by(SigningKeyRecord.id.desc()).limit(1)).first()
    if newest is None:
        return
    try:
        _cache().private(newest, _cache().public(newest))  # opened once per process, as signing opens it
    except WrongPassphrase:
        raise RegistryError(OTHER_PASSPHRASE) from None


def _new_record(key: SigningKey, insurer: Insurer | None, moment: datetime) -> SigningKeyRecord:
    _require_the_stored_keys_passphrase()
    return SigningKeyRecord(
        kid=key.kid.hex(),
        owner=key.public.owner,
        insurer=insurer,
        public_key_der=key.public.key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        encrypted_private_pem=key.to_encrypted_pem(_passphrase(), current_app.config["SIGNING_KEY_ENCRYPTION"]),
        not_before=key.public.not_before,
        not_after=key.public.not_after,
        status=KeyStatus.ACTIVE,
        changed_at=moment,
    )


def record_for(kid_hex: str) -> SigningKeyRecord:
    record = db.session.scalar(select(SigningKeyRecord).where(SigningKeyRecord.kid == kid_hex.lower()))
    if record is None:
        raise NotFound(N_("Ключ %(kid)s не найден"), kid=kid_hex)
    return record


def signs_lists(record: SigningKeyRecord) -> bool:
    """The registry operator's own key: it signs the published lists, not codes, so its compromise reissues none."""
    return record.owner == REGISTRY_OWNER


def _count_change() -> None:
    """Bump the trust list's version, in the caller's transaction (it holds the row until it commits).

    The row is made with the first key, so a new database holds no rows at all; two first keys made at
    once clash on its id, and the @atomic caller runs again.
    """
    bumped = db.session.execute(update(KeyChanges).where(KeyChanges.id == 1).values(count=KeyChanges.count + 1))
    if not bumped.rowcount:  # type: ignore[attr-defined]
        db.session.add(KeyChanges(id=1, count=1))
        db.session.flush()


def version(session: ReadSession = db.session) -> int:
    """The trust list's version: it moves on every change to any key."""
    return session.scalar(select(KeyChanges.count).where(KeyChanges.id == 1)) or 0


def signing_key(owner: str, at: datetime, session: ReadSession = db.session, *, lock: bool = False) -> SigningKey:
    """The key of `owner` that signs at `at` (the ring's rule: its newest active key covering `at`),
    decrypted once per process. Read from `session`: the primary's, unless a published list is read
    from a replica (webapp/registry/keys/publication.py).

    `lock` (for a code about to be stored) holds the owner's key rows FOR SHARE until the transaction ends: a
    compromise committing meanwhile waits for the code, which its reissue then finds, or this read waits for the
    compromise and takes the new key."""
    owners_keys = select(SigningKeyRecord).where(SigningKeyRecord.owner == owner)
    if lock:  # as the database holds them now, not as this session loaded them before
        owners_keys = owners_keys.with_for_update(read=True).execution_options(populate_existing=True)
    records = session.scalars(owners_keys).all()
    chosen = _signing_entry(records, owner, at)
    if chosen is None and lock:
        # The read may have waited for a rotation or a compromise to commit. PostgreSQL then gave it the rows it
        # locked as they were left (the old key retired) but not the new key's, added after the read began: a
        # second read, which waits for nothing now, has both.
        records = session.scalars(owners_keys).all()
        chosen = _signing_entry(records, owner, at)
        if chosen is None and any(_starts_after(record, at) for record in records):
            raise KeysChangedMeanwhile(owner)
    if chosen is None:
        raise RegistryError(
            N_("У владельца %(owner)s нет действующего ключа подписи: выполните ротацию ключей"), owner=owner
        )
    record = next(record for record in records if record.kid == chosen.kid.hex())
    return _cache().private(record, chosen)


class KeysChangedMeanwhile(RegistryError, RunAgain):
    """The owner's keys changed while a code waited to be signed: a rotation or a compromise, begun after the
    code's moment was read, committed a key that starts after it. `atomic` runs the operation again from a fresh
    moment; its message is said only if every attempt met a newer key (a clock behind the one that made it)."""

    def __init__(self, owner: str) -> None:
        super().__init__(
            N_("Ключи подписи СМО %(owner)s сменились, пока шла операция: ничего не изменено, повторите её"),
            owner=owner,
        )


def _starts_after(record: SigningKeyRecord, at: datetime) -> bool:
    """An active key whose window begins after `at`: made by a change whose moment was read later."""
    public = _cache().public(record)
    return public.status is KeyStatus.ACTIVE and public.not_before > at


def _signing_entry(records: Sequence[SigningKeyRecord], owner: str, at: datetime) -> PublicKey | None:
    try:
        return KeyRing(_cache().public(record) for record in records).signing_entry(owner, at)
    except KeyUnusable:
        return None


def key_statuses(kids: set[str]) -> set[str]:
    """The statuses of the keys a bulk path signs with, read as it writes a batch: what it signed ahead may no longer
    be right to store (a compromised key's reissue may already have passed it). The rows are read FOR SHARE, so a
    compromise or a rotation committing meanwhile (each locks them FOR UPDATE) waits for the batch being written,
    whose codes it then sees."""
    return set(
        db.session.scalars(
            select(SigningKeyRecord.status).where(SigningKeyRecord.kid.in_(kids)).with_for_update(read=True)
        )
    )


def trust_list(session: ReadSession = db.session) -> TrustList:
    """Every key with its current status, checked against the database (`session`'s) on every call."""
    return _cache().trust_list(session)


def cached_trust_list(refresh: bool = False, session: ReadSession = db.session) -> TrustList:
    """The last trust list read, for the verification hot path; `refresh` reads it again from `session`.

    What it is trusted for never changes: a key id's public key, owner and window. The status it
    holds may be stale; verification reads the signing key's status afresh with the registry row.
    """
    cache = _cache()
    if refresh or cache.trusted is None:
        return cache.trust_list(session)
    return cache.trusted


@dataclass
class _KeyCache:
    version: int | None = None
    trusted: TrustList | None = None
    #: Parsed public keys and decrypted private keys by key id: what never changes for a key id.
    parsed: dict[str, ec.EllipticCurvePublicKey] = field(default_factory=dict)
    decrypted: dict[str, SigningKey] = field(default_factory=dict)

    def public(self, record: SigningKeyRecord) -> PublicKey:
        """The record's entry, with its status and window as the database holds them now. A retired key's
        `changed_at` is when it retired: it changes no more after that but to compromised, and a compromised
        key is distrusted whatever it signed when."""
        key = self.parsed.get(record.kid)
        if key is None:
            key = self.parsed[record.kid] = _parse_public(record.public_key_der)
        status = KeyStatus(record.status)
        return PublicKey(
            kid=bytes.fromhex(record.kid),
            key=key,
            owner=record.owner,
            not_before=record.not_before,
            not_after=record.not_after,
            status=status,
            retired_at=record.changed_at if status is KeyStatus.RETIRED else None,
        )

    def private(self, record: SigningKeyRecord, entry: PublicKey) -> SigningKey:
        cached = self.decrypted.get(record.kid)
        if cached is None:
            cached = SigningKey.from_encrypted_pem(record.encrypted_private_pem, _passphrase(), entry)
            self.decrypted[record.kid] = cached
        return SigningKey(cached.private_key, entry)  # the status as the database has it now

    def trust_list(self, session: ReadSession) -> TrustList:
        current = version(session)
        if self.trusted is None or current != self.version:
            records = session.scalars(select(SigningKeyRecord)).all()
            self.trusted = TrustList(self.public(record) for record in records)
            self.version = current
        return self.trusted


def _cache() -> _KeyCache:
    """One cache per app: tests run SQLite and PostgreSQL apps side by side."""
    state = worker_state.current()
    state.key_cache = state.key_cache or _KeyCache()
    return state.key_cache


def all_keys() -> list[SigningKeyRecord]:
    """Every key, by owner, newest first."""
    return list(
        db.session.scalars(
            select(SigningKeyRecord).order_by(SigningKeyRecord.owner, SigningKeyRecord.not_before.desc())
        )
    )


def active_keys_by_insurer() -> dict[int | None, int]:
    """Insurer id → how many active keys it has."""
    return dict(
        db.session.execute(
            select(SigningKeyRecord.insurer_id, func.count())
            .where(SigningKeyRecord.status == KeyStatus.ACTIVE)
            .group_by(SigningKeyRecord.insurer_id)
        ).all()
    )


def current_codes_by_kid() -> dict[str, int]:
    """Key id → how many current codes it signed: what a compromise of that key would reissue."""
    return dict(
        db.session.execute(
            select(IssuedCode.kid, func.count()).where(IssuedCode.status == CodeStatus.CURRENT).group_by(IssuedCode.kid)
        ).all()
    )


def compromised_keys() -> list[SigningKeyRecord]:
    return list(db.session.scalars(select(SigningKeyRecord).where(SigningKeyRecord.status == KeyStatus.COMPROMISED)))
