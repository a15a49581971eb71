"""The documents the registry publishes for verifiers: the trust list and the revocation list.

Both are JSON, and both carry `jws`: a compact JWS (ES256, the registry
operator's key) over the exact bytes of what they assert, so a copy on a
clinic's disk can be checked offline against the pinned registry key.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from policy_codes.published_lists import REVOCATIONS_FORMAT, TRUST_LIST_FORMAT
from signing import KeyStatus, SigningKey, TrustList
from signing.jws import sign_compact
from webapp.db.transactions import atomic
from webapp.extensions import db
from webapp.models import CodeStatus, RevocationEvent, SigningKeyRecord
from webapp.registry import clock
from webapp.registry.errors import RegistryError
from webapp.registry.keys import keystore


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
    moment = now or datetime.now(UTC)
    try:
        return keystore.signing_key(keystore.REGISTRY_OWNER, moment)
    except RegistryError:
        _create_registry_key(moment)
        return keystore.signing_key(keystore.REGISTRY_OWNER, moment)


def registry_jwks() -> dict[str, Any]:
    """The operator's public keys as JWKS: what offline verifiers pin to check the published lists."""
    registry_key()
    return TrustList(key for key in keystore.trust_list() if key.owner == keystore.REGISTRY_OWNER).to_jwks()


def trust_list_version() -> str:
    """Changes whenever a key is added or changes status: the trust list's ETag."""
    return f"keys-{keystore.version()}"


def trust_list_document(now: datetime | None = None) -> dict[str, Any]:
    moment = clock.now(now)
    signer = registry_key(moment)
    body = {
        "format": TRUST_LIST_FORMAT,
        "issued_at": moment.isoformat(),
        "keys": keystore.trust_list().to_jwks()["keys"],
    }
    return {**body, "jws": sign_compact(_canonical(body), signer)}


def revocations_cursor() -> int:
    return db.session.scalar(select(func.max(RevocationEvent.id))) or 0


def revocations_document(since: int = 0, now: datetime | None = None) -> dict[str, Any]:
    """Digests of codes withdrawn after cursor `since`, split by why; signed with their hash."""
    moment = clock.now(now)
    signer = registry_key(moment)
    revoked = bytearray()
    superseded = bytearray()
    cursor = since
    query = select(RevocationEvent.id, RevocationEvent.digest, RevocationEvent.status).where(RevocationEvent.id > since)
    for event_id, digest, status in db.session.execute(query.order_by(RevocationEvent.id)).yield_per(10_000):
        (revoked if status == CodeStatus.REVOKED else superseded).extend(digest)
        cursor = event_id
    signed = {
        "format": REVOCATIONS_FORMAT,
        "issued_at": moment.isoformat(),
        "since": since,
        "cursor": cursor,
        "revoked_sha256": hashlib.sha256(revoked).hexdigest(),
        "superseded_sha256": hashlib.sha256(superseded).hexdigest(),
    }
    return {
        **signed,
        "revoked": base64.b64encode(revoked).decode("ascii"),
        "superseded": base64.b64encode(superseded).decode("ascii"),
        "jws": sign_compact(_canonical(signed), signer),
    }
