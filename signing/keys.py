"""ES256 keys with an id, an owner, a validity window and a status."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from signing import pkcs8
from signing.errors import BadSignature, KeyUnusable, WrongPassphrase
from signing.pkcs8 import ScryptCost

KID_LENGTH = 4
SIGNATURE_LENGTH = 64
COORDINATE_LENGTH = 32
DEFAULT_LIFETIME = timedelta(days=3 * 365)
#: The order n of P-256's base point. ECDSA's (r, s) and (r, n − s) both verify; only s ≤ n/2 is accepted,
#: so a signed message has one signature and a code or a list one text.
CURVE_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
HALF_ORDER = CURVE_ORDER // 2

#: What a guess at the passphrase of a stored private key costs (signing/pkcs8.py): OWASP's minimum for
#: scrypt in 16 MiB a guess (N = 2^14, r = 8, p = 5, its equal of N = 2^17, r = 8, p = 1), which is as much
#: memory as OpenSSL's own reader allows by default. About 0.2 s a key on one core, once per process (keys
#: are cached decrypted), where BestAvailableEncryption's 2048 rounds of PBKDF2 took under a millisecond.
KEY_ENCRYPTION = ScryptCost(n=2**14, r=8, p=5)

#: RFC 6979 deterministic ECDSA: no dependence on a random source at signing
#: time, and test vectors that reproduce byte for byte.
_ECDSA = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)


class KeyStatus(StrEnum):
    ACTIVE = "active"  # signs new codes and verifies
    RETIRED = "retired"  # verifies what it signed, signs nothing new
    COMPROMISED = "compromised"  # nothing it signed is trusted


def kid_for(public_key: ec.EllipticCurvePublicKey) -> bytes:
    """Key id: the first bytes of SHA-256 over the SubjectPublicKeyInfo."""
    spki = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).digest()[:KID_LENGTH]


def low_s(signature: bytes) -> bytes:
    """The low-S form of a raw r‖s signature: (r, n − s) when s is above n/2. Both verify the same data."""
    s = int.from_bytes(signature[COORDINATE_LENGTH:], "big")
    if s <= HALF_ORDER:
        return signature
    return signature[:COORDINATE_LENGTH] + (CURVE_ORDER - s).to_bytes(COORDINATE_LENGTH, "big")


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class PublicKey:
    """What a verifier knows of a key: the trust-list entry."""

    kid: bytes
    key: ec.EllipticCurvePublicKey
    owner: str
    not_before: datetime
    not_after: datetime
    status: KeyStatus = KeyStatus.ACTIVE
    #: When a retired key retired: it verifies what it signed before, and signs nothing after.
    retired_at: datetime | None = None

    def __post_init__(self) -> None:
        if (self.status is KeyStatus.RETIRED) != (self.retired_at is not None):
            raise KeyUnusable("a retired key, and only a retired key, has a retirement time")

    def covers(self, moment: datetime) -> bool:
        return self.not_before <= moment <= self.not_after

    def signed_in_window(self, moment: datetime) -> bool:
        """Whether this key may have signed at `moment`: within its window, and not after it retired."""
        return self.covers(moment) and (self.retired_at is None or moment <= self.retired_at)

    def with_status(self, status: KeyStatus, retired_at: datetime | None = None) -> PublicKey:
        """This key with `status`; a retired key says when it retired."""
        return replace(self, status=status, retired_at=retired_at if status is KeyStatus.RETIRED else None)

    def verify(self, signature: bytes, data: bytes) -> None:
        """Check a raw r‖s ES256 signature in its low-S form; `BadSignature` if it does not match."""
        if len(signature) != SIGNATURE_LENGTH:
            raise BadSignature("an ES256 signature is 64 bytes")
        r = int.from_bytes(signature[:COORDINATE_LENGTH], "big")
        s = int.from_bytes(signature[COORDINATE_LENGTH:], "big")
        if s > HALF_ORDER:
            raise BadSignature("only the low-S form of a signature is accepted")
        try:
            self.key.verify(encode_dss_signature(r, s), data, _ECDSA)
        except Exception as error:  # cryptography raises InvalidSignature, or ValueError on r or s = 0
            raise BadSignature("the signature does not match") from error


@dataclass(frozen=True)
class SigningKey:
    """A private key and its public entry. Only the signing side holds these."""

    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    public: PublicKey

    @classmethod
    def generate(
        cls, owner: str, not_before: datetime | None = None, lifetime: timedelta = DEFAULT_LIFETIME
    ) -> SigningKey:
        private_key = ec.generate_private_key(ec.SECP256R1())
        start = not_before or utc_now()
        public = PublicKey(
            kid=kid_for(private_key.public_key()),
            key=private_key.public_key(),
            owner=owner,
            not_before=start,
            not_after=start + lifetime,
        )
        return cls(private_key, public)

    @property
    def kid(self) -> bytes:
        return self.public.kid

    def sign(self, data: bytes, at: datetime | None = None) -> bytes:
        """A raw r‖s ES256 signature in its low-S form, refused unless the key may sign `at`.

        RFC 6979 makes the signature deterministic, not low-S: when s comes out above n/2, n − s is written.
        """
        moment = at or utc_now()
        if self.public.status is not KeyStatus.ACTIVE:
            raise KeyUnusable(f"key {self.kid.hex()} is {self.public.status}")
        if not self.public.covers(moment):
            raise KeyUnusable(f"key {self.kid.hex()} is outside its validity window")
        r, s = decode_dss_signature(self.private_key.sign(data, _ECDSA))
        return low_s(r.to_bytes(COORDINATE_LENGTH, "big") + s.to_bytes(COORDINATE_LENGTH, "big"))

    def to_encrypted_pem(self, passphrase: bytes, cost: ScryptCost = KEY_ENCRYPTION) -> bytes:
        """PKCS#8 PEM, encrypted with AES-256 under a key scrypt derives from the passphrase at `cost`."""
        if not passphrase:
            raise WrongPassphrase("a private key is never stored without a passphrase")
        unencrypted = self.private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return pkcs8.encrypt(unencrypted, passphrase, cost)

    @classmethod
    def from_encrypted_pem(cls, pem: bytes, passphrase: bytes, public: PublicKey) -> SigningKey:
        """Load a key saved by `to_encrypted_pem`, or stored before it with BestAvailableEncryption (PBKDF2,
        2048 rounds): both are encrypted PKCS#8. Its entry must describe it."""
        try:
            private_key = serialization.load_pem_private_key(pem, passphrase)
        except (ValueError, TypeError) as error:
            raise WrongPassphrase("the private key did not open with this passphrase") from error
        if not isinstance(private_key, ec.EllipticCurvePrivateKey) or kid_for(private_key.public_key()) != public.kid:
            raise WrongPassphrase("the private key does not match its key id")
        return cls(private_key, public)
