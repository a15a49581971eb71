"""COSE_Sign1 (RFC 9052) with ES256: exactly the form this service signs.

The message is the untagged array [protected, unprotected, payload, signature].
The protected header holds only alg (ES256) and kid; the unprotected header is
empty. Anything else is refused before a signature is even looked at.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import cbor2

from signing.errors import BadMessage, UnknownKeyId
from signing.keys import PublicKey, SigningKey, low_s

HEADER_ALG = 1
HEADER_KID = 4
ALG_ES256 = -7

#: Our messages are a few hundred bytes; refuse anything far beyond that
#: before the CBOR decoder sees it.
MAX_MESSAGE_BYTES = 2048


@dataclass(frozen=True)
class VerifiedMessage:
    payload: bytes
    key: PublicKey
    signature: bytes


#: The CBOR array head and context string of Sig_structure (RFC 9052 §4.4).
_SIG_STRUCTURE_HEAD = cbor2.dumps(["Signature1", b"", b"", b""])[:12]


def _byte_string(data: bytes) -> bytes:
    """A CBOR byte string. By hand, because cbor2.dumps costs more than this whole path."""
    length = len(data)
    if length < 24:
        return bytes([0x40 | length]) + data
    if length < 0x100:
        return bytes([0x58, length]) + data
    return b"\x59" + length.to_bytes(2, "big") + data  # sign1 and read_kid keep messages far below 64 KiB


def _to_be_signed(protected: bytes, payload: bytes) -> bytes:
    """["Signature1", protected, external_aad = b"", payload], as CBOR."""
    return _SIG_STRUCTURE_HEAD + _byte_string(protected) + b"\x40" + _byte_string(payload)


@functools.lru_cache(maxsize=256)
def _protected_header(kid: bytes) -> bytes:
    return cbor2.dumps({HEADER_ALG: ALG_ES256, HEADER_KID: kid})


def sign1(payload: bytes, key: SigningKey, at: datetime | None = None) -> bytes:
    """Sign `payload` as a COSE_Sign1 message: [protected, {}, payload, signature]."""
    protected = _protected_header(key.kid)
    signature = key.sign(_to_be_signed(protected, payload), at)
    return b"\x84" + _byte_string(protected) + b"\xa0" + _byte_string(payload) + _byte_string(signature)


def _loads(data: bytes, what: str) -> object:
    try:
        return cbor2.loads(data)
    except Exception as error:  # cbor2 raises several types on hostile input
        raise BadMessage(f"{what} is not CBOR") from error


def _read_byte_string(message: bytes, at: int) -> tuple[bytes, int]:
    """The byte string whose head is at `at`, in the shortest form `_byte_string` writes; and where it ends."""
    head = message[at] if at < len(message) else None
    if head is not None and 0x40 <= head < 0x40 + 24:
        start, length = at + 1, head - 0x40
    elif head == 0x58 and at + 2 <= len(message) and message[at + 1] >= 24:
        start, length = at + 2, message[at + 1]
    elif head == 0x59 and at + 3 <= len(message) and message[at + 1] > 0:
        start, length = at + 3, int.from_bytes(message[at + 1 : at + 3], "big")
    else:
        raise BadMessage("protected header, payload and signature are byte strings, in their shortest form")
    end = start + length
    if end > len(message):
        raise BadMessage("a byte string runs past the end of the message")
    return message[start:end], end


def read_kid(message: bytes) -> tuple[bytes, bytes, bytes, bytes]:
    """Split a message into (kid, protected, payload, signature), checking its shape.

    The message must be written exactly as `sign1` writes it, so it is read by hand, byte by byte: an
    array of four, no tag, an empty unprotected header, no chunks, no long length fields, nothing after.
    """
    if len(message) > MAX_MESSAGE_BYTES:
        raise BadMessage("the message is too long")
    if message[:1] != b"\x84":
        raise BadMessage("a COSE_Sign1 is an untagged array of four")
    protected, at = _read_byte_string(message, 1)
    if message[at : at + 1] != b"\xa0":
        raise BadMessage("the unprotected header must be empty")
    payload, at = _read_byte_string(message, at + 1)
    signature, at = _read_byte_string(message, at)
    if at != len(message):
        raise BadMessage("trailing bytes after the message")
    header = _loads(protected, "the protected header")
    if not isinstance(header, dict) or set(header) != {HEADER_ALG, HEADER_KID}:
        raise BadMessage("the protected header holds exactly alg and kid")
    kid = header[HEADER_KID]
    if not isinstance(kid, bytes) or not kid:
        raise BadMessage("kid is a byte string")
    if header[HEADER_ALG] != ALG_ES256 or isinstance(header[HEADER_ALG], bool):
        raise BadMessage("only ES256 is accepted")
    # What Python's == lets through (alg -7.0, a key 1.0 or True, a tagged kid, another order) is not what
    # an insurer signs, and the browser verifier reads it as another header: only sign1's bytes are the header.
    if protected != _protected_header(kid):
        raise BadMessage("the protected header is not written as sign1 writes it")
    return kid, protected, payload, signature


def with_low_s(message: bytes) -> bytes:
    """The same message with its signature in the low-S form (codes signed before signers wrote only that form)."""
    _kid, protected, payload, signature = read_kid(message)
    return b"\x84" + _byte_string(protected) + b"\xa0" + _byte_string(payload) + _byte_string(low_s(signature))


def verify1(message: bytes, lookup: Callable[[bytes], PublicKey | None]) -> VerifiedMessage:
    """Verify a COSE_Sign1 message against the key `lookup(kid)` returns.

    Raises `BadMessage`, `UnknownKeyId` or `BadSignature`. The key's status and
    window are the caller's to judge: a compromised key still verifies here.
    """
    kid, protected, payload, signature = read_kid(message)
    key = lookup(kid)
    if key is None:
        raise UnknownKeyId(kid)
    key.verify(signature, _to_be_signed(protected, payload))
    return VerifiedMessage(payload=payload, key=key, signature=signature)
