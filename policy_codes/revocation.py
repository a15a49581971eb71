"""How revocation lists name a withdrawn code: a short hash of its signature, not a readable number.

The digest covers the static code's ES256 signature, which nobody can compute
without the insurer's private key. A list of digests therefore says nothing
about whom it lists: knowing someone's ЕНП, name and birth date does not let
anyone test whether their code was withdrawn, or count their reissues (the
first list format hashed the ЕНП and serial, which anyone could try one by one).

Live codes carry their own signature, so no list names them: a live code runs
for at most 90 seconds, and the server signs one only while its static code is
current, so its withdrawal is for the online check to see.

Six bytes keep a million entries at 6 MB; a false match needs 2^48 / entries tries.
"""

from __future__ import annotations

import hashlib

from policy_codes.base45 import b45decode
from policy_codes.codec import PREFIX
from policy_codes.errors import MalformedCode
from signing import BadMessage
from signing.cose import read_kid

DIGEST_BYTES = 6
#: What the digest's hash is over before the signature: the format and version of the digest.
CONTEXT = b"OMS1 revocation 2\x00"


def revocation_digest(signature: bytes) -> bytes:
    """The digest of the code whose COSE signature is `signature`."""
    return hashlib.sha256(CONTEXT + signature).digest()[:DIGEST_BYTES]


def digest_of_text(text: str) -> bytes:
    """The digest of a code as the registry issued it (`OMS1:` and Base45, no scanner damage)."""
    try:
        _kid, _protected, _payload, signature = read_kid(b45decode(text.removeprefix(PREFIX)))
    except (ValueError, BadMessage) as error:
        raise MalformedCode("not a code the registry issued") from error
    return revocation_digest(signature)
