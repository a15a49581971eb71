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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from policy_codes.published_lists import HEADINGS, REVOCATIONS_FORMAT, TRUST_LIST_FORMAT
from signing import KeyStatus, SigningKey, TrustList
from signing.jws import sign_compact
from webapp.db.transactions import atomic
from webapp.extensions import db
from webapp.models import RevocationEvent, SigningKeyRecord
from webapp.registry import clock
from webapp.registry.errors import RegistryError
from webapp.registry.keys import keystore

#: How long an edition of a list lasts when nothing changes.
EDITION = timedelta(hours=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Edition:
    """One edition of a published list: the instant it names, the key that signs it, and what else decides what
    it says (the key changes' count, or the revocations' `since` and `cursor`). Its ETag names all three."""

    issued_at: datetime
    signer: SigningKey
    content: str

    @property
    def etag(self) -> str:
        return f"{self.content}-{self.signer.kid.hex()}-{int(self.issued_at.timestamp())}"


@dataclass(frozen=True)
class RevocationsEdition(Edition):
    since: int = 0
    cursor: int = 0


def _issued_at(now: datetime, *changes: datetime | None) -> datetime:
    """The start of the hour of `now`, or the newest of `changes` when later; never after `now`."""
    hour = now - (now - _EPOCH) % EDITION
    return min(now, max([hour, *(clock.now(change) for change in changes if change is not None)]))


def _canonical(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


@atomic
def _create_registry_key(now: datetime) -> None:
    if db.session.scalar(
        select(SigningKeyRecord.id).where(
            SigningKeyRecord.owner == keystore.REGISTRY_OWNER, SigningKeyRecord.status == KeyStatus.ACTIVE
        )
    ):
        return
    keystore.create_key(keystore.REGISTRY_OWNER, None, now)


def registry_key(now: datetime | None = None) -> SigningKey:
    """The operator's active key, made on first use."""
    moment = clock.now(now)
    try:
        return keystore.signing_key(keystore.REGISTRY_OWNER, moment)
    except RegistryError:
        _create_registry_key(moment)
        return keystore.signing_key(keystore.REGISTRY_OWNER, moment)


def registry_jwks() -> dict[str, Any]:
    """The operator's public keys as JWKS: what offline verifiers pin to check the published lists."""
    registry_key()
    return TrustList(key for key in keystore.trust_list() if key.owner == keystore.REGISTRY_OWNER).to_jwks()


def trust_list_edition(now: datetime | None = None) -> Edition:
    """The trust list's current edition: it changes with the hour and with every change to a key."""
    moment = clock.now(now)
    signer = registry_key(moment)  # before the count: making it changes the list
    newest = db.session.scalar(select(func.max(SigningKeyRecord.changed_at)))
    return Edition(_issued_at(moment, newest), signer, f"keys-{keystore.version()}")


def trust_list_document(edition: Edition | None = None) -> dict[str, Any]:
    edition = edition or trust_list_edition()
    body = {
        "format": TRUST_LIST_FORMAT,
        "issued_at": edition.issued_at.isoformat(),
        "keys": keystore.trust_list().to_jwks()["keys"],
    }
    return {**body, "jws": sign_compact(_canonical(body), edition.signer)}


def revocations_edition(since: int = 0, now: datetime | None = None) -> RevocationsEdition:
    """The current edition of the revocations after cursor `since`: it changes with the hour and every new entry."""
    moment = clock.now(now)
    signer = registry_key(moment)
    newest = db.session.execute(
        select(RevocationEvent.id, RevocationEvent.at).order_by(RevocationEvent.id.desc()).limit(1)
    ).first()
    cursor = max(since, newest.id if newest else 0)
    issued_at = _issued_at(moment, newest.at if newest else None, signer.public.not_before)
    return RevocationsEdition(issued_at, signer, f"{since}-{cursor}", since, cursor)


def revocations_document(edition: RevocationsEdition | None = None) -> dict[str, Any]:
    """Digests of codes withdrawn after the edition's `since`, up to its cursor, under their headings; signed with
    their hashes."""
    edition = edition or revocations_edition()
    listed = {heading: bytearray() for heading in HEADINGS}
    query = (
        select(RevocationEvent.digest, RevocationEvent.status)
        .where(RevocationEvent.id > edition.since, RevocationEvent.id <= edition.cursor)
        .order_by(RevocationEvent.id)
    )
    for digest, status in db.session.execute(query).yield_per(10_000):
        listed[status].extend(digest)
    signed: dict[str, Any] = {
        "format": REVOCATIONS_FORMAT,
        "issued_at": edition.issued_at.isoformat(),
        "since": edition.since,
        "cursor": edition.cursor,
    }
    signed |= {f"{heading}_sha256": hashlib.sha256(digests).hexdigest() for heading, digests in listed.items()}
    return {
        **signed,
        **{heading: base64.b64encode(digests).decode("ascii") for heading, digests in listed.items()},
        "jws": sign_compact(_canonical(signed), edition.signer),
    }
