"""The exception family of the signing module (itsdangerous' shape)."""

from __future__ import annotations


class SigningError(Exception):
    """Base class for everything this package raises on purpose."""


class BadMessage(SigningError):
    """The bytes are not a COSE_Sign1 message of the form we sign."""


class UnknownKeyId(SigningError):
    """The message names a key id that the trust list does not hold."""

    def __init__(self, kid: bytes) -> None:
        super().__init__(f"unknown key id {kid.hex()}")
        self.kid = kid


class BadSignature(SigningError):
    """The signature does not verify under the named key."""


class KeyUnusable(SigningError):
    """The key may not sign now: retired, compromised or outside its window."""


class WrongPassphrase(SigningError):
    """An encrypted private key did not open with the passphrase given."""


class BadTrustList(SigningError):
    """A trust-list document is not of the documented shape."""
