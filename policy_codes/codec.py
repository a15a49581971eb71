"""The code text: `OMS1:` + Base45(COSE_Sign1(CBOR claims)).

`encode` signs claims into text. `decode` takes text as scanned and returns
trusted claims, or raises exactly one `CodeError` naming the verdict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

import cbor2

from policy_codes.base45 import b45decode, b45encode
from policy_codes.claims import PolicyClaims
from policy_codes.errors import (
    CodeError,
    CodeExpired,
    ForgedCode,
    KeyCompromised,
    MalformedCode,
    NotAPolicyCode,
    UnknownKey,
)
from policy_codes.keyboard import recover_scanned_text
from signing import (
    BadMessage,
    BadSignature,
    KeyStatus,
    KeyUnusable,
    PublicKey,
    SigningKey,
    TrustList,
    UnknownKeyId,
    sign1,
    verify1,
)

#: Every version of the format starts with this, its number and ":".
FORMAT_NAME = "OMS"
PREFIX = f"{FORMAT_NAME}1:"
#: What another version of this format would start with.
_ANY_VERSION = re.compile(rf"{FORMAT_NAME}\d+:")
#: Far above the largest valid code (QR version 13 holds 352 characters).
MAX_TEXT_LENGTH = 1000
#: Policy dates are Moscow dates, as the registry keeps them.
MOSCOW = timezone(timedelta(hours=3))
#: A live code's lifetime: the holder's page signs a fresh one every 30 s. A signature over a longer
#: one, or over one issued further ahead of the verifier's clock than CLOCK_SKEW, is a stolen key's work.
LIVE_CODE_LIFETIME = timedelta(seconds=90)
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class VerifiedCode:
    """Claims whose signature checked out under `key`, and the time they were checked."""

    claims: PolicyClaims
    key: PublicKey
    checked_at: datetime
    #: What the revocation list's digest covers (policy_codes/revocation.py).
    signature: bytes
    #: The text as verified: as scanned, with what scanners do to it undone (`normalise_scanned`).
    text: str


def encode(claims: PolicyClaims, key: SigningKey) -> str:
    """Sign `claims` with `key` as of `claims.issued_at`.

    A code may not outlive its key: claims that end after the key's window
    are refused with `KeyUnusable`.
    """
    if key.public.owner != claims.insurer_code:
        raise KeyUnusable("a code is signed with its own insurer's key")
    ends_at = claims.ends_at()
    if ends_at is not None and ends_at > key.public.not_after:
        raise KeyUnusable("the code would outlive its key")
    message = sign1(cbor2.dumps(claims.to_wire()), key, at=claims.issued_at)
    return PREFIX + b45encode(message)


def normalise_scanned(text: str) -> str:
    """Undo what scanners do to text: layouts, Caps Lock, line endings."""
    return recover_scanned_text(text.strip()).upper()


def decode(text: str, trust_list: TrustList, now: datetime | None = None) -> VerifiedCode:
    """Verify scanned `text` against `trust_list` at `now` (default: the present).

    Checks in order: our prefix, Base45, the COSE structure, the key id, the
    signature, that the key is its insurer's, the key's status, that it signed
    within its window and not after it retired, that a live code's span is a
    live code's, then time (the key's window, a live code's expiry, the
    policy's own dates).
    """
    moment = now or datetime.now(UTC)
    text = normalise_scanned(text)
    if not text.startswith(PREFIX):
        if _ANY_VERSION.match(text):
            raise MalformedCode("a version of the code format this verifier does not know")
        raise NotAPolicyCode("no OMS1: prefix")
    if len(text) > MAX_TEXT_LENGTH:
        raise MalformedCode("far too long for a policy code")
    try:
        message = b45decode(text[len(PREFIX) :])
    except ValueError as error:
        raise MalformedCode("not Base45") from error
    try:
        verified = verify1(message, trust_list.get)
    except BadMessage as error:
        raise MalformedCode(str(error)) from error
    except UnknownKeyId as error:
        raise UnknownKey(str(error), error.kid) from error
    except BadSignature as error:
        raise ForgedCode(str(error)) from error
    claims = _claims_from(verified.payload)
    key = verified.key
    if key.owner != claims.insurer_code:
        raise ForgedCode("signed by a key of another insurer")
    if key.status is KeyStatus.COMPROMISED:
        raise KeyCompromised(f"key {key.kid.hex()} is compromised")
    if not key.signed_in_window(claims.issued_at):
        raise ForgedCode("signed outside the key's validity window, or after the key retired")
    if claims.expires_at is not None and (
        claims.expires_at - claims.issued_at > LIVE_CODE_LIFETIME or claims.issued_at > moment + CLOCK_SKEW
    ):
        raise ForgedCode("a live code runs for 90 seconds from its signing, which is not in the future")
    _check_time(claims, key, moment)
    return VerifiedCode(claims=claims, key=key, checked_at=moment, signature=verified.signature, text=text)


def _claims_from(payload: bytes) -> PolicyClaims:
    try:
        wire = cbor2.loads(payload)
    except Exception as error:  # cbor2 raises several types on hostile input
        raise MalformedCode("the claims are not CBOR") from error
    return PolicyClaims.from_wire(wire)


def moscow_date(moment: datetime) -> date:
    """The Moscow date of an instant: what policy dates are compared with."""
    return moment.astimezone(MOSCOW).date()


def _check_time(claims: PolicyClaims, key: PublicKey, now: datetime) -> None:
    today = moscow_date(now)
    live = claims.expires_at is not None
    if now > key.not_after:
        raise CodeExpired("key", live)
    if claims.expires_at is not None and now > claims.expires_at:
        raise CodeExpired("live_code", live)
    if claims.valid_to is not None and today > claims.valid_to:
        raise CodeExpired("policy", live)
    if today < claims.valid_from:
        raise CodeExpired("not_yet_valid", live)


__all__ = ["PREFIX", "CodeError", "VerifiedCode", "decode", "encode", "normalise_scanned"]
