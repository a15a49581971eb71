"""The trust list: public keys with owner, window and status, as JWKS-shaped JSON.

Each entry is a JWK (RFC 7517, EC P-256) with members of our own:
`insurer`, `not_before`, `not_after` (RFC 3339 times), `status`, and for a
retired key (only for one) `retired_at`, when it retired.

What is read here is read strictly, exactly as static/js/clinic-offline.js
reads it (docs/code-format.md, "Published lists"), so the browser and Python
never disagree on what a document says.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from signing.errors import BadTrustList
from signing.keys import COORDINATE_LENGTH, KeyStatus, PublicKey, kid_for

#: The only keys a trust list holds, as their JWK members say it: EC keys on P-256, for ES256.
JWK_KTY = "EC"
JWK_CRV = "P-256"
JWS_ALG = "ES256"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


#: Unpadded base64url, whole (fullmatch). This and INSTANT use only what Python's and JavaScript's regular
#: expressions read alike: the browser verifier gets their .pattern (policy_codes/format_constants.py).
BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
#: A time, whole (fullmatch): date, `T`, time to the second, an optional fraction, and `Z` or an offset.
INSTANT = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,6}))?(?:Z|([+-])([0-9]{2}):([0-9]{2}))"
)


def b64url_decode(text: Any) -> bytes:
    """Unpadded base64url (RFC 7515), and nothing else: no padding, no white space, no other letters."""
    if not isinstance(text, str) or not BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        raise BadTrustList("bad base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as error:
        raise BadTrustList("bad base64url") from error


def parse_instant(text: Any) -> datetime:
    """A time as the registry writes it (`2026-11-23T09:30:00+00:00`), in UTC, to the millisecond a browser keeps."""
    match = INSTANT.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise BadTrustList("a time is not of the documented form")
    year, month, day, hour, minute, second, fraction, sign, zone_hours, zone_minutes = match.groups()
    if sign and (int(zone_hours) > 23 or int(zone_minutes) > 59):
        raise BadTrustList("a time's offset is out of range")
    offset = timedelta(hours=int(zone_hours or 0), minutes=int(zone_minutes or 0)) * (-1 if sign == "-" else 1)
    milliseconds = int((fraction or "").ljust(3, "0")[:3])
    try:
        local = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), milliseconds * 1000, timezone(offset)
        )
        return local.astimezone(UTC)
    except (ValueError, OverflowError) as error:  # 30 February, hour 24, or past year 9999 in UTC
        raise BadTrustList("a time is out of range") from error


class TrustList:
    """Public keys by key id: what a verifier trusts."""

    def __init__(self, keys: Iterable[PublicKey] = ()) -> None:
        self._keys = {key.kid: key for key in keys}

    def __iter__(self) -> Iterator[PublicKey]:
        return iter(self._keys.values())

    def __len__(self) -> int:
        return len(self._keys)

    def get(self, kid: bytes) -> PublicKey | None:
        return self._keys.get(kid)

    def to_jwks(self) -> dict[str, Any]:
        return {"keys": [_to_jwk(key) for key in sorted(self._keys.values(), key=lambda k: k.kid)]}

    @classmethod
    def from_jwks(cls, document: Any) -> TrustList:
        """Read a document written by `to_jwks`; `BadTrustList` on anything else."""
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise BadTrustList("a trust list is an object with a list of keys")
        return cls(_from_jwk(entry) for entry in document["keys"])


def _to_jwk(key: PublicKey) -> dict[str, str]:
    numbers = key.key.public_numbers()
    retirement = {"retired_at": key.retired_at.isoformat()} if key.retired_at is not None else {}
    return {
        "kty": JWK_KTY,
        "crv": JWK_CRV,
        "alg": JWS_ALG,
        "use": "sig",
        "kid": b64url(key.kid),
        "x": b64url(numbers.x.to_bytes(COORDINATE_LENGTH, "big")),
        "y": b64url(numbers.y.to_bytes(COORDINATE_LENGTH, "big")),
        "insurer": key.owner,
        "not_before": key.not_before.isoformat(),
        "not_after": key.not_after.isoformat(),
        "status": str(key.status),
        **retirement,
    }


def _from_jwk(entry: Any) -> PublicKey:
    if not isinstance(entry, dict):
        raise BadTrustList("each key is an object")
    if (entry.get("kty"), entry.get("crv"), entry.get("alg")) != (JWK_KTY, JWK_CRV, JWS_ALG):
        raise BadTrustList("only EC P-256 ES256 keys are accepted")
    try:
        x, y = _coordinate(entry["x"]), _coordinate(entry["y"])
        public_key = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
        kid = b64url_decode(entry["kid"])
        owner = entry["insurer"]
        not_before = parse_instant(entry["not_before"])
        not_after = parse_instant(entry["not_after"])
        status = KeyStatus(entry["status"])
        retired_at = parse_instant(entry["retired_at"]) if status is KeyStatus.RETIRED else None
    except (KeyError, TypeError, ValueError) as error:
        raise BadTrustList(f"a key entry is incomplete or invalid: {error}") from error
    if kid != kid_for(public_key):
        raise BadTrustList("a key id does not match its key")
    if not isinstance(owner, str):
        raise BadTrustList("insurer is text")
    if status is not KeyStatus.RETIRED and "retired_at" in entry:
        raise BadTrustList("only a retired key has a retirement time")
    return PublicKey(kid, public_key, owner, not_before, not_after, status, retired_at)


def _coordinate(text: Any) -> int:
    data = b64url_decode(text)
    if len(data) != COORDINATE_LENGTH:
        raise BadTrustList("a coordinate is 32 bytes")
    return int.from_bytes(data, "big")
