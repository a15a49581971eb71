"""ES256 keys, a key ring, COSE_Sign1 and the trust list. Pure Python, no Flask."""

from signing.cose import VerifiedMessage, sign1, verify1
from signing.errors import (
    BadMessage,
    BadSignature,
    BadTrustList,
    KeyUnusable,
    SigningError,
    UnknownKeyId,
    WrongPassphrase,
)
from signing.keyring import KeyRing
from signing.keys import KeyStatus, PublicKey, SigningKey
from signing.trust_list import TrustList

__all__ = [
    "BadMessage",
    "BadSignature",
    "BadTrustList",
    "KeyRing",
    "KeyStatus",
    "KeyUnusable",
    "PublicKey",
    "SigningError",
    "SigningKey",
    "TrustList",
    "UnknownKeyId",
    "VerifiedMessage",
    "WrongPassphrase",
    "sign1",
    "verify1",
]
