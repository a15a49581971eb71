"""The trust list: public keys with owner, window and status, as JWKS-shaped JSON.

Each entry is a JWK (RFC 7517, EC P-256) with members of our own:
`insurer`, `not_before`, `not_after` (ISO 8601, UTC) and `status`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from signing.errors import BadTrustList
from signing.keys import COORDINATE_LENGTH, KeyStatus, PublicKey, kid_for


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not isinstance(text, str):
        raise BadTrustList("expected a base64url string")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as error:
        raise BadTrustList("bad base64url") from error


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
    return {
        "kty": "EC",
        "crv": "P-256",
        "alg": "ES256",
        "use": "sig",
        "kid": b64url(key.kid),
        "x": b64url(numbers.x.to_bytes(COORDINATE_LENGTH, "big")),
        "y": b64url(numbers.y.to_bytes(COORDINATE_LENGTH, "big")),
        "insurer": key.owner,
        "not_before": key.not_before.isoformat(),
        "not_after": key.not_after.isoformat(),
        "status": str(key.status),
    }


def _from_jwk(entry: Any) -> PublicKey:
    if not isinstance(entry, dict):
        raise BadTrustList("each key is an object")
    if (entry.get("kty"), entry.get("crv"), entry.get("alg")) != ("EC", "P-256", "ES256"):
        raise BadTrustList("only EC P-256 ES256 keys are accepted")
    try:
        x = int.from_bytes(b64url_decode(entry["x"]), "big")
        y = int.from_bytes(b64url_decode(entry["y"]), "big")
        public_key = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
        kid = b64url_decode(entry["kid"])
        owner = entry["insurer"]
        not_before = datetime.fromisoformat(entry["not_before"])
        not_after = datetime.fromisoformat(entry["not_after"])
        status = KeyStatus(entry["status"])
    except (KeyError, TypeError, ValueError) as error:
        raise BadTrustList(f"a key entry is incomplete or invalid: {error}") from error
    if kid != kid_for(public_key):
        raise BadTrustList("a key id does not match its key")
    if not isinstance(owner, str) or not_before.tzinfo is None or not_after.tzinfo is None:
        raise BadTrustList("insurer is text and times carry a time zone")
    return PublicKey(kid, public_key, owner, not_before, not_after, status)
