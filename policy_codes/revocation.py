"""How revocation lists name a withdrawn code: a short hash, not a readable number.

The digest covers the ЕНП and the code's serial, so it matches the static
code and every live code made from it. Six bytes keep a million entries at
6 MB; a false match needs 2^48 / entries tries.
"""

from __future__ import annotations

import hashlib

from policy_codes.enp import Enp

DIGEST_BYTES = 6
_CONTEXT = b"OMS1 revocation\x00"


def revocation_digest(enp: Enp | str, serial: int) -> bytes:
    return hashlib.sha256(_CONTEXT + f"{enp}:{serial}".encode("ascii")).digest()[:DIGEST_BYTES]
