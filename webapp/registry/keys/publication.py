"""The documents the registry publishes for verifiers: the trust list and the revocation list.

Both are JSON, and both carry `jws`: a compact JWS (ES256, the registry
operator's key) over the exact bytes of what they assert, so a copy on a
clinic's disk can be checked offline against the pinned registry key.

Each is published in editions: one an hour, and one at each change to what it
says. An edition is dated the start of its hour, or the last change it carries
when that is later, so the document says the registry's state at exactly the
instant it names. Within the edition every request, in every worker, gets the
same bytes (RFC 6979 signs deterministically) under the same ETag, and a client
revalidating its copy is answered 304; each hour a client that keeps asking gets
a newer date, so lists the registry still vouches for never look stale to it
(verifiers count the lists' age from that date). An edition of the same hour
from before a change is dated earlier than the one after it: verifiers holding
the later refuse the earlier as a replay.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select

from policy_codes.published_lists import REVOCATIONS_FORMAT, TRUST_LIST_FORMAT
from signing import KeyStatus, SigningKey, TrustList
from signing.jws import sign_compact
from webapp.db import published_reads
from webapp.db.published_reads import ReadSession
from webapp.db.transactions import atomic, locked
from webapp.extensions import db
from webapp.models import KeyChanges, RevocationEvent, SigningKeyRecord
from webapp.registry import clock
from webapp.registry.errors import RegistryError
from webapp.registry.keys import keystore, revocation_snapshots

#: How long an edition of a list lasts when nothing changes.
EDITION = timedelta(hours=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Edition:
    """One edition of a published list: the instant it names, the key that signs it, and what else decides what
    it says (the key changes' count, or the revocations' `since` and `cursor`). Its ETag names all three.
    It is read from the same database as its document (webapp/db/published_reads.py): a replica within
    MAX_REPLICA_LAG of the primary, or the primary."""

    issued_at: datetime
    signer: SigningKey
    content: str

    @property
    def etag(self) -> str:
        return f"{self.content}-{self.signer.kid.hex()}-{int(self.issued_at.timestamp())}"


#: An edition, and its document unless the client holds it already.
Published = tuple[Edition, dict[str, Any] | None]
T = TypeVar("T")
log = logging.getLogger(__name__)


def _issued_at(now: datetime, *changes: datetime | None) -> datetime:
    """The start of the hour of `now`, or the newest of `changes` when later; never after `now`."""
    hour = now - (now - _EPOCH) % EDITION
    return min(now, max([hour, *(clock.now(change) for change in changes if change is not None)]))


def _canonical(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


@atomic
def _create_registry_key(now: datetime) -> datetime:
    """The operator's key when none signs at `now`, and a moment it signs at. Workers that found none at once (the
    lists' first requests, on the day the registry goes live) each made one; every key change holds the changes'
    count, so they now wait for the first, and find its key. That key starts at the first worker's moment, which
    may be later than `now` (its clock read later, or on another machine): the moment is then the key's start.
    An active key past its end (no verifier takes a list it signs) is retired for a new one, and the log says to
    hand the new one out: the lists and the desk's page answered 500 until an operator marked it compromised."""
    db.session.execute(locked(KeyChanges, KeyChanges.id == 1))
    active = [
        keystore.public_key_of(record)
        for record in db.session.scalars(
            select(SigningKeyRecord).where(
                SigningKeyRecord.owner == keystore.REGISTRY_OWNER, SigningKeyRecord.status == KeyStatus.ACTIVE
            )
        )
    ]
    if starts := [key.not_before for key in active if key.not_after >= now]:
        return max([now, *starts])
    if active:
        keystore.rotate(keystore.REGISTRY_OWNER, None, now)
        log.warning(
            "The registry's signing key had expired: a new one signs the published lists from now. Hand its public "
            "key to the verifiers that pin the old one: flask keys registry-jwks"
        )
    else:
        keystore.create_key(keystore.REGISTRY_OWNER, None, now)
    return now


def registry_key(now: datetime | None = None) -> SigningKey:
    """The operator's active key, made on first use; one made meanwhile by another worker may start after `now`."""
    moment = clock.now(now)
    try:
        return keystore.signing_key(keystore.REGISTRY_OWNER, moment)
    except RegistryError:
        return keystore.signing_key(keystore.REGISTRY_OWNER, _create_registry_key(moment))


class _NoRegistryKey(Exception):
    """The database read has no active registry key (yet): it is made on the primary, and read there."""


def _published(read: Callable[[ReadSession, SigningKey, datetime], T], moment: datetime) -> T:
    """`read`, with the registry's key and the moment it signs at, from one database: a caught-up replica or the
    primary (webapp/db/published_reads.py). The key is made on first use, on the primary, and that read is the
    primary's: a replica may not have the key yet. A key another worker made meanwhile may start after `moment`:
    the read is then as of the key's start, since a verifier refuses a list dated outside its signer's window."""

    def with_key(reads: published_reads.PublishedReads) -> T:
        try:
            signer = keystore.signing_key(keystore.REGISTRY_OWNER, moment, reads.session)
        except RegistryError:
            raise _NoRegistryKey from None
        return read(reads.session, signer, moment)

    try:
        return published_reads.run(with_key)
    except _NoRegistryKey:
        signer = registry_key(moment)
        return read(published_reads.ON_PRIMARY.session, signer, max(moment, signer.public.not_before))


def registry_jwks() -> dict[str, Any]:
    """The operator's public keys as JWKS: what offline verifiers pin to check the published lists."""

    def read(session: ReadSession, _signer: SigningKey, _moment: datetime) -> dict[str, Any]:
        owned = (key for key in keystore.trust_list(session) if key.owner == keystore.REGISTRY_OWNER)
        return TrustList(owned).to_jwks()

    return _published(read, clock.now(None))


def trust_list(known: Callable[[str], bool] = lambda _etag: False, now: datetime | None = None) -> Published:
    """The trust list's current edition, and its document unless `known(etag)` (the client holds it). It
    changes with the hour and with every change to a key."""
    moment = clock.now(now)

    def read(session: ReadSession, signer: SigningKey, at: datetime) -> Published:
        newest = session.scalar(select(func.max(SigningKeyRecord.changed_at)))
        edition = Edition(_issued_at(at, newest), signer, f"keys-{keystore.version(session)}")
        if known(edition.etag):
            return edition, None
        body = {
            "format": TRUST_LIST_FORMAT,
            "issued_at": edition.issued_at.isoformat(),
            "keys": keystore.trust_list(session).to_jwks()["keys"],
        }
        return edition, {**body, "jws": sign_compact(_canonical(body), signer)}

    return _published(read, moment)


def revocations(
    since: int = 0, known: Callable[[str], bool] = lambda _etag: False, now: datetime | None = None
) -> Published:
    """The current edition of the revocations after cursor `since`, and its document unless `known(etag)`.
    It changes with the hour and every new entry. The document: digests of codes withdrawn after `since`,
    up to the edition's cursor, under their headings; signed with their hashes."""
    moment = clock.now(now)

    def read(session: ReadSession, signer: SigningKey, at: datetime) -> Published:
        newest = session.execute(
            select(RevocationEvent.id, RevocationEvent.at).order_by(RevocationEvent.id.desc()).limit(1)
        ).first()
        cursor = max(since, newest.id if newest else 0)
        issued_at = _issued_at(at, newest.at if newest else None, signer.public.not_before)
        edition = Edition(issued_at, signer, f"{since}-{cursor}")
        if known(edition.etag):
            return edition, None
        return edition, _revocations_document(session, edition, since, cursor)

    return _published(read, moment)


def _revocations_document(session: ReadSession, edition: Edition, since: int, cursor: int) -> dict[str, Any]:
    listed = revocation_snapshots.listed_up_to(session, since, cursor)
    signed: dict[str, Any] = {
        "format": REVOCATIONS_FORMAT,
        "issued_at": edition.issued_at.isoformat(),
        "since": since,
        "cursor": cursor,
    }
    signed |= {f"{heading}_sha256": hashlib.sha256(digests).hexdigest() for heading, digests in listed.items()}
    return {
        **signed,
        **{heading: base64.b64encode(digests).decode("ascii") for heading, digests in listed.items()},
        "jws": sign_compact(_canonical(signed), edition.signer),
    }


def trust_list_document() -> dict[str, Any]:
    """The trust list as a verifier downloads it now."""
    return trust_list()[1]  # type: ignore[return-value]


def revocations_document() -> dict[str, Any]:
    """Every revocation, as a verifier that never downloaded the list gets them now."""
    return revocations()[1]  # type: ignore[return-value]
