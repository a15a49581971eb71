"""Compact JWS (RFC 7515) with ES256: how the registry signs documents it publishes.

Trust lists and revocation lists are JSON; a JWS carries the exact bytes that
were signed, so a verifier needs no JSON canonicalisation and a browser can
check it with WebCrypto alone.
"""

from __future__ import annotations

import json
from typing import Any

from signing.errors import BadMessage, SigningError, UnknownKeyId
from signing.keys import PublicKey, SigningKey
from signing.trust_list import b64url, b64url_decode


def sign_compact(payload: bytes, key: SigningKey) -> str:
    header = b64url(json.dumps({"alg": "ES256", "kid": b64url(key.kid)}, separators=(",", ":")).encode())
    body = b64url(payload)
    signature = key.sign(f"{header}.{body}".encode("ascii"))
    return f"{header}.{body}.{b64url(signature)}"


def verify_compact(token: str, keys: dict[bytes, PublicKey]) -> bytes:
    """The signed payload; `BadMessage`, `UnknownKeyId` or `BadSignature` otherwise."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3:
        raise BadMessage("a compact JWS has three parts")
    try:
        header: Any = json.loads(b64url_decode(parts[0]))
        payload = b64url_decode(parts[1])
        signature = b64url_decode(parts[2])
    except (SigningError, ValueError, RecursionError) as error:  # bad base64 or JSON, or JSON nested too deep
        raise BadMessage("the JWS does not parse") from error
    if not isinstance(header, dict) or header.get("alg") != "ES256" or not isinstance(header.get("kid"), str):
        raise BadMessage("only ES256 with a kid is accepted")
    kid = b64url_decode(header["kid"])
    key = keys.get(kid)
    if key is None:
        raise UnknownKeyId(kid)
    key.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"))
    return payload
