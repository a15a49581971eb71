"""Verify codes with no network, from downloaded copies of the registry's lists.

A clinic system keeps the trust list and the revocation list the registry
publishes (GET /api/v1/trust-list, GET /api/v1/revocations) and the registry's
public key, pinned at installation. Both lists are checked against that key
before anything in them is believed; a tampered list is refused whole.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from policy_codes.codec import decode
from policy_codes.errors import CodeError
from policy_codes.revocation import DIGEST_BYTES, revocation_digest
from policy_codes.verdicts import Verdict
from signing import PublicKey, SigningError, TrustList
from signing.jws import verify_compact

#: Past this age a verdict carries a warning that the lists may be stale.
STALE_AFTER = timedelta(hours=72)


class BadList(Exception):
    """A list is not signed by the registry, is damaged, or is not of the documented shape."""


@dataclass(frozen=True)
class OfflineResult:
    verdict: Verdict
    holder_name: str | None
    birth_date: str | None
    trust_list_age: timedelta
    revocations_age: timedelta

    @property
    def stale(self) -> bool:
        return max(self.trust_list_age, self.revocations_age) > STALE_AFTER


def _signed_payload(document: Any, registry_keys: dict[bytes, PublicKey]) -> dict[str, Any]:
    if not isinstance(document, dict) or not isinstance(document.get("jws"), str):
        raise BadList("the document carries no signature")
    try:
        payload = json.loads(verify_compact(document["jws"], registry_keys))
    except (SigningError, ValueError) as error:
        raise BadList(f"the signature does not check out: {error}") from error
    if not isinstance(payload, dict):
        raise BadList("the signed part is not an object")
    return payload


def _issued_at(payload: dict[str, Any]) -> datetime:
    try:
        moment = datetime.fromisoformat(payload["issued_at"])
    except (KeyError, TypeError, ValueError) as error:
        raise BadList("no valid issued_at") from error
    if moment.tzinfo is None:
        raise BadList("issued_at carries no time zone")
    return moment


def _digests(document: dict[str, Any], payload: dict[str, Any], field: str) -> set[bytes]:
    try:
        raw = base64.b64decode(document[field], validate=True)
    except (KeyError, TypeError, binascii.Error) as error:
        raise BadList(f"{field} is not base64") from error
    if hashlib.sha256(raw).hexdigest() != payload.get(f"{field}_sha256") or len(raw) % DIGEST_BYTES:
        raise BadList(f"{field} does not match its signed hash")
    return {raw[index : index + DIGEST_BYTES] for index in range(0, len(raw), DIGEST_BYTES)}


class OfflineVerifier:
    """Built from the trust list, the revocation list (a full one, then any increments in order)
    and the pinned registry key(s); `BadList` if any document fails its check."""

    def __init__(self, trust_document: Any, revocation_documents: list[Any], registry_keys: list[PublicKey]) -> None:
        pinned = {key.kid: key for key in registry_keys}
        trust = _signed_payload(trust_document, pinned)
        if trust.get("format") != "oms-trust-list-1":
            raise BadList("not a trust list")
        try:
            self.trust_list = TrustList.from_jwks(trust)
        except SigningError as error:
            raise BadList(str(error)) from error
        self.trust_list_issued_at = _issued_at(trust)
        self.revoked: set[bytes] = set()
        self.superseded: set[bytes] = set()
        self.cursor = 0
        if not revocation_documents:
            raise BadList("a revocation list is needed")
        for document in revocation_documents:
            revocations = _signed_payload(document, pinned)
            if revocations.get("format") != "oms-revocations-2":
                raise BadList("not a revocation list")
            if revocations.get("since") != self.cursor or not isinstance(revocations.get("cursor"), int):
                raise BadList(f"an increment must start at cursor {self.cursor}")
            self.revoked |= _digests(document, revocations, "revoked")
            self.superseded |= _digests(document, revocations, "superseded")
            self.cursor = revocations["cursor"]
            self.revocations_issued_at = _issued_at(revocations)

    def verify(self, text: str, now: datetime | None = None) -> OfflineResult:
        moment = now or datetime.now(UTC)
        ages = (moment - self.trust_list_issued_at, moment - self.revocations_issued_at)
        try:
            verified = decode(text, self.trust_list, moment)
        except CodeError as error:
            return OfflineResult(error.verdict, None, None, *ages)
        claims = verified.claims
        digest = revocation_digest(verified.signature)  # a live code's is on no list (policy_codes/revocation.py)
        verdict = (
            Verdict.REVOKED
            if digest in self.revoked
            else Verdict.SUPERSEDED
            if digest in self.superseded
            else Verdict.VALID
        )
        return OfflineResult(verdict, claims.name.display(), claims.birth_date.isoformat(), *ages)
